"""One reading from two: the picture's (the CNN) and the pen's path (the path model).

The path model reads what the picture cannot see, the order and direction of the strokes,
and mends some of the CNN's misreadings of handwriting. But where the strokes come in an
order no hand uses (MNIST's scans traced into strokes) it errs more than the CNN, and can be
sure of its errors; a plain sum of the two readings lost digits the picture read right. This
rule, chosen by `python -m deeplearning replay` on people's strokes, the same reversed and
reordered, and traced MNIST (model/README.md, "Reading with both models"), is no worse than
the picture alone on any of them:

the path is heard only where the picture is unsure (its top probability under
PICTURE_UNSURE), the path is sure (PATH_SURE or more) and the path's digit is one of the
picture's top two. There it settles the choice: their log-probabilities are added, the
path's weighted PATH_WEIGHT. Everywhere else the picture reads alone.
"""

import numpy as np

PICTURE_UNSURE = 0.7  # the picture's top probability under this: it may be overruled ...
PATH_SURE = 0.9  # ... by a path this sure of a digit ...
PATH_WEIGHT = 1.0  # ... whose log-probabilities count this much against the picture's
FLOOR = 1e-6  # probabilities are floored here before their log: one model's zero is no veto


def path_trusted(picture, path):
    """(N,) bool: where the path may change the reading (see the module's docstring)."""
    top_two = np.argsort(picture, axis=1)[:, -2:]
    seen = (top_two == path.argmax(axis=1)[:, None]).any(axis=1)
    return seen & (picture.max(axis=1) < PICTURE_UNSURE) & (path.max(axis=1) >= PATH_SURE)


def combine(picture, path):
    """Probabilities (N, 10) from the picture's and the path's (N, 10) each."""
    picture = np.asarray(picture, np.float64)
    path = np.asarray(path, np.float64)
    weight = np.where(path_trusted(picture, path), PATH_WEIGHT, 0.0)[:, None]
    scores = np.log(np.maximum(picture, FLOOR)) + weight * np.log(np.maximum(path, FLOOR))
    scores -= scores.max(axis=1, keepdims=True)
    combined = np.exp(scores)
    return (combined / combined.sum(axis=1, keepdims=True)).astype(np.float32)
