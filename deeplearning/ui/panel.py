"""The right half of the window, drawn from the state it is given: the canvas as the model saw
it with a box at each digit, the number, the 28x28 tiles, the help, the model in use, the
teaching under way, a message and the samples saved per digit.

It keeps nothing between calls but its fonts, and changes nothing it is given; `digit_at`
tells which digit a click on it falls on.
"""

from dataclasses import dataclass, field

import cv2
import numpy as np
import pygame as pg

from deeplearning.reading.pen import CANVAS_SIZE
from deeplearning.reading.recognize import READ_HEIGHT
from deeplearning.ui.colours import (
    BLACK,
    BLUE,
    GREEN,
    GREY,
    LIGHT_GREY,
    ORANGE,
    PURPLE,
    WHITE,
)
from deeplearning.ui.labelling import Reading
from deeplearning.ui.teaching import Progress

SIZE = (640, 640)
PREVIEW_POS = (20, 20)
PREVIEW_SIZE = 400
PREVIEW_SCALE = PREVIEW_SIZE / CANVAS_SIZE[0]
COLUMN_POS = (432, 20)  # help, model, teaching and messages, right of the preview
COLUMN_WIDTH = 200
LINE_HEIGHT = 18  # the column's small type
NUMBER_POS = (20, 432)
NUMBER_WIDTH = 600
TILES_POS = (20, 520)
TILE_SIZE = 56  # 28x28 images at twice their size
TILE_GAP = 10
COUNTS_POS = (20, 622)
SELECTION_GAP = 4  # px between a digit's box (or tile) and the selection's frame
UNSURE_BELOW = 0.9  # below this confidence the runner-up is shown too
BAR_HEIGHT = 8
HELP_LINES = (
    "Left button: draw",
    "Right button / R: clear",
    "U / Ctrl+Z: undo",
    "0-9: label the selected digit",
    "Delete: remove its sample",
    "Tab: next digit",
    "Enter: all right",
    "T: teach",
    "M: shipped/taught model",
    "S: save a PNG",
    "V: look inside the digit",
    "Q: quit",
)


@dataclass
class View:
    """What the panel shows."""

    reading: Reading = field(default_factory=Reading)  # the canvas as seen, digits, labels
    counts: np.ndarray = field(default_factory=lambda: np.zeros(10, int))  # samples per digit
    model: str = "shipped"
    teaching: Progress | None = None  # while teaching runs
    message: str = ""
    message_colour: tuple = GREY
    too_small: bool = False  # ink on the canvas, but each mark too small to read
    inside: pg.Surface | None = None  # the look-inside view, over all above the tiles


def fit_width(surface, width):
    """Shrink a rendered text to `width` pixels if it is wider."""
    if surface.get_width() <= width:
        return surface
    height = max(1, round(surface.get_height() * width / surface.get_width()))
    return pg.transform.smoothscale(surface, (width, height))


def wrap(text, font, width):
    """Lines of whole words that each fit `width` when rendered; a word too long for a line
    of its own (a file's path) is broken where it must be."""
    lines = []
    for word in text.split():
        if lines and font.size(f"{lines[-1]} {word}")[0] <= width:
            lines[-1] += f" {word}"
            continue
        lines.append("")
        for character in word:
            if lines[-1] and font.size(lines[-1] + character)[0] > width:
                lines.append("")
            lines[-1] += character
    return lines


def nothing_read(view):
    """What the panel says where the number goes when none was read: (words, colour)."""
    if view.reading.unread:
        return "Too many separate marks to read: clear the canvas.", ORANGE
    if view.too_small:
        return f"Too small to read: draw digits at least {READ_HEIGHT} px tall.", ORANGE
    return "Draw digits on the left.", GREY


def tile_rects(count):
    """Where the tiles of `count` digits go, left to right: smaller when many must fit."""
    size = min(TILE_SIZE, (NUMBER_WIDTH - TILE_GAP * (count - 1)) // max(count, 1))
    x, y = TILES_POS
    return [pg.Rect(x + index * (size + TILE_GAP), y, size, size) for index in range(count)]


def preview_rect(box):
    """A digit's box (canvas pixels) on the panel's copy of the canvas."""
    x, y, w, h = (round(value * PREVIEW_SCALE) for value in box)
    return pg.Rect(PREVIEW_POS[0] + x, PREVIEW_POS[1] + y, max(w, 1), max(h, 1))


def digit_at(pos, digits):
    """The index of the digit whose tile or box (with a little room) is at `pos` on the
    panel, or None. Of nested boxes, the smallest wins."""
    for index, rect in enumerate(tile_rects(len(digits))):
        if rect.inflate(TILE_GAP, TILE_GAP).collidepoint(pos):
            return index
    hits = [
        (rect.w * rect.h, index)
        for index, rect in enumerate(preview_rect(digit.box) for digit in digits)
        if rect.inflate(2 * SELECTION_GAP, 2 * SELECTION_GAP).collidepoint(pos)
    ]
    return min(hits)[1] if hits else None


class Panel:
    def __init__(self):
        self.big_font = pg.font.Font(None, 120)
        self.label_font = pg.font.Font(None, 40)
        self.font = pg.font.Font(None, 24)
        self.small_font = pg.font.Font(None, 20)

    def draw(self, view):
        panel = pg.Surface(SIZE)
        panel.fill(WHITE)
        if view.inside is None:
            self.draw_preview(panel, view)
            self.draw_column(panel, view)
            self.draw_number(panel, view)
        else:
            panel.blit(view.inside, (0, 0))
            # The view hides the column: its message (the window saved) shows at the top.
            words, colour = view.message or "V: close this view", view.message_colour
            self.line(panel, words, colour, (COLUMN_POS[0], 14))
        self.draw_tiles(panel, view.reading)
        counts = " ".join(f"{digit}:{count}" for digit, count in enumerate(view.counts))
        panel.blit(self.small_font.render(f"samples: {counts}", True, GREY), COUNTS_POS)
        return panel

    def draw_preview(self, panel, view):
        """The canvas as the model saw it, with a box and the label at each digit."""
        x0, y0 = PREVIEW_POS
        reading = view.reading
        # OpenCV's area average keeps white white (smoothscale turns it 253 grey).
        small = cv2.resize(reading.seen, (PREVIEW_SIZE, PREVIEW_SIZE), interpolation=cv2.INTER_AREA)
        preview = pg.surfarray.make_surface(np.repeat(small.T[:, :, None], 3, axis=2))
        panel.blit(preview, PREVIEW_POS)
        pg.draw.rect(panel, LIGHT_GREY, (x0 - 1, y0 - 1, PREVIEW_SIZE + 2, PREVIEW_SIZE + 2), 1)
        for digit in reading.digits:
            rect = preview_rect(digit.box)
            pg.draw.rect(panel, GREEN, rect, 2)
            if digit.box == reading.selected:
                # Outside the green box, which stays as it is.
                pg.draw.rect(panel, BLUE, rect.inflate(2 * SELECTION_GAP, 2 * SELECTION_GAP), 2)
            saved = reading.label_of(digit)
            text, colour = (digit.label, GREEN) if saved is None else (saved, PURPLE)
            label = self.label_font.render(str(text), True, colour)
            # Above the box, or inside it when the box touches the top.
            height = label.get_height() + SELECTION_GAP
            top = rect.y - height if rect.y - y0 >= height else rect.y + 2
            panel.blit(label, (rect.x, top))

    def draw_column(self, panel, view):
        """Help, the model in use, the teaching under way and the latest message."""
        x, y = COLUMN_POS
        for line in HELP_LINES:
            self.line(panel, line, GREY, (x, y))
            y += LINE_HEIGHT
        y += LINE_HEIGHT // 2
        self.line(panel, f"model: {view.model}", BLACK, (x, y))
        y += LINE_HEIGHT + LINE_HEIGHT // 2
        if view.teaching is not None:
            self.line(panel, f"teaching: {view.teaching.fraction:.0%}", BLACK, (x, y))
            y += LINE_HEIGHT
            pg.draw.rect(panel, LIGHT_GREY, (x, y, COLUMN_WIDTH, BAR_HEIGHT), 1)
            done = round(view.teaching.fraction * (COLUMN_WIDTH - 2))
            panel.fill(BLUE, (x + 1, y + 1, done, BAR_HEIGHT - 2))
            y += BAR_HEIGHT + 4
            for line in wrap(view.teaching.line, self.small_font, COLUMN_WIDTH)[:2]:
                self.line(panel, line, GREY, (x, y))
                y += LINE_HEIGHT
            y += LINE_HEIGHT // 2
        bottom = PREVIEW_POS[1] + PREVIEW_SIZE
        for line in wrap(view.message, self.small_font, COLUMN_WIDTH):
            if y + LINE_HEIGHT > bottom:
                break
            self.line(panel, line, view.message_colour, (x, y))
            y += LINE_HEIGHT

    def line(self, panel, text, colour, pos):
        panel.blit(fit_width(self.small_font.render(text, True, colour), COLUMN_WIDTH), pos)

    def draw_number(self, panel, view):
        """The number in large type, with the user's labels in place of the model's."""
        text = view.reading.text()
        if text:
            number = fit_width(self.big_font.render(text, True, BLACK), NUMBER_WIDTH)
        else:
            words, colour = nothing_read(view)
            number = self.font.render(words, True, colour)
        panel.blit(number, NUMBER_POS)

    def draw_tiles(self, panel, reading):
        """The 28x28 images the model saw, each with its label and confidence underneath: a
        saved label in purple, with what the model read if the user corrected it."""
        for digit, rect in zip(reading.digits, tile_rects(len(reading.digits)), strict=True):
            image = np.repeat(digit.image.T[:, :, None], 3, axis=2)
            tile = pg.transform.scale(pg.surfarray.make_surface(image), rect.size)
            panel.blit(tile, rect)
            if digit.box == reading.selected:
                gap = 2 * SELECTION_GAP - 2
                pg.draw.rect(panel, BLUE, rect.inflate(gap, gap), 2)
            width = rect.w + TILE_GAP
            saved = reading.label_of(digit)
            if saved is None:
                first = (f"{digit.label} {digit.confidence:.0%}", BLACK)
                label, probability = digit.runner_up
                unsure = digit.confidence < UNSURE_BELOW
                second = (f"or {label} {probability:.0%}", ORANGE) if unsure else None
            else:
                first = (f"{saved} saved", PURPLE)
                second = (f"read {digit.label}", GREY) if saved != digit.label else None
            caption = fit_width(self.font.render(first[0], True, first[1]), width)
            panel.blit(caption, (rect.x, rect.bottom + 4))
            if second:
                caption = fit_width(self.small_font.render(second[0], True, second[1]), width)
                panel.blit(caption, (rect.x, rect.bottom + 22))
