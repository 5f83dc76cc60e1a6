"""The left half: the strokes drawn with the pen on a white surface, the one being drawn, undo
and clear, and a count of the changes so that a reading can tell which ink it is of."""

import pygame as pg

from deeplearning.reading.pen import CANVAS_SIZE
from deeplearning.ui.colours import WHITE
from deeplearning.ui.pen_surface import canvas_array, draw_dot, draw_segment, draw_stroke
from deeplearning.ui.reader import Job


class Canvas:
    def __init__(self):
        self.surface = pg.Surface(CANVAS_SIZE)
        self.surface.fill(WHITE)
        self.strokes = []  # finished strokes, each a list of (x, y); undo redraws from them
        self.stroke = None  # the stroke being drawn, None while the button is up
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

    def job(self, event=None):
        """The ink as it is, to be read: from now on it counts as sent."""
        self.sent = self.version
        return Job(event, self.array(), self.blank, self.version)

    def begin(self, pos):
        self.stroke = [tuple(pos)]
        draw_dot(self.surface, self.stroke[0])
        self.version += 1

    def extend(self, pos):
        """Draw on to `pos`; whether the ink changed (not when the mouse stayed put).

        Points outside the canvas are kept: drawing on the surface clips the line at its
        edge, and the stroke carries on where the mouse comes back."""
        pos = tuple(pos)
        if pos == self.stroke[-1]:
            return False
        draw_segment(self.surface, self.stroke[-1], pos)
        self.stroke.append(pos)
        self.version += 1
        return True

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
