"""The recognizer on real MNIST handwriting drawn with the app's pen, and on bad input.

Digits are MNIST shapes (the `mnist_sample` fixture, no ../shared needed) turned into pen
strokes by deeplearning.replay and drawn on a canvas with the app's 14 px round pen. The
tests use the shipped model (the `recognizer` fixture).
"""

import numpy as np
import pytest

from deeplearning.model import ModelError
from deeplearning.pen import place_strokes, render
from deeplearning.recognize import Digit, Recognizer, find_digit_boxes, ink_mask, normalize_digit
from deeplearning.tracing import image_to_strokes

CANVAS = (640, 640)  # (width, height), as in the app
PEN_RADIUS = 7
SINGLE_COUNT = 200
SINGLE_ACCURACY = 0.95
NUMBER_COUNT = 40
NUMBER_ACCURACY = 0.90
SEED = 0


@pytest.fixture(scope="module")
def strokes_of(mnist_sample):
    """Pen strokes of sample image i (in its 28x28 frame), each traced once."""
    images, _ = mnist_sample
    cache = {}

    def strokes(index):
        if index not in cache:
            cache[index] = image_to_strokes(images[index])
        return cache[index]

    return strokes


def blank(size=CANVAS):
    return np.full((size[1], size[0]), 255, np.uint8)


def draw(canvas, strokes):
    """Draw canvas-pixel strokes with the app's pen onto `canvas` (in place)."""
    canvas &= render(strokes, canvas_size=(canvas.shape[1], canvas.shape[0]), pen_radius=PEN_RADIUS)
    return canvas


def polyline_canvas(*strokes, size=CANVAS):
    """A canvas with hand-made strokes, each a list of (x, y) canvas points."""
    return draw(blank(size), [[(float(x), float(y)) for x, y in stroke] for stroke in strokes])


def read(digits):
    return "".join(str(d.label) for d in digits)


def centres(digits):
    """The digits' box centres, left to right being the order recognize() promises."""
    return [d.box[0] + d.box[2] / 2 for d in digits]


# --- single digits and numbers ----------------------------------------------------------------


@pytest.fixture(scope="module")
def single_cases(mnist_sample, strokes_of):
    """SINGLE_COUNT canvases, each one sample digit 110-460 px tall somewhere on the canvas."""
    _, labels = mnist_sample
    rng = np.random.default_rng(SEED)
    cases = []
    for index in range(SINGLE_COUNT):
        height = rng.uniform(110, 460)
        strokes = place_strokes(strokes_of(index), height, 0, 0)
        width = max(x for s in strokes for x, _ in s) + PEN_RADIUS
        height = min(height, CANVAS[1] - 2)
        x = rng.uniform(0, max(CANVAS[0] - width - 1, 0))
        y = rng.uniform(0, CANVAS[1] - height - 1)
        canvas = render(place_strokes(strokes_of(index), height, x, y))
        cases.append((canvas, int(labels[index])))
    return cases


def test_reads_single_drawn_digits(recognizer, single_cases):
    right = sum(read(recognizer.recognize(canvas)) == str(label) for canvas, label in single_cases)
    assert right / len(single_cases) >= SINGLE_ACCURACY, f"{right}/{len(single_cases)} right"


def test_digit_fields(recognizer, single_cases):
    canvas, _ = single_cases[0]
    (digit,) = recognizer.recognize(canvas)
    assert isinstance(digit, Digit)
    assert digit.probabilities.shape == (10,)
    assert digit.probabilities.sum() == pytest.approx(1.0, abs=1e-4)
    assert digit.label == int(np.argmax(digit.probabilities))
    assert digit.confidence == pytest.approx(float(digit.probabilities.max()))
    second, probability = digit.runner_up
    assert second != digit.label and probability <= digit.confidence
    # The box is the ink's bounding box on the canvas.
    ys, xs = np.nonzero(canvas < 128)
    assert digit.box == (xs.min(), ys.min(), xs.max() - xs.min() + 1, ys.max() - ys.min() + 1)


def test_image_is_mnist_like(recognizer, single_cases):
    """28x28 uint8, ink bright on black, longer side about 20 px, centre of mass at the middle."""
    for canvas, _ in single_cases[:20]:
        (digit,) = recognizer.recognize(canvas)
        image = digit.image
        assert image.shape == (28, 28) and image.dtype == np.uint8
        assert image.max() >= 200 and np.median(image) == 0  # bright ink, black background
        assert image[[0, 0, -1, -1], [0, -1, 0, -1]].max() == 0
        ys, xs = np.nonzero(image)
        assert 19 <= max(np.ptp(ys), np.ptp(xs)) + 1 <= 23
        weights = image.astype(float)
        row = (weights.sum(1) * np.arange(28)).sum() / weights.sum()
        col = (weights.sum(0) * np.arange(28)).sum() / weights.sum()
        assert abs(row - 14) < 0.6 and abs(col - 14) < 0.6


def test_stroke_width_does_not_depend_on_drawing_size(strokes_of):
    """The same digit drawn 110 and 460 px tall gives nearly the same 28x28 image."""
    images = []
    for height in (110, 460):
        canvas = render(place_strokes(strokes_of(0), height, 50, 50))
        images.append(normalize_digit(ink_mask(canvas)).astype(float))
    small, large = images
    assert abs(small.sum() - large.sum()) / large.sum() < 0.15
    assert np.corrcoef(small.ravel(), large.ravel())[0, 1] > 0.9


def lay_out(strokes_of, indices, height, gap, x=20, y=150):
    """Sample digits written left to right at one height with `gap` px between their ink."""
    canvas = blank()
    for index in indices:
        strokes = place_strokes(strokes_of(index), height, x, y)
        draw(canvas, strokes)
        x = max(px for s in strokes for px, _ in s) + PEN_RADIUS + gap
    return canvas


def test_reads_numbers_left_to_right(recognizer, mnist_sample, strokes_of):
    _, labels = mnist_sample
    rng = np.random.default_rng(SEED)
    right = 0
    for _ in range(NUMBER_COUNT):
        indices = rng.choice(np.arange(SINGLE_COUNT, 1000), size=rng.integers(2, 5), replace=False)
        height = rng.uniform(110, 140)
        canvas = lay_out(strokes_of, indices, height, gap=rng.uniform(0.1, 0.4) * height)
        digits = recognizer.recognize(canvas)
        assert centres(digits) == sorted(centres(digits))
        right += read(digits) == "".join(str(labels[i]) for i in indices)
    assert right / NUMBER_COUNT >= NUMBER_ACCURACY, f"{right}/{NUMBER_COUNT} right"


def test_one_batched_model_call(recognizer, strokes_of, monkeypatch):
    calls = []
    real = recognizer._call

    def counting(batch):
        calls.append(int(batch.shape[0]))
        return real(batch)

    monkeypatch.setattr(recognizer, "_call", counting)
    monkeypatch.setattr(recognizer.model, "predict", None)  # too slow for the app: never used
    assert len(recognizer.recognize(lay_out(strokes_of, [0, 1, 2], 120, 40))) == 3
    assert calls == [3]
    assert recognizer.recognize(blank()) == [] and calls == [3]


# --- grouping strokes into digits ---------------------------------------------------------------


def test_a_four_in_two_strokes_is_one_digit(recognizer):
    canvas = polyline_canvas([(300, 150), (250, 330), (420, 330)], [(380, 200), (380, 460)])
    assert read(recognizer.recognize(canvas)) == "4"


def test_a_seven_with_a_cross_bar_is_one_digit(recognizer):
    canvas = polyline_canvas([(220, 150), (420, 150), (300, 460)], [(290, 300), (400, 300)])
    assert read(recognizer.recognize(canvas)) == "7"


def test_a_five_with_a_detached_top_bar_is_one_digit(recognizer):
    body = [(260, 160), (250, 290), (330, 270), (390, 320), (390, 400), (330, 450), (250, 430)]
    for bar in ([(270, 150), (400, 150)], [(290, 140), (420, 130)]):  # over the body; past it
        canvas = polyline_canvas(body, bar)
        assert read(recognizer.recognize(canvas)) == "5", bar


def test_close_digits_stay_apart(recognizer):
    """'11' and '41' written with only a few px between them are still two digits."""
    ones = polyline_canvas([(200, 150), (200, 450)], [(240, 150), (240, 450)])
    assert read(recognizer.recognize(ones)) == "11"
    four = [(200, 150), (160, 330), (300, 330)], [(270, 200), (270, 450)]
    four_one = polyline_canvas(*four, [(330, 150), (330, 450)])
    assert read(recognizer.recognize(four_one)) == "41"


def test_find_digit_boxes_groups_strokes():
    canvas = polyline_canvas(
        [(100, 150), (60, 330), (200, 330)], [(170, 200), (170, 450)], [(400, 150), (400, 450)]
    )
    boxes = find_digit_boxes(ink_mask(canvas))
    assert len(boxes) == 2
    assert boxes[0][0] < boxes[1][0]
    assert boxes[1] == (393, 143, 15, 315)


# --- marks that are not digits, and odd input ----------------------------------------------------


def test_empty_canvas(recognizer):
    assert recognizer.recognize(blank()) == []


def test_dots_and_clicks_are_skipped(recognizer):
    assert recognizer.recognize(polyline_canvas([(320, 320)])) == []
    assert recognizer.recognize(polyline_canvas([(320, 320), (330, 322)])) == []
    speck = blank()
    speck[100:103, 100:103] = 0
    assert recognizer.recognize(speck) == []


def test_a_dot_beside_a_digit_is_not_a_digit(recognizer, strokes_of):
    canvas = lay_out(strokes_of, [0], 200, 0, x=100, y=100)
    alone = recognizer.recognize(canvas)
    draw(canvas, [[(500.0, 500.0)]])
    assert read(recognizer.recognize(canvas)) == read(alone)


def test_scribble_is_read_without_error(recognizer):
    rng = np.random.default_rng(SEED)
    canvas = polyline_canvas(rng.uniform(100, 540, (40, 2)).tolist())
    digits = recognizer.recognize(canvas)
    assert len(digits) >= 1 and all(0 <= d.label <= 9 for d in digits)


def test_digit_touching_the_edges(recognizer, mnist_sample, strokes_of):
    _, labels = mnist_sample
    width = max(x for s in place_strokes(strokes_of(3), 300, 0, 0) for x, _ in s) + PEN_RADIUS
    for x, y in ((-3, -3), (CANVAS[0] - width + 3, CANVAS[1] - 297)):
        digits = recognizer.recognize(render(place_strokes(strokes_of(3), 300, x, y)))
        assert read(digits) == str(labels[3])


def test_huge_and_tiny_digits(recognizer, mnist_sample, strokes_of):
    _, labels = mnist_sample
    huge = render(place_strokes(strokes_of(1), 640, 100, 0))
    assert read(recognizer.recognize(huge)) == str(labels[1])
    tiny = render(place_strokes(strokes_of(1), 30, 300, 300))
    assert len(recognizer.recognize(tiny)) <= 1


def test_twenty_digits(recognizer, strokes_of):
    canvas = blank()
    for row in range(4):  # rows of 100 px digits, 60 px apart
        canvas &= lay_out(strokes_of, range(5 * row, 5 * row + 5), 100, 20, x=10, y=10 + 160 * row)
    digits = recognizer.recognize(canvas)
    assert len(digits) == 20
    assert centres(digits) == sorted(centres(digits))


def test_other_canvas_sizes(recognizer, mnist_sample, strokes_of):
    _, labels = mnist_sample
    canvas = draw(blank((300, 500)), place_strokes(strokes_of(5), 250, 60, 100))
    assert canvas.shape == (500, 300)
    assert read(recognizer.recognize(canvas)) == str(labels[5])
    assert recognizer.recognize(blank((1, 1))) == []
    assert recognizer.recognize(np.zeros((0, 0), np.uint8)) == []


def test_other_dtypes_are_converted(recognizer, single_cases):
    canvas, _ = single_cases[1]
    expected = recognizer.recognize(canvas)
    for other in (canvas.astype(np.float64), canvas / 255.0, canvas.astype(np.int32), canvas > 128):
        digits = recognizer.recognize(other)
        assert read(digits) == read(expected)
        assert [d.box for d in digits] == [d.box for d in expected]


@pytest.mark.parametrize("shape", [(640,), (640, 640, 3), (1, 640, 640), ()])
def test_wrong_dimensions_raise_value_error(recognizer, shape):
    with pytest.raises(ValueError, match="2-D"):
        recognizer.recognize(np.full(shape, 255, np.uint8))


def test_missing_model_file(tmp_path):
    missing = tmp_path / "nowhere.keras"
    with pytest.raises(ModelError) as error:
        Recognizer(missing)
    assert str(missing) in str(error.value)
    assert "python -m deeplearning.train" in str(error.value)
