"""The README's picture of the look-inside view: a real digit that the app misreads, by a
UNIPEN writer held out from training, written by the `explain` command.

    .venv/bin/python scripts/inside_picture.py [--unipen ../shared/unipen] [--out docs/inside.png]

The digit (by default writer app/BryanMacDonald's 83rd, a 9) is drawn 300 px tall in the
middle of the canvas, as the replay draws pen digits; its strokes go to a strokes file in
the samples' format, and `python -m deeplearning explain` makes the picture from it.
"""

import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from anywhere

from deeplearning.core import cli  # noqa: E402
from deeplearning.core.errors import InputError  # noqa: E402
from deeplearning.pen_data.unipen import load_pen_digits  # noqa: E402
from deeplearning.reading.pen import CANVAS_SIZE, ink_width, place_strokes  # noqa: E402
from deeplearning.ui import explain  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
WRITER = "app/BryanMacDonald"
NUMBER = 83  # which of the writer's digits, 1 for the first in the file
HEIGHT = 300  # px of ink
TOP = 170


def parse_args(argv):
    parser = cli.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--unipen", type=Path, default=ROOT.parent / "shared" / "unipen")
    parser.add_argument("--writer", default=WRITER)
    parser.add_argument("--number", type=cli.whole_number(1), default=NUMBER)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "inside.png")
    parser.add_argument("--force", action="store_true", help="overwrite --out")
    return parser.parse_args(argv)


def canvas_strokes(strokes):
    """A pen digit's strokes placed HEIGHT px tall in the middle of the canvas."""
    width = ink_width(strokes, HEIGHT)
    return place_strokes(strokes, HEIGHT, (CANVAS_SIZE[0] - width) / 2, TOP)


def run(args):
    own = [digit for digit in load_pen_digits(args.unipen) if digit.writer == args.writer]
    if len(own) < args.number:
        raise InputError(f"--number {args.number}: {args.writer} wrote {len(own)} digits")
    digit = own[args.number - 1]
    strokes = [[[round(x, 1), round(y, 1)] for x, y in s] for s in canvas_strokes(digit.strokes)]
    print(f"{args.writer}'s digit {args.number}: a {digit.label}")
    with tempfile.TemporaryDirectory() as folder:
        drawing = Path(folder) / "digit.jsonl"
        drawing.write_text(json.dumps({"label": digit.label, "strokes": strokes}) + "\n")
        options = ["--force"] if args.force else []
        return explain.main([str(drawing), "--out", str(args.out), *options])


def main(argv=None):
    return cli.run(lambda: run(parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
