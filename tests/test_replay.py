"""Replay: MNIST images -> pen strokes -> the app's canvas, the cases and the command."""

import gzip
import json
from types import SimpleNamespace

import cv2
import numpy as np
import pytest

from deeplearning.datasets.mnist import mnist_to_csvs
from deeplearning.pen_data import replay, tracing
from deeplearning.reading import pen

SAMPLE = 200  # images per geometry test: enough shapes, still quick


def components(mask, connectivity):
    return cv2.connectedComponents(mask.astype(np.uint8), connectivity=connectivity)[0] - 1


def neighbour_count(mask):
    padded = np.pad(mask, 1).astype(int)
    h, w = mask.shape
    return sum(padded[1 + dy : 1 + dy + h, 1 + dx : 1 + dx + w] for dy, dx in tracing.RING)


def ink_box(canvas):
    """(x, y, w, h) of the ink on a canvas."""
    ys, xs = np.nonzero(canvas < 128)
    return xs.min(), ys.min(), xs.max() - xs.min() + 1, ys.max() - ys.min() + 1


def distance_to_lines(strokes, shape, scale=1.0):
    """Per pixel of `shape`, the distance (in stroke units) to the nearest stroke segment."""
    lines = np.full(shape, 255, np.uint8)
    for stroke in strokes:
        points = np.rint(np.asarray(stroke) * scale).astype(np.int32).reshape(-1, 1, 2)
        cv2.polylines(lines, [points], False, 0, 1)
        cv2.circle(lines, tuple(int(v) for v in points[0, 0]), 0, 0, -1)
    return cv2.distanceTransform((lines > 0).astype(np.uint8), cv2.DIST_L2, 5) / scale


# --- thinning and tracing --------------------------------------------------------------------


def test_skeleton_is_one_pixel_wide_with_the_digits_pieces_and_holes(mnist_sample):
    images, _ = mnist_sample
    for image in images[:SAMPLE]:
        ink = tracing.binarize(image)
        skeleton = tracing.skeletonize(ink)
        assert skeleton.any() and not (skeleton & ~ink).any()
        # Lines are 1 px wide: a filled 2x2 square only where lines cross (every pixel a junction).
        square = skeleton[:-1, :-1] & skeleton[1:, :-1] & skeleton[:-1, 1:] & skeleton[1:, 1:]
        corners = np.zeros_like(skeleton)
        for dy in (0, 1):
            for dx in (0, 1):
                corners[dy : dy + square.shape[0], dx : dx + square.shape[1]] |= square
        assert (neighbour_count(skeleton)[corners] >= 3).all()
        assert components(skeleton, 8) == components(ink, 8)
        assert components(~skeleton, 4) == components(~ink, 4)  # same loops, none added


def test_skeleton_of_a_thick_ring_is_one_closed_line():
    yy, xx = np.mgrid[:112, :112]
    radius = np.hypot(yy - 56, xx - 50)
    skeleton = tracing.skeletonize((radius > 20) & (radius < 34))
    assert (neighbour_count(skeleton)[skeleton] == 2).all()  # no ends, no junctions
    assert components(skeleton, 8) == 1 and components(~skeleton, 4) == 2
    assert np.abs(np.hypot(*(np.nonzero(skeleton) - np.array([[56], [50]]))) - 27).max() < 2


def test_strokes_follow_the_digits_centre_line(mnist_sample):
    images, labels = mnist_sample
    size = tracing.IMAGE_SIZE * tracing.UPSCALE
    counts, far = [], 0
    for image in images[:SAMPLE]:
        strokes = tracing.image_to_strokes(image)
        counts.append(len(strokes))
        points = np.concatenate([np.asarray(s) for s in strokes])
        assert points.min() >= 0 and points.max() <= tracing.IMAGE_SIZE - 1
        # Every point lies on the ink ...
        ink = tracing.binarize(image)
        off_ink = cv2.distanceTransform((~ink).astype(np.uint8), cv2.DIST_L2, 5)
        at = np.rint((points + 0.5) * tracing.UPSCALE - 0.5).astype(int)
        assert off_ink[at[:, 1], at[:, 0]].max() <= tracing.UPSCALE / 2
        # ... and the strokes reach the whole centre line, bar spurs and specks.
        up = [(np.asarray(s) + 0.5) * tracing.UPSCALE - 0.5 for s in strokes]
        gap = distance_to_lines(up, (size, size)) / tracing.UPSCALE
        far += gap[tracing.skeletonize(ink)].max() > tracing.SPUR_LENGTH + 0.5
    counts = np.array(counts)
    assert far <= SAMPLE // 50
    assert np.mean(counts <= 3) >= 0.97 and np.median(counts) <= 2  # as a person draws them
    ones = labels[:SAMPLE] == 1
    assert np.mean(counts[ones] == 1) >= 0.9


def test_a_zero_is_one_closed_stroke():
    image = np.zeros((28, 28), np.uint8)
    cv2.ellipse(image, (14, 14), (6, 9), 0, 0, 360, 255, 3)
    strokes = tracing.image_to_strokes(image)
    assert len(strokes) == 1
    stroke = np.asarray(strokes[0])
    assert np.hypot(*(stroke[0] - stroke[-1])) < 1.0
    assert np.ptp(stroke[:, 1]) == pytest.approx(18, abs=2)


# --- placing, drawing and the mouse ----------------------------------------------------------


def test_render_draws_the_apps_round_pen():
    dot = pen.render([[(100.0, 100.0)]])
    assert ink_box(dot) == (93, 93, 15, 15)
    assert abs((dot == 0).sum() - np.pi * 7**2) < 15
    line = pen.render([[(100, 100), (200, 100)]], canvas_size=(300, 200))
    assert line.shape == (200, 300) and ink_box(line) == (93, 93, 115, 15)
    assert set(np.unique(line)) == {0, 255}


def test_placed_digit_has_the_asked_height_and_ink_only_along_its_strokes(mnist_sample):
    images, _ = mnist_sample
    for image, height, x, y in [(images[0], 300, 100, 50), (images[1], 110, 400, 500)]:
        strokes = tracing.image_to_strokes(image)
        placed = pen.place_strokes(strokes, height, x, y)
        canvas = pen.render(placed)
        box_x, box_y, box_w, box_h = ink_box(canvas)
        assert abs(box_h - height) <= 2 and abs(box_y - y) <= 1 and abs(box_x - x) <= 1
        assert abs(box_w - pen.ink_width(strokes, height)) <= 2
        distance = distance_to_lines(placed, canvas.shape)
        assert distance[canvas == 0].max() <= pen.PEN_RADIUS + 1
        assert (canvas[distance <= pen.PEN_RADIUS - 1] == 0).all()


def test_mouse_path_steps_along_each_stroke():
    strokes = [[(10.0, 10.0), (110.0, 10.0), (110.0, 60.4)], [(300.2, 300.0)]]
    paths = pen.strokes_to_mouse_path(strokes, step=4)
    assert len(paths) == 2 and paths[1] == [(300, 300)]
    path = np.array(paths[0])
    assert path.dtype.kind == "i"
    assert tuple(path[0]) == (10, 10) and tuple(path[-1]) == (110, 60)
    steps = np.hypot(*np.diff(path, axis=0).T)
    assert steps.max() <= 4 + 1 and steps.min() > 0
    assert len(path) >= 150 / 4


# --- cases -----------------------------------------------------------------------------------


def test_single_digit_cases_fit_the_canvas_at_many_sizes(mnist_sample):
    images, labels = mnist_sample
    cases = replay.single_digit_cases(images[:100], labels[:100], np.random.default_rng(1))
    assert [c.text for c in cases] == [str(label) for label in labels[:100]]
    heights = np.array([c.height for c in cases])
    assert heights.min() >= 110 and heights.max() <= 460 and np.ptp(heights) > 200
    for case in cases:
        x, y, w, h = ink_box(case.canvas())
        assert x >= 0 and y >= 0 and x + w <= 640 and y + h <= 640
        assert abs(h - case.height) <= 2


def test_number_cases_are_separate_digits_on_one_line(mnist_sample):
    images, labels = mnist_sample
    cases = replay.number_cases(images[:500], labels[:500], np.random.default_rng(2), count=40)
    assert {len(c.text) for c in cases} == {2, 3, 4}
    for case in cases:
        assert case.text == "".join(str(labels[i]) for i in case.sources)
        x, y, w, h = ink_box(case.canvas())
        assert x >= 0 and y >= 0 and x + w <= 640 and y + h <= 640
        placed = [
            pen.place_strokes(tracing.image_to_strokes(images[i]), bh, bx, by)
            for i, (bx, by, _, bh) in zip(case.sources, case.boxes, strict=True)
        ]
        boxes = [ink_box(pen.render(p)) for p in placed]
        for (x0, _, w0, h0), (x1, _, _, h1) in zip(boxes[:-1], boxes[1:], strict=True):
            assert x0 + w0 < x1  # left to right with a gap: never touching
            assert 0.8 < h1 / h0 < 1.25  # one hand, one height
        assert 100 < case.height <= 250


def test_only_the_first_5000_test_images_are_for_development():
    images, labels = np.zeros((10000, 28, 28), np.uint8), np.arange(10000) % 10
    dev_images, dev_labels = replay.development_split(images, labels)
    assert len(dev_images) == len(dev_labels) == 5000
    assert np.shares_memory(dev_images, images) and (dev_labels == labels[:5000]).all()


# --- the command -----------------------------------------------------------------------------


def write_idx(path, array):
    array = np.asarray(array, np.uint8)
    header = bytes([0, 0, 8, array.ndim]) + b"".join(d.to_bytes(4, "big") for d in array.shape)
    path.write_bytes(gzip.compress(header + array.tobytes()))


def fake_mnist(folder, images, labels):
    """An MNIST folder whose test set is `images`; the training set is a token 10 images."""
    folder.mkdir(exist_ok=True)
    write_idx(folder / "train-images-idx3-ubyte.gz", images[:10])
    write_idx(folder / "train-labels-idx1-ubyte.gz", labels[:10])
    write_idx(folder / "t10k-images-idx3-ubyte.gz", images)
    write_idx(folder / "t10k-labels-idx1-ubyte.gz", labels)
    return folder


def one_error_line(capsys):
    err = capsys.readouterr().err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert err.startswith("error: ")
    return err


@pytest.mark.parametrize(
    "args, fragment",
    [
        (["--count", "5001"], "reserved for judging"),
        (["--count", "-1"], "--count -1"),
        (["--numbers", "-5"], "--numbers -5"),
        (["--count", "many"], "invalid int value"),
        (["--count", "0", "--numbers", "0"], "nothing to do"),
        (["--numbers", "1000000000"], "--numbers 1000000000 is out of range: it must be 0..100000"),
        (["--seed", "-1"], "--seed: -1 is out of range: it must be 0..4294967295"),
        (["--seed", str(2**32)], f"--seed: {2**32} is out of range"),
    ],
)
def test_bad_numbers_are_refused(tmp_path, capsys, args, fragment):
    assert replay.main(["--mnist", str(tmp_path), *args]) == 1
    assert fragment in one_error_line(capsys)


def test_missing_folder_and_existing_error_file_are_refused(tmp_path, capsys):
    assert replay.main(["--mnist", str(tmp_path / "nowhere"), "--quick"]) == 1
    assert "nowhere: folder not found" in one_error_line(capsys)
    existing = tmp_path / "errors.png"
    existing.write_bytes(b"keep me")
    assert replay.main(["--mnist", str(tmp_path), "--errors", str(existing)]) == 1
    assert "already exists" in one_error_line(capsys)
    assert existing.read_bytes() == b"keep me"


@pytest.fixture
def no_cases(monkeypatch):
    """Fail the test if the command starts on the cases: it must refuse before."""

    def make_cases(args, rng):
        raise AssertionError("cases were made before the paths were checked")

    monkeypatch.setattr(replay, "mnist_cases", make_cases)
    monkeypatch.setattr(replay, "unipen_cases", make_cases)


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("errors", "must end in .png, .jpg or .jpeg"),
        ("adir.png", "adir.png: is a folder"),
        ("afile/e.png", "afile: is a file, not a folder"),
    ],
)
def test_the_errors_image_is_checked_before_any_work(tmp_path, capsys, no_cases, name, message):
    (tmp_path / "adir.png").mkdir()
    (tmp_path / "afile").write_text("x")
    assert replay.main(["--mnist", str(tmp_path), "--errors", str(tmp_path / name)]) == 1
    assert message in one_error_line(capsys)


def test_a_missing_model_is_refused_before_any_work(tmp_path, capsys, no_cases):
    assert replay.main(["--mnist", str(tmp_path), "--model", str(tmp_path / "none.keras")]) == 1
    assert "none.keras: model file not found" in one_error_line(capsys)


def test_an_errors_image_made_meanwhile_is_not_replaced(
    tmp_path, capsys, monkeypatch, mnist_sample
):
    images, labels = mnist_sample
    folder = fake_mnist(tmp_path / "mnist", images[:20], labels[:20])
    errors = tmp_path / "errors.png"
    seven = AlwaysSeven()

    def recognizer_meanwhile(*paths):
        errors.write_bytes(b"theirs")  # written by someone else while the replay runs
        return seven

    monkeypatch.setattr(replay, "make_recognizer", recognizer_meanwhile)
    monkeypatch.setattr(replay, "scan_predictions", lambda path, imgs: np.full(len(imgs), 7))
    argv = ["--mnist", str(folder), "--count", "10", "--numbers", "2", "--errors", str(errors)]
    assert replay.main(argv) == 1
    assert "errors.png: already exists" in one_error_line(capsys)
    assert errors.read_bytes() == b"theirs"


class AlwaysSeven:
    """A stand-in recognizer that reads every canvas as one 7."""

    def __init__(self):
        self.canvases = 0

    def recognize(self, canvas, strokes=None):
        assert canvas.shape == (640, 640) and canvas.dtype == np.uint8
        self.canvases += 1
        image = np.zeros((28, 28), np.uint8)
        readings = {"picture": np.eye(10)[7]}
        return [
            SimpleNamespace(
                label=7, confidence=1.0, box=(10, 10, 50, 80), image=image, readings=readings
            )
        ]


class SevenAndOne(AlwaysSeven):
    """Reads every canvas as one 7, the picture's reading, where the path reads a 1; notes
    the strokes it is given."""

    def __init__(self):
        super().__init__()
        self.strokes = []

    def recognize(self, canvas, strokes=None):
        self.strokes.append(strokes)
        [digit] = super().recognize(canvas)
        digit.readings = {"picture": np.eye(10)[7], "path": np.eye(10)[1]}
        return [digit]


def test_command_scores_and_draws_failures_end_to_end(tmp_path, capsys, monkeypatch, mnist_sample):
    images, labels = mnist_sample
    # 5,010 test images: the last 10 are judging images the command must never touch.
    test_images = np.concatenate([images[:5000], np.full((10, 28, 28), 255, np.uint8)])
    test_labels = np.concatenate([labels[:5000], np.full(10, 7)])
    folder = fake_mnist(tmp_path / "mnist", test_images, test_labels)
    seven = AlwaysSeven()
    monkeypatch.setattr(replay, "make_recognizer", lambda *paths: seven)
    scanned, pools = [], []
    monkeypatch.setattr(
        replay, "scan_predictions", lambda path, imgs: scanned.append(imgs) or np.full(len(imgs), 7)
    )

    class WatchedCache(replay.StrokeCache):
        def __init__(self, images):
            pools.append(images)
            super().__init__(images)

    monkeypatch.setattr(replay, "StrokeCache", WatchedCache)
    errors = tmp_path / "errors.png"
    argv = ["--mnist", str(folder), "--count", "30", "--numbers", "8", "--errors", str(errors)]
    assert replay.main(argv) == 0
    out = capsys.readouterr().out.strip().splitlines()
    result = json.loads(out[-1])
    assert result == {
        "single_accuracy": pytest.approx(np.mean(labels[:30] == 7), abs=1e-4),
        "single_count": 30,
        "number_accuracy": 0.0,
        "number_count": 8,
    }
    assert seven.canvases == 38
    assert any("wrong digit count 8" in line for line in out)  # every number read as one digit
    assert [len(pool) for pool in pools] == [5000] and not (pools[0] == 255).all(axis=(1, 2)).any()
    assert len(scanned) == 1 and (scanned[0] == images[:30]).all()
    grid = cv2.imread(str(errors))
    failures = 30 - int(np.sum(labels[:30] == 7)) + 8
    rows = -(-failures // replay.ERROR_COLUMNS)
    assert grid is not None and grid.shape[0] == rows * (replay.TILE_SIZE + replay.CROP_SIZE + 28)


@pytest.mark.parametrize("kind", ["IDX files", "the data command's CSVs"])
def test_command_reads_replayed_digits_with_the_real_model(tmp_path, capsys, mnist_sample, kind):
    images, labels = mnist_sample
    if kind == "IDX files":
        folder = fake_mnist(tmp_path / "mnist", images[:40], labels[:40])
    else:
        folder = tmp_path / "data"
        mnist_to_csvs((images[40:50], labels[40:50]), (images[:40], labels[:40]), folder)
    assert replay.main(["--mnist", str(folder), "--count", "40", "--numbers", "10"]) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert result["single_count"] == 40 and result["number_count"] == 10
    assert result["single_accuracy"] >= 0.85 and result["number_accuracy"] >= 0.6


# --- real pen trajectories ---------------------------------------------------------------------


def test_unipen_replay_reads_held_out_writers_end_to_end(tmp_path, capsys, pen_data):
    """The fixture's held-out writers drawn with the app's pen and read by the real model."""
    errors = tmp_path / "errors.png"
    argv = ["--unipen", str(pen_data), "--numbers", "12", "--errors", str(errors)]
    assert replay.main(argv) == 0
    out = capsys.readouterr().out.strip().splitlines()
    result = json.loads(out[-1])
    # 3 of the 17 writers are held out (2 of "tab", 1 of "pad"), 20 digits each.
    assert out[0].startswith("held-out writers: 3 (60 digits)")
    assert result["single_count"] == 60 and result["number_count"] == 12
    assert result["single_accuracy"] >= 0.8 and result["number_accuracy"] >= 0.5
    by_set = next(line for line in out if line.startswith("single digits by donor set: "))
    assert "pad " in by_set and "tab " in by_set and "duo" not in by_set
    assert any(line.startswith("single digits by digit: 0 ") for line in out)
    assert any(line.startswith("writers with most misread digits: ") for line in out)
    if result["single_accuracy"] < 1 or result["number_accuracy"] < 1:
        assert cv2.imread(str(errors)) is not None


def test_unipen_numbers_are_one_writers_digits(pen_data):
    from deeplearning.pen_data.unipen import load_pen_digits

    digits = load_pen_digits(pen_data)
    labels = [d.label for d in digits]
    writers = [[i for i, d in enumerate(digits) if d.writer == w] for w in ("tab/w0", "pad/w1")]
    rng = np.random.default_rng(0)
    cases = replay.number_cases(replay.pen_digit_strokes(digits), labels, rng, 30, writers)
    for case in cases:
        assert 2 <= len(case.text) <= 4 and len(case.boxes) == len(case.text)
        assert len({digits[i].writer for i in case.sources}) == 1
        xs = [box[0] for box in case.boxes]
        assert xs == sorted(xs)


def test_unipen_replay_bad_input(tmp_path, capsys, pen_data):
    assert replay.main(["--unipen", str(tmp_path / "nowhere")]) == 1
    assert "no such file" in one_error_line(capsys)
    assert replay.main(["--unipen", str(pen_data), "--count", "61"]) == 1
    assert "only 60 held-out digits" in one_error_line(capsys)
    assert replay.main(["--unipen", str(pen_data), "--mnist", str(tmp_path)]) == 1
    assert "not allowed with argument" in one_error_line(capsys)
    assert replay.main(["--unipen", str(pen_data), "--errors", str(tmp_path / "e.txt")]) == 1
    assert "must end in .png" in one_error_line(capsys)


@pytest.mark.parametrize("reorder", [False, True])
def test_each_model_is_reported_alone_and_combined(
    tmp_path, capsys, monkeypatch, mnist_sample, reorder
):
    images, labels = mnist_sample
    folder = fake_mnist(tmp_path / "mnist", images[:40], labels[:40])
    reader = SevenAndOne()
    made = []
    monkeypatch.setattr(replay, "make_recognizer", lambda *paths: made.append(paths) or reader)
    monkeypatch.setattr(replay, "scan_predictions", lambda path, imgs: np.full(len(imgs), 7))
    drawn = []
    real_read = replay.read_cases
    monkeypatch.setattr(
        replay,
        "read_cases",
        lambda r, cases, order: drawn.extend(cases) or real_read(r, cases, order),
    )
    argv = ["--mnist", str(folder), "--count", "40", "--numbers", "5"] + ["--reorder"] * reorder
    assert replay.main(argv) == 0
    out = capsys.readouterr().out.strip().splitlines()
    sevens, ones = np.mean(labels[:40] == 7), np.mean(labels[:40] == 1)
    assert made == [(None, replay.DEFAULT_PATH_MODEL_PATH)]
    assert (
        f"single digits by model: picture {100 * sevens:.2f}%, path {100 * ones:.2f}%, "
        f"combined {100 * sevens:.2f}%" in out
    )
    assert any(line.startswith("single digits by digit, path: 0 0.0%, 1 100.0%") for line in out)
    result = json.loads(out[-1])
    assert result["by_model"]["path"]["single_accuracy"] == pytest.approx(ones, abs=1e-4)
    # The strokes read are the case's: as drawn, or each reversed and in another order.
    for case, strokes in zip(drawn, reader.strokes, strict=True):
        if reorder:
            assert sorted(map(str, strokes)) == sorted(str(list(s)[::-1]) for s in case.strokes)
        else:
            assert strokes is case.strokes
    assert reorder == any(
        [list(s) for s in strokes] != [list(s) for s in case.strokes]
        for case, strokes in zip(drawn, reader.strokes, strict=True)
    )


def test_a_missing_path_model_is_refused_before_any_work(tmp_path, capsys, no_cases):
    argv = ["--mnist", str(tmp_path), "--path-model", str(tmp_path / "none.keras")]
    assert replay.main(argv) == 1
    assert "none.keras: path model file not found" in one_error_line(capsys)
