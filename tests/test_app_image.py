"""The app reads photos and scans: an image file dropped on the window (pygame's drop event),
or given with --image, is shown on the left and read on the right as a drawing is. The pages
are made here from MNIST digits on uneven paper, as in test_paper.py."""

import io

import numpy as np
import pygame as pg
import pytest
from app_driver import Driver, run_app
from conftest import one_error_line
from test_paper import clear_digits, paper, photographed, write_on  # noqa: F401 (a fixture)

import app
from deeplearning.ui.colours import WHITE


@pytest.fixture
def driver(recognizer, screen, tmp_path):
    out = io.StringIO()
    application = app.App(recognizer, jsonl=True, out=out, samples_dir=tmp_path / "samples")
    yield Driver(application, screen, out)
    application.close()


@pytest.fixture
def page_file(clear_digits, tmp_path):  # noqa: F811 (the fixture imported above)
    rng = np.random.default_rng(11)
    sheet = paper(400, 700, rng)
    write_on(sheet, ["3061"], clear_digits, rng, top=120, left=120)
    return photographed(sheet, rng, tmp_path / "digits.jpg")


def drop(driver, path):
    driver.post(pg.DROPFILE, file=str(path))
    driver.settle()


def test_a_dropped_image_is_shown_and_read(driver, page_file):
    drop(driver, page_file)
    assert [digit.label for digit in driver.app.digits] == [3, 0, 6, 1]
    (record,) = driver.lines()
    assert record["event"] == "image" and record["text"] == "3061"
    # The left half shows the photo (grey paper, not the white canvas) ...
    assert driver.pixel((5, 320)) != tuple(WHITE)
    # ... and the canvas read holds the page's ink only: white where the paper is.
    seen = driver.app.labeller.reading.seen
    assert seen[:100].min() == 255 and (seen < 128).sum() > 500


def test_drawing_after_an_image_starts_a_blank_canvas(driver, page_file):
    drop(driver, page_file)
    driver.stroke([(320, 150), (320, 300), (320, 450)])
    driver.settle()
    assert driver.app.image is None
    assert driver.pixel((5, 320)) == tuple(WHITE)
    assert [digit.label for digit in driver.app.digits] == [1]


def test_the_look_inside_view_opens_on_an_image_digit(driver, page_file):
    drop(driver, page_file)
    driver.key(pg.K_TAB)
    driver.key(pg.K_v)
    driver.frame()
    assert driver.app.inside.wait(30)
    driver.frame()
    assert driver.app.inside.done is not None  # a look taken at the image's digit


def test_a_bad_file_dropped_is_said_on_the_panel(driver, page_file, tmp_path, capsys):
    drop(driver, page_file)
    text = tmp_path / "notes.jpg"
    text.write_text("not an image")
    drop(driver, text)
    assert "not an image" in driver.app.reporter.message
    assert [digit.label for digit in driver.app.digits] == [3, 0, 6, 1]  # the image stays
    one_error_line(capsys.readouterr().err, text, "not an image")


def test_app_refuses_a_bad_image_option_in_one_line(tmp_path):
    result = run_app("--image", tmp_path / "missing.png")
    assert result.returncode == 1
    one_error_line(result.stderr, "missing.png")
