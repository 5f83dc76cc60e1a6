"""Kaggle submissions: `ImageId,Label`, one row per test image, ImageId counting from 1."""

import numpy as np
import pandas as pd

from deeplearning.datasets.mnist import DataError, read_csv_checked, write_csv
from deeplearning.reading.images import NUM_CLASSES

COLUMNS = ["ImageId", "Label"]


def write_submission(path, labels):
    """Write predicted labels as a Kaggle submission (through a temporary file)."""
    labels = np.asarray(labels, dtype=np.int64)
    write_csv(path, pd.DataFrame({"ImageId": np.arange(1, len(labels) + 1), "Label": labels}))


def read_submission(path, expected_count=None):
    """Read and check an `ImageId,Label` file (a submission or held-out labels).

    Returns the labels ordered by ImageId. ImageIds must be 1..N, each exactly once.
    """

    def limits(name):
        return (1, 2**31, "an ImageId") if name == "ImageId" else (0, NUM_CLASSES - 1, "a label")

    values = read_csv_checked(path, COLUMNS, limits)
    ids, labels = values[:, 0], values[:, 1]
    unique, counts = np.unique(ids, return_counts=True)
    if (counts > 1).any():
        duplicate = unique[counts > 1][0]
        line = np.flatnonzero(ids == duplicate)[1] + 2
        raise DataError(f"{path}: line {line}: ImageId {duplicate} appears more than once")
    count = expected_count if expected_count is not None else len(ids)
    missing = np.setdiff1d(np.arange(1, count + 1), ids)
    if len(missing):
        raise DataError(
            f"{path}: {len(missing)} ImageIds missing (first: {missing[0]}); "
            f"expected one row for each ImageId 1..{count}"
        )
    extra = ids[ids > count]
    if len(extra):
        raise DataError(f"{path}: ImageId {extra[0]} is beyond the {count} test images")
    return labels[np.argsort(ids)]
