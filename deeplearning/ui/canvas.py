"""The left half: the strokes drawn with the pen on a white surface, the one being drawn, undo
and clear, and a count of the changes so that a reading can tell which ink it is of.

A stroke is kept within the canvas and a border around it (BORDER_LOW..BORDER_HIGH), where
the pen leaves no ink on the canvas: a move beyond it, however far, is clipped there before
anything is drawn, and the stroke runs along the border until the mouse comes back.
"""

import pygame as pg

from deeplearning.reading.pen import CANVAS_SIZE, PEN_RADIUS
from deeplearning.ui.colours import WHITE
from deeplearning.ui.pen_surface import canvas_array, draw_dot, draw_segment, draw_stroke
from deeplearning.ui.reader import Job

BORDER = PEN_RADIUS + 2  # px outside the canvas: the pen centred there leaves it white
BORDER_LOW = (-BORDER, -BORDER)
BORDER_HIGH = (CANVAS_SIZE[0] - 1 + BORDER, CANVAS_SIZE[1] - 1 + BORDER)


def clip_segment(start, end):
    """The part of the segment from `start` to `end` within the border, as (start, end), or
    None when none of it is (Liang-Barsky, in floats: any distance takes the same time)."""
    (x0, y0), (x1, y1) = start, end
    dx, dy = x1 - x0, y1 - y0
    low, high = 0.0, 1.0  # the part kept, as fractions of the way from start to end
    for step, room in (
        (-dx, x0 - BORDER_LOW[0]),
        (dx, BORDER_HIGH[0] - x0),
        (-dy, y0 - BORDER_LOW[1]),
        (dy, BORDER_HIGH[1] - y0),
    ):
        if step == 0 and room < 0:
            return None  # parallel to this edge, beyond it
        if step < 0:
            low = max(low, room / step)
        elif step > 0:
            high = min(high, room / step)
    if low > high:
        return None

    def at(fraction):
        if fraction in (0.0, 1.0):
            return end if fraction else start  # a point inside stays as it was (whole pixels)
        return clamp((x0 + fraction * dx, y0 + fraction * dy))  # on the border, rounding aside

    return at(low), at(high)


def clamp(point):
    """The point of the border's rectangle nearest to `point`."""
    return tuple(
        min(max(value, low), high)
        for value, low, high in zip(point, BORDER_LOW, BORDER_HIGH, strict=True)
    )


def border_path(start, end):
    """The points from `start` to `end`, both on the border, going round it clockwise: the
    corners passed, then `end`."""
    (left, top), (right, bottom) = BORDER_LOW, BORDER_HIGH
    width, height = right - left, bottom - top
    corners = [(0, (left, top)), (width, (right, top)), (width + height, (right, bottom))]
    corners.append((2 * width + height, (left, bottom)))
    around = 2 * (width + height)
    first, last = border_position(start), border_position(end)
    if last < first:
        last += around
    passed = [(at + turn, corner) for turn in (0, around) for at, corner in corners]
    return [corner for at, corner in sorted(passed) if first < at < last] + [end]


def border_position(point):
    """How far round the border `point` lies, clockwise from its top-left corner; a point
    off it by rounding counts as on its nearest side."""
    (left, top), (right, bottom) = BORDER_LOW, BORDER_HIGH
    x, y = point
    width, height = right - left, bottom - top
    sides = [  # (distance from the side, position along the border)
        (y - top, x - left),
        (right - x, width + y - top),
        (bottom - y, width + height + right - x),
        (x - left, 2 * width + height + bottom - y),
    ]
    return min(sides)[1]


class Canvas:
    def __init__(self):
        self.surface = pg.Surface(CANVAS_SIZE)
        self.surface.fill(WHITE)
        self.strokes = []  # finished strokes, each a list of (x, y); undo redraws from them
        self.stroke = None  # the stroke being drawn, None while the button is up
        self.mouse = None  # where the mouse last was while drawing: maybe beyond the border
        self.last_drawn = 0  # the index in the stroke of its last point drawn with ink
        self.version = 0  # counts the changes to the ink
        self.sent = 0  # the version last sent to be read

    @property
    def drawing(self):
        """The button is down: a stroke is being drawn."""
        return self.stroke is not None

    @property
    def blank(self):
        return not self.strokes and self.stroke is None

    @property
    def unsent(self):
        """The ink changed since it was last sent to be read."""
        return self.version != self.sent

    def array(self):
        """A copy of the ink as the recognizer takes it."""
        return canvas_array(self.surface)

    def job(self, events=()):
        """The ink as it is, to be read, and the events to report when it is: from now on it
        counts as sent."""
        self.sent = self.version
        return Job(events, self.array(), self.blank, self.version)

    def begin(self, pos):
        """Start a stroke at `pos`, on the canvas."""
        self.mouse = tuple(pos)
        self.stroke = [self.mouse]
        self.last_drawn = 0
        draw_dot(self.surface, self.mouse)
        self.version += 1

    def extend(self, pos):
        """Draw on to `pos`; whether the ink changed (not when the mouse stayed put or moved
        beyond the border)."""
        start, self.mouse = self.mouse, tuple(pos)
        if self.mouse == start:
            return False
        inside = clip_segment(start, self.mouse)
        if inside is None:
            self.go_round(clamp(self.mouse))
            return False
        self.go_round(inside[0])  # to where the move comes in, if the mouse was beyond
        draw_segment(self.surface, *inside)
        self.stroke.append(inside[1])
        self.last_drawn = len(self.stroke) - 1
        self.go_round(clamp(self.mouse))  # to where the mouse is, if the move went out
        self.version += 1
        return True

    def go_round(self, point):
        """Carry the stroke along the border to `point` from where it last left the canvas:
        however long the mouse stays beyond, the stroke gains at most the corners."""
        del self.stroke[self.last_drawn + 1 :]
        if point != self.stroke[-1]:
            self.stroke += border_path(self.stroke[-1], point)

    def end(self):
        self.strokes.append(self.stroke)
        self.stroke = None

    def undo(self):
        """Take back the stroke being drawn, or else the last finished one."""
        if self.stroke is not None:
            self.stroke = None
        elif self.strokes:
            self.strokes.pop()
        self.surface.fill(WHITE)
        for points in self.strokes:
            draw_stroke(self.surface, points)
        self.version += 1

    def clear(self):
        """Wipe the ink; a stroke being drawn ends here and the rest of it is ignored."""
        self.stroke = None
        self.strokes = []
        self.surface.fill(WHITE)
        self.version += 1
