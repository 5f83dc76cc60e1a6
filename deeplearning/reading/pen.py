"""The app's canvas and pen, without a window: placing strokes, drawing them, reading them back.

The app, the replay and the training all draw with this one pen, so that what the model is
trained and measured on is what a user's mouse makes. A stroke is a sequence of (x, y)
points; the pen is a round disc of PEN_RADIUS dragged from point to point.
"""

import cv2
import numpy as np

CANVAS_SIZE = (640, 640)  # (width, height): the left half of the app's window
PEN_RADIUS = 7
BACKGROUND = 255
INK = 0
MOUSE_STEP = 4  # px between the MOUSEMOTION positions of a hand drawing at a steady pace
SINGLE_HEIGHT = (110, 460)  # px of ink, as people draw one digit on the canvas


def stroke_bounds(strokes):
    """(x_min, y_min, x_max, y_max) of the centre line."""
    points = np.concatenate([np.asarray(s, float).reshape(-1, 2) for s in strokes])
    return (*points.min(axis=0), *points.max(axis=0))


def ink_width(strokes, height, pen_radius=PEN_RADIUS):
    """How wide the ink will be once the strokes are placed at this ink height."""
    x0, y0, x1, y1 = stroke_bounds(strokes)
    return (x1 - x0) * _scale(y1 - y0, height, pen_radius) + 2 * pen_radius


def _scale(centre_height, height, pen_radius):
    return max(height - 2 * pen_radius, 1) / max(centre_height, 1.0)


def place_strokes(strokes, height, x, y, pen_radius=PEN_RADIUS):
    """Scale strokes (aspect kept) so their ink, drawn with this pen, is `height` px tall with
    its top-left corner at (x, y). Returns new strokes in canvas pixels."""
    x0, y0, _, y1 = stroke_bounds(strokes)
    scale = _scale(y1 - y0, height, pen_radius)
    return [
        [(x + pen_radius + (px - x0) * scale, y + pen_radius + (py - y0) * scale) for px, py in s]
        for s in strokes
    ]


def render(strokes, canvas_size=CANVAS_SIZE, pen_radius=PEN_RADIUS):
    """Draw canvas-pixel strokes as the app's pen does: a round pen of this radius dragged
    between whole-pixel mouse positions. Returns uint8 (height, width), 255 paper, 0 ink."""
    width, height = canvas_size
    canvas = np.full((height, width), BACKGROUND, np.uint8)
    for stroke in strokes:
        points = np.rint(np.asarray(stroke, float).reshape(-1, 2)).astype(int)
        for point in points:
            cv2.circle(canvas, tuple(map(int, point)), pen_radius, INK, -1)
        # OpenCV's thickness t reaches t/2 + 1 px either side of the line, so 2r (not 2r + 1)
        # gives the 2r + 1 px wide band that a radius-r disc sweeps, as the app's pen does.
        for a, b in zip(points[:-1], points[1:], strict=True):
            cv2.line(canvas, tuple(map(int, a)), tuple(map(int, b)), INK, 2 * pen_radius)
    return canvas


def strokes_to_mouse_path(strokes, step=MOUSE_STEP):
    """Canvas-pixel strokes -> per stroke, the whole-pixel mouse positions a hand would pass
    through, about `step` px apart (button down at the first, up at the last)."""
    paths = []
    for stroke in strokes:
        points = np.asarray(stroke, float).reshape(-1, 2)
        along = np.concatenate([[0.0], np.cumsum(np.hypot(*np.diff(points, axis=0).T))])
        stops = np.linspace(0.0, along[-1], max(int(np.ceil(along[-1] / step)), 1) + 1)
        xs, ys = np.interp(stops, along, points[:, 0]), np.interp(stops, along, points[:, 1])
        path = []
        for point in np.rint(np.stack([xs, ys], axis=1)).astype(int).tolist():
            if not path or path[-1] != tuple(point):
                path.append(tuple(point))
        paths.append(path)
    return paths
