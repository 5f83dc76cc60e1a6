"""Why a digit was read as it was: which parts of its ink spoke for the label and for the
runner-up, what each convolutional block of the CNN made of it, and which stretches of the
pen's path the path model heeded. No window: the app's view and the `explain` command draw
what `Inspector.look` finds.

The evidence is found by occlusion: copies of the 28x28 image, each with one PATCH x PATCH
square blanked, go through the CNN in one batch, and each pixel is given the mean drop, over
the squares that cover it, of the label's (and the runner-up's) probability. Red parts are
those whose loss would lower it, blue ones those whose loss would raise it. Grad-CAM was
the other choice, but on this network its maps are those of the last blocks, 14x14 and
7x7 pixels wide, too coarse to point at a stroke, and ONNX Runtime gives no gradients;
occlusion needs only forward passes, which the app already makes, and the same idea
colours the path model's path: a stretch of the resampled path is replaced by the pen
lifted over it, and what the reading loses there is how much that stretch counted.

The activations come from an in-memory copy of the CNN's ONNX export whose convolutions'
outputs are made outputs of the graph too: each block is described from its real weights
and maps, so that a retrained model of another shape is described as it is.
"""

from dataclasses import dataclass

import cv2
import numpy as np

from deeplearning.reading.images import IMAGE_SIZE, to_model_input
from deeplearning.reading.path import POINTS, path_features
from deeplearning.reading.recognize import PATH, PICTURE
from deeplearning.reading.runtime import session
from deeplearning.reading.strokes import digit_strokes

PATCH = 6  # px of the 28x28 image blanked at a time: about two strokes' width there ...
STRIDE = 2  # ... every this many px: 12 x 12 squares, of which those holding ink are read
PATH_STRETCH = 8  # resampled points of the path lifted at a time (an eighth of it) ...
PATH_STRIDE = 2  # ... every this many points
INK = 0  # a pixel of the 28x28 image brighter than this holds ink
COMBINED = "combined"  # the readings' name for the two models' readings combined
# What a block's filters respond to, by where it lies: the first sees the pixels, the last
# feeds the dense layers; the words, not the figures, are the only thing said from theory.
FIRST_WORDS = "edges and strokes"
MIDDLE_WORDS = "strokes joined: curves, corners"
LAST_WORDS = "parts of digits: loops, bars, ends"


@dataclass
class Block:
    """One convolutional block's activations for one digit."""

    filters: int
    kernel: tuple  # (height, width)
    maps: np.ndarray  # (filters, height, width) float32, after the block's ReLU

    @property
    def words(self):
        """ "32 filters, 5x5, 28x28 maps" (what the graph holds)."""
        kh, kw = self.kernel
        h, w = self.maps.shape[1:]
        return f"{self.filters} filters, {kh}x{kw}, {h}x{w} maps"


@dataclass
class PathView:
    """The path model's view of a digit: its resampled path, and how much each point counted."""

    points: np.ndarray  # (POINTS, 2): x, y centred on the digit and scaled to its longer side
    pen_down: np.ndarray  # (POINTS,) bool: on a stroke, not a jump between strokes
    heat: np.ndarray  # (2, POINTS): the drop of the label's and the runner-up's probability


@dataclass
class Inside:
    """What Inspector.look found for one digit."""

    label: int  # the digit read (both models combined where both read it) ...
    runner_up: int  # ... and the next most likely
    readings: (
        dict  # PICTURE, PATH (where it read), COMBINED (where both did) -> (10,) probabilities
    )
    image: np.ndarray  # (28, 28) uint8, as the CNN saw it
    heat: np.ndarray  # (2, 28, 28): the drop of the label's and the runner-up's probability
    crop: np.ndarray  # the digit's box on the canvas, uint8, 255 paper
    crop_heat: np.ndarray  # (2, height, width): `heat` laid over the crop
    blocks: list  # Block per convolutional block, input side first
    path: PathView | None  # None where the path model did not read the digit


# --- the picture ------------------------------------------------------------------------


def occlusion_squares(image):
    """The (row, column) corners of the PATCH x PATCH squares, STRIDE apart, that hold ink:
    blanking a square of background changes nothing, so only these are read."""
    last = IMAGE_SIZE - PATCH
    corners = [(r, c) for r in range(0, last + 1, STRIDE) for c in range(0, last + 1, STRIDE)]
    ink = np.asarray(image) > INK
    return [(r, c) for r, c in corners if ink[r : r + PATCH, c : c + PATCH].any()]


def occluded_copies(image, squares):
    """uint8 (len(squares), 28, 28): a copy of the image per square, that square blanked."""
    copies = np.repeat(np.asarray(image, np.uint8)[None], len(squares), axis=0)
    for copy, (r, c) in zip(copies, squares, strict=True):
        copy[r : r + PATCH, c : c + PATCH] = 0
    return copies


def picture_heat(predict, image, classes):
    """(len(classes), 28, 28) float32: per pixel, the mean drop of each class's probability
    when a square covering it is blanked. `predict`: uint8 images (N, 28, 28) -> (N, 10)."""
    squares = occlusion_squares(image)
    heat = np.zeros((len(classes), IMAGE_SIZE, IMAGE_SIZE), np.float32)
    if not squares:
        return heat
    probabilities = predict(
        np.concatenate([np.asarray(image, np.uint8)[None], occluded_copies(image, squares)])
    )
    drops = probabilities[0, classes][None, :] - probabilities[1:, classes]  # (squares, classes)
    cover = np.zeros((IMAGE_SIZE, IMAGE_SIZE), np.float32)
    for (r, c), drop in zip(squares, drops, strict=True):
        heat[:, r : r + PATCH, c : c + PATCH] += drop[:, None, None]
        cover[r : r + PATCH, c : c + PATCH] += 1
    # Pixels no square with ink covers are background far from the digit: no evidence.
    return np.divide(heat, cover, out=np.zeros_like(heat), where=cover > 0)


def ink_bounds(image):
    """(left, top, right, bottom) of the ink of a 28x28 image, pixel edges; None if blank."""
    rows, columns = np.nonzero(np.asarray(image) > INK)
    if not len(rows):
        return None
    return columns.min(), rows.min(), columns.max() + 1, rows.max() + 1


def on_canvas(heat, image, box):
    """Heat maps (K, 28, 28) of a digit's image laid over its box on the canvas: (K, h, w).

    The image is the digit cropped, scaled and centred, with its strokes' width evened out;
    the ink's bounds in the image are mapped onto the box, which bounds the same ink."""
    _, _, width, height = box
    bounds = ink_bounds(image)
    if bounds is None:
        return np.zeros((len(heat), height, width), np.float32)
    left, top, right, bottom = bounds
    scale_x, scale_y = width / (right - left), height / (bottom - top)
    to_box = np.float32([[scale_x, 0, -left * scale_x], [0, scale_y, -top * scale_y]])
    return np.stack(
        [
            cv2.warpAffine(np.float32(m), to_box, (width, height), flags=cv2.INTER_LINEAR)
            for m in heat
        ]
    )


# --- the path ---------------------------------------------------------------------------


def with_pen_lifted(features, start, stop):
    """A copy of a path's features (POINTS, 5) with the pen lifted over points start..stop-1:
    the pen goes straight from the point before to the point after without ink, as if that
    stretch had never been drawn."""
    lifted = np.array(features, np.float32)
    before = lifted[start - 1, :2] if start > 0 else lifted[stop, :2]
    after = lifted[stop, :2] if stop < POINTS else before
    steps = np.linspace(0.0, 1.0, stop - start + 2)[1:-1, None]
    lifted[start:stop, :2] = before + steps * (after - before)
    jump = after - before
    length = float(np.hypot(*jump))
    lifted[start:stop, 2:4] = jump / length if length > 1e-12 else 0.0
    lifted[start:stop, 4] = 0.0
    return lifted


def path_heat(predict, features, classes):
    """(len(classes), POINTS) float32: per point, the mean drop of each class's probability
    when a stretch holding it is lifted. `predict`: float32 (N, POINTS, 5) -> (N, 10)."""
    starts = range(0, POINTS - PATH_STRETCH + 1, PATH_STRIDE)
    batch = [features] + [with_pen_lifted(features, s, s + PATH_STRETCH) for s in starts]
    probabilities = np.asarray(predict(np.stack(batch).astype(np.float32)))
    drops = probabilities[0, classes][None, :] - probabilities[1:, classes]
    heat = np.zeros((len(classes), POINTS), np.float32)
    cover = np.zeros(POINTS, np.float32)
    for start, drop in zip(starts, drops, strict=True):
        heat[:, start : start + PATH_STRETCH] += drop[:, None]
        cover[start : start + PATH_STRETCH] += 1
    return heat / cover


# --- the blocks -------------------------------------------------------------------------


def block_words(index, count):
    """What the filters of block `index` (of `count`, input side first) pick out."""
    if index == 0:
        return FIRST_WORDS
    return LAST_WORDS if index == count - 1 else MIDDLE_WORDS


FOLLOWED = ("Relu", "QuantizeLinear", "DequantizeLinear")  # a block's map is after these


class Activations:
    """The CNN's export with its convolutions' activations as outputs too, in a session of
    its own: one thread, leaving the other core to the window and the reader."""

    def __init__(self, model_path):
        import onnx  # a second and more to import: only once the view is opened

        model = onnx.load(str(model_path))
        graph = model.graph
        weights = {tensor.name: tuple(tensor.dims) for tensor in graph.initializer}
        # The CNN's export is in 8-bit integers: a weight comes through a DequantizeLinear
        # node, and the ReLU is the clamp of the QuantizeLinear after the Conv.
        for node in graph.node:
            if node.op_type == "DequantizeLinear" and node.input[0] in weights:
                weights[node.output[0]] = weights[node.input[0]]
        consumers = {name: node for node in graph.node for name in node.input}
        self.shapes = []  # (filters, (kh, kw)) per block
        outputs = []
        for node in graph.node:
            if node.op_type != "Conv" or len(weights.get(node.input[1], ())) != 4:
                continue  # a path model's 1-D convolutions are no picture's blocks
            filters, _, kh, kw = weights[node.input[1]]
            output = node.output[0]
            after = consumers.get(output)
            while after is not None and after.op_type in FOLLOWED:
                output = after.output[0]
                after = consumers.get(output)
            self.shapes.append((filters, (kh, kw)))
            outputs.append(output)
        self.probabilities = graph.output[0].name
        graph.output.extend(onnx.helper.make_empty_tensor_value_info(name) for name in outputs)
        self.outputs = outputs
        self.session = session(model.SerializeToString(), threads=1)
        self.input_name = self.session.get_inputs()[0].name

    def predict(self, images):
        """uint8 images (N, 28, 28) -> probabilities (N, 10): the CNN alone."""
        feed = {self.input_name: to_model_input(images)}
        return self.session.run([self.probabilities], feed)[0]

    def blocks(self, image):
        """Block per convolution, input side first, for one 28x28 uint8 image."""
        feed = {self.input_name: to_model_input(np.asarray(image)[None])}
        maps = self.session.run(self.outputs, feed)
        return [
            Block(filters, kernel, _channels_first(m[0], filters))
            for (filters, kernel), m in zip(self.shapes, maps, strict=True)
        ]


def _channels_first(maps, filters):
    """(filters, h, w) from one image's maps, which an export may keep channels last."""
    return maps if maps.shape[0] == filters else np.moveaxis(maps, -1, 0)


class Inspector:
    """Looks inside the reading of one digit with a Recognizer's models."""

    def __init__(self, recognizer):
        self.recognizer = recognizer
        self.activations = Activations(recognizer.model.path)

    def look(self, canvas, digits, index, strokes=None):
        """Inside for digits[index] of a reading of `canvas` (2-D uint8, 255 paper) and its
        `strokes` (canvas points, drawing order; None without them)."""
        digit = digits[index]
        label, runner_up = int(digit.label), digit.runner_up[0]
        classes = [label, runner_up]
        heat = picture_heat(self.activations.predict, digit.image, classes)
        x, y, w, h = digit.box
        readings = dict(digit.readings)
        path = None
        if PATH in readings and strokes is not None:
            own = digit_strokes(strokes, [d.box for d in digits])[index]
            path = self._path_view(own, classes) if own else None
            readings[COMBINED] = digit.probabilities
        return Inside(
            label=label,
            runner_up=runner_up,
            readings={
                name: readings[name] for name in (PICTURE, PATH, COMBINED) if name in readings
            },
            image=digit.image,
            heat=heat,
            crop=np.asarray(canvas)[y : y + h, x : x + w].copy(),
            crop_heat=on_canvas(heat, digit.image, digit.box),
            blocks=self.activations.blocks(digit.image),
            path=path,
        )

    def _path_view(self, strokes, classes):
        features = path_features(strokes)
        return PathView(
            points=features[:, :2].copy(),
            pen_down=features[:, 4] > 0.5,
            heat=path_heat(self.recognizer.path_model.predict, features, classes),
        )
