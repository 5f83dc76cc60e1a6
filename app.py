#!/usr/bin/env python
"""Handwritten digit recognizer: draw digits with the mouse and watch the CNN read them live.

Left half: a white canvas and a round black pen. Right half: what the model read - the
canvas with a green box and the predicted digit at each digit, the number in large type,
each digit's confidence (and its runner-up when unsure) and the 28x28 images the model saw.

Controls: left button draws; right button or R clears; U or Ctrl+Z undoes the last stroke;
S saves the window to drawing-YYYYmmdd-HHMMSS.png (never over another file); Q or closing
the window quits; so does Ctrl-C in the terminal.

    python app.py                  # the shipped model, model/mnist_cnn.keras
    python app.py --model PATH     # another model
    python app.py --jsonl          # one JSON object per stroke, undo and clear on stdout
"""

import collections
import functools
import itertools
import json
import math
import os
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

# pygame prints a banner on import, which would corrupt the --jsonl output.
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow: warnings and errors only
# Under an X server whose OpenGL is Mesa's llvmpipe (Xvfb among them), creating the window in a
# process that has loaded TensorFlow segfaults: Mesa's LLVM collides with TensorFlow's. Without
# framebuffer acceleration SDL draws the window in software and never loads OpenGL. It must be
# set before pg.display.init().
os.environ.setdefault("SDL_FRAMEBUFFER_ACCELERATION", "0")
# SDL would take over Ctrl-C and SIGTERM; Python's handlers end the app as every command ends.
os.environ.setdefault("SDL_NO_SIGNAL_HANDLERS", "1")

import cv2  # noqa: E402
import numpy as np  # noqa: E402
import pygame as pg  # noqa: E402

from deeplearning import cli  # noqa: E402
from deeplearning.atomic import OutputError, write_new  # noqa: E402
from deeplearning.pen import CANVAS_SIZE as CANVAS_SHAPE  # noqa: E402
from deeplearning.pen import PEN_RADIUS  # noqa: E402
from deeplearning.quiet import stderr_silenced  # noqa: E402
from deeplearning.recognize import Recognizer, TooManyMarks, read_number  # noqa: E402

TITLE = "Handwritten digit recognizer"
WINDOW_SIZE = (1280, 640)
CANVAS_SIZE = CANVAS_SHAPE[0]  # the left half, square; the right half shows what was read
FPS = 60
LIVE_INTERVAL_MS = 100  # read the canvas at most this often while the button is down
CLOSE_TIMEOUT_S = 10  # on quit, how long to wait for readings still to be reported
UNSURE_BELOW = 0.9  # below this confidence the runner-up is shown too

WHITE = (255, 255, 255)
BLACK = (0, 0, 0)
GREEN = (0, 170, 0)
ORANGE = (215, 110, 0)
GREY = (120, 120, 120)
LIGHT_GREY = (200, 200, 200)
DIVIDER = (60, 60, 60)
DIVIDER_WIDTH = 2

# The right half: a scaled copy of the canvas, a help column, the number, one tile per digit.
PREVIEW_POS = (20, 20)
PREVIEW_SIZE = 400
PREVIEW_SCALE = PREVIEW_SIZE / CANVAS_SIZE
HELP_POS = (440, 24)
NUMBER_POS = (20, 432)
NUMBER_WIDTH = 600
TILES_POS = (20, 520)
TILE_SIZE = 56  # 28x28 images at twice their size
TILE_GAP = 10
HELP_LINES = (
    "Left button: draw",
    "Right button / R: clear",
    "U / Ctrl+Z: undo",
    "S: save a PNG",
    "Q: quit",
)


@functools.cache
def pen_tip():
    """The pen's disk, every pixel within PEN_RADIUS of the centre: 15 px across, symmetric
    (pg.draw.circle's disk is one pixel off centre)."""
    offsets = np.arange(-PEN_RADIUS, PEN_RADIUS + 1)
    inside = offsets[:, None] ** 2 + offsets[None, :] ** 2 <= PEN_RADIUS**2
    tip = pg.Surface((2 * PEN_RADIUS + 1, 2 * PEN_RADIUS + 1))
    pg.surfarray.blit_array(tip, np.where(inside, 0, 0xFFFFFF).astype(np.uint32))
    tip.set_colorkey(WHITE)
    return tip


def draw_dot(surface, point):
    x, y = point
    surface.blit(pen_tip(), (round(x) - PEN_RADIUS, round(y) - PEN_RADIUS))


def draw_segment(surface, start, end):
    """A thick line with round ends, so that a fast move leaves no gap however far it jumps."""
    (x0, y0), (x1, y1) = start, end
    length = math.hypot(x1 - x0, y1 - y0)
    if length:
        # A rectangle PEN_RADIUS either side of the line, capped by the pen at both ends.
        nx, ny = (y0 - y1) * PEN_RADIUS / length, (x1 - x0) * PEN_RADIUS / length
        corners = [(x0 + nx, y0 + ny), (x1 + nx, y1 + ny), (x1 - nx, y1 - ny), (x0 - nx, y0 - ny)]
        pg.draw.polygon(surface, BLACK, corners)
    draw_dot(surface, end)


def draw_stroke(surface, points):
    draw_dot(surface, points[0])
    for start, end in zip(points, points[1:], strict=False):
        draw_segment(surface, start, end)


def canvas_array(surface):
    """A copy of the canvas as the recognizer takes it: uint8 [y, x], 255 background, 0 ink."""
    red = pg.surfarray.pixels_red(surface)  # a view, [x, y]; it locks the surface while alive
    array = red.T.copy()
    del red
    return array


def save_names(directory, now=None):
    """drawing-YYYYmmdd-HHMMSS.png in `directory`, then the same name with -1, -2... added."""
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(now))
    yield Path(directory) / f"drawing-{stamp}.png"
    for count in itertools.count(1):
        yield Path(directory) / f"drawing-{stamp}-{count}.png"


def fit_width(surface, width):
    """Shrink a rendered text to `width` pixels if it is wider."""
    if surface.get_width() <= width:
        return surface
    height = max(1, round(surface.get_height() * width / surface.get_width()))
    return pg.transform.smoothscale(surface, (width, height))


@dataclass
class Job:
    """A canvas to read; `event` is "stroke", "undo" or "clear" when the result is reported."""

    event: str | None
    array: np.ndarray  # a copy of the canvas, to read and to show next to the result
    blank: bool  # nothing drawn: nothing to read


class Reader:
    """Runs the recognizer on a worker thread, so that the pen never waits for the model.

    Jobs are read in order. A live reading still waiting when a newer job comes is dropped;
    event jobs are always read, since each one is reported. TensorFlow and OpenCV release
    Python's lock while they compute, so the frames go on meanwhile.
    """

    def __init__(self, recognizer):
        self.recognizer = recognizer
        self.jobs = collections.deque()
        self.results = collections.deque()  # (job, digits, error)
        self.busy = False
        self.closed = False
        self.condition = threading.Condition()
        self.thread = threading.Thread(target=self.work, name="reader", daemon=True)
        self.thread.start()

    def submit(self, job):
        with self.condition:
            while self.jobs and self.jobs[-1].event is None:
                self.jobs.pop()
            self.jobs.append(job)
            self.condition.notify_all()

    def work(self):
        while True:
            with self.condition:
                self.condition.wait_for(lambda: self.jobs or self.closed)
                if not self.jobs:
                    return
                job = self.jobs.popleft()
                self.busy = True
            digits, error = [], None
            try:
                if not job.blank:
                    digits = self.recognizer.recognize(job.array)
            except Exception as exception:  # handed to the main thread
                error = exception
            with self.condition:
                self.results.append((job, digits, error))
                self.busy = False
                self.condition.notify_all()

    def take(self):
        """The results that came in since the last call, oldest first."""
        with self.condition:
            results = list(self.results)
            self.results.clear()
        return results

    def wait(self, timeout):
        """Wait until every submitted job is read; False if `timeout` seconds pass first."""
        with self.condition:
            return self.condition.wait_for(lambda: not self.jobs and not self.busy, timeout)

    def close(self):
        with self.condition:
            self.closed = True
            self.condition.notify_all()
        self.thread.join(CLOSE_TIMEOUT_S)


class App:
    """The state of the canvas and of what the model read, the event handling and the drawing."""

    def __init__(self, recognizer, jsonl=False, out=None, save_dir="."):
        self.reader = Reader(recognizer)
        self.jsonl = jsonl
        self.out = out if out is not None else sys.stdout
        self.save_dir = Path(save_dir)
        self.canvas = pg.Surface((CANVAS_SIZE, CANVAS_SIZE))
        self.canvas.fill(WHITE)
        self.strokes = []  # finished strokes, each a list of (x, y); undo redraws from them
        self.stroke = None  # the stroke being drawn, None while the button is up
        self.digits = []  # what the model read last
        self.unread = None  # why the last canvas was not read (too many marks), if it was not
        self.seen = canvas_array(self.canvas)  # the canvas as the model saw it last
        self.dirty = False  # the canvas changed since it was last sent to be read
        self.last_read_ms = -LIVE_INTERVAL_MS
        self.panel = None  # the right half, drawn again only after a new reading
        self.save_requested = False
        self.running = True
        self.clock = pg.time.Clock()
        self.big_font = pg.font.Font(None, 120)
        self.label_font = pg.font.Font(None, 40)
        self.font = pg.font.Font(None, 24)
        self.small_font = pg.font.Font(None, 20)

    # --- events -------------------------------------------------------------------------

    def handle_event(self, event):
        if event.type == pg.QUIT:
            self.running = False
        elif event.type == pg.KEYDOWN:
            self.handle_key(event)
        elif event.type == pg.MOUSEBUTTONDOWN:
            if event.button == 1 and event.pos[0] < CANVAS_SIZE:
                self.begin_stroke(event.pos)
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
        if event.key == pg.K_q:
            self.running = False
        elif event.key == pg.K_r:
            self.clear()
        elif event.key == pg.K_u or (
            event.key == pg.K_z and event.mod & (pg.KMOD_CTRL | pg.KMOD_META)  # Cmd+Z on macOS
        ):
            self.undo()
        elif event.key == pg.K_s:
            self.save_requested = True  # saved after the next draw, so the picture is current

    # --- state --------------------------------------------------------------------------

    def begin_stroke(self, pos):
        if self.stroke is not None:  # a press without a release before it: that stroke is done
            self.end_stroke()
        self.stroke = [tuple(pos)]
        draw_dot(self.canvas, self.stroke[0])
        self.dirty = True

    def extend_stroke(self, pos):
        # Points outside the canvas are kept: drawing on the canvas surface clips the line
        # at its edge, and the stroke carries on where the mouse comes back.
        pos = tuple(pos)
        if pos != self.stroke[-1]:
            draw_segment(self.canvas, self.stroke[-1], pos)
            self.stroke.append(pos)
            self.dirty = True

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
        self.read("undo")

    def clear(self):
        """Wipe the canvas; a stroke being drawn ends here and the rest of it is ignored."""
        self.stroke = None
        self.strokes = []
        self.canvas.fill(WHITE)
        self.read("clear")

    def update(self, now_ms):
        """Take in new readings, and send the canvas while the button is down, throttled."""
        for job, digits, error in self.reader.take():
            if error is not None and not isinstance(error, TooManyMarks):
                raise error
            self.digits, self.seen, self.panel = digits, job.array, None
            self.unread = error
            if job.event is not None:
                self.report(job.event)
        due = now_ms - self.last_read_ms >= LIVE_INTERVAL_MS
        if self.dirty and self.stroke is not None and due:
            self.read(now_ms=now_ms)

    def read(self, event=None, now_ms=None):
        """Send the canvas to be read; `event` names what to report when the result is in."""
        blank = not self.strokes and self.stroke is None
        self.reader.submit(Job(event, canvas_array(self.canvas), blank))
        self.last_read_ms = pg.time.get_ticks() if now_ms is None else now_ms
        self.dirty = False

    def settle(self, timeout=CLOSE_TIMEOUT_S):
        """Wait for the readings sent so far and report them; False on a timeout."""
        done = self.reader.wait(timeout)
        self.update(pg.time.get_ticks())
        return done

    def close(self):
        """Report the readings still under way (a stroke finished just before Q), then stop."""
        self.stroke = None
        self.settle()
        self.reader.close()

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
        # A reader that went away (`--jsonl | head -n 1`) raises BrokenPipeError: the app
        # ends quietly (cli.run).
        print(line, file=self.out, flush=True)

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

    # --- drawing ------------------------------------------------------------------------

    def draw(self, screen):
        screen.blit(self.canvas, (0, 0))
        if self.panel is None:
            self.panel = self.draw_panel()
        screen.blit(self.panel, (CANVAS_SIZE, 0))
        screen.fill(DIVIDER, (CANVAS_SIZE, 0, DIVIDER_WIDTH, WINDOW_SIZE[1]))

    def draw_panel(self):
        panel = pg.Surface((WINDOW_SIZE[0] - CANVAS_SIZE, WINDOW_SIZE[1]))
        panel.fill(WHITE)
        self.draw_preview(panel)
        for row, line in enumerate(HELP_LINES):
            panel.blit(self.font.render(line, True, GREY), (HELP_POS[0], HELP_POS[1] + 26 * row))
        text = read_number(self.digits)
        if text:
            number = fit_width(self.big_font.render(text, True, BLACK), NUMBER_WIDTH)
        elif self.unread:
            message = "Too many separate marks to read: clear the canvas."
            number = self.font.render(message, True, ORANGE)
        else:
            number = self.font.render("Draw digits on the left.", True, GREY)
        panel.blit(number, NUMBER_POS)
        self.draw_tiles(panel)
        return panel

    def draw_preview(self, panel):
        """The canvas as the model saw it, with a box and the predicted digit at each digit."""
        x0, y0 = PREVIEW_POS
        # OpenCV's area average keeps white white (smoothscale turns it 253 grey).
        small = cv2.resize(self.seen, (PREVIEW_SIZE, PREVIEW_SIZE), interpolation=cv2.INTER_AREA)
        preview = pg.surfarray.make_surface(np.repeat(small.T[:, :, None], 3, axis=2))
        panel.blit(preview, PREVIEW_POS)
        pg.draw.rect(panel, LIGHT_GREY, (x0 - 1, y0 - 1, PREVIEW_SIZE + 2, PREVIEW_SIZE + 2), 1)
        for digit in self.digits:
            x, y, w, h = (round(value * PREVIEW_SCALE) for value in digit.box)
            pg.draw.rect(panel, GREEN, (x0 + x, y0 + y, max(w, 1), max(h, 1)), 2)
            label = self.label_font.render(str(digit.label), True, GREEN)
            # Above the box, or inside it when the box touches the top.
            top = y0 + y - label.get_height() if y >= label.get_height() else y0 + y + 2
            panel.blit(label, (x0 + x, top))

    def draw_tiles(self, panel):
        """The 28x28 images the model saw, each with its digit and confidence underneath."""
        if not self.digits:
            return
        x, y = TILES_POS
        count = len(self.digits)
        size = min(TILE_SIZE, (NUMBER_WIDTH - TILE_GAP * (count - 1)) // count)
        for digit in self.digits:
            image = np.repeat(digit.image.T[:, :, None], 3, axis=2)
            panel.blit(pg.transform.scale(pg.surfarray.make_surface(image), (size, size)), (x, y))
            caption = f"{digit.label} {digit.confidence:.0%}"
            line = fit_width(self.font.render(caption, True, BLACK), size + TILE_GAP)
            panel.blit(line, (x, y + size + 4))
            if digit.confidence < UNSURE_BELOW:
                label, probability = digit.runner_up
                caption = f"or {label} {probability:.0%}"
                line = fit_width(self.small_font.render(caption, True, ORANGE), size + TILE_GAP)
                panel.blit(line, (x, y + size + 24))
            x += size + TILE_GAP

    # --- the loop -----------------------------------------------------------------------

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


def parse_args(argv=None):
    parser = cli.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, help="model file (default model/mnist_cnn.keras)")
    parser.add_argument(
        "--jsonl",
        action="store_true",
        help="after every stroke, undo and clear print one JSON object per line on stdout",
    )
    return parser.parse_args(argv)


def main(argv=None):
    return cli.run(lambda: run(parse_args(argv)))


def run(args):
    # Loaded before the window opens, so that a bad model fails fast and plainly; the
    # chatter of TensorFlow's first run stays off stderr.
    with stderr_silenced():
        recognizer = Recognizer(args.model)
    pg.display.init()
    pg.font.init()
    try:
        pg.display.set_caption(TITLE)
        screen = pg.display.set_mode(WINDOW_SIZE)
        App(recognizer, jsonl=args.jsonl).run(screen)
    finally:
        pg.quit()
    return 0


if __name__ == "__main__":
    sys.exit(main())
