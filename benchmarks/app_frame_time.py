"""The app's frame budget while a number is drawn, with live recognition on, headless.

    .venv/bin/python benchmarks/app_frame_time.py [--frames 1200] [--inside]

The real App runs frame by frame, as App.run does (App.step, then the clock's tick at 60
frames a second), under SDL's dummy video driver. Real pygame mouse events are posted along
the pen strokes of a replayed MNIST number (deeplearning.pen_data.replay), one event per
frame, a few pixels apart: a steady hand. The number is drawn, cleared with the right
button, and drawn again until the frames are done. Meanwhile the app sends the canvas to its
reader thread every LIVE_INTERVAL_MS and at each stroke's end, as it does for a user.

Two times per frame: the work, from the start of event handling to just after the display
flip (the clock's sleep left out), and the time from one frame's start to the next. A frame
that takes in a new reading draws the right half again, so those frames are shown apart.

With --inside the same frames run a second time with the look-inside view open (V), Tab
selecting a digit after each stroke, so that the view is worked out for the selected digit
after every stroke and drawn when it is done: the frame times with the view open and closed.
"""

import os

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")  # before pygame is imported: no window
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

import io  # noqa: E402
import sys  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402

import common  # noqa: E402
import numpy as np  # noqa: E402
import pygame as pg  # noqa: E402

import app  # noqa: E402
from deeplearning.core import cli  # noqa: E402
from deeplearning.pen_data.replay import StrokeCache, number_cases  # noqa: E402
from deeplearning.reading.pen import MOUSE_STEP, strokes_to_mouse_path  # noqa: E402
from deeplearning.reading.recognize import Recognizer, read_number  # noqa: E402
from deeplearning.training.model import DEFAULT_MODEL_PATH  # noqa: E402

NUMBER_DIGITS = 4  # digits in the number drawn
PEN_UP_FRAMES = 6  # frames between strokes, the pen lifted (100 ms)
CLEAR_FRAMES = 30  # frames after clearing before the number is drawn again
WARMUP_FRAMES = 10  # untimed idle frames first
DRY_RUN_FRAMES = 150
FRAME_BUDGET_MS = 1000 / app.FPS
LATE_FRAME_MS = 1.5 * FRAME_BUDGET_MS  # a frame interval this long means a frame was missed


class CountingRecognizer:
    """The recognizer, counting and timing its readings (they run on the reader thread)."""

    def __init__(self, recognizer):
        self.recognizer = recognizer
        self.durations_ms = []
        self.lock = threading.Lock()

    def recognize(self, canvas, strokes=None):
        start = time.perf_counter()
        digits = self.recognizer.recognize(canvas, strokes)
        with self.lock:
            self.durations_ms.append((time.perf_counter() - start) * 1000)
        return digits


def drawn_number(images, labels, digits=NUMBER_DIGITS, seed=0):
    """The first replayed number of `digits` digits: (its text, its canvas strokes)."""
    rng = np.random.default_rng(seed)
    strokes_of = StrokeCache(images)
    while True:
        [case] = number_cases(strokes_of, labels, rng, count=1)
        if len(case.text) == digits:
            return case.text, case.strokes


def mouse_event(kind, pos, button=1):
    if kind == pg.MOUSEMOTION:
        return pg.event.Event(kind, pos=pos, rel=(0, 0), buttons=(1, 0, 0))
    return pg.event.Event(kind, pos=pos, button=button)


def frame_events(strokes, select=False):
    """The events of each frame of drawing the strokes once and clearing: lists, one per frame.
    With `select`, Tab is pressed once the pen is up after each stroke."""
    frames = []
    tab = pg.event.Event(pg.KEYDOWN, key=pg.K_TAB, mod=0, unicode="", scancode=0)
    for path in strokes_to_mouse_path(strokes):
        frames.append([mouse_event(pg.MOUSEBUTTONDOWN, path[0])])
        frames += [[mouse_event(pg.MOUSEMOTION, pos)] for pos in path[1:]]
        frames.append([mouse_event(pg.MOUSEBUTTONUP, path[-1])])
        frames += [[]] * PEN_UP_FRAMES
        if select:
            frames[-1] = [tab]
    frames.append([mouse_event(pg.MOUSEBUTTONDOWN, (320, 320), button=3)])  # clear
    frames += [[]] * CLEAR_FRAMES
    return frames


def run_frames(application, screen, schedule, frames):
    """Run `frames` frames of the schedule (repeated): (work ms, interval ms, panel redrawn)."""
    work, intervals, redrawn = [], [], []
    for _ in range(WARMUP_FRAMES):
        application.step(screen)
        application.clock.tick(app.FPS)
    previous = None
    for index in range(frames):
        for event in schedule[index % len(schedule)]:
            pg.event.post(event)
        panel = application.panel
        start = time.perf_counter()
        application.step(screen)  # events, live reading, drawing, flip
        work.append((time.perf_counter() - start) * 1000)
        if previous is not None:
            intervals.append((start - previous) * 1000)
        previous = start
        redrawn.append(application.panel is not panel)
        application.clock.tick(app.FPS)
    return np.array(work), np.array(intervals), np.array(redrawn)


def summary_row(name, samples_ms, goal="", met=""):
    p50, p95 = common.percentiles(samples_ms) if len(samples_ms) else (float("nan"),) * 2
    top = samples_ms.max() if len(samples_ms) else float("nan")
    return [name, len(samples_ms), f"{p50:.2f}", f"{p95:.2f}", f"{top:.2f}", goal, met]


def parse_args(argv):
    parser = cli.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=DEFAULT_MODEL_PATH, help="the .keras model to use")
    parser.add_argument(
        "--frames", type=cli.whole_number(1), default=1200, help="timed frames (60 a second)"
    )
    parser.add_argument("--dry-run", action="store_true", help="a few frames, to check it runs")
    parser.add_argument(
        "--inside",
        action="store_true",
        help="run the frames again with the look-inside view open (V), a digit selected "
        "after each stroke, and report both",
    )
    return parser.parse_args(argv)


def main(argv=None):
    return cli.run(lambda: measure(parse_args(argv)))


def run_with_view(recognizer, strokes, frames):
    """The frames again with the look-inside view open, Tab after each stroke: (work ms,
    interval ms, panel redrawn, each look's ms on its thread)."""
    schedule = frame_events(strokes, select=True)
    pg.display.init()
    pg.font.init()
    looks_ms = []
    try:
        screen = pg.display.set_mode(app.WINDOW_SIZE)
        application = app.App(recognizer, out=io.StringIO())
        looker = application.inside.looker
        look = looker._look

        def timed(*arguments):
            start = time.perf_counter()
            found = look(*arguments)
            looks_ms.append((time.perf_counter() - start) * 1000)
            return found

        looker._look = timed
        application.inside.toggle()
        try:
            work, intervals, redrawn = run_frames(application, screen, schedule, frames)
        finally:
            application.close()
    finally:
        pg.quit()
    return work, intervals, redrawn, np.array(looks_ms)


def frame_rows(work, intervals, redrawn):
    p95 = common.percentiles(work)[1]
    goal = f"p95 <= {FRAME_BUDGET_MS:.1f} ms"
    return [
        summary_row("work: events to flip", work, goal, "yes" if p95 <= FRAME_BUDGET_MS else "NO"),
        summary_row("work, frames drawing a new reading", work[redrawn]),
        summary_row("work, other frames", work[~redrawn]),
        summary_row("time between frame starts", intervals),
    ]


def measure(args):
    frames = DRY_RUN_FRAMES if args.dry_run else args.frames
    recognizer = CountingRecognizer(Recognizer(args.model))  # a bad model fails first
    images, labels = common.real_digits(5000)
    text, strokes = drawn_number(images, labels)
    schedule = frame_events(strokes)
    pg.display.init()
    pg.font.init()
    out = io.StringIO()
    try:
        screen = pg.display.set_mode(app.WINDOW_SIZE)
        application = app.App(recognizer, out=out)
        try:
            work, intervals, redrawn = run_frames(application, screen, schedule, frames)
        finally:
            application.close()  # takes in the readings still under way
        last_read = read_number(application.digits)
    finally:
        pg.quit()

    lines = out.getvalue().splitlines()
    reports = [line for line in lines if line.startswith("read:")]
    # What the app read of the whole number: the last stroke's reading before each clear.
    pairs = zip(lines, lines[1:], strict=False)
    whole = [before.removeprefix("read: ") for before, line in pairs if line == "cleared"]
    readings = len(recognizer.durations_ms)
    late = int((intervals > LATE_FRAME_MS).sum())
    print(f"machine: {common.machine_line()}; SDL video driver {os.environ['SDL_VIDEODRIVER']}")
    print(
        f"drawing the number {text} ({len(schedule)} frames a pass, one mouse event a frame, "
        f"~{MOUSE_STEP} px apart) for {frames} timed frames at {app.FPS} frames a second\n"
    )
    header = ["per frame", "frames", "p50 ms", "p95 ms", "max ms", "goal", "met"]
    if args.inside:
        print("the look-inside view closed:")
    common.print_table(header, frame_rows(work, intervals, redrawn))
    reading_p50, reading_p95 = common.percentiles(recognizer.durations_ms or [np.nan])
    # A reading that a newer one overtakes is dropped, and its stroke reported with the newer.
    print(
        f"\nreadings done: {readings} (live while drawing and at strokes' ends) for "
        f"{len(reports)} strokes reported, each {reading_p50:.1f} ms p50, "
        f"{reading_p95:.1f} ms p95 on the reader thread"
    )
    print(f"frame intervals over {LATE_FRAME_MS:.0f} ms (a missed frame): {late}")
    if whole:
        print(f"the app read the whole number {text} as: {', '.join(whole)}")
    else:
        print(f"the app's last reading: {last_read or '(nothing)'} (the number drawn: {text})")
    if args.inside:
        report_view(recognizer.recognizer, strokes, frames)  # the view needs its models
    return 0


def report_view(recognizer, strokes, frames):
    work, intervals, redrawn, looks_ms = run_with_view(recognizer, strokes, frames)
    print("\nthe look-inside view open (V), Tab selecting a digit after each stroke:")
    common.print_table(
        ["per frame", "frames", "p50 ms", "p95 ms", "max ms", "goal", "met"],
        frame_rows(work, intervals, redrawn),
    )
    late = int((intervals > LATE_FRAME_MS).sum())
    print(f"frame intervals over {LATE_FRAME_MS:.0f} ms (a missed frame): {late}")
    if len(looks_ms):
        p50, p95 = common.percentiles(looks_ms[1:]) if len(looks_ms) > 1 else (np.nan,) * 2
        print(
            f"looks done: {len(looks_ms)} on their own thread; the first (loading the inspector) "
            f"{looks_ms[0]:.0f} ms, the others {p50:.0f} ms p50, {p95:.0f} ms p95"
        )


if __name__ == "__main__":
    sys.exit(main())
