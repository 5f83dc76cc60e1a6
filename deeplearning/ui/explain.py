"""Why a digit of a drawing was read as it was: the app's look-inside view, written as a PNG.

    python -m deeplearning explain DRAWING --out PNG [--digit N] [--model PATH] [--force]

DRAWING is a canvas as a PNG (dark ink on light paper, as the app's canvas), or a strokes file:
JSON lines, each an object whose "strokes" are a digit's strokes as samples.jsonl keeps them
(canvas pixels, in drawing order; a line of samples.jsonl is one). Every line's strokes are
drawn together on one canvas with the app's pen, and read with them, so that the path model
reads too; a PNG is read by the picture alone. The view is that of the Nth digit from the
left (--digit, 1 for the first), drawn by the code that draws it in the app.
"""

import os
import sys
from pathlib import Path

# pygame prints a banner on import; this command's output is its one line.
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

import cv2  # noqa: E402
import pygame as pg  # noqa: E402

from deeplearning.core import cli  # noqa: E402
from deeplearning.core.atomic import atomic_path, check_output  # noqa: E402
from deeplearning.core.errors import InputError  # noqa: E402
from deeplearning.personal.samples import checked_strokes, json_object  # noqa: E402
from deeplearning.reading.inside import Inspector  # noqa: E402
from deeplearning.reading.pen import CANVAS_SIZE, render  # noqa: E402
from deeplearning.reading.recognize import Recognizer, TooManyMarks  # noqa: E402
from deeplearning.ui.inside_view import InsideDrawer  # noqa: E402

CANVAS_SUFFIXES = (".png",)
STROKES_SUFFIXES = (".jsonl",)


def parse_args(argv):
    parser = cli.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "drawing",
        type=Path,
        metavar="DRAWING",
        help='a canvas (.png) or a strokes file (.jsonl, lines with "strokes" in canvas pixels)',
    )
    parser.add_argument("--out", type=Path, required=True, help="the PNG to write")
    parser.add_argument(
        "--digit",
        type=cli.whole_number(1),
        default=1,
        help="which digit to look inside, counted from the left (default 1)",
    )
    parser.add_argument(
        "--model",
        type=Path,
        help="the model to read with (default: the shipped one); a .keras file is read "
        "through its ONNX export beside it",
    )
    parser.add_argument("--force", action="store_true", help="overwrite --out if it exists")
    return parser.parse_args(argv)


def check_drawing(path):
    """InputError unless `path` is a file of a kind this command reads."""
    suffixes = CANVAS_SUFFIXES + STROKES_SUFFIXES
    if path.suffix.lower() not in suffixes:
        raise InputError(f"{path}: a drawing is a canvas (.png) or a strokes file (.jsonl)")
    if path.is_dir():
        raise InputError(f"{path}: is a folder, not a drawing")
    if not path.is_file():
        raise InputError(f"{path}: no such file")


def read_canvas(path):
    """A canvas PNG as the recognizer takes it: 2-D uint8, 255 paper."""
    canvas = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
    if canvas is None:
        raise InputError(f"{path}: not a PNG image that can be read")
    return canvas


def read_strokes(path):
    """The strokes of every line of a strokes file, in order, checked as samples' are."""
    strokes = []
    lines = path.read_bytes().split(b"\n")
    for number, raw in enumerate(lines, 1):
        if not raw.strip():
            continue
        where = f"{path}: line {number}"
        record = json_object(raw, where, last=number == len(lines))
        checked_strokes(record.get("strokes"), where)
        strokes += [[(float(x), float(y)) for x, y in stroke] for stroke in record["strokes"]]
    if not strokes:
        raise InputError(f"{path}: holds no strokes")
    return strokes


def read_drawing(path):
    """(canvas, strokes or None) of a drawing."""
    if path.suffix.lower() in CANVAS_SUFFIXES:
        return read_canvas(path), None
    strokes = read_strokes(path)
    return render(strokes, CANVAS_SIZE), strokes


def explain(args):
    check_drawing(args.drawing)
    check_output(args.out, args.force, CANVAS_SUFFIXES, "picture")
    recognizer = Recognizer(args.model)
    canvas, strokes = read_drawing(args.drawing)
    try:
        digits = recognizer.recognize(canvas, strokes)
    except TooManyMarks as error:
        raise InputError(f"{args.drawing}: {error}") from None
    if not digits:
        raise InputError(f"{args.drawing}: no digit is read in it")
    if args.digit > len(digits):
        raise InputError(f"--digit {args.digit}: the drawing holds {len(digits)} digit(s)")
    inside = Inspector(recognizer).look(canvas, digits, args.digit - 1, strokes)
    pg.font.init()
    picture = InsideDrawer().draw(inside)
    with atomic_path(args.out, overwrite=args.force) as tmp:
        pg.image.save(picture, str(tmp))
    print(
        f"wrote {args.out}: digit {args.digit} of {len(digits)}, read as {inside.label} "
        f"(runner-up {inside.runner_up})"
    )
    return 0


def main(argv=None):
    return cli.run(lambda: explain(parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
