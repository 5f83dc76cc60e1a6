"""The scanned pen digits of ../shared/paper_digits (kensanata/numbers, CC0), by writer.

`<writer>/<digit>/number-<n>.png`: 12,221 crops of digits written with pens on paper forms by
21 people, scanned, one digit per greyscale image. They are measured by writer, never by
image: the last HELD_OUT writers (in name order) are kept apart for measuring, the others
may be trained on.
"""

from dataclasses import dataclass
from pathlib import Path

from deeplearning.core.errors import InputError

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
