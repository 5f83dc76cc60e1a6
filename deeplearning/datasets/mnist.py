"""Load and check the digit data: Kaggle's CSV files and the original MNIST IDX files.

Kaggle's `train.csv` has a `label` column and `pixel0`..`pixel783`; `test.csv` has only the
pixels. Each row is one 28x28 image, row by row, 0 = background, 255 = ink.

Command line:

    python -m deeplearning data mnist --source ../shared/mnist --out data/

builds `train.csv` (60,000 training images), `test.csv` (10,000 test images, no labels) and
`test_labels.csv` (`ImageId,Label`, kept apart so a submission can be scored locally).
Without `--source` it downloads MNIST (the archive Keras's `mnist.load_data` reads).
"""

import gzip
import io
import math
import re
import sys
import zlib
from decimal import Decimal
from pathlib import Path

import numpy as np

from deeplearning.core import cli
from deeplearning.core.atomic import atomic_path, atomic_paths, check_outputs
from deeplearning.core.errors import InputError, os_reason
from deeplearning.reading.images import IMAGE_SIZE, NUM_CLASSES, NUM_PIXELS

PIXEL_COLUMNS = [f"pixel{i}" for i in range(NUM_PIXELS)]
TRAIN_COLUMNS = ["label", *PIXEL_COLUMNS]
CSV_NAMES = ("train.csv", "test.csv", "test_labels.csv")  # what the mnist command writes

# The file names MNIST is published under; some copies use a dot instead of the dash.
MNIST_FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}
# An IDX file's header says how much data follows; more than this is no digit data set
# (MNIST's largest file holds 47 MB) and would only exhaust memory.
MAX_IDX_BYTES = 2**31
# Where `data mnist` downloads MNIST without --source: the archive Keras's mnist.load_data reads.
MNIST_URL = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz"
MNIST_SHA256 = "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"
MAX_DOWNLOAD_BYTES = 64 * 2**20
# CSV files are read this many lines at a time: memory stays small for any file size.
CSV_BLOCK_LINES = 1000
# A longer line is no row of digit data (785 cells of a few characters each).
MAX_CSV_LINE = 1_000_000


class DataError(InputError):
    """Bad or missing input data; the message names the file, the place and what is wrong."""


# --- CSV ------------------------------------------------------------------------------------

_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
_NAN_WORDS = ("nan", "-nan", "na", "n/a", "null", "none")
_INFINITY_WORDS = ("inf", "+inf", "-inf", "infinity", "+infinity", "-infinity")


class CellError(ValueError):
    """What is wrong with one CSV cell, worded to follow "column 'x' "."""


def parse_cell(text, low, high, what):
    """The whole number one CSV cell holds, exactly, however many digits it has.

    The one parser of numbers in CSV cells: `12`, `+12`, `12.0` and `1.2e1` are 12. A cell
    that is empty, not a number (`1_0`, `0x10`, `inf`), not whole, or outside low..high
    raises CellError saying so; `what` names the kind of value ("a pixel").
    """
    value = text.strip()
    if value == "":
        raise CellError("is missing a value (NaN)")
    if value.lower() in _NAN_WORDS:
        raise CellError(f"holds '{value}' (NaN)")
    if value.lower() in _INFINITY_WORDS:
        raise CellError(f"holds '{value}', which is not a finite number")
    if not _NUMBER.fullmatch(value):
        raise CellError(f"holds '{value}', which is not a number")
    number = Decimal(value)  # exact: no overflow, no rounding
    if number != number.to_integral_value():
        raise CellError(f"holds '{value}', which is not a whole number")
    if not low <= number <= high:
        raise CellError(f"holds {value}, {what} must be {low}..{high}")
    return int(number)


def _open_text(path):
    """A CSV file opened for reading as text (a byte-order mark, as Excel writes, skipped)."""
    path = Path(path)
    if path.is_dir():
        raise DataError(f"{path}: is a folder, not a file")
    if path.exists() and not path.is_file():
        raise DataError(f"{path}: is not a regular file")
    if not path.is_file():
        raise DataError(f"{path}: file not found")
    try:
        return open(path, encoding="utf-8-sig", errors="replace")
    except OSError as error:
        raise DataError(f"{path}: cannot be read ({os_reason(error)})") from None


def _lines(file, path):
    """(line number, text) for each line of a file, without the line break."""
    number = 0
    while line := file.readline(MAX_CSV_LINE + 1):
        number += 1
        if len(line) > MAX_CSV_LINE:
            raise DataError(f"{path}: line {number}: longer than {MAX_CSV_LINE} characters")
        yield number, line.rstrip("\r\n")


def read_header(path):
    """The first line of a CSV file, without a byte-order mark; DataError if it has none."""
    with _open_text(path) as file:
        first = next(_lines(file, path), (1, ""))[1]
    if not first.strip():
        raise DataError(f"{path}: file is empty")
    return first


def _value_type(bounds):
    """The smallest integer type that holds every column's range."""
    ends = [np.min_scalar_type(end) for low, high, _ in bounds for end in (low, high)]
    return np.result_type(*ends)


def read_csv_checked(path, columns, limits, max_rows=None):
    """Read a CSV whose header must be exactly `columns`, checking every cell (of the first
    `max_rows` rows only, when given).

    `limits` maps a column name to (low, high, what); each cell must hold a whole number in
    low..high. The file is read a block of lines at a time into one array of the smallest
    integer type that holds those ranges, so memory stays about the size of the values.
    Every problem is a DataError naming the file, the line (the header is line 1), the
    column and what is wrong: the first problem in the file.
    """
    bounds = [limits(name) for name in columns]
    try:
        values = np.empty((_most_rows(path, len(columns)), len(columns)), _value_type(bounds))
    except MemoryError:
        raise DataError(f"{path}: too large to read into the memory here") from None
    rows, block = 0, []

    def take(block):
        nonlocal values, rows
        parsed = _parse_block(path, block, columns, bounds)
        if rows + len(parsed) > len(values):  # lines ending in a bare CR, or a growing file
            values = np.resize(values, (max(2 * len(values), rows + len(parsed)), len(columns)))
        values[rows : rows + len(parsed)] = parsed
        rows += len(parsed)

    try:
        with _open_text(path) as file:
            lines = _lines(file, path)
            _check_header(path, next(lines, (1, ""))[1], columns)
            for number, line in lines:
                if not line.strip():
                    continue
                count = line.count(",") + 1
                if count != len(columns):
                    take(block)  # a problem on a line above comes first
                    raise DataError(
                        f"{path}: line {number}: expected {len(columns)} columns, found {count}"
                    )
                block.append((number, line))
                if len(block) == CSV_BLOCK_LINES:
                    take(block)
                    block = []
                    if max_rows is not None and rows >= max_rows:
                        break
            take(block)
    except OSError as error:
        raise DataError(f"{path}: cannot be read ({os_reason(error)})") from None
    if not rows:
        raise DataError(f"{path}: file is empty: a header but no data rows")
    return values[: rows if max_rows is None else min(rows, max_rows)]


def _most_rows(path, columns):
    """How many rows a CSV file can hold at most: rows to make room for. Each row has a line
    of its own and at least one character and a comma per cell (blank lines count neither)."""
    try:
        with open(path, "rb") as file:
            breaks = sum(chunk.count(b"\n") for chunk in iter(lambda: file.read(1 << 20), b""))
        size = Path(path).stat().st_size
    except OSError:
        return 0  # reading it again will say what is wrong
    return min(breaks, size // (2 * columns - 1) + 1)


def _check_header(path, line, columns):
    if not line.strip():
        raise DataError(f"{path}: file is empty")
    if "\ufffd" in line or "\x00" in line:
        raise DataError(f"{path}: line 1: not UTF-8 text (save it as CSV in UTF-8)")
    header = [name.strip() for name in line.split(",")]
    if header != list(columns):
        expected = ",".join(columns[:3]) + (",..." if len(columns) > 3 else "")
        found = _visible(",".join(header[:3]) + (",..." if len(header) > 3 else ""))
        raise DataError(
            f"{path}: line 1: wrong header: expected {len(columns)} columns "
            f"'{expected}', found {len(header)} columns '{found}'"
        )


def _visible(text):
    """Text with characters one cannot see (a zero-width space) written as escapes."""
    return "".join(c if c.isprintable() else ascii(c)[1:-1] for c in text)


def _parse_block(path, block, columns, bounds):
    """The values of a block of (line number, text) rows, every cell checked.

    pandas parses the block; a column it cannot read as in-range integers is read again
    as text, cell by cell with parse_cell, to name its first problem exactly.
    """
    dtype = _value_type(bounds)
    if not block:
        return np.zeros((0, len(columns)), dtype)
    text = "\n".join(line for _, line in block)
    frame = _read_block(path, block, text, columns)
    lows, highs = (np.array([bound[i] for bound in bounds]) for i in (0, 1))
    if all(kind == "i" for kind in frame.dtypes.map(lambda t: t.kind)):  # the usual case
        numbers = frame.to_numpy()
        if ((numbers >= lows) & (numbers <= highs)).all():
            return numbers.astype(dtype)
    values = np.empty((len(block), len(columns)), dtype)
    first = None  # (row, column, problem) of the first problem found
    suspects = []
    for col, (name, (low, high, _)) in enumerate(zip(columns, bounds, strict=True)):
        column = frame[name].to_numpy()
        if column.dtype.kind in "iu" or column.dtype.kind == "f":
            with np.errstate(invalid="ignore"):
                good = (column >= low) & (column <= high)
                if column.dtype.kind == "f":
                    good &= np.floor(column) == column  # NaN and infinity fail both
            if good.all():
                values[:, col] = column
                continue
        suspects.append(col)
    if suspects:
        suspect_names = [columns[col] for col in suspects]
        cells = _read_block(path, block, text, columns, usecols=suspect_names, dtype=str)
        for col in suspects:
            low, high, what = bounds[col]
            for row, cell in enumerate(cells[columns[col]].tolist()):
                if first is not None and row >= first[0]:
                    break  # a problem on an earlier line, or this line's earlier column
                try:
                    values[row, col] = parse_cell(cell, low, high, what)
                except CellError as problem:
                    first = (row, col, problem)
                    break
    if first is not None:
        row, col, problem = first
        raise DataError(f"{path}: line {block[row][0]}: column '{columns[col]}' {problem}")
    return values


def _read_block(path, block, text, columns, **options):
    """pandas' reading of a block of rows; its complaints (a stray quote) as a DataError."""
    import pandas as pd  # only when reading: the app starts without it

    if options.get("dtype") is str:
        options["keep_default_na"] = False  # the text as written, "NaN" included
    try:
        return pd.read_csv(io.StringIO(text), header=None, names=columns, **options)
    except (pd.errors.ParserError, ValueError) as error:
        where = f"lines {block[0][0]}..{block[-1][0]}" if len(block) > 1 else f"line {block[0][0]}"
        reason = str(error).strip().splitlines()[0] if str(error).strip() else "unreadable"
        raise DataError(f"{path}: {where}: not readable as CSV ({reason})") from None


def _limits(name):
    return (0, NUM_CLASSES - 1, "a label") if name == "label" else (0, 255, "a pixel")


def load_train_csv(path, max_rows=None):
    """Load Kaggle's train.csv (its first `max_rows` rows, when given): (images uint8
    (N, 28, 28), labels uint8 (N,))."""
    values = read_csv_checked(path, TRAIN_COLUMNS, _limits, max_rows)
    images = values[:, 1:].reshape(-1, IMAGE_SIZE, IMAGE_SIZE)
    return images, values[:, 0].copy()


def load_test_csv(path):
    """Load Kaggle's test.csv: images uint8 (N, 28, 28)."""
    return read_csv_checked(path, PIXEL_COLUMNS, _limits).reshape(-1, IMAGE_SIZE, IMAGE_SIZE)


def write_csv(path, frame, overwrite=True):
    """Write a DataFrame as CSV through a temporary file, so no half-written file is left."""
    with atomic_path(path, overwrite) as tmp:
        frame.to_csv(tmp, index=False)


def images_to_frame(images, labels=None):
    """The Kaggle layout: one row per image, an optional `label` column, then the pixels."""
    import pandas as pd

    frame = pd.DataFrame(np.asarray(images).reshape(len(images), NUM_PIXELS), columns=PIXEL_COLUMNS)
    if labels is not None:
        frame.insert(0, "label", np.asarray(labels))
    return frame


# --- MNIST IDX files ------------------------------------------------------------------------


def read_idx(path):
    """Read one IDX file (gzipped or not) into a uint8 array, checking its header.

    Only as many bytes as the header promises are read (and unzipped), so a crafted header
    or a gzip bomb costs no more memory than the data it claims.
    """
    path, zipped = Path(path), False
    try:
        with path.open("rb") as file:
            zipped = file.read(2) == b"\x1f\x8b"
        opener = gzip.open if zipped else open
        with opener(path, "rb") as file:
            shape = _idx_shape(path, file)
            size = math.prod(shape)  # exact: NumPy's product of large dimensions wraps
            if size > MAX_IDX_BYTES:
                raise DataError(
                    f"{path}: header says shape {shape} ({size} bytes), more than the "
                    f"{MAX_IDX_BYTES} bytes a digit data set here may hold"
                )
            raw = file.read(size + 1)
    except (OSError, EOFError, zlib.error) as error:
        what = "not a readable gzip file" if zipped else "cannot be read"
        raise DataError(f"{path}: {what} ({os_reason(error)})") from None
    if len(raw) != size:
        raise DataError(
            f"{path}: header says shape {shape} ({size} bytes) but the file holds "
            f"{len(raw)}{'+' if len(raw) > size else ''} bytes of data"
        )
    return np.frombuffer(raw, dtype=np.uint8).reshape(shape)


def _idx_shape(path, file):
    """Read an IDX header: the magic number, then one 4-byte size per dimension."""
    magic = file.read(4)
    if len(magic) < 4 or magic[0:2] != b"\x00\x00" or magic[2] != 0x08:
        raise DataError(f"{path}: not an IDX file of unsigned bytes (wrong magic number)")
    ndim = magic[3]
    sizes = file.read(4 * ndim)
    if ndim == 0 or len(sizes) < 4 * ndim:
        raise DataError(f"{path}: truncated IDX header")
    return tuple(int.from_bytes(sizes[4 * i : 4 * i + 4], "big") for i in range(ndim))


def find_idx_file(directory, stem):
    """Find `stem` in `directory`, gzipped or not, with a dash or a dot before 'idx'."""
    found = _idx_file(directory, stem)
    if found is None:
        raise DataError(
            f"{Path(directory) / stem}: file not found (also looked for .gz and '.idx' names)"
        )
    return found


def _idx_file(directory, stem):
    """The path of `stem` in `directory` under any of the names MNIST goes by, or None."""
    for name in (stem, stem.replace("-idx", ".idx")):
        for suffix in ("", ".gz"):
            candidate = Path(directory) / (name + suffix)
            if candidate.is_file():
                return candidate
    return None


def load_mnist(source):
    """Load MNIST from a folder of IDX files: ((x_train, y_train), (x_test, y_test)), uint8."""
    source = _mnist_folder(source)
    return _idx_split(source, "train"), _idx_split(source, "test")


def load_test_set(source):
    """MNIST's 10,000 test images and labels, uint8: from a folder of IDX files, or from the
    test.csv and test_labels.csv that the data command writes (the same images, in order)."""
    source = _mnist_folder(source)
    if (source / "test.csv").exists():
        from deeplearning.datasets.submission import read_submission  # it imports this module

        images = load_test_csv(source / "test.csv")
        labels = read_submission(source / "test_labels.csv", expected_count=len(images))
        return images, labels.astype(np.uint8)
    if _idx_file(source, MNIST_FILES["test_images"]) is None:
        raise DataError(
            f"{source}: no MNIST test images: neither its IDX files nor test.csv; make them "
            f"with: python -m deeplearning data mnist --out {source}"
        )
    return _idx_split(source, "test")


def load_train_set(source, max_rows=None):
    """MNIST's training images and labels, uint8: from the train.csv that the data command
    writes, or else from a folder of IDX files; the first `max_rows` when given."""
    source = _mnist_folder(source)
    if (source / "train.csv").exists():
        return load_train_csv(source / "train.csv", max_rows)
    if _idx_file(source, MNIST_FILES["train_images"]) is None:
        raise DataError(
            f"{source}: no MNIST training images: neither its IDX files nor train.csv; make "
            f"them with: python -m deeplearning data mnist --out {source}"
        )
    images, labels = _idx_split(source, "train")
    return images[:max_rows], labels[:max_rows]


def _mnist_folder(source):
    source = Path(source)
    if not source.is_dir():
        raise DataError(f"{source}: folder not found")
    return source


def _idx_split(source, split):
    """One split of MNIST ("train" or "test") from its IDX files: (images, labels), checked."""
    images, labels = (
        read_idx(find_idx_file(source, MNIST_FILES[f"{split}_{kind}"]))
        for kind in ("images", "labels")
    )
    if images.ndim != 3 or images.shape[1:] != (IMAGE_SIZE, IMAGE_SIZE):
        raise DataError(f"{source}: {split} images have shape {images.shape}, not (N, 28, 28)")
    if labels.ndim != 1 or len(labels) != len(images):
        raise DataError(f"{source}: {len(images)} {split} images but {labels.shape} labels")
    if labels.max(initial=0) >= NUM_CLASSES:
        raise DataError(f"{source}: {split} labels hold {labels.max()}, labels must be 0..9")
    return images, labels


def download_mnist(url=MNIST_URL, sha256=MNIST_SHA256):
    """Fetch MNIST as one NumPy archive (11 MB; needs the internet), the copy Keras's
    `mnist.load_data` reads, and check its SHA-256; same return value as load_mnist."""
    import hashlib
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=60) as response:
            payload = response.read(MAX_DOWNLOAD_BYTES + 1)
    except (OSError, ValueError) as error:  # URLError and timeouts are OSErrors
        reason = getattr(error, "reason", None) or os_reason(error)
        raise DataError(
            f"{url}: MNIST could not be downloaded ({reason}); give a folder of IDX files "
            "with --source (the Makefile: make data MNIST=PATH)"
        ) from None
    if hashlib.sha256(payload).hexdigest() != sha256:
        raise DataError(f"{url}: the download is not MNIST's archive (its SHA-256 differs)")
    with np.load(io.BytesIO(payload), allow_pickle=False) as archive:
        return (
            (archive["x_train"], archive["y_train"]),
            (archive["x_test"], archive["y_test"]),
        )


def csv_paths(out):
    """The files the mnist command writes into the folder `out`."""
    return [Path(out) / name for name in CSV_NAMES]


def mnist_to_csvs(train, test, out, force=False):
    """Write train.csv, test.csv and test_labels.csv into `out`; return their paths.

    All three are written under temporary names first and then put in place together: a
    failure (a full disk) or Ctrl-C leaves the folder as it was, never a mixed set.
    """
    paths = csv_paths(out)
    check_outputs(paths, force)
    import pandas as pd

    (x_train, y_train), (x_test, y_test) = train, test
    labels = pd.DataFrame({"ImageId": np.arange(1, len(y_test) + 1), "Label": y_test})
    frames = [images_to_frame(x_train, y_train), images_to_frame(x_test), labels]
    with atomic_paths(paths, overwrite=force) as temporaries:
        for frame, tmp in zip(frames, temporaries, strict=True):
            frame.to_csv(tmp, index=False)
    return paths


# --- command line ---------------------------------------------------------------------------


def parse_args(argv):
    parser = cli.ArgumentParser(
        prog="python -m deeplearning data", description="Prepare the digit data as Kaggle CSVs."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    mnist = commands.add_parser("mnist", help="build Kaggle-format CSVs from the MNIST IDX files")
    mnist.add_argument(
        "--source", type=Path, help="folder with the four IDX files (default: download)"
    )
    mnist.add_argument(
        "--out", type=Path, default=Path("data"), help="output folder (default: data)"
    )
    mnist.add_argument("--force", action="store_true", help="overwrite existing CSV files")
    check = commands.add_parser(
        "check", help="validate a train.csv or test.csv and print its shape"
    )
    check.add_argument("csv", type=Path, help="the CSV file to check")
    return parser.parse_args(argv)


def convert_mnist(args):
    """The mnist command: check where the files go, then read (or download) and write."""
    check_outputs(csv_paths(args.out), args.force)
    train, test = load_mnist(args.source) if args.source else download_mnist()
    for path in mnist_to_csvs(train, test, args.out, force=args.force):
        print(f"wrote {path}")


def check_csv(path):
    """The check command: read a train.csv or test.csv and say what it holds."""
    if read_header(path).startswith("label"):
        images, labels = load_train_csv(path)
        counts = np.bincount(labels, minlength=NUM_CLASSES).tolist()
        print(f"{path}: {len(images)} labelled images, per digit {counts}")
    else:
        print(f"{path}: {len(load_test_csv(path))} unlabelled images")


def main(argv=None):
    def body():
        args = parse_args(argv)
        if args.command == "mnist":
            convert_mnist(args)
        else:
            check_csv(args.csv)
        return 0

    return cli.run(body)


if __name__ == "__main__":
    sys.exit(main())
