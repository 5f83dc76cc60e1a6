"""Find the handwriting on a photo or a scan of paper: an ink mask as clean as the app's canvas.

A photo is not a canvas: the light is uneven, a shadow falls across the page, pencil is grey
and breaks into fragments at any fixed threshold, the paper has texture and specks, and ruled
lines, grids and printed boxes are dark too. The steps, on a greyscale copy whose longer side
is at most WORK_SIDE (a 12-megapixel JPEG is decoded at half its size):

1. `paper_darkness`: the paper is estimated by a grey closing far wider than any stroke (the
   page with the ink taken out), and each pixel is divided by it: 0 is paper, 1 black ink,
   whatever the light and shadow.
2. `ink_from_darkness`: hysteresis (as skimage.filters.apply_hysteresis_threshold, with
   OpenCV's faster labelling): pixels clearly darker than the paper's own noise are ink
   where they connect to pixels dark enough to be a stroke's core. A grey pencil stroke stays
   one piece, texture and JPEG noise, never connected to a core, stay paper.
3. `remove_lines`: long, thin straight runs (ruled lines, a grid, the sides of printed boxes)
   are taken out, looked for square to the page's slant (`skew`), and the pixels where a
   stroke crosses them or runs along them put back. A pen's straight stroke is thick for
   its length, and stays.
4. `join_fragments`: a small closing joins a stroke's fragments; specks are dropped, and so is
   a small mark cut by the image's edge (a piece of a neighbouring digit in a scan's crop).
5. `find_rows`: the marks are grouped into rows, top to bottom; each row is read as a canvas
   by the project's Recognizer, which groups its marks into digits (left to right) and
   normalises each the MNIST way.
"""

import cv2
import numpy as np

from deeplearning.core.errors import InputError
from deeplearning.reading.recognize import TooManyMarks

WORK_SIDE = 1600  # px: the longer side a page is read at
PAPER_SCALE = 1 / 12  # the paper estimate's closing: this fraction of the longer side, ...
PAPER_STEP = 4  # ... computed at a quarter of the size (the paper changes slowly)
NOISE_SPREAD = 6.0  # ink is this many noise deviations darker than the paper, ...
MIN_LOW = 0.08  # ... and at least this dark (0 paper, 1 black) ...
MIN_CORE = 0.2  # ... connected to a core at least this dark ...
CORE_OF_INK = 0.5  # ... and at least this fraction of the page's darkest ink
INK_PERCENTILE = 99.7  # the page's darkest ink: this percentile of darkness
LINE_FRACTION = 0.3  # a straight run this fraction of the page's side is a line, not a stroke,
MIN_LINE = 200  # ... and at least this long (px): on a small scan a digit's stem is not a line
SPECK_PIXELS = 12  # marks of fewer pixels are specks (at working size)
EDGE_PART = 0.5  # a mark cut by the image's edge shorter than this fraction of the tallest
MAX_SKEW = 5.0  # degrees: the most a page is turned to level its lines, ...
SKEW_STEP = 0.25  # ... in steps of this
MIN_SKEW = 0.2  # a page turned less than this is taken as level
LINE_ASPECT = 20  # ... and at least this many times as long as it is thick
LINE_FRINGE = 2  # px either side of a line's straight core taken with it
ROW_OVERLAP = 0.5  # a mark joins a row it overlaps vertically by this fraction of its height
MIN_IN_ROW = 0.3  # a digit is at least this fraction of the height of its row's tallest
MAX_INK = 0.3  # a page darker than this fraction is a photo of something else
MAX_PAGE_MARKS = 1500  # more separate marks than this are texture or noise, not writing


class NotHandwriting(InputError):
    """A page holding something else than handwriting: too dark, or too many marks."""


def working_size(image):
    """`image` (grey or colour) with its longer side at most WORK_SIDE, and the scale used."""
    height, width = image.shape[:2]
    if max(height, width) <= WORK_SIDE:
        return image, 1.0
    scale = WORK_SIDE / max(height, width)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA), scale


def paper_darkness(grey):
    """float32 darkness of each pixel against the paper around it: 0 paper, 1 black."""
    h, w = grey.shape
    small = cv2.resize(
        grey,
        (max(1, w // PAPER_STEP), max(1, h // PAPER_STEP)),
        interpolation=cv2.INTER_AREA,
    )
    size = max(3, round(max(h, w) * PAPER_SCALE / PAPER_STEP) | 1)
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (size, size))
    paper = cv2.morphologyEx(small, cv2.MORPH_CLOSE, kernel)
    paper = cv2.medianBlur(paper, 5)  # the closing's blocky steps smoothed, edges kept
    paper = cv2.resize(paper, (w, h), interpolation=cv2.INTER_LINEAR).astype(np.float32)
    darkness = 1.0 - grey.astype(np.float32) / np.maximum(paper, 1.0)
    return np.clip(darkness, 0.0, 1.0)


def ink_from_darkness(darkness):
    """uint8 0/1 ink: hysteresis between the paper's noise and a stroke's core."""
    sample = darkness[::2, ::2]  # the levels from a quarter of the pixels: as good, faster
    median = float(np.median(sample))
    spread = float(np.median(np.abs(sample - median))) * 1.4826
    low = max(MIN_LOW, median + NOISE_SPREAD * spread)
    darkest = float(np.percentile(sample, INK_PERCENTILE))
    high = max(MIN_CORE, low, CORE_OF_INK * darkest)
    # Hysteresis: the marks above `low` that reach above `high` somewhere.
    count, labels = cv2.connectedComponents((darkness > low).view(np.uint8), connectivity=8)
    cored = np.zeros(count, np.uint8)
    cored[labels[darkness > high]] = 1
    cored[0] = 0  # the paper
    return cored[labels]


def remove_lines(ink):
    """`ink` without its ruled lines, grid lines and box sides, looked for square to the
    page's own slant (a photo is rarely taken quite straight): where a stroke crossed a line,
    the line's pixels beside the stroke are kept."""
    angle = skew(ink)
    if abs(angle) < MIN_SKEW:
        return remove_straight_lines(ink)
    h, w = ink.shape
    turn = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    straight = cv2.warpAffine(ink, turn, (w, h), flags=cv2.INTER_NEAREST)
    lines = straight & (1 - remove_straight_lines(straight))
    back = cv2.warpAffine(lines, cv2.invertAffineTransform(turn), (w, h), flags=cv2.INTER_NEAREST)
    return ink & (1 - cv2.dilate(back, np.ones((3, 3), np.uint8)))


def skew(ink):
    """The angle (degrees, within MAX_SKEW) that turns the page's lines and rows level: the
    one at which the rows of a small copy of the ink are most sharply bunched."""
    h, w = ink.shape
    small = cv2.resize(ink * np.uint8(255), (max(1, w // 4), max(1, h // 4)), cv2.INTER_AREA)
    centre = (small.shape[1] / 2, small.shape[0] / 2)

    def bunching(angle):
        turned = cv2.warpAffine(
            small, cv2.getRotationMatrix2D(centre, angle, 1.0), small.shape[::-1]
        )
        return float(np.square(turned.sum(axis=1, dtype=np.float64)).sum())

    return max(np.arange(-MAX_SKEW, MAX_SKEW + 1e-9, SKEW_STEP), key=bunching)


def remove_straight_lines(ink):
    """`ink` without long, thin horizontal and vertical straight runs; where a stroke crossed
    a line or runs along it, the line's pixels beside the stroke are kept."""
    h, w = ink.shape
    lines_h = _lines(ink, max(MIN_LINE, int(w * LINE_FRACTION)), horizontal=True)
    lines_v = _lines(ink, max(MIN_LINE, int(h * LINE_FRACTION)), horizontal=False)
    lines = lines_h | lines_v
    if not lines.any():
        return ink
    rest = ink & (1 - lines)
    # Where a stroke crosses a line, or runs along it, it has ink just beside the line:
    # the line's pixels across from that ink are the stroke's.
    across_h = cv2.dilate(rest, np.ones((_thickness(lines_h) + 2, 1), np.uint8))
    across_v = cv2.dilate(rest, np.ones((1, _thickness(lines_v.T) + 2), np.uint8))
    return rest | (lines & (across_h | across_v))


def _lines(ink, length, horizontal):
    """uint8 0/1: the straight runs of `ink` at least `length` px long in one direction that
    are thin for their length (LINE_ASPECT): a printed line, not a pen's straight stroke."""
    size = (length, 1) if horizontal else (1, length)
    runs = cv2.morphologyEx(ink, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, size))
    count, labels, stats, _ = cv2.connectedComponentsWithStats(runs, connectivity=8)
    long_side = stats[:, cv2.CC_STAT_WIDTH if horizontal else cv2.CC_STAT_HEIGHT]
    # The ink's thickness along each run, not the run's own: a pen's slanted stroke holds a
    # thin straight run, but is itself thick.
    depth = cv2.distanceTransform(ink, cv2.DIST_L2, 3)
    summed = np.bincount(labels.ravel(), depth.ravel(), count)
    thickness = 2 * summed / np.maximum(stats[:, cv2.CC_STAT_AREA], 1)
    thin = long_side >= LINE_ASPECT * thickness
    thin[0] = False  # the background
    lines = thin[labels].view(np.uint8) if count > 1 else runs
    # The straight core found, its ragged edges (a line a little askew, blurred) go with it.
    fringe = (1, 2 * LINE_FRINGE + 1) if horizontal else (2 * LINE_FRINGE + 1, 1)
    return cv2.dilate(lines, np.ones(fringe[::-1], np.uint8)) & ink


def _thickness(lines):
    """Twice the deepest point of the line pixels (px, at most 15): how far a crossing is
    closed."""
    if not lines.any():
        return 1
    return int(min(2 * cv2.distanceTransform(lines, cv2.DIST_L1, 3).max(), 15))


def join_fragments(ink):
    """`ink` with a stroke's small breaks closed (pencil, a dry pen)."""
    return cv2.morphologyEx(ink, cv2.MORPH_CLOSE, np.ones((3, 3), np.uint8))


def marks(ink):
    """The marks of an ink mask: (labels, boxes (x0, y0, x1, y1) by label, 1-based), specks
    and small marks cut by the image's edge left out."""
    count, labels, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    h, w = ink.shape
    boxes = {}
    for label in range(1, count):
        x, y, bw, bh, area = (int(v) for v in stats[label])
        if area >= SPECK_PIXELS:
            boxes[label] = (x, y, x + bw, y + bh)
    tallest = max((y1 - y0 for _, y0, _, y1 in boxes.values()), default=0)
    for label, (x0, y0, x1, y1) in list(boxes.items()):
        at_edge = x0 == 0 or y0 == 0 or x1 == w or y1 == h
        if at_edge and y1 - y0 < EDGE_PART * tallest:  # a piece, or a flat printed line
            del boxes[label]
    return labels, boxes


def find_rows(boxes):
    """Mark labels grouped into rows, top to bottom: a mark joins the row it overlaps most
    vertically (by at least ROW_OVERLAP of the smaller height); the tallest marks first, so
    that a row is founded by digits, not by dots and bars."""
    rows = []  # each [y0, y1, labels]
    for label, (_, y0, _, y1) in sorted(boxes.items(), key=lambda item: item[1][1] - item[1][3]):
        best, best_overlap = None, 0.0
        for row in rows:
            overlap = min(y1, row[1]) - max(y0, row[0])
            needed = ROW_OVERLAP * min(y1 - y0, row[1] - row[0])
            if overlap >= needed and overlap > best_overlap:
                best, best_overlap = row, overlap
        if best is None:
            rows.append([y0, y1, [label]])
        else:
            best[2].append(label)
    rows.sort(key=lambda row: (row[0] + row[1]) / 2)
    return [row[2] for row in rows]


def prepare(grey):
    """A greyscale page at working size (uint8) -> its uint8 0/1 ink mask."""
    ink = ink_from_darkness(paper_darkness(grey))
    if ink.mean() > MAX_INK:
        raise NotHandwriting(
            f"{ink.mean():.0%} of it is dark: a photo of something else than writing on paper"
        )
    return join_fragments(remove_lines(ink))


def row_canvases(ink):
    """For each row of marks, top to bottom: (canvas, (left, top)): a canvas like the app's
    (255 paper, 0 ink) holding only that row's marks, and where it lies on the page."""
    labels, boxes = marks(ink)
    if len(boxes) > MAX_PAGE_MARKS:
        raise NotHandwriting(
            f"{len(boxes)} separate marks, more than the {MAX_PAGE_MARKS} of a page of writing"
        )
    canvases = []
    for row in find_rows(boxes):
        x0 = min(boxes[label][0] for label in row)
        y0 = min(boxes[label][1] for label in row)
        x1 = max(boxes[label][2] for label in row)
        y1 = max(boxes[label][3] for label in row)
        own = np.isin(labels[y0:y1, x0:x1], row)
        # A margin of paper: the Recognizer keeps every mark touching its canvas's edge.
        canvas = _pad_with_paper(np.where(own, 0, 255).astype(np.uint8))
        canvases.append((canvas, (x0 - 1, y0 - 1)))
    return canvases


def _pad_with_paper(canvas):
    return cv2.copyMakeBorder(canvas, 1, 1, 1, 1, cv2.BORDER_CONSTANT, value=255)


def read_rows(recognizer, grey):
    """The digits on a greyscale page at working size: a list of rows, top to bottom, each a
    list of the Recognizer's Digits, left to right, their boxes on the page. NotHandwriting
    for a page that holds something else."""
    rows = []
    for canvas, (left, top) in row_canvases(prepare(grey)):
        try:
            digits = recognizer.recognize(canvas)
        except TooManyMarks as error:
            raise NotHandwriting(str(error)) from None
        tallest = max((digit.box[3] for digit in digits), default=0)
        # A dot, a dash, a 5's bar written apart or a crumb of ink beside the digits would
        # be read as a digit by itself.
        digits = [digit for digit in digits if digit.box[3] >= MIN_IN_ROW * tallest]
        for digit in digits:
            x, y, w, h = digit.box
            digit.box = (x + left, y + top, w, h)
        if digits:
            rows.append(digits)
    return rows
