#!/usr/bin/env python
"""Handwritten digit recognizer: draw digits with the mouse, watch the CNN read them live, and
teach it your own handwriting.

Left half: a white canvas and a round black pen. Right half: what the model read - the
canvas with a green box and the predicted digit at each digit, the number in large type,
each digit's confidence (and its runner-up when unsure) and the 28x28 images the model saw.

Controls: left button draws; right button or R clears; U or Ctrl+Z undoes the last stroke.
A click on a digit's box or tile on the right selects it (a lone digit is selected already);
Tab selects the next digit, Shift+Tab the one before. A digit key 0-9 saves the selected
digit as that digit (a correction), Enter saves every digit not saved yet as it was read;
the samples go to the --samples folder. T teaches a model on those samples in the
background and reads with it once it is ready; M switches between the shipped model and the
taught one. S saves the window to drawing-YYYYmmdd-HHMMSS.png (never over another file);
Q or closing the window quits; so does Ctrl-C in the terminal.

    python app.py                  # the taught model if there is one, else the shipped one
    python app.py --model PATH     # another model
    python app.py --samples DIR    # samples and the taught model in DIR (data/personal/)
    python app.py --jsonl          # JSON lines on stdout: strokes, undo, clear, saved samples
"""

import itertools
import json
import os
import sys
import time
from pathlib import Path

# pygame prints a banner on import, which would corrupt the --jsonl output.
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow: warnings and errors only
# Under an X server whose OpenGL is Mesa's llvmpipe (Xvfb among them), creating the window in a
# process that has loaded TensorFlow segfaults: Mesa's LLVM collides with TensorFlow's. Without
# framebuffer acceleration SDL draws the window in software and never loads OpenGL. It must be
# set before pg.display.init(). The app loads TensorFlow only to read a .keras model without an
# up-to-date ONNX export (--model); without TensorFlow the setting is not needed, and costs
# nothing measurable (benchmarks/startup.py), so it stays.
os.environ.setdefault("SDL_FRAMEBUFFER_ACCELERATION", "0")
# SDL would take over Ctrl-C and SIGTERM; Python's handlers end the app as every command ends.
os.environ.setdefault("SDL_NO_SIGNAL_HANDLERS", "1")

import pygame as pg  # noqa: E402

from deeplearning import cli  # noqa: E402
from deeplearning.atomic import OutputError, write_new  # noqa: E402
from deeplearning.pen import CANVAS_SIZE as CANVAS_SHAPE  # noqa: E402
from deeplearning.pen import PEN_RADIUS  # noqa: E402
from deeplearning.quiet import stderr_silenced  # noqa: E402
from deeplearning.recognize import Recognizer, TooManyMarks, read_number  # noqa: E402
from deeplearning.runtime import ModelError  # noqa: E402
from deeplearning.samples import DEFAULT_DIR, Sample, SampleSet, digit_strokes  # noqa: E402
from deeplearning.teach import MIN_SAMPLES  # noqa: E402
from deeplearning.ui.colours import DIVIDER, GREY, ORANGE, PURPLE, WHITE  # noqa: E402
from deeplearning.ui.labelling import Reading  # noqa: E402
from deeplearning.ui.models import BASE, TAUGHT, Models  # noqa: E402
from deeplearning.ui.panel import Panel, View, digit_at  # noqa: E402
from deeplearning.ui.pen_surface import canvas_array, draw_dot, draw_segment, draw_stroke  # noqa: E402
from deeplearning.ui.reader import Job, Reader  # noqa: E402
from deeplearning.ui.teaching import Teaching, teach_command  # noqa: E402

TITLE = "Handwritten digit recognizer"
WINDOW_SIZE = (1280, 640)
CANVAS_SIZE = CANVAS_SHAPE[0]  # the left half, square; the right half shows what was read
FPS = 60
LIVE_INTERVAL_MS = 100  # read the canvas at most this often while the button is down
CLOSE_TIMEOUT_S = 10  # on quit, how long to wait for readings still to be reported
DIVIDER_WIDTH = 2
DIGIT_KEYS = {
    **{getattr(pg, f"K_{digit}"): digit for digit in range(10)},
    **{getattr(pg, f"K_KP{digit}"): digit for digit in range(10)},
}
ENTER_KEYS = (pg.K_RETURN, pg.K_KP_ENTER)


def save_names(directory, now=None):
    """drawing-YYYYmmdd-HHMMSS.png in `directory`, then the same name with -1, -2... added."""
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(now))
    yield Path(directory) / f"drawing-{stamp}.png"
    for count in itertools.count(1):
        yield Path(directory) / f"drawing-{stamp}-{count}.png"


class App:
    """The canvas, what the model read of it, the user's samples and the models: the state,
    and the events that change it. The panel draws the right half from it."""

    def __init__(
        self,
        recognizer,
        jsonl=False,
        out=None,
        save_dir=".",
        samples_dir=DEFAULT_DIR,
        taught=False,
        base_model=None,
        teach_args=(),
    ):
        self.jsonl = jsonl
        self.out = out if out is not None else sys.stdout
        self.save_dir = Path(save_dir)
        # Absolute: the teach command runs in the project folder, not in this one.
        self.samples = SampleSet(Path(samples_dir).absolute())
        self.counts = self.samples.counts()
        self.models = Models(
            recognizer, TAUGHT if taught else BASE, base_model, self.samples.taught_model_path
        )
        self.reader = Reader(recognizer)
        self.teach_args = list(teach_args)  # more options for the teach command
        self.teaching = None  # the teach command under way
        self.progress = None  # what it said last
        self.teaching_on = None  # how many samples the teaching under way learns from
        self.taught_on = None  # ... and the model it made, until it is in use
        self.canvas = pg.Surface((CANVAS_SIZE, CANVAS_SIZE))
        self.canvas.fill(WHITE)
        self.strokes = []  # finished strokes, each a list of (x, y); undo redraws from them
        self.stroke = None  # the stroke being drawn, None while the button is up
        self.version = 0  # counts the changes to the canvas
        self.reading = Reading()  # what the model read last, and the labels given
        self.read_version = 0  # the canvas version that reading is of
        self.unread = None  # why the last canvas was not read (too many marks), if it was not
        self.seen = canvas_array(self.canvas)  # the canvas as the model saw it last
        self.dirty = False  # the canvas changed since it was last sent to be read
        self.last_read_ms = -LIVE_INTERVAL_MS
        self.message, self.message_colour = "", GREY
        self.panel = None  # the right half, drawn again only when what it shows changes
        self.drawer = Panel()
        self.save_requested = False
        self.running = True
        self.clock = pg.time.Clock()

    @property
    def digits(self):
        return self.reading.digits

    # --- events -------------------------------------------------------------------------

    def handle_event(self, event):
        if event.type == pg.QUIT:
            self.running = False
        elif event.type == pg.KEYDOWN:
            self.handle_key(event)
        elif event.type == pg.MOUSEBUTTONDOWN:
            if event.button == 1 and event.pos[0] < CANVAS_SIZE:
                self.begin_stroke(event.pos)
            elif event.button == 1 and self.stroke is None:
                self.select_at(event.pos)
            elif event.button == 3:
                self.clear()
        elif event.type == pg.MOUSEMOTION and self.stroke is not None:
            if event.buttons[0]:
                self.extend_stroke(event.pos)
            else:  # the button went up where no event reached us
                self.end_stroke()
        elif event.type == pg.MOUSEBUTTONUP and event.button == 1 and self.stroke is not None:
            self.extend_stroke(event.pos)
            self.end_stroke()

    def handle_key(self, event):
        key = event.key
        if key == pg.K_q:
            self.running = False
        elif key == pg.K_r:
            self.clear()
        elif key == pg.K_u or (
            key == pg.K_z and event.mod & (pg.KMOD_CTRL | pg.KMOD_META)  # Cmd+Z on macOS
        ):
            self.undo()
        elif key == pg.K_s:
            self.save_requested = True  # saved after the next draw, so the picture is current
        elif key == pg.K_t:
            self.teach()
        elif key == pg.K_m:
            self.switch_model()
        elif self.stroke is not None:
            pass  # the digits on show are half drawn: no labelling until the button is up
        elif key in DIGIT_KEYS:
            self.label_selected(DIGIT_KEYS[key])
        elif key == pg.K_TAB:
            self.reading.step(-1 if event.mod & pg.KMOD_SHIFT else 1)
            self.panel = None
        elif key in ENTER_KEYS:
            self.confirm_reading()

    # --- the canvas ---------------------------------------------------------------------

    def begin_stroke(self, pos):
        if self.stroke is not None:  # a press without a release before it: that stroke is done
            self.end_stroke()
        self.stroke = [tuple(pos)]
        draw_dot(self.canvas, self.stroke[0])
        self.changed()

    def extend_stroke(self, pos):
        # Points outside the canvas are kept: drawing on the canvas surface clips the line
        # at its edge, and the stroke carries on where the mouse comes back.
        pos = tuple(pos)
        if pos != self.stroke[-1]:
            draw_segment(self.canvas, self.stroke[-1], pos)
            self.stroke.append(pos)
            self.changed()

    def end_stroke(self):
        self.strokes.append(self.stroke)
        self.stroke = None
        self.read("stroke")

    def undo(self):
        """Take back the stroke being drawn, or else the last finished one."""
        if self.stroke is not None:
            self.stroke = None
        elif self.strokes:
            self.strokes.pop()
        self.canvas.fill(WHITE)
        for points in self.strokes:
            draw_stroke(self.canvas, points)
        self.changed()
        self.read("undo")

    def clear(self):
        """Wipe the canvas; a stroke being drawn ends here and the rest of it is ignored."""
        self.stroke = None
        self.strokes = []
        self.canvas.fill(WHITE)
        self.changed()
        self.read("clear")

    def changed(self):
        """The ink changed: labels given to the digits on show no longer hold."""
        self.dirty = True
        self.version += 1
        if self.reading.labels or self.reading.selected is not None:
            self.reading.forget()
            self.panel = None

    # --- reading ------------------------------------------------------------------------

    def update(self, now_ms):
        """Take in new readings, teaching's progress and loaded models; send the canvas while
        the button is down, throttled."""
        for job, digits, error in self.reader.take():
            if error is not None and not isinstance(error, TooManyMarks):
                raise error
            if job.version != self.read_version:  # a reading of other ink: labels go
                self.reading.forget()
            self.reading.show(digits)
            self.seen, self.unread, self.read_version = job.array, error, job.version
            self.panel = None
            if job.event is not None:
                self.report(job.event)
        if self.teaching is not None:
            self.follow_teaching()
        for kind, error in self.models.finished():
            self.model_loaded(kind, error)
        due = now_ms - self.last_read_ms >= LIVE_INTERVAL_MS
        if self.dirty and self.stroke is not None and due:
            self.read(now_ms=now_ms)

    def read(self, event=None, now_ms=None):
        """Send the canvas to be read; `event` names what to report when the result is in."""
        blank = not self.strokes and self.stroke is None
        self.reader.submit(Job(event, canvas_array(self.canvas), blank, self.version))
        self.last_read_ms = pg.time.get_ticks() if now_ms is None else now_ms
        self.dirty = False

    def settle(self, timeout=CLOSE_TIMEOUT_S):
        """Wait for the readings sent so far and report them; False on a timeout."""
        done = self.reader.wait(timeout)
        self.update(pg.time.get_ticks())
        return done

    def report(self, event):
        text = read_number(self.digits)
        if self.jsonl:
            digits = [
                {
                    "label": int(digit.label),
                    "confidence": round(float(digit.confidence), 4),
                    "box": [int(value) for value in digit.box],
                }
                for digit in self.digits
            ]
            record = {"event": event, "text": text, "digits": digits}
            if self.unread:
                record["unread"] = str(self.unread)
            line = json.dumps(record)
        elif event == "clear":
            line = "cleared"
        elif self.unread:
            line = f"read: (nothing: {self.unread})"
        else:
            line = f"read: {text or '(nothing)'}"
        self.output(line)

    def output(self, line):
        # A reader that went away (`--jsonl | head -n 1`) raises BrokenPipeError: the app
        # ends quietly (cli.run).
        print(line, file=self.out, flush=True)

    # --- labelling ----------------------------------------------------------------------

    def select_at(self, pos):
        """A click on the right half: select the digit whose box or tile is there."""
        index = digit_at((pos[0] - CANVAS_SIZE, pos[1]), self.reading.digits)
        if index is not None:
            self.reading.select(index)
            self.panel = None

    def label_selected(self, label):
        if not self.reading_is_current():
            return
        index = self.reading.selected_index
        if index is None:
            if self.reading.digits:
                self.say("Select a digit first: click it, or press Tab.")
            return
        digit = self.reading.digits[index]
        saved = self.reading.label_of(digit)
        if saved is not None:
            self.say(f"This digit is saved already, as a {saved}.")
            return
        self.save_samples([(digit, label)])

    def confirm_reading(self):
        """Enter: the reading is right; save every digit not saved yet as it was read."""
        if not self.reading_is_current() or not self.reading.digits:
            return
        todo = [(digit, digit.label) for digit in self.reading.unlabelled()]
        if not todo:
            self.say("Every digit here is saved already.")
            return
        self.save_samples(todo)

    def reading_is_current(self):
        """The digits on show are those of the canvas as it is: no reading is under way."""
        if self.read_version == self.version and not self.dirty:
            return True
        self.say("Still reading the canvas: try again in a moment.")
        return False

    def save_samples(self, labelled):
        """Append (digit, label) pairs to the sample set, each with its own strokes."""
        digits = self.reading.digits
        owned = digit_strokes(self.strokes, [digit.box for digit in digits], margin=PEN_RADIUS)
        strokes = {digit.box: own for digit, own in zip(digits, owned, strict=True)}
        # A digit none of whose strokes lie mostly in its box cannot be drawn again: not saved.
        labelled = [(digit, label) for digit, label in labelled if strokes[digit.box]]
        if not labelled:
            self.say("Could not tell which strokes make up this digit: not saved.", ORANGE)
            return
        samples = [Sample(label, digit.image, strokes[digit.box]) for digit, label in labelled]
        try:
            self.samples.append(samples)
        except OSError as error:
            reason = cli.describe_os_error(error)
            print(f"error: could not save the sample: {reason}", file=sys.stderr, flush=True)
            self.say(f"Could not save the sample: {reason}", ORANGE)
            return
        for digit, label in labelled:
            self.reading.mark(digit, label)
        self.counts = self.samples.counts()
        total = int(self.counts.sum())
        for number, (digit, label) in enumerate(labelled, start=total - len(labelled) + 1):
            if self.jsonl:
                record = {"event": "sample", "label": label, "predicted": digit.label}
                self.output(json.dumps({**record, "samples": number}))
            else:
                self.output(f"sample: {label} (read {digit.label}), {number} samples")
        self.reading.select_next_unlabelled()
        if len(labelled) == 1:
            digit, label = labelled[0]
            read_as = "" if label == digit.label else f" (read as {digit.label})"
            self.say(f"Saved a {label}{read_as}. {total} samples: press T to teach.", PURPLE)
        else:
            self.say(f"Saved {len(labelled)} digits. {total} samples: press T to teach.", PURPLE)

    # --- teaching and models ------------------------------------------------------------

    def teach(self):
        """T: teach a model on the samples in a child process; the app reads on meanwhile."""
        if self.teaching is not None:
            self.say("Already teaching: the model is used once it is ready.")
            return
        self.counts = self.samples.counts()
        total = int(self.counts.sum())
        if total < MIN_SAMPLES:  # the command would refuse too, after seconds of start-up
            self.say(
                f"Teaching needs {MIN_SAMPLES} samples or more, and there are {total}: "
                "correct digits with 0-9 or confirm them with Enter."
            )
            return
        command = teach_command(
            self.samples.folder,
            self.samples.taught_model_path,
            self.models.paths[BASE].absolute(),  # the model the user corrected
            self.teach_args,
        )
        try:
            self.teaching = Teaching(command)
        except OSError as error:
            reason = cli.describe_os_error(error)
            print(f"error: could not start teaching: {reason}", file=sys.stderr, flush=True)
            self.say(f"Could not start teaching: {reason}", ORANGE)
            return
        self.progress = self.teaching.state()
        self.teaching_on = total
        self.say(f"Teaching on your {total} samples; draw on meanwhile.")

    def follow_teaching(self):
        progress = self.teaching.state()
        if progress != self.progress:
            self.progress = progress
            self.panel = None
        if progress.status is None:
            return
        self.teaching.stop()  # it has ended: this only collects its output thread
        self.teaching = None
        if progress.status == 0:
            self.models.start_loading(TAUGHT)
            self.taught_on = self.teaching_on
            self.say("Taught. Loading your model...", PURPLE)
        else:
            self.say(f"Teaching failed: {progress.failure}", ORANGE)

    def switch_model(self):
        """M: read with the other model, the shipped one or the taught one."""
        other = self.models.other
        if self.models.loading:
            self.say("Loading a model: a moment.")
        elif not self.models.exists(other):
            self.say("No taught model yet: save samples (0-9, Enter), then press T.")
        elif self.models.recognizers[other] is None:
            self.models.start_loading(other)
            self.say(f"Loading {self.models.describe(other)}...")
        else:
            self.use_model(other)

    def model_loaded(self, kind, error):
        if error is not None:
            self.taught_on = None
            self.say(f"Could not load the model: {error}", ORANGE)
        else:
            self.use_model(kind)

    def use_model(self, kind):
        """Read with this loaded model from now on, starting with the canvas as it is."""
        self.reader.use(self.models.switch(kind))
        self.read()
        if kind == TAUGHT and self.taught_on is not None:
            message = f"Now reading with your taught model ({self.taught_on} samples)."
            self.taught_on = None
        else:
            message = f"Now reading with {self.models.describe(kind)}."
        self.say(message, PURPLE)

    def say(self, message, colour=GREY):
        self.message, self.message_colour = message, colour
        self.panel = None

    # --- drawing and the loop -----------------------------------------------------------

    def view(self):
        return View(
            seen=self.seen,
            reading=self.reading,
            unread=self.unread,
            counts=self.counts,
            model=self.models.name(),
            teaching=self.progress if self.teaching is not None else None,
            message=self.message,
            message_colour=self.message_colour,
        )

    def draw(self, screen):
        screen.blit(self.canvas, (0, 0))
        if self.panel is None:
            self.panel = self.drawer.draw(self.view())
        screen.blit(self.panel, (CANVAS_SIZE, 0))
        screen.fill(DIVIDER, (CANVAS_SIZE, 0, DIVIDER_WIDTH, WINDOW_SIZE[1]))

    def save(self, screen):
        """Save the window under the first free name of this second; two apps saving in
        one folder at once each get their own file."""
        try:
            path = write_new(save_names(self.save_dir), lambda tmp: pg.image.save(screen, str(tmp)))
        except (OutputError, pg.error) as error:
            print(f"error: could not save the window: {error}", file=sys.stderr, flush=True)
            return None
        # stdout carries only JSON lines with --jsonl.
        print(f"saved: {path}", file=sys.stderr if self.jsonl else self.out, flush=True)
        return path

    def step(self, screen):
        """One frame: events, live reading, drawing, a requested save, then the flip."""
        for event in pg.event.get():
            self.handle_event(event)
        self.update(pg.time.get_ticks())
        self.draw(screen)
        if self.save_requested:
            self.save_requested = False
            self.save(screen)
        pg.display.flip()

    def run(self, screen, max_frames=None):
        frames = 0
        try:
            while self.running and (max_frames is None or frames < max_frames):
                self.step(screen)
                self.clock.tick(FPS)
                frames += 1
        finally:
            self.close()

    def close(self):
        """Stop teaching, report the readings still under way (a stroke finished just
        before Q), then stop."""
        if self.teaching is not None:
            self.teaching.stop()
            self.teaching = None
        self.stroke = None
        self.settle()
        self.reader.close(CLOSE_TIMEOUT_S)
        self.models.close()


def parse_args(argv=None):
    parser = cli.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--model",
        type=Path,
        help="model file (default: the taught model in --samples if there is one, else "
        "model/mnist_cnn.keras). A .keras file is read through its ONNX export beside it "
        "(python -m deeplearning.export MODEL.keras) when that is up to date, else with Keras, "
        "which takes seconds more to start; a .onnx file is read as it is",
    )
    parser.add_argument(
        "--samples",
        type=Path,
        default=DEFAULT_DIR,
        help="folder for the digits you label and the model taught on them "
        "(default data/personal/)",
    )
    parser.add_argument(
        "--jsonl",
        action="store_true",
        help="after every stroke, undo, clear and saved sample print one JSON object per "
        "line on stdout",
    )
    return parser.parse_args(argv)


def main(argv=None):
    return cli.run(lambda: run(parse_args(argv)))


def check_samples_folder(path):
    """A folder, or a path where one can be made: nothing on the way is a file."""
    for part in (path, *path.parents):
        if part.exists():
            if not part.is_dir():
                raise cli.CommandError(f"{part}: not a folder (--samples {path})")
            return


def first_model(model, samples_dir):
    """The model to start with, (path, taught?): --model if given, else the one taught on
    the samples if there is one, else the shipped one (path None)."""
    taught_path = SampleSet(samples_dir).taught_model_path
    if model is None and taught_path.is_file():
        return taught_path, True
    return model, False


def make_app(args):
    """Check the options and load the first model, before the window opens, so that a bad
    model fails fast and plainly; the chatter of TensorFlow's first run stays off stderr."""
    check_samples_folder(args.samples)
    path, taught = first_model(args.model, args.samples)
    warning = None
    with stderr_silenced():
        try:
            recognizer = Recognizer(path)
        except ModelError as error:
            if not taught:
                raise
            # A damaged taught model: the shipped one reads, and T teaches a new one.
            warning, taught = error, False
            recognizer = Recognizer(None)
    pg.font.init()  # the panel's fonts
    application = App(
        recognizer, jsonl=args.jsonl, samples_dir=args.samples, taught=taught, base_model=args.model
    )
    if warning is not None:
        print(f"warning: {warning}; reading with the shipped model", file=sys.stderr)
        application.say(f"Could not load your taught model: {warning}", ORANGE)
    return application


def run(args):
    application = make_app(args)
    pg.display.init()
    try:
        pg.display.set_caption(TITLE)
        screen = pg.display.set_mode(WINDOW_SIZE)
        application.run(screen)
    finally:
        pg.quit()
    return 0


if __name__ == "__main__":
    sys.exit(main())
