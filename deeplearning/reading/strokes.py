"""Which of a canvas's strokes belong to which digit read on it."""

import numpy as np


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
