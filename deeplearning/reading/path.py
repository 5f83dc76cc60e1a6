"""A digit as the pen's path: the input of the path model, which reads strokes, not pictures.

The whole path (the strokes joined in drawing order, the pen-up jump from each stroke to the
next included) is resampled to POINTS points equally spaced along its length, so that a mouse
giving a point a frame and a tablet giving a hundred a second make the same input. Each point
has FEATURES numbers:

- x, y: centred on the bounding box's centre and divided by its longer side (in [-0.5, 0.5],
  the aspect kept), y pointing down;
- dx, dy: the unit direction of travel there (zero where the path does not move);
- pen-down: 1 on a stroke, 0 on a jump between strokes.
"""

import numpy as np

POINTS = 64
FEATURES = 5


def path_features(strokes):
    """float32 (POINTS, FEATURES) for one digit's strokes: sequences of (x, y) points, any
    units, y down, in drawing order. A dot or a path that never moves gives a valid input."""
    return path_batch([strokes])[0]


def path_batch(digits):
    """float32 (N, POINTS, FEATURES): the features of each digit's strokes.

    All the digits are resampled together, their points in one array: a reading of ten
    digits takes a few array operations, not a few for each digit."""
    strokes = [np.asarray(s, dtype=np.float64).reshape(-1, 2) for digit in digits for s in digit]
    sizes = np.array([len(s) for s in strokes])
    counts = np.add.reduceat(sizes, np.r_[0, np.cumsum([len(d) for d in digits])[:-1]])
    points = np.concatenate(strokes)
    first = np.r_[0, np.cumsum(counts)[:-1]]  # each digit's first and last point
    last = first + counts - 1
    # The pen from each point to the next: down within a stroke, up to the next stroke.
    down = np.ones(len(points))
    down[np.cumsum(sizes) - 1] = 0.0
    positions, pen = _resampled(points, down[:-1], first, last)
    low = np.minimum.reduceat(points, first)
    high = np.maximum.reduceat(points, first)
    side = (high - low).max(axis=1)
    side[side == 0] = 1.0
    features = np.empty((len(counts), POINTS, FEATURES), np.float32)
    features[..., :2] = (positions - ((low + high) / 2)[:, None]) / side[:, None, None]
    features[..., 2:4] = _unit_directions(positions)
    features[..., 4] = pen
    return features


def _resampled(points, down, first, last):
    """(N, POINTS, 2) positions equally spaced along each digit's polyline (its points run
    from `first` to `last` in `points`), and (N, POINTS) the pen's state on the segment each
    lies on (`down`, one per segment)."""
    lengths = np.hypot(*np.diff(points, axis=0).T)
    along = np.r_[0.0, np.cumsum(lengths)]
    start, total = along[first], along[last] - along[first]
    targets = start[:, None] + total[:, None] * np.linspace(0.0, 1.0, POINTS)
    # side="right" passes over segments of no length: a target lands on one that moves. The
    # clip keeps it on its own digit's segments, never the step from one digit to the next
    # (a dot has none: it stays on its one point).
    segment = np.searchsorted(along, targets, side="right") - 1
    segment = np.clip(segment, first[:, None], np.maximum(last - 1, first)[:, None])
    if len(lengths):
        length = lengths[np.minimum(segment, len(lengths) - 1)]
    else:
        length = np.zeros_like(targets)
    fraction = np.divide(
        targets - along[segment], length, out=np.zeros_like(targets), where=length > 0
    )
    start_point = points[segment]
    end_point = points[np.minimum(segment + 1, last[:, None])]
    positions = start_point + fraction[..., None] * (end_point - start_point)
    pen = down[np.minimum(segment, len(down) - 1)] if len(down) else np.ones_like(targets)
    return positions, np.where(total[:, None] > 0, pen, 1.0)


def _unit_directions(positions):
    """The direction of travel at each resampled point, from its neighbours: as far apart
    along the path whatever the sampling, so the direction does not shake with the samples."""
    steps = np.gradient(positions, axis=-2)
    norms = np.hypot(steps[..., 0], steps[..., 1])[..., None]
    return np.divide(steps, norms, out=np.zeros_like(steps), where=norms > 1e-12)
