"""A personal sample set: the user's own digits, as the app labelled them, kept for teaching.

A folder (default data/personal/) holds two files that go line for line:

- `samples.csv`, in Kaggle's train.csv format: `label,pixel0,...,pixel783`, the 28x28 image
  the model saw, 0-255, ink bright on black. The notebook and every tool that reads Kaggle
  data read it.
- `strokes.jsonl`, one JSON object a line, `{"label": 4, "strokes": [[[x, y], ...], ...]}`:
  the same digit's own strokes in canvas pixels, in drawing order. Teaching draws varied
  copies of them with the app's pen.

Appending is safe. Writers take turns under a lock on `.lock`, so two apps never interleave
their lines. Before a writer appends it records both files' sizes in `.pending`, and it
removes that record only once both files are complete and on disk. Anyone who finds the
record (after a crash or a power cut) cuts both files back to those sizes before going on,
so a half-written line or a sample in only one file never survives.
"""

import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from deeplearning.datasets.mnist import DataError, load_train_csv
from deeplearning.reading.images import IMAGE_SIZE, NUM_CLASSES, NUM_PIXELS

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
IMAGES_FILE = "samples.csv"
STROKES_FILE = "strokes.jsonl"
PENDING_FILE = ".pending"
LOCK_FILE = ".lock"
TAUGHT_MODEL_FILE = "mnist_cnn_taught.keras"  # the model taught on a folder's samples
HEADER = "label," + ",".join(f"pixel{i}" for i in range(NUM_PIXELS)) + "\n"


class SampleError(DataError):
    """A sample set that cannot be read or written; the message names the file and line."""


@dataclass
class Sample:
    label: int
    image: np.ndarray  # (28, 28) uint8, ink bright on black, as the model saw it
    strokes: list  # the digit's strokes in canvas pixels: lists of (x, y)


class SampleSet:
    """The two files of a sample folder, appended to and read under one lock."""

    def __init__(self, folder=DEFAULT_DIR):
        self.folder = Path(folder)
        self.images_path = self.folder / IMAGES_FILE
        self.strokes_path = self.folder / STROKES_FILE
        self.taught_model_path = self.folder / TAUGHT_MODEL_FILE

    # --- writing ---------------------------------------------------------------------------

    def append(self, samples):
        """Add samples at the end of both files, all of them or (after a crash) none."""
        samples = list(samples)
        if not samples:
            return
        image_lines = "".join(_image_line(s) for s in samples).encode()
        stroke_lines = "".join(_strokes_line(s) for s in samples).encode()
        self.folder.mkdir(parents=True, exist_ok=True)
        with self._locked():
            self._recover()
            if not self.images_path.exists() or self.images_path.stat().st_size == 0:
                _append(self.images_path, HEADER.encode())
            self._write_pending()
            _append(self.images_path, image_lines)
            _append(self.strokes_path, stroke_lines)
            (self.folder / PENDING_FILE).unlink()

    def _write_pending(self):
        sizes = {name: _size(self.folder / name) for name in (IMAGES_FILE, STROKES_FILE)}
        tmp = self.folder / f"{PENDING_FILE}.tmp-{os.getpid()}"
        with open(tmp, "w") as file:
            json.dump(sizes, file)
            file.flush()
            os.fsync(file.fileno())
        os.replace(tmp, self.folder / PENDING_FILE)

    def _recover(self):
        """Undo an append that did not finish: cut both files back to their sizes before it."""
        pending = self.folder / PENDING_FILE
        if not pending.exists():
            return
        try:
            sizes = json.loads(pending.read_text())
        except (OSError, ValueError):  # a crash while the record itself was written
            sizes = None  # the append had not begun: the files are as they were
        for name, size in (sizes or {}).items():
            path = self.folder / name
            if path.exists() and path.stat().st_size > size:
                os.truncate(path, size)
        pending.unlink()

    def _locked(self):
        return _Lock(self.folder / LOCK_FILE)

    # --- reading ---------------------------------------------------------------------------

    def exists(self):
        return self.images_path.exists() or self.strokes_path.exists()

    def read(self):
        """Every sample, checked: (images uint8 (N, 28, 28), labels (N,), strokes). Raises
        SampleError naming the file and line for a missing, corrupt or out-of-step set."""
        for path in (self.images_path, self.strokes_path):
            if not path.is_file():
                raise SampleError(f"{path}: no such file; label digits in the app to make it")
        with self._locked():
            self._recover()
            images, labels = load_train_csv(self.images_path)
            strokes, stroke_labels = _read_strokes(self.strokes_path)
        if len(labels) != len(stroke_labels):
            raise SampleError(
                f"{self.folder}: the files are out of step: {IMAGES_FILE} holds "
                f"{len(labels)} samples, {STROKES_FILE} {len(stroke_labels)}"
            )
        for line, (label, stroke_label) in enumerate(zip(labels, stroke_labels, strict=True), 1):
            if label != stroke_label:
                raise SampleError(
                    f"{self.folder}: the files are out of step: sample {line} is a {label} in "
                    f"{IMAGES_FILE} (line {line + 1}) and a {stroke_label} in {STROKES_FILE} "
                    f"(line {line})"
                )
        return images, labels, strokes

    def counts(self):
        """Samples per digit, (10,) ints, from the labels alone: cheap enough for the app
        at start-up. A set that cannot be read counts as empty here; teaching says why."""
        counts = np.zeros(NUM_CLASSES, int)
        try:
            with open(self.strokes_path, encoding="utf-8") as file:
                for line in file:
                    label = json.loads(line).get("label")
                    if isinstance(label, int) and 0 <= label < NUM_CLASSES:
                        counts[label] += 1
        except (OSError, ValueError, AttributeError):
            pass
        return counts


class _Lock:
    """An exclusive lock on a file, held by one process (and one SampleSet) at a time."""

    def __init__(self, path):
        self.path = path

    def __enter__(self):
        self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        _lock(self.fd)
        return self

    def __exit__(self, *exc):
        _unlock(self.fd)
        os.close(self.fd)


def _size(path):
    return path.stat().st_size if path.exists() else 0


def _append(path, data):
    """Append bytes and make sure they are on disk before going on."""
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        os.fsync(fd)
    finally:
        os.close(fd)


def _image_line(sample):
    image = np.asarray(sample.image)
    if image.shape != (IMAGE_SIZE, IMAGE_SIZE) or image.dtype != np.uint8:
        raise ValueError(f"a sample image must be uint8 (28, 28), got {image.dtype} {image.shape}")
    return ",".join(map(str, [_label(sample.label), *image.ravel().tolist()])) + "\n"


def _strokes_line(sample):
    strokes = [[[_coordinate(x), _coordinate(y)] for x, y in stroke] for stroke in sample.strokes]
    return json.dumps({"label": _label(sample.label), "strokes": strokes}) + "\n"


def _label(label):
    if not 0 <= int(label) < NUM_CLASSES:
        raise ValueError(f"a sample's label must be 0..9, got {label}")
    return int(label)


def _coordinate(value):
    """Whole pixels as ints (the mouse), anything else to a tenth of a pixel."""
    value = float(value)
    return int(value) if value.is_integer() else round(value, 1)


def _read_strokes(path):
    """(strokes as float arrays (n, 2) per stroke, labels) of a strokes.jsonl, checked."""
    all_strokes, labels = [], []
    with open(path, encoding="utf-8") as file:
        for number, line in enumerate(file, 1):
            where = f"{path}: line {number}"
            if not line.endswith("\n"):
                raise SampleError(f"{where}: the last line is cut short")
            try:
                record = json.loads(line)
            except ValueError:
                raise SampleError(f"{where}: not a JSON object") from None
            if not isinstance(record, dict):
                raise SampleError(f"{where}: not a JSON object")
            label = record.get("label")
            if isinstance(label, bool) or not isinstance(label, int):
                raise SampleError(f'{where}: "label" must be a whole number 0..9')
            if not 0 <= label < NUM_CLASSES:
                raise SampleError(f"{where}: label {label} is out of range 0..9")
            all_strokes.append(_checked_strokes(record.get("strokes"), where))
            labels.append(label)
    return all_strokes, np.array(labels, np.uint8)


def _checked_strokes(strokes, where):
    message = f'{where}: "strokes" must be a non-empty list of strokes, each a list of [x, y]'
    if not isinstance(strokes, list) or not strokes:
        raise SampleError(message)
    arrays = []
    for stroke in strokes:
        try:
            array = np.asarray(stroke, float)
        except (TypeError, ValueError):
            raise SampleError(message) from None
        if array.ndim != 2 or array.shape[1] != 2 or len(array) == 0:
            raise SampleError(message)
        if not np.isfinite(array).all():
            raise SampleError(f"{where}: a stroke point is not a finite number")
        arrays.append(array)
    return arrays


def digit_strokes(strokes, boxes, margin=0):
    """Which strokes make up each digit: for each box (x, y, w, h), the strokes that have
    most of their points inside it (grown by `margin`), in drawing order."""
    owners = [[] for _ in boxes]
    for stroke in strokes:
        points = np.asarray(stroke, float).reshape(-1, 2)
        inside = [
            np.count_nonzero(
                (points[:, 0] >= x - margin)
                & (points[:, 0] <= x + w + margin)
                & (points[:, 1] >= y - margin)
                & (points[:, 1] <= y + h + margin)
            )
            for x, y, w, h in boxes
        ]
        if inside and max(inside) > 0:
            owners[int(np.argmax(inside))].append(stroke)
    return owners
