"""The scanned pen digits of ../shared/paper_digits (kensanata/numbers, CC0), by writer.

`<writer>/<digit>/number-<n>.png`: 12,221 crops of digits written with pens on paper forms by
21 people, scanned, one digit per greyscale image. They are measured by writer, never by
image: the last HELD_OUT writers (in name order) are kept apart for measuring, the others
may be trained on.
"""

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from deeplearning.core.errors import InputError
from deeplearning.paper.read import read_image
from deeplearning.reading.images import IMAGE_SIZE

DEFAULT_FOLDER = Path(__file__).resolve().parents[2].parent / "shared" / "paper_digits"
HELD_OUT = 6  # the last six writers in name order: 0016_CH3F .. 0021_CH4M


@dataclass(frozen=True)
class PaperDigit:
    writer: str
    label: int
    path: Path


def load(folder=DEFAULT_FOLDER):
    """Every digit in the folder, in writer, digit and file name order. InputError naming
    the folder for one that is not there or holds no digits."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(f"{folder}: no such folder (the paper digits: <writer>/<digit>/*.png)")
    digits = [
        PaperDigit(writer.name, int(label.name), path)
        for writer in sorted(p for p in folder.iterdir() if p.is_dir())
        for label in sorted(p for p in writer.iterdir() if p.is_dir() and p.name.isdigit())
        for path in sorted(label.glob("*.png"))
    ]
    if not digits:
        raise InputError(f"{folder}: holds no <writer>/<digit>/*.png images")
    return digits


def writers(digits):
    """The writers' names, in name order."""
    return sorted({digit.writer for digit in digits})


def held_out_writers(digits):
    """The writers kept apart for measuring: the last HELD_OUT in name order."""
    return writers(digits)[-HELD_OUT:]


def split(digits):
    """(training digits, held-out digits), split by writer."""
    held_out = set(held_out_writers(digits))
    return (
        [digit for digit in digits if digit.writer not in held_out],
        [digit for digit in digits if digit.writer in held_out],
    )


def as_the_app_sees_them(digits, recognizer):
    """(uint8 images (N, 28, 28), labels (N,)): each crop prepared as the read command
    prepares a file, its one digit's image as the CNN gets it. A crop where the page finds
    no digit, or more than one, is left out: its image would not be the digit's."""
    images, labels = [], []
    for digit in digits:
        found = [d for row in read_image(recognizer, digit.path).rows for d in row]
        if len(found) == 1:
            images.append(found[0].image)
            labels.append(digit.label)
    if not images:
        return np.zeros((0, IMAGE_SIZE, IMAGE_SIZE), np.uint8), np.zeros(0, np.int64)
    return np.stack(images), np.array(labels, np.int64)
