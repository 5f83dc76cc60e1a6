"""The look-inside view (V): why the selected digit was read as it was, drawn from what
deeplearning.reading.inside finds, onto a pygame Surface. The app shows it in the right half
above the tiles; the `explain` command saves the same Surface as a PNG.

- the ten probabilities as bars, for each model that read the digit and combined;
- the heat maps: red where losing the ink would lower the probability of the digit read
  (or of the runner-up), blue where it would raise it, over the 28x28 image the CNN saw and
  over the digit's own ink on the canvas;
- the pen's path as the path model saw it, coloured the same way;
- each convolutional block's activations, a small map per filter, bright where it fires.

The work runs on a thread of its own (Looker), for the selected digit only, once the pen is
up and the reading is of the ink on show: the frames go on meanwhile.
"""

import time
from concurrent.futures import ThreadPoolExecutor

import cv2
import numpy as np
import pygame as pg

from deeplearning.reading.inside import COMBINED, Inspector, block_words
from deeplearning.reading.recognize import PATH, PICTURE
from deeplearning.ui.colours import BLACK, GREEN, GREY, LIGHT_GREY, ORANGE, WHITE

SIZE = (640, 510)  # the panel above its tiles
MARGIN = 12
HEAT_CELL = 112  # px: each heat map, the 28x28 image at four times its size
HEAT_GAP = 8
HEAT_TOP = 40
BARS_POS = (262, 40)
BAR_WIDTH, BAR_GAP, BAR_HEIGHT = 9, 2, 64
CHART_GAP = 14
PATH_POS = (262, 168)
PATH_CELL = 112
BLOCKS_TOP = 318
BLOCK_TEXT_WIDTH = 176
MAP_SIZE = 14  # px: each activation map; the 28x28 ones are shown at half size
MAP_GAP = 1
HEAT_FLOOR = 0.01  # a map's colours are scaled to its strongest drop, or this if weaker
RED = (220, 30, 30)
HEAT_BLUE = (30, 80, 230)
INK_GREY = 150  # the ink under the heat
MODEL_NAMES = {PICTURE: "picture (CNN)", PATH: "path", COMBINED: "both"}


def heat_colours(heat, scale):
    """(…, 3) uint8: white where `heat` is 0, red as it rises to `scale`, blue as it falls."""
    strength = np.clip(np.abs(heat) / scale, 0.0, 1.0)[..., None]
    colour = np.where((heat >= 0)[..., None], RED, HEAT_BLUE)
    return (255 * (1 - strength) + colour * strength).astype(np.uint8)


def heat_scale(heat):
    return max(float(np.abs(heat).max()), HEAT_FLOOR)


def tinted(ink, heat, scale, only_ink):
    """An RGB picture: white paper with its `ink` (bool) grey, coloured by heat (everywhere,
    or `only_ink`)."""
    grey = np.where(ink, INK_GREY, 255).astype(np.float32)[..., None]
    colour = heat_colours(heat, scale).astype(np.float32)
    weight = np.clip(np.abs(heat) / scale, 0.0, 1.0)[..., None]
    if only_ink:
        weight = weight * ink[..., None]
    picture = grey * (1 - weight) + colour * weight
    return np.clip(picture * (grey / 255.0 * 0.3 + 0.7), 0, 255).astype(np.uint8)


def fitted(array, side):
    """A 2-D float array shrunk (never enlarged) to fit a square of `side` px, aspect kept."""
    h, w = array.shape
    scale = min(side / w, side / h, 1.0)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return cv2.resize(array, size, interpolation=cv2.INTER_AREA)


def to_surface(rgb, size):
    """An RGB array (h, w, 3) as a Surface fitted into `size` (w, h), aspect kept, pixels
    sharp when enlarged."""
    h, w = rgb.shape[:2]
    scale = min(size[0] / w, size[1] / h)
    fitted = (max(1, round(w * scale)), max(1, round(h * scale)))
    method = cv2.INTER_NEAREST if scale >= 1 else cv2.INTER_AREA
    resized = cv2.resize(rgb, fitted, interpolation=method)
    return pg.surfarray.make_surface(np.ascontiguousarray(resized.transpose(1, 0, 2)))


def map_grid(maps, per_row):
    """A block's maps (filters, h, w) as one RGB picture: MAP_SIZE px each, `per_row` to a
    row, MAP_GAP of white between them, black where a filter is silent and white where it
    fires most in the block. One picture, not a Surface a map: drawn in a few milliseconds."""
    step = MAP_SIZE + MAP_GAP
    rows = -(-len(maps) // per_row)
    grid = np.full((rows * step - MAP_GAP, min(len(maps), per_row) * step - MAP_GAP), 255, np.uint8)
    peak = float(maps.max()) or 1.0
    for number, activation in enumerate(maps):
        row, column = divmod(number, per_row)
        small = cv2.resize(activation, (MAP_SIZE, MAP_SIZE), interpolation=cv2.INTER_AREA)
        tile = np.clip(small / peak * 255, 0, 255).astype(np.uint8)
        grid[row * step : row * step + MAP_SIZE, column * step : column * step + MAP_SIZE] = tile
    return np.repeat(grid[..., None], 3, axis=2)


class InsideDrawer:
    """Draws an Inside onto a Surface of SIZE; keeps nothing but its fonts."""

    def __init__(self):
        self.title_font = pg.font.Font(None, 28)
        self.font = pg.font.Font(None, 20)
        self.small_font = pg.font.Font(None, 17)

    def hint(self, words):
        """The view with only a line of words: nothing to show yet."""
        surface = pg.Surface(SIZE)
        surface.fill(WHITE)
        self.text(surface, "Look inside", BLACK, (MARGIN, 10), self.title_font)
        self.text(surface, words, GREY, (MARGIN, HEAT_TOP + 10))
        return surface

    def draw(self, inside):
        surface = pg.Surface(SIZE)
        surface.fill(WHITE)
        probabilities = inside.readings.get(COMBINED, inside.readings[PICTURE])
        title = (
            f"Why {inside.label} ({probabilities[inside.label]:.0%}), not "
            f"{inside.runner_up} ({probabilities[inside.runner_up]:.0%})?"
        )
        self.text(surface, title, BLACK, (MARGIN, 10), self.title_font)
        self.draw_heat(surface, inside)
        self.draw_bars(surface, inside)
        self.draw_path(surface, inside.path, (inside.label, inside.runner_up))
        self.draw_blocks(surface, inside.blocks)
        return surface

    def text(self, surface, words, colour, pos, font=None, width=None):
        rendered = (font or self.font).render(words, True, colour)
        width = width or SIZE[0] - pos[0] - MARGIN
        if rendered.get_width() > width:
            height = max(1, round(rendered.get_height() * width / rendered.get_width()))
            rendered = pg.transform.smoothscale(rendered, (width, height))
        surface.blit(rendered, pos)

    def draw_heat(self, surface, inside):
        """Rows: the label, the runner-up; columns: the CNN's 28x28 image, the canvas's ink."""
        image_ink = inside.image > 0
        # The canvas's ink brought to the cell's size first: the colouring costs per pixel.
        crop_ink = fitted(np.float32(inside.crop < 128), HEAT_CELL) > 0.5
        crop_heat = [fitted(heat, HEAT_CELL) for heat in inside.crop_heat]
        y = HEAT_TOP
        for row, (digit, colour) in enumerate(((inside.label, GREEN), (inside.runner_up, ORANGE))):
            scale = heat_scale(inside.heat[row])
            words = f"for {digit}: red counts for it, blue against (up to {scale:.0%})"
            self.text(
                surface, words, colour, (MARGIN, y), self.small_font, 2 * HEAT_CELL + HEAT_GAP
            )
            y += 16
            seen = tinted(image_ink, inside.heat[row], scale, only_ink=False)
            surface.blit(to_surface(seen, (HEAT_CELL, HEAT_CELL)), (MARGIN, y))
            ink = tinted(crop_ink, crop_heat[row], scale, only_ink=True)
            drawn = to_surface(ink, (HEAT_CELL, HEAT_CELL))
            x = MARGIN + HEAT_CELL + HEAT_GAP + (HEAT_CELL - drawn.get_width()) // 2
            surface.blit(drawn, (x, y + (HEAT_CELL - drawn.get_height()) // 2))
            for left in (MARGIN, MARGIN + HEAT_CELL + HEAT_GAP):
                pg.draw.rect(
                    surface, LIGHT_GREY, (left - 1, y - 1, HEAT_CELL + 2, HEAT_CELL + 2), 1
                )
            y += HEAT_CELL + 6
        self.text(surface, "the CNN's 28x28      your ink", GREY, (MARGIN + 20, y), self.small_font)

    def draw_bars(self, surface, inside):
        """The ten probabilities of each model that read the digit, and combined."""
        x, y = BARS_POS
        chart_width = 10 * (BAR_WIDTH + BAR_GAP)
        for name, probabilities in inside.readings.items():
            self.text(surface, MODEL_NAMES[name], BLACK, (x, y), self.small_font, chart_width)
            bottom = y + 16 + BAR_HEIGHT
            pg.draw.line(surface, LIGHT_GREY, (x, bottom), (x + chart_width - BAR_GAP, bottom))
            for digit, probability in enumerate(probabilities):
                left = x + digit * (BAR_WIDTH + BAR_GAP)
                height = round(float(probability) * BAR_HEIGHT)
                colour = {inside.label: GREEN, inside.runner_up: ORANGE}.get(digit, GREY)
                surface.fill(colour, (left, bottom - height, BAR_WIDTH, height))
                label = self.small_font.render(str(digit), True, GREY)
                surface.blit(label, (left + (BAR_WIDTH - label.get_width()) // 2, bottom + 3))
            x += chart_width + CHART_GAP

    def draw_path(self, surface, path, digits):
        """The resampled path as the path model read it, coloured by each stretch's weight."""
        x, y = PATH_POS
        if path is None:
            words = "The path model did not read this digit: no strokes."
            self.text(surface, words, GREY, (x, y + 4), self.small_font)
            return
        for row, digit in enumerate(digits):
            left = x + row * (PATH_CELL + 2 * HEAT_GAP)
            scale = heat_scale(path.heat[row])
            self.text(
                surface,
                f"path, for {digit}",
                GREEN if row == 0 else ORANGE,
                (left, y),
                self.small_font,
                PATH_CELL,
            )
            box = pg.Rect(left, y + 16, PATH_CELL, PATH_CELL)
            pg.draw.rect(surface, LIGHT_GREY, box.inflate(2, 2), 1)
            points = [
                (
                    box.centerx + float(px) * (PATH_CELL - 12),
                    box.centery + float(py) * (PATH_CELL - 12),
                )
                for px, py in path.points
            ]
            colours = heat_colours(path.heat[row], scale)
            for i in range(len(points) - 1):
                if path.pen_down[i]:
                    pg.draw.line(surface, LIGHT_GREY, points[i], points[i + 1], 7)
            for i in range(len(points) - 1):
                if path.pen_down[i]:
                    colour = tuple(int(v) for v in colours[i])
                    pg.draw.line(surface, colour, points[i], points[i + 1], 5)
                else:
                    pg.draw.line(surface, GREY, points[i], points[i + 1], 1)
            pg.draw.circle(surface, BLACK, points[0], 3)  # where the pen started
        note = "black dot: where the pen started; thin grey line: the pen lifted"
        self.text(surface, note, GREY, (x, y + 20 + PATH_CELL), self.small_font)

    def draw_blocks(self, surface, blocks):
        """Each block's maps in a grid, a line saying what the block is beside it."""
        y = BLOCKS_TOP
        self.text(
            surface,
            "What each convolutional block sees (bright: a filter fires)",
            BLACK,
            (MARGIN, y),
        )
        y += 20
        grid_left = MARGIN + BLOCK_TEXT_WIDTH
        per_row = (SIZE[0] - MARGIN - grid_left) // (MAP_SIZE + MAP_GAP)
        for index, block in enumerate(blocks):
            self.text(
                surface,
                f"{index + 1}: {block.words}",
                BLACK,
                (MARGIN, y),
                self.small_font,
                BLOCK_TEXT_WIDTH - 6,
            )
            self.text(
                surface,
                block_words(index, len(blocks)),
                GREY,
                (MARGIN, y + 14),
                self.small_font,
                BLOCK_TEXT_WIDTH - 6,
            )
            grid = map_grid(block.maps, per_row)
            surface.blit(to_surface(grid, grid.shape[1::-1]), (grid_left, y))
            y += max(grid.shape[0], 30) + 6


class Looker:
    """Looks inside on a thread of its own: one digit at a time, the newest request waiting
    while one is under way (older ones are dropped). The first look loads the inspector."""

    def __init__(self):
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="inside")
        self.inspector = None
        self.future = None  # the look under way: (key, future)
        self.waiting = None  # (key, arguments) of the next look

    def ask(self, key, recognizer, canvas, digits, index, strokes):
        self.waiting = (key, (recognizer, canvas, digits, index, strokes))
        self._start()

    def _start(self):
        if self.waiting is not None and self.future is None:
            key, arguments = self.waiting
            self.waiting = None
            self.future = (key, self.executor.submit(self._look, *arguments))

    def _look(self, recognizer, canvas, digits, index, strokes):
        if self.inspector is None or self.inspector.recognizer is not recognizer:
            self.inspector = Inspector(recognizer)
        return self.inspector.look(canvas, digits, index, strokes)

    def take(self):
        """(key, Inside) of a look that ended since the last call, or None; an error in it
        is raised here, on the main thread."""
        if self.future is None or not self.future[1].done():
            return None
        key, future = self.future
        self.future = None
        self._start()
        return key, future.result()

    def close(self):
        self.executor.shutdown(wait=False, cancel_futures=True)


class InsideView:
    """The app's side of the view: whether it is open, the look asked for and the last one
    done, and the Surface drawn from it."""

    def __init__(self):
        self.open = False
        self.looker = Looker()
        self.asked = None  # the key of the last look asked for
        self.done = None  # (key, Inside) of the last look done
        self.surface = None  # drawn from `done`, or a hint
        self.taken = False  # a look was taken in that the panel has not shown yet
        self.drawer = None  # made when first opened: fonts

    def toggle(self):
        self.open = not self.open
        self.surface = None

    def update(self, reading, canvas, recognizer):
        """Take in a finished look and ask for the one the selected digit needs: only once
        the pen is up and the reading is of the ink on show. Whether the view changed."""
        if not self.open:
            return False
        self.take()
        changed, self.taken = self.taken, False
        index = reading.selected_index
        if index is not None and not canvas.drawing and reading.version == canvas.version:
            key = (reading.version, reading.selected, id(recognizer))
            if key != self.asked:
                self.asked = key
                strokes = [list(stroke) for stroke in canvas.strokes]
                self.looker.ask(key, recognizer, reading.seen, reading.digits, index, strokes)
        return changed

    def take(self):
        """Take in a look that ended, if one did: whether one did."""
        result = self.looker.take()
        if result is not None:
            self.done, self.surface, self.taken = result, None, True
        return result is not None

    def wait(self, timeout):
        """Wait until the last look asked for is done; False if `timeout` seconds pass first."""
        deadline = time.monotonic() + timeout
        while self.asked is not None and (self.done is None or self.done[0] != self.asked):
            if time.monotonic() > deadline:
                return False
            if not self.take():
                time.sleep(0.01)
        return True

    def picture(self, reading):
        """The Surface to show in place of the panel's top, or None while the view is closed."""
        if not self.open:
            return None
        if self.drawer is None:
            self.drawer = InsideDrawer()
        if reading.selected is None:
            return self.drawer.hint("Select a digit: click its tile below, or press Tab.")
        if self.done is None or self.done[0][1] != reading.selected:
            # Another digit's look would mislead; the same digit's, of the ink a moment ago,
            # stays on show until the new one is done.
            return self.drawer.hint("Looking inside...")
        if self.surface is None:
            self.surface = self.drawer.draw(self.done[1])
        return self.surface

    def close(self):
        self.looker.close()
