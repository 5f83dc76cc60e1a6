"""The app's pen on a pygame surface: the round tip, dots, segments and whole strokes, and the
canvas read back as the array the recognizer takes."""

import functools
import math

import numpy as np
import pygame as pg

from deeplearning.reading.pen import PEN_RADIUS
from deeplearning.ui.colours import BLACK, WHITE


@functools.cache
def pen_tip():
    """The pen's disk, every pixel within PEN_RADIUS of the centre: 15 px across, symmetric
    (pg.draw.circle's disk is one pixel off centre)."""
    offsets = np.arange(-PEN_RADIUS, PEN_RADIUS + 1)
    inside = offsets[:, None] ** 2 + offsets[None, :] ** 2 <= PEN_RADIUS**2
    tip = pg.Surface((2 * PEN_RADIUS + 1, 2 * PEN_RADIUS + 1))
    pg.surfarray.blit_array(tip, np.where(inside, 0, 0xFFFFFF).astype(np.uint32))
    tip.set_colorkey(WHITE)
    return tip


def draw_dot(surface, point):
    x, y = point
    surface.blit(pen_tip(), (round(x) - PEN_RADIUS, round(y) - PEN_RADIUS))


def draw_segment(surface, start, end):
    """A thick line with round ends, so that a fast move leaves no gap however far it jumps."""
    (x0, y0), (x1, y1) = start, end
    length = math.hypot(x1 - x0, y1 - y0)
    if length:
        # A rectangle PEN_RADIUS either side of the line, capped by the pen at both ends.
        nx, ny = (y0 - y1) * PEN_RADIUS / length, (x1 - x0) * PEN_RADIUS / length
        corners = [(x0 + nx, y0 + ny), (x1 + nx, y1 + ny), (x1 - nx, y1 - ny), (x0 - nx, y0 - ny)]
        pg.draw.polygon(surface, BLACK, corners)
    draw_dot(surface, end)


def draw_stroke(surface, points):
    draw_dot(surface, points[0])
    for start, end in zip(points, points[1:], strict=False):
        draw_segment(surface, start, end)


def canvas_array(surface):
    """A copy of the canvas as the recognizer takes it: uint8 [y, x], 255 background, 0 ink."""
    red = pg.surfarray.pixels_red(surface)  # a view, [x, y]; it locks the surface while alive
    array = red.T.copy()
    del red
    return array
