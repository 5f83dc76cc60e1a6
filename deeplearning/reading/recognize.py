"""Read the digits drawn on a canvas, preparing each one the way MNIST's images were made.

The pipeline, for a 2-D uint8 canvas (255 background, 0 ink):

1. `ink_mask`: pixels darker than INK_THRESHOLD are ink.
2. `find_digit_boxes`: connected strokes (8-connectivity) are grouped into digits. Two groups
   that are vertically close (a gap under MERGE_GAP of the taller one) merge when they
   overlap horizontally by MERGE_OVERLAP of the narrower one, or by only SMALL_PART_OVERLAP
   when one is much shorter than the other (SMALL_PART): that joins a 7's cross bar, the two
   strokes of a 4, a stroke inside another's box, and a 5's detached top bar even when it
   sticks out sideways. Two digits of a number are of similar height and written side by
   side, so even close together they barely overlap and stay apart. Last, a short part in
   the top quarter of a group and just right of it (TOP_PART, TOP_GAP) joins it: a 5's bar
   drawn past the end of its body. And a short part in the upper part of a taller one and
   just left of it (LEFT_PART, LEFT_RAISE, LEFT_GAP) joins it: a 4's open top written apart
   from its stem, a 1's flag. Digits of a number stand on one line at about one height, so
   neither rule joins them.
3. `normalize_digit`: the digit's own pixels are cropped and brought to WORK_SIZE, and the
   stroke width is set to STROKE_RATIO of the digit's longer side whatever the drawing size:
   a 14 px pen on a 460 px digit would otherwise be under 1 px thin after scaling, and on a
   small digit far too bold. Thickening or thinning moves the outline along a signed
   distance field, so the edge stays anti-aliased. Then, as MNIST was made, the longer side
   is scaled to 20 px (INTER_AREA) keeping the aspect ratio, and the digit is placed in a
   28x28 image with its centre of mass at the centre (a subpixel shift). The result has
   MNIST's polarity: ink bright on black.
4. All digits go through the model in one batched call.
5. Given the strokes too, each digit takes the strokes mostly inside its box
   (`digit_strokes`), the path model reads them all in one batched call, and the two
   readings are combined (deeplearning/reading/fusion.py).

Marks that are not digits are skipped rather than guessed: a group whose longer side is
shorter than MIN_DIGIT_STROKES times its own stroke width (a dot, a click, a short dash:
a pen blob with no shape to read) or than MIN_DIGIT_FRACTION of the canvas's shorter side
(a speck) is ignored. Anything larger is read, scribbles included.

The work is bounded whatever the canvas (a photo, a scan, noise): specks far smaller than a
pen's dot are left out before grouping, grouping looks back from each merge instead of
starting again, and a canvas of more than MAX_MARKS separate marks raises TooManyMarks
rather than being read. Any 640x640 canvas takes well under a second.
"""

import bisect
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from deeplearning.reading import fusion
from deeplearning.reading.images import IMAGE_SIZE, to_model_input
from deeplearning.reading.path import FEATURES, POINTS, path_batch
from deeplearning.reading.runtime import (
    DEFAULT_MODEL_PATH,
    DEFAULT_PATH_MODEL_PATH,
    load_exported,
    path_model_beside,
)
from deeplearning.reading.strokes import digit_strokes

INK_THRESHOLD = 128  # canvas pixels darker than this are ink
MERGE_OVERLAP = 0.5  # horizontal overlap, as a fraction of the narrower group, that merges
MERGE_GAP = 0.5  # largest vertical gap that still merges, as a fraction of the taller group
SMALL_PART = 0.4  # a part at most this fraction of its partner's height ...
SMALL_PART_OVERLAP = 0.15  # ... merges with this smaller overlap, ...
TOP_PART = 0.25  # ... and, if it lies in the top quarter of its partner (a 5's bar), ...
TOP_GAP = 0.3  # ... even across a gap up to this fraction of the partner's height
LEFT_PART = 0.75  # a part at most this fraction of the height of a part to its right, ...
LEFT_RAISE = 0.2  # ... ending at least this fraction of that height above its bottom ...
LEFT_GAP = 0.15  # ... and at most this fraction of it to its left: a 4's open top, a 1's flag
MIN_DIGIT_STROKES = 3.0  # a digit's longer side spans at least this many stroke widths
MIN_DIGIT_FRACTION = 0.03  # ... and at least this fraction of the canvas's shorter side
# px of ink: drawn with the app's pen, a digit this tall is never skipped as too small. A
# smaller one may be: its strokes run together and measure wider (MIN_DIGIT_STROKES). Of 200
# traced MNIST digits, each was read at every height from 66 px up.
READ_HEIGHT = 80
# A mark whose longer side is under this fraction of the canvas's shorter side (4 px on the
# app's canvas, where the pen's dot is 15 px) is a speck, left out before grouping (is_speck).
SPECK_FRACTION = 1 / 160
MAX_MARKS = 200  # more marks than this (specks aside) are noise, not writing: not read
WORK_SIZE = 96  # longer side (px) at which stroke width is measured and adjusted
# Stroke width over the digit's longer side. MNIST's median is about 0.14; on replayed
# development digits 0.115 to 0.145 read equally well and 0.10 or 0.16 slightly worse.
STROKE_RATIO = 0.12
BOX_SIZE = 20  # MNIST scales each digit so that its longer side is 20 px ...
CENTRE = 14.0  # ... and puts its centre of mass here (row and column) in the 28x28 image
PICTURE, PATH = "picture", "path"  # the models' names in Digit.readings


class TooManyMarks(ValueError):
    """A canvas with more separate marks than writing has (MAX_MARKS): it is not read."""


@dataclass
class Digit:
    """One recognised digit: what was read (both models combined where both read it), where
    it is, the image the CNN saw, and what each model read alone."""

    label: int
    confidence: float
    probabilities: np.ndarray  # (10,) softmax output
    box: tuple[int, int, int, int]  # x, y, w, h on the canvas
    image: np.ndarray  # (28, 28) uint8, ink bright on black, as the model saw it
    # model name (PICTURE, PATH) -> its (10,) probabilities; no PATH where it did not read
    readings: dict = field(default_factory=dict)

    @property
    def runner_up(self):
        """The second most likely (label, probability)."""
        second = int(np.argsort(self.probabilities)[-2])
        return second, float(self.probabilities[second])


# --- pipeline steps -------------------------------------------------------------------------


def to_canvas(canvas):
    """Check and convert input to a 2-D uint8 canvas; ValueError for the wrong dimensions."""
    array = np.asarray(canvas)
    if array.ndim != 2:
        raise ValueError(
            f"canvas must be a 2-D grey image (height, width), got shape {array.shape}"
        )
    if array.dtype == np.uint8:
        return array
    if array.dtype == bool:
        return array.astype(np.uint8) * 255  # True = background
    is_float = np.issubdtype(array.dtype, np.floating)
    array = np.nan_to_num(array.astype(np.float64), nan=255.0)
    if is_float and array.size and array.max() <= 1.0:
        array = array * 255.0  # a float canvas in [0, 1]
    return np.clip(np.rint(array), 0, 255).astype(np.uint8)


def ink_mask(canvas):
    """uint8 mask: 1 where the canvas holds ink."""
    return (canvas < INK_THRESHOLD).view(np.uint8)


def _height(box):
    return box[3] - box[1]


def _parts_overlap(a, b):
    """Whether two boxes (x0, y0, x1, y1) that overlap horizontally hold parts of one digit."""
    overlap = min(a[2], b[2]) - max(a[0], b[0])
    narrower = min(a[2] - a[0], b[2] - b[0])
    low, high = sorted((_height(a), _height(b)))
    if overlap <= 0 or max(a[1], b[1]) - min(a[3], b[3]) > MERGE_GAP * high:
        return False
    # Two digits of a number barely overlap; a much shorter part (a 5's top bar) may stick
    # out sideways, so it needs less overlap.
    needed = SMALL_PART_OVERLAP if low <= SMALL_PART * high else MERGE_OVERLAP
    return overlap >= needed * narrower


def _top_bar(a, b):
    """Whether box b is a short part just right of box a, at its top: a 5's top bar drawn
    apart from its body. Only tried once overlapping parts have been merged."""
    gap = b[0] - a[2]
    at_top = (b[1] + b[3]) / 2 <= a[1] + TOP_PART * _height(a)
    return _height(b) <= SMALL_PART * _height(a) and at_top and gap <= TOP_GAP * _height(a)


def _left_part(a, b):
    """Whether box a is a short part just left of box b, in its upper part: a 4's open top
    written apart from its stem, or a 1's flag."""
    tall = _height(b)
    return (
        _height(a) <= LEFT_PART * _height(b)
        and a[3] <= b[3] - LEFT_RAISE * tall
        and a[1] >= b[1] - LEFT_RAISE * tall
        and b[0] - a[2] <= LEFT_GAP * tall
    )


def _merge(groups, rule, reach):
    """Merge (labels, box) groups, sorted by left edge, while `rule(left, right)` holds for
    some pair; `reach` is how far (px) past a box's right edge a partner may start.

    The pair merged is always the first in left-edge order, as if the search started
    again from the leftmost box after every merge; but only pairs with the grown box can
    have changed, so the search looks back from it instead (`_earlier_partner`) and goes
    on from there: far fewer rule checks, the same groups.
    """
    groups = sorted(groups, key=lambda group: group[1][0])
    labels = [members for members, _ in groups]
    boxes = [box for _, box in groups]
    lefts = [box[0] for box in boxes]  # a merged box keeps its left edge: stays sorted
    alive = [True] * len(boxes)
    widest = max((box[2] - box[0] for box in boxes), default=0)

    def absorb(i, j):
        nonlocal widest
        a, b = boxes[i], boxes[j]
        boxes[i] = (min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3]))
        labels[i] = labels[i] + labels[j]
        alive[j] = False
        widest = max(widest, boxes[i][2] - boxes[i][0])

    i = 0
    while i < len(boxes):
        j = _partner(boxes, lefts, alive, i, rule, reach) if alive[i] else None
        if j is None:
            i += 1
            continue
        absorb(i, j)
        while (k := _earlier_partner(boxes, lefts, alive, i, rule, reach, widest)) is not None:
            absorb(k, i)
            i = k
    return [(labels[i], boxes[i]) for i in range(len(boxes)) if alive[i]]


def _partner(boxes, lefts, alive, i, rule, reach):
    """The first box after box i (in left-edge order) within reach that joins it, or None."""
    a, limit = boxes[i], boxes[i][2] + reach
    for j in range(i + 1, len(boxes)):
        if lefts[j] > limit:
            return None  # sorted by left edge: no later box is close enough
        if alive[j] and rule(a, boxes[j]):
            return j
    return None


def _earlier_partner(boxes, lefts, alive, i, rule, reach, widest):
    """The first box before box i that box i is within reach of and joins, or None. Only
    boxes starting at most `widest` + `reach` px left of box i can reach it."""
    b = boxes[i]
    for k in range(bisect.bisect_left(lefts, lefts[i] - reach - widest, 0, i), i):
        if alive[k] and lefts[i] <= boxes[k][2] + reach and rule(boxes[k], b):
            return k
    return None


def group_components(stats, canvas_shape=None):
    """Group connected components into digits.

    `stats` holds (x, y, w, h, area) rows for components 1..n (the background row dropped).
    Returns a list of (labels, (x0, y0, x1, y1)), left to right, labels being the
    component numbers (1-based, as in the label image). Given the canvas's shape, specks
    (`is_speck`) are left out first, and TooManyMarks is raised for more than MAX_MARKS
    marks: a photo or a scan of noise, not writing, whose grouping could take minutes.
    """
    groups = [
        ([i + 1], (int(x), int(y), int(x + w), int(y + h)))
        for i, (x, y, w, h, _) in enumerate(stats)
        if canvas_shape is None or not is_speck(x, y, w, h, canvas_shape)
    ]
    if canvas_shape is not None and len(groups) > MAX_MARKS:
        raise TooManyMarks(
            f"the canvas holds {len(groups)} separate marks, more than the {MAX_MARKS} that "
            f"are read: this is not handwriting"
        )
    groups = _merge(groups, _parts_overlap, 0)
    tallest = max((_height(box) for _, box in groups), default=0)
    groups = _merge(groups, _top_bar, TOP_GAP * tallest)
    groups = _merge(groups, _left_part, LEFT_GAP * tallest)
    groups.sort(key=lambda group: (group[1][0] + group[1][2]) / 2)
    return groups


def is_speck(x, y, width, height, canvas_shape):
    """Whether a mark (its box) is a speck: dust on a scan, far smaller than a pen's dot.

    A mark at the canvas's edge never is: a stroke that leaves the canvas may leave a
    sliver of the pen there, and which group it joins is kept as it always was.
    """
    rows, columns = canvas_shape
    at_edge = x == 0 or y == 0 or x + width == columns or y + height == rows
    return not at_edge and max(width, height) < SPECK_FRACTION * min(canvas_shape)


def label_components(mask):
    """cv2.connectedComponentsWithStats of a 0/1 uint8 mask, 8-connected: (count, labels,
    stats). The labels are 16-bit: a third of the time of 32-bit ones on a canvas, the
    memory written being most of the work; past 65,535 marks (specks, a photo of noise)
    OpenCV refuses them, and 32-bit ones are made instead."""
    try:
        count, labels, stats, _ = cv2.connectedComponentsWithStatsWithAlgorithm(
            mask, 8, cv2.CV_16U, cv2.CCL_DEFAULT
        )
    except cv2.error:
        count, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    return count, labels, stats


def find_digit_boxes(mask):
    """The digit boxes (x, y, w, h) in an ink mask (nonzero = ink), left to right, before
    the size checks that skip dots."""
    mask = (np.asarray(mask) > 0).view(np.uint8)
    _, _, stats = label_components(mask)
    groups = group_components(stats[1:], mask.shape)
    return [(x0, y0, x1 - x0, y1 - y0) for _, (x0, y0, x1, y1) in groups]


def _distance(mask):
    """Distance (px) from each nonzero pixel to the nearest zero one; the 5x5 mask is close
    to exact Euclidean distance at a fifth of the cost."""
    return cv2.distanceTransform(mask, cv2.DIST_L2, cv2.DIST_MASK_5)


def stroke_width(mask, inside=None):
    """Typical stroke width (px) of a binary mask, from the mean distance to the background.

    Across a stroke of width w the distance to its edge averages w / 4; a pixel centre's
    distance to the nearest background pixel centre is half a pixel more. Averaging over
    every ink pixel makes this far steadier than any single distance.
    """
    inside = _distance(mask) if inside is None else inside
    ink = inside[mask > 0]
    return max(4.0 * (float(ink.mean()) - 0.5), 1.0) if len(ink) else 0.0


def to_work_size(crop):
    """Resize a 0/1 crop so that its longer side is WORK_SIZE: (binary mask, scale)."""
    h, w = crop.shape
    scale = WORK_SIZE / max(h, w)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    method = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    soft = cv2.resize(crop * np.uint8(255), size, interpolation=method)
    # A background border: distances are measured to background pixels only.
    return _pad((soft >= 128).view(np.uint8), 1), scale


def _pad(image, width):
    """`image` with a border of zeros `width` px wide: np.pad's result, several times faster."""
    return cv2.copyMakeBorder(image, width, width, width, width, cv2.BORDER_CONSTANT, value=0)


def set_stroke_width(mask, width, target, inside=None):
    """Thicken or thin a binary mask's strokes from `width` to `target` px: float image in [0, 1].

    The mask is padded so that strokes can grow. A signed distance field (negative inside
    the ink) shifted by half the difference gives the new outline, and a one-pixel ramp
    across it anti-aliases the edge.
    """
    grow = (target - width) / 2.0
    pad = max(0, int(np.ceil(grow))) + 2
    mask = _pad(mask, pad)
    inside = _distance(mask) if inside is None else _pad(inside, pad)
    outside = _distance(1 - mask)
    signed = np.where(mask > 0, 0.5 - inside, outside - 0.5)
    return np.clip(grow + 0.5 - signed, 0.0, 1.0)


def centre_in_field(box_image):
    """Place a digit scaled to BOX_SIZE in a 28x28 image with its centre of mass at CENTRE."""
    h, w = box_image.shape
    field = np.zeros((IMAGE_SIZE, IMAGE_SIZE), np.float32)
    top, left = (IMAGE_SIZE - h) // 2, (IMAGE_SIZE - w) // 2
    field[top : top + h, left : left + w] = box_image
    moments = cv2.moments(field)
    if moments["m00"] <= 0:
        return field
    row, col = moments["m01"] / moments["m00"], moments["m10"] / moments["m00"]
    # A subpixel shift reads slightly better than rounding to whole pixels.
    shift = np.float32([[1, 0, CENTRE - col], [0, 1, CENTRE - row]])
    return cv2.warpAffine(field, shift, (IMAGE_SIZE, IMAGE_SIZE), flags=cv2.INTER_LINEAR)


def _normalize_work(work, width, inside):
    """The MNIST-style 28x28 uint8 image of a digit already at working size."""
    _, _, w, h = cv2.boundingRect(work)  # of the nonzero pixels
    if w == 0:
        return np.zeros((IMAGE_SIZE, IMAGE_SIZE), np.uint8)
    ink = set_stroke_width(work, width, STROKE_RATIO * max(w, h), inside).astype(np.float32)
    x, y, w, h = cv2.boundingRect((ink > 0.05).view(np.uint8))
    if w == 0:  # thinning removed everything (cannot happen for target >= 1 px)
        return np.zeros((IMAGE_SIZE, IMAGE_SIZE), np.uint8)
    ink = ink[y : y + h, x : x + w]
    h, w = ink.shape
    scale = BOX_SIZE / max(h, w)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    box_image = cv2.resize(ink, size, interpolation=cv2.INTER_AREA)
    return np.clip(np.rint(centre_in_field(box_image) * 255.0), 0, 255).astype(np.uint8)


def normalize_digit(crop):
    """A digit's ink crop (any size, nonzero = ink) -> its 28x28 uint8 MNIST-style image."""
    crop = (np.asarray(crop) > 0).view(np.uint8)
    if crop.ndim != 2 or crop.size == 0:
        raise ValueError(f"crop must be a non-empty 2-D array, got shape {crop.shape}")
    work, _ = to_work_size(crop)
    inside = _distance(work)
    return _normalize_work(work, stroke_width(work, inside), inside)


def is_digit_sized(longer_side, width, canvas_shape):
    """Whether a group is big enough to be a digit rather than a dot, a click or a speck."""
    return longer_side >= MIN_DIGIT_STROKES * width and longer_side >= MIN_DIGIT_FRACTION * min(
        canvas_shape
    )


def extract_digits(canvas):
    """The digits on a canvas, left to right: (boxes (x, y, w, h), images uint8 (N, 28, 28))."""
    canvas = to_canvas(canvas)
    boxes, images = [], []
    if canvas.size == 0:
        return boxes, np.zeros((0, IMAGE_SIZE, IMAGE_SIZE), np.uint8)
    mask = ink_mask(canvas)
    # Label only the part of the canvas holding ink: labelling costs time per pixel.
    left, top, width, height = cv2.boundingRect(mask)
    if width == 0 or height == 0:
        return boxes, np.zeros((0, IMAGE_SIZE, IMAGE_SIZE), np.uint8)
    count, labels, stats = label_components(mask[top : top + height, left : left + width])
    stats[:, 0] += left
    stats[:, 1] += top
    for members, (x0, y0, x1, y1) in group_components(stats[1:count], canvas.shape):
        if max(x1 - x0, y1 - y0) < MIN_DIGIT_FRACTION * min(canvas.shape):
            continue  # too small for a digit whatever its strokes (is_digit_sized): skip the work
        crop = labels[y0 - top : y1 - top, x0 - left : x1 - left]
        # Only this group's pixels: a neighbour's stroke may reach into the box.
        own = np.isin(crop, members) if len(members) > 1 else crop == members[0]
        work, scale = to_work_size(own.view(np.uint8))
        inside = _distance(work)
        width = stroke_width(work, inside)
        if not is_digit_sized(max(x1 - x0, y1 - y0), width / scale, canvas.shape):
            continue
        boxes.append((x0, y0, x1 - x0, y1 - y0))
        images.append(_normalize_work(work, width, inside))
    stacked = np.stack(images) if images else np.zeros((0, IMAGE_SIZE, IMAGE_SIZE), np.uint8)
    return boxes, stacked


# --- the recogniser -------------------------------------------------------------------------


def read_number(digits):
    """The digits' labels as one string, in the order given (left to right): e.g. "427"."""
    return "".join(str(digit.label) for digit in digits)


class Recognizer:
    """Loads the models once and reads every digit on a canvas with one batched call each."""

    def __init__(self, model_path=None, path_model_path=None):
        """Read with the models' ONNX exports (deeplearning.reading.runtime): a `.onnx` file, or
        the up-to-date export beside a `.keras` file. The path model, unless given, is the
        model's own (NAME_path.keras beside it, as teaching writes one) or else the shipped
        one; it is read where its file is there, and left out where it is not.
        ModelError, naming the file, for a model that cannot be read."""
        path = Path(model_path) if model_path is not None else DEFAULT_MODEL_PATH
        if path_model_path is None:
            own = path_model_beside(path)
            path_model_path = own if own.is_file() else DEFAULT_PATH_MODEL_PATH
        self.model = load_exported(path)
        self.path_model = _optional_path_model(path_model_path)
        self.predict_images(np.zeros((1, IMAGE_SIZE, IMAGE_SIZE), np.uint8))  # warm up
        if self.path_model is not None:
            self.path_model.predict(np.zeros((1, POINTS, FEATURES), np.float32))

    def predict_images(self, images):
        """uint8 images (N, 28, 28), ink bright -> probabilities (N, 10) as float32."""
        return np.asarray(self.model.predict(to_model_input(images)), np.float32)

    def predict_paths(self, digits):
        """Each digit's strokes (a list of strokes per digit) -> probabilities (N, 10)."""
        return np.asarray(self.path_model.predict(path_batch(digits)), np.float32)

    def recognize(self, canvas, strokes=None):
        """The digits on a canvas (2-D, 255 background, 0 ink), left to right.

        With `strokes` (each a sequence of canvas (x, y) points, in drawing order) and a path
        model, each digit that holds strokes is read by both models and the readings are
        combined; without, by the picture alone.

        Nothing read on a canvas with ink means that each mark on it is too small for a
        digit (a dot, or a digit well under READ_HEIGHT tall). Raises ValueError for an array
        that is not 2-D, and its kind TooManyMarks for a canvas of more than MAX_MARKS
        separate marks: noise, not writing.
        """
        boxes, images = extract_digits(canvas)
        if not boxes:
            return []
        pictures = self.predict_images(images)
        readings = [{PICTURE: p} for p in pictures]
        combined = pictures
        if strokes is not None and self.path_model is not None:
            combined = self._with_paths(pictures, digit_strokes(strokes, boxes), readings)
        return [
            Digit(
                label=int(p.argmax()),
                confidence=float(p.max()),
                probabilities=p,
                box=tuple(int(v) for v in box),
                image=image,
                readings=reading,
            )
            for box, image, p, reading in zip(boxes, images, combined, readings, strict=True)
        ]

    def _with_paths(self, pictures, owned, readings):
        """The combined probabilities: the path read for each digit holding strokes (a mark
        drawn over another's box may hold none) and noted in its readings."""
        drawn = [i for i, digit in enumerate(owned) if digit]
        if not drawn:
            return pictures
        paths = self.predict_paths([owned[i] for i in drawn])
        combined = pictures.copy()
        combined[drawn] = fusion.combine(pictures[drawn], paths)
        for i, p in zip(drawn, paths, strict=True):
            readings[i][PATH] = p
        return combined


def _optional_path_model(model_path):
    """The path model, or None where its file is not there (an app without one reads the
    picture alone); ModelError for a file that is there but cannot be read."""
    if model_path is None or not Path(model_path).exists():
        return None
    return load_exported(model_path, input_shape=(POINTS, FEATURES))
