"""Kaggle submission files: format and checks."""

import numpy as np
import pytest

from deeplearning.datasets.mnist import DataError
from deeplearning.datasets.submission import read_submission, write_submission


def test_round_trip(tmp_path):
    path = tmp_path / "submission.csv"
    write_submission(path, [7, 2, 1, 0])
    lines = path.read_text().splitlines()
    assert lines[0] == "ImageId,Label"
    assert lines[1:] == ["1,7", "2,2", "3,1", "4,0"]
    np.testing.assert_array_equal(read_submission(path), [7, 2, 1, 0])


def test_rows_may_come_in_any_order(tmp_path):
    path = tmp_path / "s.csv"
    path.write_text("ImageId,Label\n2,5\n1,4\n")
    assert read_submission(path).tolist() == [4, 5]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("1,4\n1,5\n", "line 3: ImageId 1 appears more than once"),
        ("1,4\n3,5\n", "ImageIds missing (first: 2)"),
        ("1,4\n2,10\n", "line 3: column 'Label' holds 10"),
        ("1,4\n0,1\n", "line 3: column 'ImageId' holds 0"),
    ],
)
def test_bad_submissions(tmp_path, body, message):
    path = tmp_path / "s.csv"
    path.write_text("ImageId,Label\n" + body)
    with pytest.raises(DataError, match=message.replace("(", r"\(").replace(")", r"\)")):
        read_submission(path)


def test_expected_count(tmp_path):
    path = tmp_path / "s.csv"
    write_submission(path, [1, 2, 3])
    with pytest.raises(DataError, match="expected one row for each ImageId 1..4"):
        read_submission(path, expected_count=4)
    with pytest.raises(DataError, match="beyond the 2 test images"):
        read_submission(path, expected_count=2)
