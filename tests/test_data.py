"""Data loading: the Kaggle CSV checks, the IDX reader and the MNIST -> CSV command."""

import gzip

import numpy as np
import pandas as pd
import pytest

from deeplearning import data
from deeplearning.data import DataError, load_test_csv, load_train_csv

HEADER = ",".join(data.TRAIN_COLUMNS)


def write_train(path, rows, header=HEADER):
    """A train.csv with the given rows, each a list of 785 cells (label first)."""
    lines = [header] + [",".join(str(cell) for cell in row) for row in rows]
    path.write_text("\n".join(lines) + "\n")
    return path


def good_row(label=3):
    return [label] + [0] * 400 + [255] * 384


def check_fails(path, *expected):
    """Loading fails with one message naming the file and each expected fragment."""
    with pytest.raises(DataError) as caught:
        load_train_csv(path)
    message = str(caught.value)
    assert message.startswith(str(path))
    assert "\n" not in message
    for fragment in expected:
        assert fragment in message
    return message


def test_good_file_loads(tmp_path):
    images, labels = load_train_csv(write_train(tmp_path / "train.csv", [good_row(3), good_row(9)]))
    assert images.shape == (2, 28, 28) and images.dtype == np.uint8
    assert labels.tolist() == [3, 9]
    assert images[0].ravel()[400] == 255 and images[0].ravel()[399] == 0


def test_missing_file(tmp_path):
    check_fails(tmp_path / "nowhere.csv", "file not found")


def test_empty_file(tmp_path):
    path = tmp_path / "train.csv"
    path.write_text("")
    check_fails(path, "empty")


def test_header_only(tmp_path):
    check_fails(write_train(tmp_path / "train.csv", []), "empty", "no data rows")


def test_wrong_header(tmp_path):
    header = HEADER.replace("label", "digit")
    check_fails(write_train(tmp_path / "train.csv", [good_row()], header), "line 1", "header")


def test_wrong_column_count(tmp_path):
    rows = [good_row(), good_row()[:-1]]
    check_fails(
        write_train(tmp_path / "train.csv", rows), "line 3", "expected 785 columns, found 784"
    )


def test_non_numeric_cell(tmp_path):
    row = good_row()
    row[11] = "abc"
    check_fails(
        write_train(tmp_path / "train.csv", [good_row(), row]),
        "line 3",
        "'pixel10'",
        "'abc'",
        "not a number",
    )


def test_nan_cell(tmp_path):
    row = good_row()
    row[6] = "NaN"
    check_fails(write_train(tmp_path / "train.csv", [row]), "line 2", "'pixel5'", "NaN")


def test_missing_cell(tmp_path):
    row = good_row()
    row[6] = ""
    check_fails(write_train(tmp_path / "train.csv", [row]), "line 2", "'pixel5'", "missing")


def test_pixel_out_of_range(tmp_path):
    row = good_row()
    row[784] = 256
    check_fails(write_train(tmp_path / "train.csv", [row]), "line 2", "'pixel783'", "256", "0..255")


def test_negative_pixel(tmp_path):
    row = good_row()
    row[1] = -1
    check_fails(write_train(tmp_path / "train.csv", [row]), "'pixel0'", "-1")


def test_label_out_of_range(tmp_path):
    check_fails(
        write_train(tmp_path / "train.csv", [good_row(), good_row(10)]),
        "line 3",
        "'label'",
        "10",
        "0..9",
    )


def test_test_csv_needs_pixels_only(tmp_path):
    path = tmp_path / "test.csv"
    path.write_text(",".join(data.PIXEL_COLUMNS) + "\n" + ",".join(["7"] * 784) + "\n")
    assert load_test_csv(path).shape == (1, 28, 28)
    with pytest.raises(DataError, match="header"):
        load_test_csv(write_train(tmp_path / "train.csv", [good_row()]))


def test_command_line_reports_one_line_and_fails(tmp_path, capsys):
    row = good_row()
    row[3] = "x"
    path = write_train(tmp_path / "train.csv", [row])
    assert data.main(["check", str(path)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: ") and str(path) in err
    assert "Traceback" not in err


# --- IDX files and the MNIST -> CSV command --------------------------------------------------


def write_idx(path, array, compress=True):
    """Write a uint8 array as an IDX file (big-endian header, then the raw bytes)."""
    header = bytes([0, 0, 8, array.ndim]) + b"".join(d.to_bytes(4, "big") for d in array.shape)
    raw = header + array.astype(np.uint8).tobytes()
    path.write_bytes(gzip.compress(raw) if compress else raw)


@pytest.fixture
def mnist_dir(tmp_path, mnist_sample):
    """A small MNIST folder: 30 training and 12 test images, real digits."""
    images, labels = mnist_sample
    folder = tmp_path / "mnist"
    folder.mkdir()
    write_idx(folder / "train-images-idx3-ubyte.gz", images[:30])
    write_idx(folder / "train-labels-idx1-ubyte.gz", labels[:30])
    write_idx(folder / "t10k-images-idx3-ubyte", images[30:42], compress=False)
    write_idx(folder / "t10k-labels-idx1-ubyte", labels[30:42], compress=False)
    return folder


def test_mnist_to_csv_round_trip(tmp_path, mnist_dir, mnist_sample):
    images, labels = mnist_sample
    out = tmp_path / "out"
    assert data.main(["mnist", "--source", str(mnist_dir), "--out", str(out)]) == 0
    train_images, train_labels = load_train_csv(out / "train.csv")
    np.testing.assert_array_equal(train_images, images[:30])
    np.testing.assert_array_equal(train_labels, labels[:30])
    np.testing.assert_array_equal(load_test_csv(out / "test.csv"), images[30:42])
    held_out = pd.read_csv(out / "test_labels.csv")
    assert held_out.columns.tolist() == ["ImageId", "Label"]
    assert held_out.ImageId.tolist() == list(range(1, 13))
    assert held_out.Label.tolist() == labels[30:42].tolist()
    assert sorted(p.name for p in out.iterdir()) == ["test.csv", "test_labels.csv", "train.csv"]


def test_mnist_command_does_not_overwrite(tmp_path, mnist_dir, capsys):
    out = tmp_path / "out"
    out.mkdir()
    (out / "test.csv").write_text("mine")
    assert data.main(["mnist", "--source", str(mnist_dir), "--out", str(out)]) == 1
    assert "already exists" in capsys.readouterr().err
    assert (out / "test.csv").read_text() == "mine"
    assert not (out / "train.csv").exists()
    assert data.main(["mnist", "--source", str(mnist_dir), "--out", str(out), "--force"]) == 0
    assert load_test_csv(out / "test.csv").shape == (12, 28, 28)


def test_idx_wrong_magic(tmp_path):
    path = tmp_path / "train-images-idx3-ubyte"
    path.write_bytes(b"\x12\x34\x56\x78" + bytes(100))
    with pytest.raises(DataError, match="magic"):
        data.read_idx(path)


def test_idx_truncated(tmp_path, mnist_sample):
    path = tmp_path / "images"
    write_idx(path, mnist_sample[0][:3], compress=False)
    path.write_bytes(path.read_bytes()[:-10])
    with pytest.raises(DataError, match="header says shape"):
        data.read_idx(path)


def test_mnist_missing_file(tmp_path, mnist_dir, capsys):
    (mnist_dir / "t10k-labels-idx1-ubyte").unlink()
    assert data.main(["mnist", "--source", str(mnist_dir), "--out", str(tmp_path / "o")]) == 1
    err = capsys.readouterr().err
    assert "t10k-labels-idx1-ubyte" in err and "not found" in err


def test_to_model_input_scales_to_unit_range():
    images = np.array([[[0, 255] * 14] * 28], dtype=np.uint8)
    x = data.to_model_input(images)
    assert x.shape == (1, 28, 28, 1) and x.dtype == np.float32
    assert x.min() == 0.0 and x.max() == 1.0
