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
the samples go to the --samples folder. Another digit key on a saved digit corrects its
sample, Delete or Backspace removes it. T teaches a model on those samples in the
background and reads with it once it is ready; M switches between the shipped model and the
taught one. V opens the look-inside view of the selected digit in the right half, above the
tiles (why it was read as it was: each model's probabilities, the ink that counted for the
digit and for the runner-up, each convolutional block's maps, the path as the path model
saw it), and closes it. S saves the window, with the view if it is open, to
data/drawings/drawing-YYYYmmdd-HHMMSS.png in the project (never over another file) and says
so on the panel; Q or closing the window quits; so does Ctrl-C in the terminal.

    python app.py                  # the taught model if there is one, else the shipped one
    python app.py --model PATH     # another model
    python app.py --samples DIR    # samples and the taught model in DIR (data/personal/)
    python app.py --jsonl          # JSON lines on stdout: strokes, undo, clear, samples
    python app.py --image FILE     # a photo or scan of digits on paper, shown and read

An image file dropped on the window is shown on the left and read like a drawing; the pen, R
or undo go back to a blank canvas.
"""

import os
import sys
from pathlib import Path

# pygame prints a banner on import, which would corrupt the --jsonl output.
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
# Without framebuffer acceleration SDL draws the window in software and never loads OpenGL:
# under an X server whose OpenGL is Mesa's llvmpipe (Xvfb among them) the window opens sooner
# (benchmarks/startup.py), and a process that has loaded TensorFlow (a script that trains and
# then starts the App) would segfault, Mesa's LLVM colliding with TensorFlow's. It must be set
# before pg.display.init().
os.environ.setdefault("SDL_FRAMEBUFFER_ACCELERATION", "0")
# SDL would take over Ctrl-C and SIGTERM; Python's handlers end the app as every command ends.
os.environ.setdefault("SDL_NO_SIGNAL_HANDLERS", "1")

import pygame as pg  # noqa: E402

from deeplearning.core import cli  # noqa: E402
from deeplearning.core.atomic import OutputError  # noqa: E402
from deeplearning.core.errors import InputError, shown  # noqa: E402
from deeplearning.personal.samples import DEFAULT_DIR  # noqa: E402
from deeplearning.reading.pen import CANVAS_SIZE  # noqa: E402
from deeplearning.reading.recognize import TooManyMarks  # noqa: E402
from deeplearning.ui.canvas import Canvas  # noqa: E402
from deeplearning.ui.colours import BLUE, DIVIDER, ORANGE  # noqa: E402
from deeplearning.ui.image_canvas import load_image_canvas  # noqa: E402
from deeplearning.ui.inside_view import InsideView  # noqa: E402
from deeplearning.ui.labelling import Labeller, check_samples_folder  # noqa: E402
from deeplearning.ui.models import BASE, TAUGHT, Models, load_first  # noqa: E402
from deeplearning.ui.panel import Panel, View, digit_at  # noqa: E402
from deeplearning.ui.reader import Reader  # noqa: E402
from deeplearning.ui.report import Outcome, Reporter, reading_record  # noqa: E402
from deeplearning.ui.snapshot import DRAWINGS_DIR, from_here, save_window  # noqa: E402
from deeplearning.ui.teacher import Teacher  # noqa: E402

TITLE = "Handwritten digit recognizer"
WINDOW_SIZE = (1280, 640)
CANVAS_SIDE = CANVAS_SIZE[0]  # px: the left half, square; the right half shows what was read
FPS = 60
LIVE_INTERVAL_MS = 100  # read the canvas at most this often while the button is down
CLOSE_TIMEOUT_S = 10  # on quit, how long to wait for readings still to be reported
NOTICE_SECONDS = 4  # how long the panel says where the window was saved
DIVIDER_WIDTH = 2
DIGIT_KEYS = {
    **{getattr(pg, f"K_{digit}"): digit for digit in range(10)},
    **{getattr(pg, f"K_KP{digit}"): digit for digit in range(10)},
}
ENTER_KEYS = (pg.K_RETURN, pg.K_KP_ENTER)
REMOVE_KEYS = (pg.K_DELETE, pg.K_BACKSPACE)
UNDO_MODS = pg.KMOD_CTRL | pg.KMOD_META  # Ctrl+Z, or Cmd+Z on macOS


class App:
    """The window: each frame turns the events into actions of the canvas, the labeller and
    the teacher, sends the canvas to the reader and takes in what it read, passes on what
    the actions came to (Outcomes), then draws the canvas and the panel, which draws the
    right half from a View of the rest."""

    def __init__(
        self,
        recognizer,
        jsonl=False,
        out=None,
        save_dir=DRAWINGS_DIR,
        samples_dir=DEFAULT_DIR,
        taught=False,
        base_model=None,
        teach_args=(),
    ):
        self.reporter = Reporter(out, jsonl)  # stdout, stderr and the panel's message
        self.save_dir = Path(save_dir)
        self.canvas = Canvas()
        self.image = None  # a photo or scan dropped on the window: shown and read, not the ink
        self.reader = Reader(recognizer)
        self.labeller = Labeller(samples_dir)
        taught_path = self.labeller.samples.taught_model_path
        models = Models(recognizer, TAUGHT if taught else BASE, base_model, taught_path)
        self.teacher = Teacher(models, self.labeller, teach_args)
        self.last_read_ms = -LIVE_INTERVAL_MS
        self.read_asked = False  # read the canvas once this frame's events are handled ...
        self.events_to_report = []  # ... and report these events when it is read
        self.panel = None  # the right half, drawn again only when what it shows changes
        self.drawer = Panel()
        self.inside = InsideView()  # V: why the selected digit was read as it was
        self.save_requested = False
        self.notice = None  # (words, colour, until ms): over the panel's message for a while
        self.too_small = False  # the last reading found ink, but each mark too small to read
        self.answer = None  # the panel's message if a key press gave it: the ink may outdate it
        self.running = True
        self.clock = pg.time.Clock()

    @property
    def digits(self):
        return self.labeller.reading.digits

    # --- events -------------------------------------------------------------------------

    def handle_event(self, event):
        drawing = self.canvas.drawing
        if event.type == pg.QUIT:
            self.running = False
        elif event.type == pg.KEYDOWN:
            self.handle_key(event)
        elif event.type == pg.DROPFILE:
            self.open_image(event.file)
        elif event.type == pg.MOUSEBUTTONDOWN:
            if event.button == 1 and event.pos[0] < CANVAS_SIDE:
                self.begin_stroke(event.pos)
            elif event.button == 1 and not drawing:
                self.select_at(event.pos)
            elif event.button == 3:
                self.clear()
        elif event.type == pg.MOUSEMOTION and drawing:
            if event.buttons[0]:
                self.extend_stroke(event.pos)
            else:  # the button went up where no event reached us
                self.end_stroke()
        elif event.type == pg.MOUSEBUTTONUP and event.button == 1 and drawing:
            self.extend_stroke(event.pos)
            self.end_stroke()

    def handle_key(self, event):
        key = event.key
        if key == pg.K_q:
            self.running = False
        elif key == pg.K_r:
            self.clear()
        elif key == pg.K_u or (key == pg.K_z and event.mod & UNDO_MODS):
            self.undo()
        elif key == pg.K_s:
            self.save_requested = True  # saved after the next draw, so the picture is current
        elif key == pg.K_v:
            self.inside.toggle()
            self.panel = None
        elif key == pg.K_t:
            self.answered(self.teacher.teach())
        elif key == pg.K_m:
            self.answered(self.teacher.switch())
        elif self.canvas.drawing:
            pass  # the digits on show are half drawn: no labelling until the button is up
        elif key in DIGIT_KEYS:
            self.answered(self.labeller.label_selected(DIGIT_KEYS[key], self.canvas))
        elif key == pg.K_TAB:
            self.labeller.reading.step(-1 if event.mod & pg.KMOD_SHIFT else 1)
            self.panel = None
        elif key in ENTER_KEYS:
            self.answered(self.labeller.confirm(self.canvas))
        elif key in REMOVE_KEYS:
            self.answered(self.labeller.remove_selected(self.canvas))

    def answered(self, outcome):
        """Pass on what a key press came to; its message holds until the ink changes."""
        self.apply(outcome)
        if outcome is not None and outcome.message:
            self.answer = outcome.message

    def select_at(self, pos):
        """A click on the right half: select the digit whose box or tile is there."""
        reading = self.labeller.reading
        index = digit_at((pos[0] - CANVAS_SIDE, pos[1]), reading.digits)
        if index is not None:
            reading.select(index)
            self.panel = None

    # --- the canvas ---------------------------------------------------------------------

    def begin_stroke(self, pos):
        if self.canvas.drawing:  # a press without a release before it: that stroke is done
            self.end_stroke()
        self.canvas.begin(pos)
        self.changed()

    def extend_stroke(self, pos):
        if self.canvas.extend(pos):
            self.changed()

    def end_stroke(self):
        self.canvas.end()
        self.read("stroke")

    def undo(self):
        self.canvas.undo()
        self.changed()
        self.read("undo")

    def clear(self):
        self.canvas.clear()
        self.changed()
        self.read("clear")

    def open_image(self, path):
        """Show an image file on the canvas, in place of the ink, and read it; a file that
        cannot be read is said on the panel."""
        try:
            image = load_image_canvas(path)
        except InputError as error:
            self.answered(Outcome(f"Could not read the image: {error}", ORANGE, error=str(error)))
            return
        self.canvas.clear()  # the ink goes, and the image takes its place
        self.changed()
        self.image = image
        self.read("image")

    def changed(self):
        """The ink changed: labels given to the digits on show no longer hold, nor does what
        a key press said (a refusal, a sample saved), unless something has been said since.
        An image on show goes: the pen draws on a blank canvas."""
        self.image = None
        if self.labeller.reading.forget():
            self.panel = None
        if self.answer is not None:
            if self.reporter.message == self.answer:
                self.reporter.message = ""
                self.panel = None
            self.answer = None

    # --- reading, and what the actions come to ------------------------------------------

    def update(self, now_ms):
        """Take in new readings, teaching's progress and loaded models; send the canvas if
        this frame asked for a reading, or while the button is down, throttled."""
        for job, digits, error in self.reader.take():
            self.show(job, digits, error)
        for outcome in self.teacher.update():
            self.apply(outcome)
        if self.inside.update(self.labeller.reading, self.canvas, self.reader.recognizer):
            self.panel = None
        if self.notice is not None and now_ms >= self.notice[2]:
            self.notice, self.panel = None, None
        due = now_ms - self.last_read_ms >= LIVE_INTERVAL_MS
        if self.canvas.drawing and self.canvas.unsent and due:
            self.read()
        if self.read_asked:
            self.send(now_ms)

    def read(self, event=None):
        """Have the canvas read once this frame's events are handled: one copy of it however
        many strokes they ended. `event` names what to report when the result is in."""
        self.read_asked = True
        if event is not None:
            self.events_to_report.append(event)

    def send(self, now_ms):
        job = self.canvas.job(tuple(self.events_to_report))
        # Copies: the stroke being drawn grows (and is cut back) while the reader reads.
        drawing = [self.canvas.stroke] if self.canvas.drawing else []
        job.strokes = [list(stroke) for stroke in self.canvas.strokes + drawing]
        if self.image is not None:  # the image's ink is read, as if drawn
            job.array, job.blank, job.strokes = self.image.array.copy(), False, None
        self.reader.submit(job)
        self.read_asked, self.events_to_report = False, []
        self.last_read_ms = now_ms

    def show(self, job, digits, error):
        """A reading came in: show it, and report it for each event it was read after."""
        if error is not None and not isinstance(error, TooManyMarks):
            raise error
        self.labeller.reading.show(job, digits, error)  # labels given to other ink go
        self.too_small = not job.blank and not digits and error is None
        self.panel = None
        for event in job.events:
            self.reporter.output(reading_record(event, digits, error))

    def settle(self, timeout=CLOSE_TIMEOUT_S):
        """Send the reading asked for, wait for the readings sent so far and report them;
        False on a timeout."""
        if self.read_asked:
            self.send(pg.time.get_ticks())
        done = self.reader.wait(timeout)
        self.update(pg.time.get_ticks())
        return done

    def apply(self, outcome):
        """Pass on what an action came to, if anything: its words, the model to read with
        from now on; the panel shows the change."""
        if outcome is None:
            return
        self.reporter.tell(outcome)
        if outcome.recognizer is not None:
            self.reader.use(outcome.recognizer)
            self.read()  # the canvas as it is, with the new model
        self.panel = None

    # --- drawing and the loop -----------------------------------------------------------

    def view(self):
        return View(
            reading=self.labeller.reading,
            counts=self.labeller.counts,
            model=self.teacher.models.name(),
            teaching=self.teacher.status,
            message=self.notice[0] if self.notice else self.reporter.message,
            message_colour=self.notice[1] if self.notice else self.reporter.colour,
            too_small=self.too_small,
            inside=self.inside.picture(self.labeller.reading),
        )

    def draw(self, screen):
        screen.blit(self.canvas.surface if self.image is None else self.image.surface, (0, 0))
        if self.panel is None:
            self.panel = self.drawer.draw(self.view())
        screen.blit(self.panel, (CANVAS_SIDE, 0))
        screen.fill(DIVIDER, (CANVAS_SIDE, 0, DIVIDER_WIDTH, WINDOW_SIZE[1]))

    def save(self, screen):
        """Save the window to a new PNG in the save folder, and say where on the panel for a
        while; its path, None if it failed."""
        try:
            path = save_window(screen, self.save_dir)
        except (OutputError, pg.error) as error:
            self.reporter.error(f"could not save the window: {error}")
            self.tell_for_a_while(f"Could not save the window: {error}", ORANGE)
            return None
        self.reporter.saved(path)
        self.tell_for_a_while(f"Saved {shown(from_here(path))}", BLUE)
        return path

    def tell_for_a_while(self, words, colour):
        self.notice = (words, colour, pg.time.get_ticks() + 1000 * NOTICE_SECONDS)
        self.panel = None

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
        self.teacher.stop()
        self.canvas.stroke = None  # a stroke being drawn is dropped: no more live readings
        self.settle()
        self.reader.close(CLOSE_TIMEOUT_S)
        self.teacher.close()
        self.inside.close()


def parse_args(argv=None):
    parser = cli.ArgumentParser(description=__doc__.split("\n\n")[0])  # argparse refills it
    parser.add_argument(
        "--model",
        type=Path,
        help="model file (default: the taught model in --samples if there is one, else "
        "model/mnist_cnn.keras). A .keras file is read through its up-to-date ONNX export "
        "beside it (training writes one; python -m deeplearning export MODEL.keras makes "
        "one); a .onnx file is read as it is",
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
        help="after every stroke, undo and clear, and every sample saved, corrected or "
        "removed, print one JSON object per line on stdout",
    )
    parser.add_argument(
        "--image",
        type=Path,
        help="a photo or scan of digits on paper to show and read (or drop one on the window)",
    )
    return parser.parse_args(argv)


def main(argv=None):
    return cli.run(lambda: run(parse_args(argv)))


def make_app(args):
    """Check the options and load the first model before the window opens, so that a bad
    model fails fast and plainly."""
    check_samples_folder(args.samples)
    recognizer, taught, warning = load_first(args.model, args.samples)
    pg.font.init()  # the panel's fonts
    application = App(
        recognizer, jsonl=args.jsonl, samples_dir=args.samples, taught=taught, base_model=args.model
    )
    if warning is not None:
        print(f"warning: {warning}; reading with the shipped model", file=sys.stderr)
        application.apply(Outcome(f"Could not load your taught model: {warning}", ORANGE))
    if args.image is not None:
        application.image = load_image_canvas(args.image)  # InputError: one line, no window
        application.read("image")
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
