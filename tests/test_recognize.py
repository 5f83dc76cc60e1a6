"""The recognizer on real MNIST handwriting drawn with the app's pen, and on bad input.

Digits are MNIST shapes (the `mnist_sample` fixture, no ../shared needed) turned into pen
strokes by deeplearning.pen_data.replay and drawn on a canvas with the app's 14 px round pen. The
tests use the shipped model (the `recognizer` fixture).
"""

import contextlib
import signal
import time

import cv2
import numpy as np
import pytest
from path_stand_in import sure_of, write_path_model

from deeplearning.pen_data.tracing import image_to_strokes
from deeplearning.reading import fusion, recognize
from deeplearning.reading.path import path_batch
from deeplearning.reading.pen import place_strokes, render
from deeplearning.reading.recognize import (
    Digit,
    Recognizer,
    TooManyMarks,
    find_digit_boxes,
    ink_mask,
    normalize_digit,
)
from deeplearning.reading.strokes import digit_strokes
from deeplearning.training.model import ModelError

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
    real = recognizer.model.predict

    def counting(batch):
        calls.append(int(batch.shape[0]))
        return real(batch)

    monkeypatch.setattr(recognizer.model, "predict", counting)
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


def test_a_digit_as_tall_as_the_app_asks_for_is_never_skipped(strokes_of, mnist_sample):
    """The app asks for digits at least READ_HEIGHT px tall when it reads nothing of the ink
    on its canvas: ten handwritten digits of each kind are read at that height, and a digit
    well under it is skipped like a dot."""
    _, labels = mnist_sample
    for label in range(10):
        for index in np.flatnonzero(labels == label)[:10]:
            canvas = lay_out(strokes_of, [index], recognize.READ_HEIGHT, 0, x=300, y=300)
            assert len(recognize.extract_digits(canvas)[0]) >= 1, (label, index)
    three = np.flatnonzero(labels == 3)[0]
    assert recognize.extract_digits(lay_out(strokes_of, [three], 30, 0))[0] == []


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
    assert "python -m deeplearning train" in str(error.value)


# --- grouping: the same groups as the plain loop, in bounded time -------------------------------


def plain_merge(groups, rule, reach):
    """The rule-by-rule merge the Recognizer's grouping must agree with: after every merge,
    start again from the leftmost box (slow on many marks, but plainly right)."""
    merged = True
    while merged:
        merged = False
        groups.sort(key=lambda group: group[1][0])
        for i, (labels, a) in enumerate(groups):
            for j in range(i + 1, len(groups)):
                b = groups[j][1]
                if b[0] > a[2] + reach:
                    break
                if rule(a, b):
                    box = (min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3]))
                    groups[i] = (labels + groups[j][0], box)
                    del groups[j]
                    merged = True
                    break
            if merged:
                break
    return groups


def plain_grouping(stats):
    groups = [
        ([i + 1], (int(x), int(y), int(x + w), int(y + h)))
        for i, (x, y, w, h, _) in enumerate(stats)
    ]
    groups = plain_merge(groups, recognize._parts_overlap, 0)
    tallest = max((recognize._height(box) for _, box in groups), default=0)
    groups = plain_merge(groups, recognize._top_bar, recognize.TOP_GAP * tallest)
    groups = plain_merge(groups, recognize._left_part, recognize.LEFT_GAP * tallest)
    groups.sort(key=lambda group: (group[1][0] + group[1][2]) / 2)
    return groups


def component_stats(canvas):
    count, _, stats, _ = cv2.connectedComponentsWithStats(ink_mask(canvas), connectivity=8)
    return stats[1:count]


def crowded_canvas(strokes_of, rng, count):
    """Sample digits of any size anywhere, many partly off the canvas, and pen clicks."""
    strokes = []
    for _ in range(count):
        height = rng.uniform(30, 300)
        x, y = rng.uniform(-60, 620, 2)
        strokes += place_strokes(strokes_of(int(rng.integers(300))), height, x, y)
    strokes += [[tuple(rng.uniform(-10, 650, 2))] for _ in range(rng.integers(0, 10))]
    return render(strokes)


def test_the_same_groups_as_the_plain_merge_on_drawn_canvases(single_cases, strokes_of):
    rng = np.random.default_rng(SEED)
    canvases = [canvas for canvas, _ in single_cases]
    canvases += [
        lay_out(strokes_of, rng.choice(300, rng.integers(2, 5)), 120, 30) for _ in range(40)
    ]
    canvases += [crowded_canvas(strokes_of, rng, int(rng.integers(3, 20))) for _ in range(80)]
    for canvas in canvases:
        stats = component_stats(canvas)
        assert recognize.group_components(stats, canvas.shape) == plain_grouping(stats)


def test_the_same_groups_as_the_plain_merge_on_any_boxes():
    """The sweep is exact, not only on digits: random boxes of every size and place."""
    rng = np.random.default_rng(SEED)
    for _ in range(300):
        count = int(rng.integers(1, 60))
        x, y = rng.integers(0, 600, (2, count))
        w, h = rng.integers(1, rng.integers(2, 300), (2, count))
        stats = np.stack([x, y, w, h, w * h], axis=1)
        assert recognize.group_components(stats) == plain_grouping(stats)


@contextlib.contextmanager
def time_limit(seconds):
    """Fail, rather than wait, when the block takes longer than `seconds`."""

    def too_slow(signum, frame):
        raise TimeoutError(f"took more than {seconds} s")

    previous = signal.signal(signal.SIGALRM, too_slow)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def noise_canvases():
    rng = np.random.default_rng(SEED)
    canvases = {}
    for ink in (0.02, 0.05, 0.3, 0.45):
        canvases[f"{ink:.0%} random ink"] = np.where(rng.random((640, 640)) < ink, 0, 255)
    dashes = blank()
    for _ in range(3000):
        x, y = (int(v) for v in rng.integers(0, 630, 2))
        cv2.line(dashes, (x, y), (x, y + int(rng.integers(3, 12))), 0, 1)
    canvases["3000 short dashes"] = dashes
    canvases["200 digit-sized dashes"] = dash_grid(recognize.MAX_MARKS)
    return canvases


def dash_grid(count):
    """`count` separate 21 px dashes in rows: each one big enough to be read as a digit."""
    canvas = blank()
    places = [(x, y) for y in range(5, 640, 32) for x in range(5, 620, 26)][:count]
    for x, y in places:
        cv2.line(canvas, (x, y), (x + 20, y), 0, 2)
    return canvas


@pytest.mark.parametrize("name", list(noise_canvases()))
def test_any_canvas_is_read_well_under_a_second(recognizer, name):
    canvas = noise_canvases()[name].astype(np.uint8)
    recognizer.recognize(blank())  # warm
    start = time.perf_counter()
    with time_limit(5):
        try:
            digits = recognizer.recognize(canvas)
        except TooManyMarks:
            digits = None
    assert time.perf_counter() - start < 1.0
    if name == "200 digit-sized dashes":
        assert digits is not None and len(digits) == recognize.MAX_MARKS


def test_too_many_marks_is_a_clear_answer(recognizer):
    with pytest.raises(TooManyMarks, match=r"holds 201 separate marks, more than the 200"):
        recognizer.recognize(dash_grid(recognize.MAX_MARKS + 1))
    assert issubclass(TooManyMarks, ValueError)


def test_more_marks_than_16_bit_labels_hold_are_labelled_all_the_same(recognizer, strokes_of):
    """About 90,000 one-pixel specks around a digit: past 65,535 marks the labels are 32-bit,
    and the specks are left out as ever."""
    clean = lay_out(strokes_of, [7], 200, 0, x=200, y=200)
    canvas = clean.copy()
    specks = np.ones_like(canvas, dtype=bool)
    specks[1:-2:2, 1:-2:2] = False  # every other pixel of every other row, none at the edge
    specks[150:450, 150:450] = True  # not over the digit
    canvas[~specks] = 0
    count, labels, _ = recognize.label_components(recognize.ink_mask(canvas))
    assert count > 65_536 and labels.dtype == np.int32
    read = recognizer.recognize(canvas)
    assert len(read) == 1 and read[0].box == recognizer.recognize(clean)[0].box


def test_specks_are_left_out_but_not_at_the_edge(recognizer, strokes_of):
    canvas = lay_out(strokes_of, [0], 200, 0, x=100, y=100)
    clean = recognizer.recognize(canvas)
    dusty = canvas.copy()
    for x, y in np.random.default_rng(SEED).integers(60, 600, (150, 2)):
        dusty[y : y + 2, x : x + 2] = 0  # 2x2 specks, some inside the digit's box
    assert [(d.box, d.label) for d in recognizer.recognize(dusty)] == [
        (d.box, d.label) for d in clean
    ]
    assert np.array_equal(recognizer.recognize(dusty)[0].image, clean[0].image)
    # A lone pixel is left out inside the canvas; at its edge, where the pen may leave one
    # (a dot 7 px off the canvas), it is kept as it always was.
    boxes = find_digit_boxes(ink_mask(canvas))
    x, y, w, h = clean[0].box
    inside, edge = canvas.copy(), canvas.copy()
    inside[y + h // 2, 50] = edge[y + h // 2, 0] = 0
    assert find_digit_boxes(ink_mask(inside)) == boxes
    assert find_digit_boxes(ink_mask(edge)) == [(0, y + h // 2, 1, 1), *boxes]


# --- the path model beside the picture --------------------------------------------------------

# A 1 with a long flag: the picture reads 1 (p 0.67) but finds 7 likely too (p 0.33).
ONE_OR_SEVEN = [[(250, 230), (330, 200), (330, 500)]]


@pytest.fixture
def path_reader(tmp_path):
    """A Recognizer on the shipped CNN and a stand-in path model sure of `label`."""

    def reader(label):
        path = write_path_model(tmp_path / f"path_{label}.onnx", bias=sure_of(label))
        return Recognizer(path_model_path=path)

    return reader


def test_without_a_path_model_file_the_picture_reads_alone(tmp_path):
    reader = Recognizer(path_model_path=tmp_path / "path_cnn.keras")
    assert reader.path_model is None
    [digit] = reader.recognize(render(ONE_OR_SEVEN), ONE_OR_SEVEN)
    assert list(digit.readings) == ["picture"] and digit.label == 1


def test_a_damaged_path_model_is_named(tmp_path):
    damaged = tmp_path / "path_cnn.onnx"
    damaged.write_bytes(b"not a model")
    with pytest.raises(ModelError, match="path_cnn.onnx: not a readable ONNX model"):
        Recognizer(path_model_path=damaged)


def test_where_the_picture_is_unsure_the_path_decides(path_reader):
    [digit] = path_reader(7).recognize(render(ONE_OR_SEVEN), ONE_OR_SEVEN)
    picture = digit.readings["picture"]
    assert picture.argmax() == 1 and picture.max() < fusion.PICTURE_UNSURE  # unsure
    assert digit.readings["path"].argmax() == 7
    assert digit.label == 7 and digit.probabilities.argmax() == 7


def test_a_digit_the_picture_does_not_see_is_never_read(path_reader):
    [digit] = path_reader(3).recognize(render(ONE_OR_SEVEN), ONE_OR_SEVEN)
    assert digit.readings["path"].argmax() == 3
    assert digit.label == 1


def test_without_strokes_the_picture_reads_alone(path_reader):
    [digit] = path_reader(7).recognize(render(ONE_OR_SEVEN))
    assert list(digit.readings) == ["picture"] and digit.label == 1


def test_each_model_reads_every_digit_in_one_call(path_reader, strokes_of, monkeypatch):
    reader = path_reader(7)
    strokes = []
    for k, index in enumerate([0, 1, 2]):
        strokes += place_strokes(strokes_of(index), 120, 40 + 200 * k, 200)
    calls = {"picture": [], "path": []}

    def counting(name, real):
        def predict(batch):
            calls[name].append(batch.copy())
            return real(batch)

        return predict

    monkeypatch.setattr(reader.model, "predict", counting("picture", reader.model.predict))
    monkeypatch.setattr(reader.path_model, "predict", counting("path", reader.path_model.predict))
    digits = reader.recognize(render(strokes), strokes)
    assert len(digits) == 3 and [len(c) for c in calls.values()] == [1, 1]
    # Each digit's own strokes, in drawing order, left to right as the digits.
    owned = digit_strokes(strokes, [d.box for d in digits])
    np.testing.assert_array_equal(calls["path"][0], path_batch(owned))
    assert all(set(d.readings) == {"picture", "path"} for d in digits)
