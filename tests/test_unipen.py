"""Recorded pen digits: the reader, the writer split, varied copies for training."""

import gzip
import json
import random
from pathlib import Path

import numpy as np
import pytest
from conftest import DIGIT_STROKES, PEN_SETS, write_pen_digits

from deeplearning.datasets.mnist import DataError
from deeplearning.pen_data import unipen

SHARED_UNIPEN = Path(__file__).resolve().parents[1] / ".." / "shared" / "unipen"


def test_reads_the_documented_format(pen_data):
    digits = unipen.load_pen_digits(pen_data)  # a folder: its digits.jsonl.gz
    writers = sum(PEN_SETS.values())
    assert len(digits) == writers * 2 * 10
    assert {d.label for d in digits} == set(range(10))
    assert {d.donor_set for d in digits} == set(PEN_SETS)
    four = next(d for d in digits if d.label == 4)
    assert len(four.strokes) == len(DIGIT_STROKES[4])
    assert all(s.dtype == float and s.shape[1] == 2 for s in four.strokes)
    # A plain (not gzipped) file and the same digits as numbers read the same.
    plain = write_pen_digits(pen_data.parent / "plain.jsonl")
    again = unipen.load_pen_digits(plain)
    assert [d.label for d in again] == [d.label for d in digits]
    np.testing.assert_array_equal(again[5].strokes[0], digits[5].strokes[0])


def test_units_that_differ_in_x_and_y_are_made_square(tmp_path):
    path = tmp_path / "d.jsonl"
    record = {"label": 1, "strokes": [[[100, 0], [100, 200]]]}
    lines = [json.dumps({**record, "writer": w}) for w in ("aga/x", "syn/x")]
    path.write_text("\n".join(lines))
    aga, syn = unipen.load_pen_digits(path)
    assert syn.strokes[0][0, 0] == 100
    assert aga.strokes[0][0, 0] == pytest.approx(100 * 979.3 / 856.7)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("{not json", "line 2: not JSON"),
        ('["label", "writer"]', "line 2: expected an object"),
        ('{"label": "x", "writer": "a/b", "strokes": [[[0, 0]]]}', "'label' must be a digit"),
        ('{"label": 10, "writer": "a/b", "strokes": [[[0, 0]]]}', "'label' must be a digit"),
        ('{"label": 1.0, "writer": "a/b", "strokes": [[[0, 0]]]}', "'label' must be a digit"),
        ('{"label": "1", "strokes": [[[0, 0]]]}', "'writer' must be a non-empty string"),
        ('{"label": "1", "writer": "a/b", "strokes": []}', "'strokes' must be a non-empty"),
        ('{"label": "1", "writer": "a/b", "strokes": [[]]}', "stroke 1 must be"),
        ('{"label": "1", "writer": "a/b", "strokes": [[[0, 0]], [[1]]]}', "stroke 2 must be"),
        ('{"label": "1", "writer": "a/b", "strokes": [[["a", 0]]]}', "stroke 1 must be"),
        ('{"label": "1", "writer": "a/b", "strokes": [[[0, NaN]]]}', "not a finite number"),
    ],
)
def test_bad_lines_name_the_file_and_line(tmp_path, line, message):
    path = tmp_path / "d.jsonl"
    good = json.dumps({"label": "7", "writer": "a/b", "strokes": [[[0, 0], [5, 9]]]})
    path.write_text(good + "\n" + line + "\n")
    with pytest.raises(DataError) as error:
        unipen.load_pen_digits(path)
    assert str(error.value).startswith(f"{path}: ") and message in str(error.value)


def test_missing_empty_and_corrupt_files(tmp_path):
    with pytest.raises(DataError, match="no such file"):
        unipen.load_pen_digits(tmp_path)  # a folder without digits.jsonl.gz
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n")
    with pytest.raises(DataError, match="holds no pen digits"):
        unipen.load_pen_digits(empty)
    corrupt = tmp_path / "corrupt.jsonl.gz"
    good = gzip.compress(b'{"label": "1", "writer": "a/b", "strokes": [[[0, 0]]]}\n' * 500)
    for broken in (good[:60], good[:12] + b"garbage" * 20, b"not gzip at all"):
        corrupt.write_bytes(broken)
        with pytest.raises(DataError, match="cannot be read"):
            unipen.load_pen_digits(corrupt)


# --- the writer split -------------------------------------------------------------------------


def test_split_keeps_writers_apart_and_is_deterministic(pen_data):
    digits = unipen.load_pen_digits(pen_data)
    training, held_out = unipen.split_by_writer(digits)
    assert len(training) + len(held_out) == len(digits)
    assert not {d.writer for d in training} & {d.writer for d in held_out}
    # About a fifth of each set with three writers or more; none of a smaller set.
    held_writers = {d.writer for d in held_out}
    assert sum(w.startswith("tab/") for w in held_writers) == 2
    assert sum(w.startswith("pad/") for w in held_writers) == 1
    assert not any(w.startswith("duo/") for w in held_writers)
    # The same writers whatever the order of the file.
    shuffled = digits[:]
    random.Random(1).shuffle(shuffled)
    assert unipen.held_out_writers(shuffled) == held_writers


def test_a_prolific_writer_is_passed_over():
    """One writer with most of a set's digits would make the held-out part that set."""
    counts = {"big": 900, "a": 50, "b": 50, "c": 50, "d": 50}
    digits = [
        unipen.PenDigit(1, f"set/{w}", [np.zeros((1, 2))])
        for w, n in counts.items()
        for _ in range(n)
    ]
    held = unipen.held_out_writers(digits)
    assert len(held) == 1 and "set/big" not in held


@pytest.mark.skipif(not SHARED_UNIPEN.is_dir(), reason="needs ../shared/unipen")
def test_the_recorded_unipen_split_is_the_rules():
    digits = unipen.load_pen_digits(SHARED_UNIPEN)
    held = unipen.held_out_writers(digits)
    assert held == unipen.recorded_held_out_writers()
    assert len(held) == 54 and sum(d.writer in held for d in digits) == 3314


# --- varied copies ----------------------------------------------------------------------------


def test_varied_strokes_stay_close_to_the_original():
    rng = np.random.default_rng(0)
    strokes = [np.array(s, float) for s in DIGIT_STROKES[4]]
    varied = unipen.vary_strokes(strokes, rng)
    assert [s.shape for s in varied] == [s.shape for s in strokes]
    points, new = np.concatenate(strokes), np.concatenate(varied)
    new_size = new.max(axis=0) - new.min(axis=0)
    assert not np.allclose(new - new.min(axis=0), points - points.min(axis=0))
    assert (np.abs(new_size - (points.max(axis=0) - points.min(axis=0))) < 45).all()


def test_pen_copies_are_mnist_like_images_the_model_reads(pen_data, recognizer):
    digits = unipen.load_pen_digits(pen_data)[:40]
    images, labels = unipen.varied_copies(digits, copies=2, seed=3)
    assert images.dtype == np.uint8 and images.shape[1:] == (28, 28)
    assert len(images) == len(labels) >= 76  # nearly all 80 come back as one digit
    assert images.max() == 255 and (images[:, 0, :] == 0).all()  # bright ink, dark margin
    read = recognizer.predict_images(images).argmax(axis=1)
    assert np.mean(read == labels) >= 0.8
