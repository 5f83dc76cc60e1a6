"""A personal sample set: the user's own digits, as the app labelled them, kept for teaching.

A folder (default data/personal/) holds them in `samples.jsonl`, one JSON object a line:

    {"id":"3f9c2a7e1b4d","label":4,"image":["0000...",...],"strokes":[[[x,y],...],...]}

- `id`: the sample's own 12 hex digits, given when it is saved; the app corrects and
  removes a sample by it.
- `label`: the digit it is, 0..9.
- `image`: the 28x28 image the model saw, ink bright on black: 28 rows, top to bottom,
  each 56 hex digits, two (00-ff) per pixel from left to right.
- `strokes`: the digit's own strokes in canvas pixels, in drawing order. Teaching draws
  varied copies of them with the app's pen.

That file is the whole truth: to correct a sample by hand, change its label; to remove it,
delete its line. `samples.csv` beside it is made from it at every change, in Kaggle's
train.csv format (`label,pixel0,...,pixel783`), for the notebook and the tools that read
Kaggle data; an edit by hand reaches it at the next change.

Every change (samples added, one corrected or removed) writes both files whole under
temporary names and renames them into place, while holding a lock on `.lock` that writers
take turns on: a crash leaves the files as they were, and two apps never lose each other's
samples. Reading takes no lock and writes nothing, so samples on a read-only medium can be
taught from.

A folder in the earlier format, `samples.csv` and `strokes.jsonl` line for line, is read as
it is and takes the new format at its next change.
"""

import json
import os
import re
import secrets
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from deeplearning.core.atomic import atomic_paths
from deeplearning.core.errors import shown
from deeplearning.datasets.mnist import TRAIN_COLUMNS, DataError, load_train_csv
from deeplearning.reading.images import IMAGE_SIZE, NUM_CLASSES

if os.name == "nt":  # pragma: no cover - the lock of Windows
    import msvcrt

    def _lock(fd):
        msvcrt.locking(fd, msvcrt.LK_LOCK, 1)

    def _unlock(fd):
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
else:
    import fcntl

    def _lock(fd):
        fcntl.flock(fd, fcntl.LOCK_EX)

    def _unlock(fd):
        fcntl.flock(fd, fcntl.LOCK_UN)


DEFAULT_DIR = Path(__file__).resolve().parents[2] / "data" / "personal"
SAMPLES_FILE = "samples.jsonl"
CSV_FILE = "samples.csv"
OLD_STROKES_FILE = "strokes.jsonl"  # the earlier format's strokes, line for line with the CSV
LOCK_FILE = ".lock"
TAUGHT_MODEL_FILE = "mnist_cnn_taught.keras"  # the model taught on a folder's samples
_ID = re.compile(r"[0-9a-f]{12}")
_HEX_ROW = re.compile(r"[0-9a-f]{56}")  # a row of the image: 28 pixels, 00-ff each


class SampleError(DataError):
    """A sample set that cannot be read or changed; the message names the file and line."""


@dataclass
class Sample:
    label: int
    image: np.ndarray  # (28, 28) uint8, ink bright on black, as the model saw it
    strokes: list  # the digit's strokes in canvas pixels: lists of (x, y)
    id: str = ""  # given when it is saved


def how_many(count):
    """'1 sample', '2 samples'."""
    return f"{count} sample{'' if count == 1 else 's'}"


class SampleSet:
    """The samples of a folder: read freely, changed one writer at a time."""

    def __init__(self, folder=DEFAULT_DIR):
        self.folder = Path(folder)
        self.path = self.folder / SAMPLES_FILE
        self.csv_path = self.folder / CSV_FILE
        self.old_strokes_path = self.folder / OLD_STROKES_FILE
        self.taught_model_path = self.folder / TAUGHT_MODEL_FILE

    # --- changes ---------------------------------------------------------------------------

    def append(self, samples):
        """Add samples at the end; their new ids, in order."""
        added = [_as_line(_record(sample, secrets.token_hex(6))) for sample in samples]
        if added:
            self._change(lambda lines: lines + added)
        return [line.record["id"] for line in added]

    def relabel(self, sample_id, label):
        """Make the sample `sample_id` a `label`."""
        label = _label(label)

        def relabelled(lines):
            index = self._find(lines, sample_id)
            lines[index] = _as_line({**lines[index].record, "label": label})
            return lines

        self._change(relabelled)

    def remove(self, sample_id):
        """Remove the sample `sample_id`."""

        def removed(lines):
            del lines[self._find(lines, sample_id)]
            return lines

        self._change(removed)

    def _find(self, lines, sample_id):
        for index, line in enumerate(lines):
            if line.record["id"] == sample_id:
                return index
        raise SampleError(f"{self.path}: no sample {shown(sample_id)} (removed meanwhile?)")

    def _change(self, edit):
        """Rewrite the set as edit(lines) makes it, while no other writer changes it."""
        self.folder.mkdir(parents=True, exist_ok=True)
        with _Lock(self.folder / LOCK_FILE):
            lines, old_format = self._current_lines()
            lines = edit(lines)
            with atomic_paths([self.path, self.csv_path]) as (samples_tmp, csv_tmp):
                _write_synced(samples_tmp, "".join(line.text for line in lines))
                _write_synced(csv_tmp, _csv_text([line.record for line in lines]))
            if old_format:  # its strokes are in samples.jsonl now
                self.old_strokes_path.unlink()

    # --- reading ---------------------------------------------------------------------------

    def samples(self):
        """Every sample, checked, in the order they were saved. Raises SampleError naming
        the file and line for a missing or damaged set."""
        if not (self.path.exists() or self._in_old_format()):
            raise SampleError(f"{self.path}: no such file; label digits in the app to make it")
        return [_sample(line.record) for line in self._current_lines()[0]]

    def read(self):
        """Every sample as teaching takes them: (images uint8 (N, 28, 28), labels (N,),
        strokes: float arrays (n, 2) per stroke)."""
        samples = self.samples()
        images = np.array([s.image for s in samples], np.uint8).reshape(-1, IMAGE_SIZE, IMAGE_SIZE)
        labels = np.array([s.label for s in samples], np.uint8)
        return images, labels, [s.strokes for s in samples]

    def counts(self):
        """Samples per digit, (10,) ints: none before the first is saved. Raises SampleError
        for a damaged set, as samples() does."""
        labels = [line.record["label"] for line in self._current_lines()[0]]
        return np.bincount(np.array(labels, int), minlength=NUM_CLASSES)

    def _in_old_format(self):
        return not self.path.exists() and self.old_strokes_path.exists()

    def _current_lines(self):
        """(the checked lines, whether they are in the earlier format); none before the
        first sample is saved."""
        if self._in_old_format():
            return self._old_lines(), True
        return self._lines(), False

    def _lines(self):
        """The checked lines of samples.jsonl; none when there is no such file yet."""
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return []
        lines, number_of = [], {}
        raw_lines = data.split(b"\n")
        for number, raw in enumerate(raw_lines, 1):
            if not raw.strip():  # a blank line left by an edit by hand
                continue
            where = f"{self.path}: line {number}"
            last = number == len(raw_lines)  # no newline after it: perhaps a copy cut short
            record = _checked_record(raw, where, last)
            sample_id = record["id"]
            if sample_id in number_of:
                raise SampleError(
                    f"{where}: the id {sample_id} is on line {number_of[sample_id]} too"
                )
            number_of[sample_id] = number
            lines.append(_Line(record, raw.decode("utf-8") + "\n"))  # as it was, if kept
        return lines

    def _old_lines(self):
        """The lines of a folder in the earlier format, each sample given an id."""
        if not self.csv_path.is_file():
            raise SampleError(f"{self.csv_path}: no such file, though {OLD_STROKES_FILE} is there")
        images, labels = load_train_csv(self.csv_path)
        strokes, stroke_labels = _read_old_strokes(self.old_strokes_path)
        if len(labels) != len(stroke_labels):
            raise SampleError(
                f"{self.folder}: the files are out of step: {CSV_FILE} holds "
                f"{len(labels)} samples, {OLD_STROKES_FILE} {len(stroke_labels)}"
            )
        for line, (label, stroke_label) in enumerate(zip(labels, stroke_labels, strict=True), 1):
            if label != stroke_label:
                raise SampleError(
                    f"{self.folder}: the files are out of step: sample {line} is a {label} in "
                    f"{CSV_FILE} (line {line + 1}) and a {stroke_label} in {OLD_STROKES_FILE} "
                    f"(line {line})"
                )
        return [
            _as_line(_record(Sample(label, image, own), secrets.token_hex(6)))
            for label, image, own in zip(labels, images, strokes, strict=True)
        ]


@dataclass(frozen=True)
class _Line:
    """A line of samples.jsonl: the sample's record, and its text as it is written."""

    record: dict
    text: str


def _as_line(record):
    return _Line(record, json.dumps(record, separators=(",", ":")) + "\n")


class _Lock:
    """An exclusive lock on a file, held by one process (and one SampleSet) at a time."""

    def __init__(self, path):
        self.path = path

    def __enter__(self):
        # Never through a link: nothing outside the folder is opened for writing.
        flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0)
        self.fd = os.open(self.path, flags, 0o644)
        _lock(self.fd)
        return self

    def __exit__(self, *exc):
        _unlock(self.fd)
        os.close(self.fd)


def _write_synced(path, text):
    """Write a file and make sure it is on disk before it is renamed into place."""
    with open(path, "w", encoding="utf-8", newline="\n") as file:
        file.write(text)
        file.flush()
        os.fsync(file.fileno())


_NUMBERS = [str(value) for value in range(256)]  # each pixel value as the CSV has it


def _csv_text(records):
    rows = [",".join(TRAIN_COLUMNS)]
    for record in records:
        pixels = [_NUMBERS[value] for value in _image(record["image"]).ravel().tolist()]
        rows.append(f"{record['label']}," + ",".join(pixels))
    return "\n".join(rows) + "\n"


def _record(sample, sample_id):
    """A sample as samples.jsonl holds it. Raises ValueError for a sample the app could not
    have made: nothing is written then."""
    image = np.asarray(sample.image)
    if image.shape != (IMAGE_SIZE, IMAGE_SIZE) or image.dtype != np.uint8:
        raise ValueError(f"a sample image must be uint8 (28, 28), got {image.dtype} {image.shape}")
    strokes = [[[_coordinate(x), _coordinate(y)] for x, y in stroke] for stroke in sample.strokes]
    return {
        "id": sample_id,
        "label": _label(sample.label),
        "image": [row.tobytes().hex() for row in image],
        "strokes": strokes,
    }


def _sample(record):
    image = _image(record["image"])
    strokes = [np.asarray(stroke, float) for stroke in record["strokes"]]
    return Sample(record["label"], image, strokes, record["id"])


def _image(rows):
    """The image of a record's hex rows: (28, 28) uint8."""
    return np.frombuffer(bytes.fromhex("".join(rows)), np.uint8).reshape(IMAGE_SIZE, IMAGE_SIZE)


def _label(label):
    if not 0 <= int(label) < NUM_CLASSES:
        raise ValueError(f"a sample's label must be 0..9, got {label}")
    return int(label)


def _coordinate(value):
    """Whole pixels as ints (the mouse), anything else to a tenth of a pixel."""
    value = float(value)
    return int(value) if value.is_integer() else round(value, 1)


def json_object(raw, where, last=False):
    """A line's JSON object. RecursionError: a line of thousands of nested brackets."""
    try:
        record = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise SampleError(f"{where}: not UTF-8 text") from None
    except (ValueError, RecursionError):
        what = "the last line is cut short" if last else "not a JSON object"
        raise SampleError(f"{where}: {what}") from None
    if not isinstance(record, dict):
        raise SampleError(f"{where}: not a JSON object")
    return record


def _checked_record(raw, where, last):
    record = json_object(raw, where, last)
    sample_id = record.get("id")
    if not isinstance(sample_id, str) or not _ID.fullmatch(sample_id):
        raise SampleError(f'{where}: "id" must be 12 hex digits (0-9, a-f)')
    _checked_label(record.get("label"), where)
    _checked_image(record.get("image"), where)
    checked_strokes(record.get("strokes"), where)
    return record


def _checked_label(label, where):
    if isinstance(label, bool) or not isinstance(label, int):
        raise SampleError(f'{where}: "label" must be a whole number 0..9')
    if not 0 <= label < NUM_CLASSES:
        raise SampleError(f"{where}: label {label} is out of range 0..9")


def _checked_image(rows, where):
    if not (
        isinstance(rows, list)
        and len(rows) == IMAGE_SIZE
        and all(isinstance(row, str) and _HEX_ROW.fullmatch(row) for row in rows)
    ):
        raise SampleError(f'{where}: "image" must be 28 rows of 56 hex digits (0-9, a-f)')


def checked_strokes(strokes, where):
    message = f'{where}: "strokes" must be a non-empty list of strokes, each a list of [x, y]'
    if not isinstance(strokes, list) or not strokes:
        raise SampleError(message)
    for stroke in strokes:
        try:
            array = np.asarray(stroke, float)
        except (TypeError, ValueError):
            raise SampleError(message) from None
        if array.ndim != 2 or array.shape[1] != 2 or len(array) == 0:
            raise SampleError(message)
        if not np.isfinite(array).all():
            raise SampleError(f"{where}: a stroke point is not a finite number")


def _read_old_strokes(path):
    """(strokes, labels) of the earlier format's strokes.jsonl, checked."""
    all_strokes, labels = [], []
    with open(path, "rb") as file:
        for number, line in enumerate(file, 1):
            where = f"{path}: line {number}"
            if not line.endswith(b"\n"):
                raise SampleError(f"{where}: the last line is cut short")
            record = json_object(line, where)
            _checked_label(record.get("label"), where)
            checked_strokes(record.get("strokes"), where)
            all_strokes.append(record["strokes"])
            labels.append(record["label"])
    return all_strokes, np.array(labels, np.uint8)
