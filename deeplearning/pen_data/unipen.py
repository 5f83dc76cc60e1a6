"""Real pen handwriting: reading recorded pen digits, splitting them by writer, pen copies.

The pen data are one JSON object a line (a `.jsonl` file, gzipped or not), one digit each:

    {"label": "7", "writer": "syn/jel-dig14", "strokes": [[[x, y], [x, y], ...], ...]}

- `label`: the digit, "0"-"9" (a number 0-9 is accepted too);
- `writer`: who wrote it, as `<donor set>/<writer id>`; the part before the first `/` names
  the set of digits it came with (a tablet, a collection), the whole names the person;
- `strokes`: the pen-down strokes in writing order, each a list of [x, y] points in the
  device's own units, y pointing down. Sizes and positions do not matter: digits are
  scaled to the height they are drawn at.

UNIPEN's isolated digits (train_r01_v07, category 1a: 15,545 digits by 268 writers, CC BY 4.0)
come in this format as `digits.jsonl.gz`; see the model card for its source and citation.

Writers, not digits, are split: a model measured on digits by writers it trained on looks
better than it will for a new user. `held_out_writers` picks about a fifth of the writers of
every set that has at least three, always the same ones for the same data;
`unipen_held_out.txt` beside this file records the choice for UNIPEN.
"""

import gzip
import hashlib
import json
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from deeplearning.datasets.mnist import DataError
from deeplearning.pen_data.drawing import drawn_copies

FILE_NAME = "digits.jsonl.gz"  # what a folder given as the pen data must hold
HELD_OUT_RECORD = Path(__file__).with_name("unipen_held_out.txt")
# Sets whose x and y units differ: x is scaled by this to make the units square.
X_SCALE = {"aga": 979.3 / 856.7}  # AT&T's tablet: 856.7 x 979.3 points per inch

# --- the writer split -------------------------------------------------------------------------
HELD_OUT_FRACTION = 0.2  # of each set's writers ...
MIN_WRITERS = 3  # ... in sets with at least this many (smaller sets are all for training)
MAX_SET_SHARE = 0.35  # a writer who would push a set's held-out digits past this is passed over

# --- stroke-level variation for training copies (a real hand varies these) ----------------
ROTATION_DEGREES = 10.0
SLANT = 0.25  # horizontal shear, x moves by up to this fraction of y from the centre
ASPECT = 0.2  # width scaled by exp(U(-ASPECT, ASPECT))
JITTER = 0.01  # point jitter, a fraction of the digit's height


@dataclass
class PenDigit:
    label: int
    writer: str
    strokes: list  # float arrays (n, 2) of x, y

    @property
    def donor_set(self):
        return self.writer.split("/", 1)[0]


def data_file(path):
    """The pen-data file itself: `path`, or FILE_NAME inside it when it is a folder."""
    path = Path(path)
    return path / FILE_NAME if path.is_dir() else path


def load_pen_digits(path):
    """Read pen digits (the format above) from a file or a folder holding FILE_NAME.

    Bad input raises one DataError that names the file, the line and what is wrong.
    """
    path = data_file(path)
    if not path.is_file():
        raise DataError(f"{path}: no such file (pen digits, e.g. {FILE_NAME})")
    opener = gzip.open if path.suffix == ".gz" else open
    digits = []
    try:
        with opener(path, "rt", encoding="utf-8") as lines:
            for number, line in enumerate(lines, 1):
                if line.strip():
                    digits.append(_parse_digit(line, f"{path}: line {number}"))
    except (OSError, EOFError, UnicodeDecodeError, zlib.error) as error:
        raise DataError(f"{path}: cannot be read: {error}") from None
    if not digits:
        raise DataError(f"{path}: holds no pen digits")
    return digits


def _parse_digit(line, where):
    try:
        record = json.loads(line)
    except json.JSONDecodeError as error:
        raise DataError(f"{where}: not JSON ({error.msg})") from None
    if not isinstance(record, dict):
        raise DataError(f"{where}: expected an object with label, writer and strokes")
    label = record.get("label")
    if str(label) not in [str(d) for d in range(10)] or isinstance(label, bool | float):
        raise DataError(f"{where}: 'label' must be a digit 0-9, found {label!r}")
    writer = record.get("writer")
    if not isinstance(writer, str) or not writer.strip():
        raise DataError(f"{where}: 'writer' must be a non-empty string, found {writer!r}")
    strokes = record.get("strokes")
    if not isinstance(strokes, list) or not strokes:
        raise DataError(f"{where}: 'strokes' must be a non-empty list of strokes")
    arrays = []
    for k, stroke in enumerate(strokes, 1):
        try:
            points = np.asarray(stroke, dtype=float)
        except (TypeError, ValueError):
            points = np.zeros((0,))
        if points.ndim != 2 or points.shape[1] != 2 or not len(points):
            raise DataError(f"{where}: stroke {k} must be a non-empty list of [x, y] points")
        if not np.isfinite(points).all():
            raise DataError(f"{where}: stroke {k} has a point that is not a finite number")
        arrays.append(points)
    scale = X_SCALE.get(writer.split("/", 1)[0])
    if scale:
        arrays = [points * (scale, 1.0) for points in arrays]
    return PenDigit(int(label), writer, arrays)


# --- the writer split -------------------------------------------------------------------------


def _writer_order(writer):
    """A fixed pseudo-random order of writers that does not depend on the data's order."""
    return hashlib.sha256(writer.encode("utf-8")).hexdigest()


def held_out_writers(digits):
    """The writers kept apart for measuring: per set with at least MIN_WRITERS writers,
    round(HELD_OUT_FRACTION x writers) of them (at least one), taken in a fixed hashed order
    and passing over anyone who would put more than MAX_SET_SHARE of the set's digits in
    the held-out part (one prolific writer would otherwise take a whole set)."""
    counts = {}
    for digit in digits:
        writers = counts.setdefault(digit.donor_set, {})
        writers[digit.writer] = writers.get(digit.writer, 0) + 1
    held_out = set()
    for writers in counts.values():
        if len(writers) < MIN_WRITERS:
            continue
        wanted = max(1, round(HELD_OUT_FRACTION * len(writers)))
        limit, taken, total = MAX_SET_SHARE * sum(writers.values()), [], 0
        for writer in sorted(writers, key=_writer_order):
            if len(taken) < wanted and total + writers[writer] <= limit:
                taken.append(writer)
                total += writers[writer]
        held_out.update(taken)
    return held_out


def split_by_writer(digits):
    """(training digits, held-out digits): no writer is in both."""
    held_out = held_out_writers(digits)
    return (
        [d for d in digits if d.writer not in held_out],
        [d for d in digits if d.writer in held_out],
    )


def recorded_held_out_writers():
    """The held-out UNIPEN writers recorded in the project, one per line."""
    lines = HELD_OUT_RECORD.read_text(encoding="utf-8").splitlines()
    return {line.strip() for line in lines if line.strip() and not line.startswith("#")}


# --- varied copies for training ------------------------------------------------------------------


def vary_strokes(strokes, rng):
    """The strokes as the same hand might write them another time: rotated, slanted, wider
    or narrower, every point jittered a little. Scale is left to the drawing height."""
    points = np.concatenate(strokes)
    centre = (points.min(axis=0) + points.max(axis=0)) / 2
    height = max(float(np.ptp(points[:, 1])), 1.0)
    angle = np.radians(rng.uniform(-ROTATION_DEGREES, ROTATION_DEGREES))
    rotate = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    slant = np.array([[1.0, rng.uniform(-SLANT, SLANT)], [0.0, 1.0]])
    aspect = np.diag([np.exp(rng.uniform(-ASPECT, ASPECT)), 1.0])
    transform = rotate @ slant @ aspect
    return [(s - centre) @ transform.T + rng.normal(0.0, JITTER * height, s.shape) for s in strokes]


def _varied(strokes, rng):
    return vary_strokes(strokes, rng)


def varied_copies(digits, copies=1, seed=0, workers=2):
    """`copies` varied drawings of each pen digit (vary_strokes), drawn with the app's pen at
    random heights and prepared by the Recognizer: (uint8 images (N, 28, 28), labels (N,)).
    A drawing that does not come back as one digit is left out."""
    labels = np.array([d.label for d in digits] * copies, np.uint8)
    images, kept = drawn_copies([d.strokes for d in digits] * copies, _varied, seed, workers)
    return images, labels[kept]
