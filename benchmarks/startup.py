"""Time to the app's window: `python app.py` against a bare pygame window, under Xvfb.

    .venv/bin/python benchmarks/startup.py [--launches 3]

Each launch starts a fresh Python and times, from outside, how long until its window is
mapped on the X server (`xdotool search --onlyvisible --pid`, polled every 10 ms). The app loads
its model before it opens the window, so by then it can read. The bare window is a pygame
window of the app's size opened by the same Python in the same run: the floor any pygame
app pays. The launches take turns, so a busy moment hits all of them alike.

The app is also launched with SDL_FRAMEBUFFER_ACCELERATION=1 (the app sets it to 0 unless
told): under Mesa's llvmpipe that combination crashed while the app loaded TensorFlow; the
table says whether it still crashes and what the setting costs.

Needs Xvfb and xdotool (`apt-get install xvfb xdotool`). Nothing here imports TensorFlow.
"""

import statistics
import subprocess
import sys
import tempfile
import time

from common import print_table

from deeplearning.core import cli
from scripts.virtual_screen import (
    ROOT,
    TITLE,
    display_env,
    mapped_window,
    stop,
    virtual_screen,
)

BARE_TITLE = "bare pygame window"
GOAL_RATIO = 3.0  # the app's window within 3 times the bare window's time
POLL_S = 0.01
TIMEOUT_S = 120

BARE_WINDOW = f"""
import os, time
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
os.environ.setdefault("SDL_NO_SIGNAL_HANDLERS", "1")  # as the app: SIGTERM ends it
import pygame as pg
pg.display.init()
pg.display.set_caption({BARE_TITLE!r})
pg.display.set_mode((1280, 640))
pg.display.flip()
while True:
    pg.event.pump()
    time.sleep(0.01)
"""


def time_to_window(command, title, env):
    """Seconds from launching `command` until its window is mapped, or (None, why) if the
    process ended first or took too long."""
    start = time.perf_counter()
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        while True:
            if mapped_window(env["DISPLAY"], process.pid, title) is not None:
                return time.perf_counter() - start, None
            if process.poll() is not None:
                error = process.stderr.read().decode(errors="replace").strip().splitlines()
                return None, f"exit status {process.returncode}: {error[-1] if error else ''}"
            if time.perf_counter() - start > TIMEOUT_S:
                return None, f"no window after {TIMEOUT_S} s"
            time.sleep(POLL_S)
    finally:
        stop(process)
        process.stderr.close()


def parse_args(argv=None):
    parser = cli.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--launches", type=cli.whole_number(1), default=3, help="launches of each (default 3)"
    )
    return parser.parse_args(argv)


def main(argv=None):
    return cli.run(lambda: measure(parse_args(argv)))


def measure(args):
    # No taught model in the samples folder: the app reads with the shipped one.
    with virtual_screen() as display, tempfile.TemporaryDirectory() as samples:
        env = display_env(display)
        app = [sys.executable, "app.py", "--samples", samples]
        variants = [
            (BARE_TITLE, [sys.executable, "-c", BARE_WINDOW], BARE_TITLE, {}),
            ("app.py", app, TITLE, {}),
            (
                "app.py, SDL_FRAMEBUFFER_ACCELERATION=1",
                app,
                TITLE,
                {"SDL_FRAMEBUFFER_ACCELERATION": "1"},
            ),
        ]
        times = {name: [] for name, *_ in variants}
        failures = {name: [] for name, *_ in variants}
        for _ in range(args.launches):
            for name, command, title, extra in variants:
                seconds, why = time_to_window(command, title, {**env, **extra})
                (times[name] if why is None else failures[name]).append(seconds or why)

    bare = statistics.median(times[BARE_TITLE]) if times[BARE_TITLE] else None
    headers = ["launched", "launches", "window s (median)", "each s", "vs bare", "failed"]
    rows = []
    for name, *_ in variants:
        each = times[name]
        median = statistics.median(each) if each else None
        rows.append(
            [
                name,
                len(each) + len(failures[name]),
                f"{median:.2f}" if median else "-",
                " ".join(f"{s:.2f}" for s in each) or "-",
                f"{median / bare:.1f}x" if median and bare else "-",
                len(failures[name]),
            ]
        )
    print_table(headers, rows)
    for name, *_ in variants:
        for why in failures[name]:
            print(f"{name}: {why}")
    if bare is None:
        print("\nthe bare window never came up: nothing to compare app.py's with")
        return 1
    app_median = statistics.median(times["app.py"]) if times["app.py"] else float("inf")
    ratio = app_median / bare
    met = "met" if ratio <= GOAL_RATIO else "NOT met"
    print(f"\napp.py's window after {ratio:.1f}x the bare window's: goal <= {GOAL_RATIO:g}x {met}")
    return 0 if ratio <= GOAL_RATIO else 1


if __name__ == "__main__":
    sys.exit(main())
