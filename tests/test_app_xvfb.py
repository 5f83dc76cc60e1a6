"""The real app in a real X window: Xvfb for the screen, xdotool for the mouse and keyboard.

This runs `python app.py --jsonl` as a user would, window and reading in one process, on a
virtual screen (scripts/virtual_screen.py). It skips where Xvfb or xdotool is not installed
(`apt-get install xvfb xdotool`).
"""

import numpy as np
import pytest

from deeplearning.reading.pen import place_strokes, render, strokes_to_mouse_path
from scripts.virtual_screen import RealApp, virtual_screen


@pytest.fixture
def display(screen_tools):
    """A fresh virtual screen: its display name."""
    with virtual_screen() as name:
        yield name


@pytest.fixture(scope="module")
def seven(mnist_sample, recognizer):
    """A real MNIST 7 traced into pen strokes, 300 px tall on the canvas: the first of a few
    that the model reads right when rendered (this test is about the app, not the model)."""
    from deeplearning.pen_data.tracing import image_to_strokes

    images, labels = mnist_sample
    for index in np.flatnonzero(labels == 7)[:20]:
        strokes = place_strokes(image_to_strokes(images[index]), 300, 170, 170)
        digits = recognizer.recognize(render(strokes))
        if [digit.label for digit in digits] == [7]:
            return strokes
    pytest.fail("no MNIST 7 among 20 is read right; is the model trained?")


def test_draw_a_seven_clear_and_quit_in_a_real_window(display, seven, tmp_path):
    # The shipped model: no taught one in this samples folder.
    with RealApp(display, tmp_path, "--samples", tmp_path / "personal") as running:
        window = running.window()

        paths = strokes_to_mouse_path(seven)
        for path in paths:
            running.drag(window, path)
        lines = [running.next_line() for _ in paths]
        assert [line["event"] for line in lines] == ["stroke"] * len(paths)
        assert lines[-1]["text"] == "7", lines[-1]
        [digit] = lines[-1]["digits"]
        x, y, w, h = digit["box"]
        assert abs(y - 170) <= 3 and abs(h - 300) <= 4  # where the mouse drew it

        running.key("r")
        assert running.next_line() == {"event": "clear", "text": "", "digits": []}

        running.key("q")
        assert running.process.wait(timeout=30) == 0, running.errors()
