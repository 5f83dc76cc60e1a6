"""The `read` command: the handwritten digits on photos and scans of paper.

    python -m deeplearning read IMAGE [IMAGE ...] [--json] [--out DIR [--force]]

prints each image's digits, one line per row of writing (top to bottom, each left to right):
`photo.jpg: 0123`. With --json, one JSON object per image and line:
{"file", "text" (the rows joined by newlines), "lines", "digits": [{"label", "confidence",
"box": [x, y, width, height] in the image's own pixels}]}. --out DIR writes DIR/NAME.png:
the image with each digit's box and reading drawn. The models are loaded once, after every
path has been checked; an image that cannot be read is one `error: FILE: what` line, and the
others are still read (exit status 1).
"""

import json
import sys
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from deeplearning.core import cli
from deeplearning.core.atomic import atomic_path, check_outputs
from deeplearning.core.errors import InputError, shown
from deeplearning.paper.image_file import load_rgb
from deeplearning.paper.page import WORK_SIDE, read_rows, working_size
from deeplearning.reading.recognize import Recognizer, read_number

SURE = 0.8  # a reading at least this confident is boxed in green, a less sure one in orange
GREEN, ORANGE = (40, 160, 40), (230, 120, 0)  # RGB


@dataclass
class Reading:
    """One image read: the image at working size, its scale, and its rows of digits (boxes
    on the working image)."""

    file: str
    image: np.ndarray  # uint8 RGB at working size
    scale: float  # working size over the file's own size
    rows: list  # of lists of Digits, top to bottom, each left to right

    @property
    def lines(self):
        return [read_number(row) for row in self.rows]

    def box_in_file(self, digit):
        """A digit's box (x, y, w, h) in the file's own pixels."""
        return [round(v / self.scale) for v in digit.box]

    def as_json(self):
        return {
            "file": self.file,
            "text": "\n".join(self.lines),
            "lines": self.lines,
            "digits": [
                {
                    "label": digit.label,
                    "confidence": round(digit.confidence, 4),
                    "box": self.box_in_file(digit),
                }
                for row in self.rows
                for digit in row
            ],
        }


def load_page(path):
    """The image file at `path` as uint8 RGB with its longer side at most WORK_SIDE, and its
    scale (working size over the file's own size). ImageFileError naming the file for one
    that cannot be read."""
    rgb, decoded = load_rgb(path, longest=WORK_SIDE)
    page, scale = working_size(rgb)
    return page, decoded * scale


def read_image(recognizer, path):
    """Read the image file at `path`: a Reading. InputError naming the file for one that cannot
    be read or that holds something else than writing."""
    image, scale = load_page(path)
    grey = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    try:
        rows = read_rows(recognizer, grey)
    except InputError as error:
        raise InputError(f"{path}: {error}") from None
    return Reading(str(path), image, scale, rows)


def annotated(reading):
    """The image (RGB, working size) with each digit's box and label drawn on it."""
    image = reading.image.copy()
    height = max((digit.box[3] for row in reading.rows for digit in row), default=0)
    size = max(0.5, height / 60)  # the label's font scale, from the digits' own height
    thickness = max(1, round(size * 1.5))
    for row in reading.rows:
        for digit in row:
            x, y, w, h = digit.box
            colour = GREEN if digit.confidence >= SURE else ORANGE
            cv2.rectangle(image, (x, y), (x + w, y + h), colour, thickness)
            cv2.putText(
                image,
                str(digit.label),
                (x, max(0, y - thickness * 2)),
                cv2.FONT_HERSHEY_SIMPLEX,
                size,
                colour,
                thickness,
                cv2.LINE_AA,
            )
    return image


def write_annotated(reading, path, force):
    """Write the annotated image as a PNG, atomically; never over a file unless `force`."""
    with atomic_path(path, overwrite=force) as tmp:
        bgr = cv2.cvtColor(annotated(reading), cv2.COLOR_RGB2BGR)
        if not cv2.imwrite(str(tmp), bgr):
            raise InputError(f"{path}: cannot write the image")


def out_path(out, image):
    return Path(out) / f"{Path(image).stem}.png"


def check_inputs(images):
    """InputError for the first image path that is not a readable file."""
    for image in images:
        if not image.is_file():
            reason = "is a folder, not an image" if image.is_dir() else "file not found"
            raise InputError(f"{shown(image)}: {reason}")
        with open(image, "rb"):  # PermissionError: reported by cli.run, naming the file
            pass


def printed(reading, as_json):
    if as_json:
        return json.dumps(reading.as_json())
    if not reading.rows:
        return f"{shown(reading.file)}: no digits found"
    return "\n".join(f"{shown(reading.file)}: {line}" for line in reading.lines)


def parse_args(argv):
    parser = cli.ArgumentParser(
        prog="python -m deeplearning read",
        description="Read the handwritten digits on photos and scans of paper.",
    )
    parser.add_argument("images", nargs="+", type=Path, metavar="IMAGE", help="PNG, JPEG, ...")
    parser.add_argument("--json", action="store_true", help="one JSON object per image")
    parser.add_argument("--out", type=Path, help="write each image with its digits boxed here")
    parser.add_argument("--force", action="store_true", help="overwrite files in --out")
    parser.add_argument("--model", type=Path, help="model file (default: model/mnist_cnn.keras)")
    return parser.parse_args(argv)


def run(args):
    check_inputs(args.images)
    if args.out is not None:
        check_outputs([out_path(args.out, image) for image in args.images], args.force)
    recognizer = Recognizer(model_path=args.model)
    failed = False
    for image in args.images:
        try:
            reading = read_image(recognizer, image)
        except InputError as error:
            cli.print_error(error)
            failed = True
            continue
        print(printed(reading, args.json), flush=True)
        if args.out is not None:
            write_annotated(reading, out_path(args.out, image), args.force)
    return 1 if failed else 0


def main(argv=None):
    return cli.run(lambda: run(parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
