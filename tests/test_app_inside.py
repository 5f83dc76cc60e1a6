"""The look-inside view in the app, headless: V opens and closes it, a tile click or Tab picks
the digit it shows, it is worked out off the drawing thread and only once the pen is up, S
saves it with the window, and no TensorFlow is imported for it."""

import io
import threading

import numpy as np
import pygame as pg
import pytest
from app_driver import Driver, driven_app, run_driven_app

import app
from deeplearning.reading import inside
from deeplearning.reading.pen import place_strokes
from deeplearning.ui import inside_view, panel

HEAVY = ("tensorflow", "keras")


@pytest.fixture
def driver(recognizer, screen, tmp_path):
    application = app.App(recognizer, out=io.StringIO(), save_dir=tmp_path, samples_dir=tmp_path)
    yield Driver(application, screen, application.reporter.out)
    application.close()


def looked(driver):
    """Run frames until the look asked for is done and drawn: what it found."""
    driver.frame()
    assert driver.app.inside.wait(60), "the look did not finish"
    driver.frame()
    return driver.app.inside.done[1]


def view_point(x, y):
    """Where a point of the view appears on the screen."""
    return app.CANVAS_SIDE + x, y


def heat_cell_pixels(driver):
    """The screen's pixels in the view's first heat map (the CNN's image, for the label)."""
    left, top = view_point(inside_view.MARGIN, inside_view.HEAT_TOP + 16)
    area = pg.Rect(left, top, inside_view.HEAT_CELL, inside_view.HEAT_CELL)
    return pg.surfarray.array3d(driver.screen.subsurface(area))


def reddish(pixels):
    red, green, blue = (pixels[..., i].astype(int) for i in range(3))
    return (red - green > 60) & (red - blue > 60)


def test_v_shows_why_the_digit_was_read_and_v_closes_it(driver, digit_strokes):
    driver.draw(place_strokes(digit_strokes(7), 300, 170, 170))
    driver.settle()
    [digit] = driver.app.digits
    preview = pg.surfarray.array3d(driver.screen).copy()

    driver.key(pg.K_v)
    found = looked(driver)
    assert (found.label, found.runner_up) == (digit.label, digit.runner_up[0])
    assert reddish(heat_cell_pixels(driver)).any()  # the ink that made it a 7
    assert not reddish(preview[app.CANVAS_SIDE :]).any()  # the panel has no red of its own

    driver.key(pg.K_v)
    driver.frame()
    assert np.array_equal(pg.surfarray.array3d(driver.screen), preview)


def test_a_tile_click_or_tab_picks_the_digit_looked_at(driver, digit_strokes):
    driver.draw(place_strokes(digit_strokes(1), 250, 60, 170))
    driver.draw(place_strokes(digit_strokes(7), 250, 330, 170))
    driver.settle()
    digits = driver.app.digits
    assert [d.label for d in digits] == [1, 7]
    driver.key(pg.K_v)
    driver.frame()
    assert driver.app.inside.asked is None  # two digits and none selected: nothing to look at

    tile = panel.tile_rects(2)[1]
    driver.down((app.CANVAS_SIDE + tile.centerx, tile.centery))
    driver.up((app.CANVAS_SIDE + tile.centerx, tile.centery))
    assert looked(driver).label == 7
    assert driver.app.inside.done[0][1] == digits[1].box

    driver.key(pg.K_TAB)
    assert looked(driver).label == 1


def test_the_look_runs_off_the_drawing_thread_once_the_pen_is_up(
    driver, digit_strokes, monkeypatch
):
    threads = []
    look = inside.Inspector.look

    def noted(self, *args):
        threads.append(threading.current_thread())
        return look(self, *args)

    monkeypatch.setattr(inside.Inspector, "look", noted)
    driver.key(pg.K_v)
    strokes = place_strokes(digit_strokes(7), 300, 170, 170)
    driver.draw(strokes[:1])
    driver.settle()
    looked(driver)
    assert threads and threading.main_thread() not in threads
    before = len(threads)

    # While the pen is down, live readings come in, but nothing is looked at.
    path = [(200, 500), (300, 520), (400, 540)]
    driver.down(path[0])
    for pos in path[1:]:
        driver.move(pos)
        driver.frame()
    driver.app.settle()
    driver.frame()
    assert len(threads) == before and driver.app.inside.asked[0] != driver.app.canvas.version
    driver.up(path[-1])
    driver.settle()
    driver.key(pg.K_TAB)  # a digit selected, whatever the new stroke made of the reading
    looked(driver)
    assert len(threads) == before + 1


def test_s_saves_the_window_with_the_view(driver, digit_strokes, tmp_path):
    driver.draw(place_strokes(digit_strokes(7), 300, 170, 170))
    driver.settle()
    driver.key(pg.K_v)
    looked(driver)
    shown = pg.surfarray.array3d(driver.screen).copy()
    driver.key(pg.K_s)
    driver.frame()
    [saved] = tmp_path.glob("drawing-*.png")
    picture = pg.surfarray.array3d(pg.image.load(str(saved)))
    # The view as it was when S was pressed: all but the line that says where it was saved.
    top = 40
    assert np.array_equal(picture[:, top:], shown[:, top:])
    assert reddish(picture[app.CANVAS_SIDE :]).any()


def test_looking_inside_imports_no_tensorflow():
    code = (
        "import sys\n"
        "from deeplearning.reading.inside import Inspector\n"
        "from deeplearning.reading.pen import place_strokes, render\n"
        "from deeplearning.reading.recognize import Recognizer\n"
        "r = Recognizer()\n"
        "s = place_strokes([[(15, 0), (85, 0), (40, 100)]], 300, 170, 170)\n"
        "c = render(s)\n"
        "Inspector(r).look(c, r.recognize(c, s), 0, s)\n"
        f"print('imported:', *[m for m in {HEAVY!r} if m in sys.modules])"
    )
    result = run_driven_app(code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1].split()[1:] == []


def test_the_app_with_the_view_open_imports_no_tensorflow(tmp_path):
    code = driven_app(
        keys=(pg.K_v,), after=f"print('imported:', *[m for m in {HEAVY!r} if m in sys.modules])"
    )
    result = run_driven_app(code, "--samples", tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1].split()[1:] == []
