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

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import print_table

ROOT = Path(__file__).resolve().parent.parent
TITLE = "Handwritten digit recognizer"
BARE_TITLE = "bare pygame window"
GOAL_RATIO = 3.0  # the app's window within 3 times the bare window's time
POLL_S = 0.01
TIMEOUT_S = 120

BARE_WINDOW = f"""
import os, time
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
import pygame as pg
pg.display.init()
pg.display.set_caption({BARE_TITLE!r})
pg.display.set_mode((1280, 640))
pg.display.flip()
while True:
    pg.event.pump()
    time.sleep(0.01)
"""


def start_xvfb():
    """A fresh Xvfb on a free display number: (process, ':N')."""
    read_end, write_end = os.pipe()
    server = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write_end), "-screen", "0", "1600x900x24", "-nolisten", "tcp"],
        pass_fds=(write_end,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(write_end)
    with os.fdopen(read_end) as pipe:
        number = pipe.readline().strip()
    if not number:
        sys.exit(f"error: Xvfb did not start (exit status {server.poll()})")
    return server, f":{number}"


def window_up(pid, title, env):
    """Whether the process has a mapped window of this title. Found by process id: `xdotool
    search --name` misses SDL's windows, whose WM_NAME is UTF-8."""
    found = subprocess.run(
        ["xdotool", "search", "--onlyvisible", "--pid", str(pid)],
        env=env,
        capture_output=True,
        text=True,
    )
    for window in found.stdout.split():
        name = subprocess.run(
            ["xdotool", "getwindowname", window], env=env, capture_output=True, text=True
        )
        if name.stdout.strip() == title:
            return True
    return False


def time_to_window(command, title, env):
    """Seconds from launching `command` until its window is mapped, or (None, why) if the
    process ended first or took too long."""
    start = time.perf_counter()
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        while True:
            if window_up(process.pid, title, env):
                return time.perf_counter() - start, None
            if process.poll() is not None:
                error = process.stderr.read().decode(errors="replace").strip().splitlines()
                return None, f"exit status {process.returncode}: {error[-1] if error else ''}"
            if time.perf_counter() - start > TIMEOUT_S:
                return None, f"no window after {TIMEOUT_S} s"
            time.sleep(POLL_S)
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        process.stderr.close()


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--launches", type=int, default=3, help="launches of each (default 3)")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    server, display = start_xvfb()
    env = {**os.environ, "DISPLAY": display}
    env.pop("SDL_VIDEODRIVER", None)
    try:
        with tempfile.TemporaryDirectory() as samples:  # no taught model: the shipped one
            app = [sys.executable, "app.py", "--samples", samples]
            variants = [
                ("bare pygame window", [sys.executable, "-c", BARE_WINDOW], BARE_TITLE, {}),
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
    finally:
        server.terminate()
        server.wait()

    bare = statistics.median(times["bare pygame window"])
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
                f"{median / bare:.1f}x" if median else "-",
                len(failures[name]),
            ]
        )
    print_table(headers, rows)
    for name, *_ in variants:
        for why in failures[name]:
            print(f"{name}: {why}")
    app_median = statistics.median(times["app.py"]) if times["app.py"] else float("inf")
    ratio = app_median / bare
    met = "met" if ratio <= GOAL_RATIO else "NOT met"
    print(f"\napp.py's window after {ratio:.1f}x the bare window's: goal <= {GOAL_RATIO:g}x {met}")
    return 0 if ratio <= GOAL_RATIO else 1


if __name__ == "__main__":
    sys.exit(main())
