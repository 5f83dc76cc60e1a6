"""Load and check the digit data: Kaggle's CSV files and the original MNIST IDX files.

Kaggle's `train.csv` has a `label` column and `pixel0`..`pixel783`; `test.csv` has only the
pixels. Each row is one 28x28 image, row by row, 0 = background, 255 = ink.

Command line:

    python -m deeplearning.data mnist --source ../shared/mnist --out data/

builds `train.csv` (60,000 training images), `test.csv` (10,000 test images, no labels) and
`test_labels.csv` (`ImageId,Label`, kept apart so a submission can be scored locally).
Without `--source` it downloads MNIST through Keras.
"""

import argparse
import gzip
import io
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from deeplearning.atomic import OverwriteError, atomic_path, refuse_overwrite

IMAGE_SIZE = 28
NUM_PIXELS = IMAGE_SIZE * IMAGE_SIZE
NUM_CLASSES = 10
PIXEL_COLUMNS = [f"pixel{i}" for i in range(NUM_PIXELS)]
TRAIN_COLUMNS = ["label", *PIXEL_COLUMNS]

# The file names MNIST is published under; some copies use a dot instead of the dash.
MNIST_FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}


class DataError(Exception):
    """Bad or missing input data; the message names the file, the place and what is wrong."""


# --- CSV ------------------------------------------------------------------------------------


def _read_text(path):
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: file not found")
    text = path.read_text(encoding="utf-8", errors="replace")
    if not text.strip():
        raise DataError(f"{path}: file is empty")
    return text


def _cell_problem(cell):
    """Say what is wrong with one CSV cell's text, or None if it holds a whole number."""
    value = cell.strip()
    if value == "":
        return "is missing a value (NaN)"
    if value.lower() in ("nan", "na", "n/a", "null", "none"):
        return f"holds '{value}' (NaN)"
    try:
        number = float(value)
    except ValueError:
        return f"holds '{value}', which is not a number"
    if number != round(number):
        return f"holds '{value}', which is not a whole number"
    return None


def read_csv_checked(path, columns, limits):
    """Read a CSV whose header must be exactly `columns`, checking every cell.

    `limits` maps a column name to (low, high, what); each cell must lie in low..high.
    Returns the values as an int64 array. Every problem is a DataError naming the file,
    the line (the header is line 1), the column and what is wrong.
    """
    text = _read_text(path)
    lines = text.splitlines()
    header = [name.strip() for name in lines[0].split(",")]
    if header != list(columns):
        expected = ",".join(columns[:3]) + (",..." if len(columns) > 3 else "")
        found = ",".join(header[:3]) + (",..." if len(header) > 3 else "")
        raise DataError(
            f"{path}: line 1: wrong header: expected {len(columns)} columns "
            f"'{expected}', found {len(header)} columns '{found}'"
        )
    line_numbers = [n for n, line in enumerate(lines[1:], start=2) if line.strip()]
    if not line_numbers:
        raise DataError(f"{path}: file is empty: a header but no data rows")
    for number in line_numbers:
        count = lines[number - 1].count(",") + 1
        if count != len(columns):
            raise DataError(
                f"{path}: line {number}: expected {len(columns)} columns, found {count}"
            )

    # The fast path: pandas parses every column as integers. Only when it cannot are the
    # offending columns read again as text to find the first bad cell.
    frame = pd.read_csv(io.StringIO(text))
    bad_columns = [name for name in columns if not pd.api.types.is_integer_dtype(frame[name])]
    if bad_columns:
        cells = pd.read_csv(
            io.StringIO(text), usecols=bad_columns, dtype=str, keep_default_na=False
        )
        for row in range(len(cells)):
            for name in columns:
                if name in cells and (problem := _cell_problem(cells.at[row, name])):
                    raise DataError(f"{path}: line {line_numbers[row]}: column '{name}' {problem}")
    values = frame[list(columns)].to_numpy(dtype=np.int64)
    for col, name in enumerate(columns):
        low, high, what = limits(name)
        bad = np.flatnonzero((values[:, col] < low) | (values[:, col] > high))
        if len(bad):
            row = bad[0]
            raise DataError(
                f"{path}: line {line_numbers[row]}: column '{name}' holds {values[row, col]}, "
                f"{what} must be {low}..{high}"
            )
    return values


def _limits(name):
    return (0, NUM_CLASSES - 1, "a label") if name == "label" else (0, 255, "a pixel")


def load_train_csv(path):
    """Load Kaggle's train.csv: (images uint8 (N, 28, 28), labels uint8 (N,))."""
    values = read_csv_checked(path, TRAIN_COLUMNS, _limits)
    images = values[:, 1:].astype(np.uint8).reshape(-1, IMAGE_SIZE, IMAGE_SIZE)
    return images, values[:, 0].astype(np.uint8)


def load_test_csv(path):
    """Load Kaggle's test.csv: images uint8 (N, 28, 28)."""
    values = read_csv_checked(path, PIXEL_COLUMNS, _limits)
    return values.astype(np.uint8).reshape(-1, IMAGE_SIZE, IMAGE_SIZE)


def write_csv(path, frame):
    """Write a DataFrame as CSV through a temporary file, so no half-written file is left."""
    with atomic_path(path) as tmp:
        frame.to_csv(tmp, index=False)


def images_to_frame(images, labels=None):
    """The Kaggle layout: one row per image, an optional `label` column, then the pixels."""
    frame = pd.DataFrame(np.asarray(images).reshape(len(images), NUM_PIXELS), columns=PIXEL_COLUMNS)
    if labels is not None:
        frame.insert(0, "label", np.asarray(labels))
    return frame


# --- model input ----------------------------------------------------------------------------


def to_model_input(images):
    """uint8 images (N, 28, 28) -> float32 (N, 28, 28, 1) in [0, 1], as the model expects."""
    images = np.asarray(images, dtype=np.float32) / 255.0
    return images.reshape(-1, IMAGE_SIZE, IMAGE_SIZE, 1)


# --- MNIST IDX files ------------------------------------------------------------------------


def read_idx(path):
    """Read one IDX file (gzipped or not) into a uint8 array, checking its header."""
    path = Path(path)
    raw = path.read_bytes()
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as error:
            raise DataError(f"{path}: not a readable gzip file ({error})") from None
    if len(raw) < 4 or raw[0:2] != b"\x00\x00" or raw[2] != 0x08:
        raise DataError(f"{path}: not an IDX file of unsigned bytes (wrong magic number)")
    ndim = raw[3]
    header_size = 4 + 4 * ndim
    if ndim == 0 or len(raw) < header_size:
        raise DataError(f"{path}: truncated IDX header")
    shape = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    expected = int(np.prod(shape))
    if len(raw) - header_size != expected:
        raise DataError(
            f"{path}: header says shape {shape} ({expected} bytes) but the file holds "
            f"{len(raw) - header_size} bytes of data"
        )
    return np.frombuffer(raw, dtype=np.uint8, offset=header_size).reshape(shape)


def find_idx_file(directory, stem):
    """Find `stem` in `directory`, gzipped or not, with a dash or a dot before 'idx'."""
    directory = Path(directory)
    names = [stem, stem.replace("-idx", ".idx")]
    for name in names:
        for suffix in ("", ".gz"):
            candidate = directory / (name + suffix)
            if candidate.is_file():
                return candidate
    raise DataError(f"{directory / stem}: file not found (also looked for .gz and '.idx' names)")


def load_mnist(source):
    """Load MNIST from a folder of IDX files: ((x_train, y_train), (x_test, y_test)), uint8."""
    source = Path(source)
    if not source.is_dir():
        raise DataError(f"{source}: folder not found")
    arrays = {key: read_idx(find_idx_file(source, stem)) for key, stem in MNIST_FILES.items()}
    for split in ("train", "test"):
        images, labels = arrays[f"{split}_images"], arrays[f"{split}_labels"]
        if images.ndim != 3 or images.shape[1:] != (IMAGE_SIZE, IMAGE_SIZE):
            raise DataError(f"{source}: {split} images have shape {images.shape}, not (N, 28, 28)")
        if labels.ndim != 1 or len(labels) != len(images):
            raise DataError(f"{source}: {len(images)} {split} images but {labels.shape} labels")
        if labels.max(initial=0) >= NUM_CLASSES:
            raise DataError(f"{source}: {split} labels hold {labels.max()}, labels must be 0..9")
    return (
        (arrays["train_images"], arrays["train_labels"]),
        (arrays["test_images"], arrays["test_labels"]),
    )


def download_mnist():
    """Fetch MNIST through Keras (needs the internet); same return value as load_mnist."""
    import keras

    return keras.datasets.mnist.load_data()


def mnist_to_csvs(train, test, out, force=False):
    """Write train.csv, test.csv and test_labels.csv into `out`; return their paths."""
    out = Path(out)
    paths = [out / "train.csv", out / "test.csv", out / "test_labels.csv"]
    refuse_overwrite(paths, force)
    (x_train, y_train), (x_test, y_test) = train, test
    labels = pd.DataFrame({"ImageId": np.arange(1, len(y_test) + 1), "Label": y_test})
    write_csv(paths[0], images_to_frame(x_train, y_train))
    write_csv(paths[1], images_to_frame(x_test))
    write_csv(paths[2], labels)
    return paths


# --- command line ---------------------------------------------------------------------------


def parse_args(argv):
    parser = argparse.ArgumentParser(
        prog="python -m deeplearning.data", description="Prepare the digit data as Kaggle CSVs."
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


def main(argv=None):
    args = parse_args(argv)
    try:
        if args.command == "mnist":
            train, test = load_mnist(args.source) if args.source else download_mnist()
            for path in mnist_to_csvs(train, test, args.out, force=args.force):
                print(f"wrote {path}")
        else:
            header = _read_text(args.csv).splitlines()[0]
            if header.startswith("label"):
                images, labels = load_train_csv(args.csv)
                print(
                    f"{args.csv}: {len(images)} labelled images, "
                    f"per digit {np.bincount(labels).tolist()}"
                )
            else:
                print(f"{args.csv}: {len(load_test_csv(args.csv))} unlabelled images")
    except (DataError, OverwriteError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
