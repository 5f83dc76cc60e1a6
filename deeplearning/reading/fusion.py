"""One reading from two: the picture's (the CNN) and the pen's path (the path model).

The two models err on different digits, so adding their log-probabilities reads more of
them right than either alone. But the path model has only seen digits drawn as hands draw
them: strokes in another order or direction (a digit traced from a scan, a 0 drawn the
other way round) can make it sure of a wrong digit. So the path only counts where it is
trusted (`path_trusted`); elsewhere the picture reads alone.
"""

import numpy as np

PATH_WEIGHT = 1.0  # the path's log-probabilities count this much against the picture's
FLOOR = 1e-6  # probabilities are floored here before their log: one model's zero is no veto


def path_trusted(picture, path):
    """(N,) bool: where the path may change the reading. Only where its top digit is one
    the picture finds likely too (its top two): it then settles which of the two the
    picture was unsure between, but never brings in a digit the picture does not see."""
    top_two = np.argsort(picture, axis=1)[:, -2:]
    return (top_two == path.argmax(axis=1)[:, None]).any(axis=1)


def combine(picture, path):
    """Probabilities (N, 10) from the picture's and the path's (N, 10) each."""
    picture = np.asarray(picture, np.float64)
    path = np.asarray(path, np.float64)
    weight = np.where(path_trusted(picture, path), PATH_WEIGHT, 0.0)[:, None]
    scores = np.log(np.maximum(picture, FLOOR)) + weight * np.log(np.maximum(path, FLOOR))
    scores -= scores.max(axis=1, keepdims=True)
    combined = np.exp(scores)
    return (combined / combined.sum(axis=1, keepdims=True)).astype(np.float32)
