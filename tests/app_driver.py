"""What the app's tests share: a driver that posts real pygame events to a headless App,
and ways to start the app as a user does."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pygame as pg

import app
from deeplearning.reading.pen import strokes_to_mouse_path
from deeplearning.ui import panel

ROOT = Path(__file__).resolve().parent.parent
EVENTS_PER_FRAME = 3  # about what a hand gives at 60 frames a second
HEIGHTS_USED = (220, 250, 300)  # px: the sizes these tests draw digits at
HEADLESS = {**os.environ, "SDL_VIDEODRIVER": "dummy", "PYGAME_HIDE_SUPPORT_PROMPT": "1"}


class Driver:
    """Posts pygame events to a headless App and runs its frames."""

    def __init__(self, application, screen, out):
        self.app, self.screen, self.out = application, screen, out

    def post(self, kind, **attributes):
        pg.event.post(pg.event.Event(kind, **attributes))

    def frame(self):
        self.app.step(self.screen)

    def settle(self):
        """Run a frame, wait for every reading under way, then draw what came back."""
        self.frame()
        assert self.app.settle(timeout=30), "the reading did not finish"
        self.frame()

    def down(self, pos, button=1):
        self.post(pg.MOUSEBUTTONDOWN, pos=pos, button=button)

    def move(self, pos, buttons=(1, 0, 0)):
        self.post(pg.MOUSEMOTION, pos=pos, rel=(0, 0), buttons=buttons)

    def up(self, pos, button=1):
        self.post(pg.MOUSEBUTTONUP, pos=pos, button=button)

    def key(self, key, mod=0):
        self.post(pg.KEYDOWN, key=key, mod=mod, unicode="", scancode=0)

    def stroke(self, path, finish=True):
        """Button down at the first point, moves through the rest, button up at the last."""
        self.down(path[0])
        for index, pos in enumerate(path[1:], start=1):
            self.move(pos)
            if index % EVENTS_PER_FRAME == 0:
                self.frame()
        if finish:
            self.up(path[-1])
        self.frame()

    def draw(self, strokes):
        for path in strokes_to_mouse_path(strokes):
            self.stroke(path)

    def lines(self):
        return [json.loads(line) for line in self.out.getvalue().splitlines()]

    def canvas(self):
        return self.app.canvas.array()

    def pixel(self, pos):
        return tuple(self.screen.get_at(pos))[:3]


def preview_point(x, y):
    """Where a canvas point appears on screen in the copy on the right half."""
    x0, y0 = panel.PREVIEW_POS
    return (
        app.CANVAS_SIDE + x0 + round(x * panel.PREVIEW_SCALE),
        y0 + round(y * panel.PREVIEW_SCALE),
    )


def run_app(*args):
    return subprocess.run(
        [sys.executable, str(ROOT / "app.py"), *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )


# `python app.py ARGS` on SDL's dummy driver: once the window is up, a stroke down the middle of
# the canvas, a pause for it to be read, then the `keys`, and the window is closed. `after`
# runs once the app has ended, before it exits with the app's status.
DRIVEN_BY_THREAD = """
import sys, threading, time
import pygame as pg
import app

def use():
    time.sleep(0.5)
    pg.event.post(pg.event.Event(pg.MOUSEBUTTONDOWN, pos=(320, 150), button=1))
    for y in range(150, 470, 10):
        pg.event.post(pg.event.Event(pg.MOUSEMOTION, pos=(320, y), rel=(0, 0), buttons=(1, 0, 0)))
    pg.event.post(pg.event.Event(pg.MOUSEBUTTONUP, pos=(320, 470), button=1))
    time.sleep(4.0)  # read by then, even on a busy machine
    for key in KEYS:
        pg.event.post(pg.event.Event(pg.KEYDOWN, key=key, mod=0, unicode="", scancode=0))
    time.sleep(1.0)
    pg.event.post(pg.event.Event(pg.QUIT))

set_mode = pg.display.set_mode

def set_mode_and_use(*args, **kwargs):
    screen = set_mode(*args, **kwargs)
    threading.Thread(target=use, daemon=True).start()
    return screen

pg.display.set_mode = set_mode_and_use
status = app.main(sys.argv[1:])
AFTER
sys.exit(status)
"""


def driven_app(keys=(), after=""):
    """The code of an app run driven as DRIVEN_BY_THREAD says, for `python -c`."""
    return DRIVEN_BY_THREAD.replace("KEYS", repr(tuple(keys))).replace("AFTER", after)


def run_driven_app(code, *args):
    """Run `python -c code ARGS` headless in the project folder: the CompletedProcess."""
    return subprocess.run(
        [sys.executable, "-c", code, *map(str, args)],
        cwd=ROOT,
        env=HEADLESS,
        capture_output=True,
        text=True,
        timeout=180,
    )
