"""A photo or a scan on the app's canvas: the image shown on the left, scaled to fit, and its
ink read as a drawing is.

The page is prepared as the read command prepares it (deeplearning/paper): the paper divided
out, the ink found, printed lines, specks and pieces cut by the edge left out. That ink,
scaled into the canvas like the image, is what the reader reads and the panel shows; the
image itself is only shown.
"""

import cv2
import numpy as np
import pygame as pg

from deeplearning.core.errors import InputError
from deeplearning.paper import page
from deeplearning.paper.read import load_page
from deeplearning.reading.pen import CANVAS_SIZE

# A canvas pixel is ink where at least this much of the page's pixels behind it are: thin
# strokes of a large page stay whole when it is scaled down.
INK_COVER = 64  # of 255


class ImageCanvas:
    """An image on the canvas: `surface` to show, `array` (255 paper, 0 ink) to read."""

    def __init__(self, path, surface, array):
        self.path = path
        self.surface = surface
        self.array = array


def load_image_canvas(path):
    """The image file at `path` on the canvas. InputError naming the file for one that cannot
    be read or that holds something else than writing on paper."""
    rgb, _ = load_page(path)
    try:
        ink = page.prepare(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY))
    except InputError as error:
        raise InputError(f"{path}: {error}") from None
    labels, boxes = page.marks(ink)
    kept = np.isin(labels, list(boxes)).view(np.uint8) * np.uint8(255)
    photo = fit(rgb, 255)
    array = np.where(fit(kept, 0) >= INK_COVER, 0, 255).astype(np.uint8)
    return ImageCanvas(path, pg.surfarray.make_surface(photo.swapaxes(0, 1)), array)


def fit(image, background):
    """`image` scaled to fit the canvas, keeping its shape, centred on `background`."""
    width, height = CANVAS_SIZE
    scale = min(width / image.shape[1], height / image.shape[0])
    size = (max(1, round(image.shape[1] * scale)), max(1, round(image.shape[0] * scale)))
    method = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    scaled = cv2.resize(image, size, interpolation=method)
    canvas = np.full((height, width, *image.shape[2:]), background, np.uint8)
    left, top = (width - size[0]) // 2, (height - size[1]) // 2
    canvas[top : top + size[1], left : left + size[0]] = scaled
    return canvas
