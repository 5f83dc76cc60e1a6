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
    arrays = [np.asarray(stroke, dtype=np.float64).reshape(-1, 2) for stroke in strokes]
    arrays = [points for points in arrays if len(points)]
    points = np.concatenate(arrays)
    # The pen's state from each point to the next: down within a stroke, up to the next one.
    down = np.concatenate([np.r_[np.ones(len(s) - 1), 0.0] for s in arrays])[:-1]
    positions, pen = _resampled(points, down)
    low, high = points.min(axis=0), points.max(axis=0)
    side = float((high - low).max()) or 1.0
    features = np.empty((POINTS, FEATURES), np.float32)
    features[:, :2] = (positions - (low + high) / 2) / side
    features[:, 2:4] = _unit_directions(positions)
    features[:, 4] = pen
    return features


def path_batch(digits):
    """float32 (N, POINTS, FEATURES): path_features of each digit's strokes."""
    return np.stack([path_features(strokes) for strokes in digits])


def _resampled(points, down):
    """(POINTS, 2) positions equally spaced along the polyline `points`, and the pen's state
    on the segment each lies on (`down`, one per segment)."""
    if len(points) == 1:
        return np.repeat(points, POINTS, axis=0), np.ones(POINTS)
    lengths = np.hypot(*np.diff(points, axis=0).T)
    along = np.r_[0.0, np.cumsum(lengths)]
    targets = np.linspace(0.0, along[-1], POINTS)
    # side="right" passes over segments of no length: a target lands on one that moves.
    segment = np.clip(np.searchsorted(along, targets, side="right") - 1, 0, len(lengths) - 1)
    length = lengths[segment]
    fraction = np.divide(targets - along[segment], length, out=np.zeros(POINTS), where=length > 0)
    start, end = points[segment], points[segment + 1]
    positions = start + fraction[:, None] * (end - start)
    pen = down[segment] if along[-1] > 0 else np.ones(POINTS)
    return positions, pen


def _unit_directions(positions):
    """The direction of travel at each resampled point, from its neighbours: as far apart
    along the path whatever the sampling, so the direction does not shake with the samples."""
    steps = np.gradient(positions, axis=0)
    norms = np.hypot(*steps.T)[:, None]
    return np.divide(steps, norms, out=np.zeros_like(steps), where=norms > 1e-12)
