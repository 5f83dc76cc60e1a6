"""Looking inside a reading: the occlusion heat maps point at the ink that decided it, the
path's stretches at what the path model heeded, the blocks are described from the graph; the
view draws headless; the `explain` command writes its PNG and refuses bad input in one line.
The shipped models read; nothing here needs ../shared."""

import json

import numpy as np
import pytest
from conftest import one_error_line, run_python
from onnx import TensorProto, helper, numpy_helper
from path_stand_in import save_onnx

from deeplearning.reading import inside
from deeplearning.reading.path import POINTS, path_features
from deeplearning.reading.pen import place_strokes, render
from deeplearning.ui import explain

# A 7: its bar, then its stem. Without the bar it is read as something else (a 1).
BAR = [(15, 0), (85, 0)]
STEM = [(85, 0), (40, 100)]


@pytest.fixture(scope="module")
def inspector(recognizer):
    return inside.Inspector(recognizer)


@pytest.fixture(scope="module")
def seven(recognizer):
    """(canvas, strokes, digits) of the 7 drawn 300 px tall."""
    strokes = place_strokes([BAR, STEM], 300, 170, 170)
    canvas = render(strokes)
    return canvas, strokes, recognizer.recognize(canvas, strokes)


def test_the_seven_needs_its_bar(recognizer, seven):
    """The premise of the tests below: the drawing's label changes when the bar is removed,
    from the canvas or from the 28x28 image the CNN reads."""
    _, strokes, [digit] = seven
    assert digit.label == 7
    [without] = recognizer.recognize(render(strokes[1:]), strokes[1:])
    assert without.label != 7
    assert recognizer.predict_images(without_bar(digit.image)[None]).argmax() != 7


def bar_rows(image):
    """The rows of the 28x28 image that hold the 7's bar: the ink's top fifth."""
    _, top, _, bottom = inside.ink_bounds(image)
    return top, top + (bottom - top) // 5 + 1


def without_bar(image):
    top, bottom = bar_rows(image)
    blanked = image.copy()
    blanked[top:bottom] = 0
    return blanked


def test_the_heat_map_peaks_in_the_region_whose_removal_changes_the_label(inspector, seven):
    canvas, strokes, digits = seven
    look = inspector.look(canvas, digits, 0, strokes)
    assert (look.label, look.heat.shape) == (7, (2, 28, 28))
    row, _ = np.unravel_index(look.heat[0].argmax(), look.heat[0].shape)
    top, bottom = bar_rows(look.image)
    assert top <= row < bottom + inside.PATCH // 2, (row, top, bottom)
    assert look.heat[0].max() > 0


def test_the_heat_on_the_canvas_peaks_at_the_bar(inspector, seven):
    """Laid over the digit's box, the label's heat is hottest at the bar, near the box's top."""
    canvas, strokes, digits = seven
    look = inspector.look(canvas, digits, 0, strokes)
    x, y, w, h = digits[0].box
    assert look.crop.shape == (h, w) and look.crop_heat.shape == (2, h, w)
    row, _ = np.unravel_index(look.crop_heat[0].argmax(), (h, w))
    assert row < h / 5, (row, h)


def test_background_is_no_evidence(inspector):
    """Blanking paper changes nothing: only squares holding ink are read, and a blank image
    has no heat at all."""
    blank = np.zeros((28, 28), np.uint8)
    assert inside.occlusion_squares(blank) == []
    assert not inside.picture_heat(inspector.activations.predict, blank, [1, 2]).any()
    dot = blank.copy()
    dot[14, 14] = 255
    squares = inside.occlusion_squares(dot)
    assert squares and all(r <= 14 < r + inside.PATCH for r, _ in squares)


def test_a_lifted_stretch_is_a_straight_jump_without_ink():
    features = path_features([[(0, 0), (10, 0), (10, 10)], [(0, 10), (0, 20)]])
    lifted = inside.with_pen_lifted(features, 10, 18)
    assert (lifted[10:18, 4] == 0).all()
    assert np.array_equal(lifted[:10], features[:10])
    assert np.array_equal(lifted[18:], features[18:])
    start, end = features[9, :2], features[18, :2]
    along = (lifted[10:18, :2] - start) @ (end - start) / np.sum((end - start) ** 2)
    assert np.all(np.diff(along) > 0) and 0 < along[0] and along[-1] < 1
    cross = (lifted[10:18, 0] - start[0]) * (end[1] - start[1]) - (lifted[10:18, 1] - start[1]) * (
        end[0] - start[0]
    )
    assert np.allclose(cross, 0, atol=1e-6)


def test_the_path_heat_points_at_the_stretch_that_decides():
    """A stand-in path model that reads a 3 exactly as much as the pen is down over points
    20-29 of the path: the 3's heat lies there and nowhere else."""
    features = path_features([[(0, 0), (0, 100)]])

    def predict(batch):
        down = batch[:, 20:30, 4].mean(axis=1)
        probabilities = np.full((len(batch), 10), 0.0, np.float32)
        probabilities[:, 3] = down
        probabilities[:, 0] = 1 - down
        return probabilities

    heat = inside.path_heat(predict, features, [3, 0])
    assert heat.shape == (2, POINTS)
    assert heat[0].argmax() in range(20, 30)
    outside = np.r_[0 : 20 - inside.PATH_STRETCH + 1, 30 + inside.PATH_STRETCH - 1 : POINTS]
    assert np.allclose(heat[0, outside], 0) and np.allclose(heat[0], -heat[1])


def test_the_path_view_is_the_path_models(inspector, seven):
    canvas, strokes, digits = seven
    path = inspector.look(canvas, digits, 0, strokes).path
    assert path.points.shape == (POINTS, 2) and path.heat.shape == (2, POINTS)
    assert path.pen_down.all()  # one stroke after another from where the last ended
    assert np.abs(path.heat).max() > 0


def test_without_strokes_only_the_picture_is_looked_at(inspector, recognizer, seven):
    canvas, _, _ = seven
    digits = recognizer.recognize(canvas)
    look = inspector.look(canvas, digits, 0)
    assert look.path is None and list(look.readings) == ["picture"]


def test_the_readings_are_each_models_and_the_combined(inspector, seven):
    canvas, strokes, digits = seven
    look = inspector.look(canvas, digits, 0, strokes)
    assert list(look.readings) == ["picture", "path", "combined"]
    assert np.array_equal(look.readings["combined"], digits[0].probabilities)


def test_the_blocks_are_the_shipped_cnns(inspector, seven):
    _, _, [digit] = seven
    blocks = inspector.activations.blocks(digit.image)
    assert [block.words for block in blocks] == [
        "32 filters, 5x5, 28x28 maps",
        "32 filters, 5x5, 28x28 maps",
        "64 filters, 3x3, 14x14 maps",
        "64 filters, 3x3, 14x14 maps",
    ]
    assert all((block.maps >= 0).all() for block in blocks)  # after the ReLU
    assert [inside.block_words(i, 4) for i in range(4)] == [
        inside.FIRST_WORDS,
        inside.MIDDLE_WORDS,
        inside.MIDDLE_WORDS,
        inside.LAST_WORDS,
    ]


def write_small_cnn(path, filters=8, kernel=3):
    """A CNN of another shape: one convolution (channels first, as exports make them), a
    ReLU and a dense layer; float32 (N, 28, 28, 1) -> (N, 10)."""
    rng = np.random.default_rng(0)
    nodes = [
        helper.make_node("Transpose", ["images"], ["planes"], perm=[0, 3, 1, 2]),
        helper.make_node("Conv", ["planes", "kernel"], ["conv"], pads=[kernel // 2] * 4),
        helper.make_node("Relu", ["conv"], ["relu"]),
        helper.make_node("Flatten", ["relu"], ["flat"]),
        helper.make_node("MatMul", ["flat", "dense"], ["scores"]),
        helper.make_node("Softmax", ["scores"], ["probabilities"], axis=1),
    ]
    weights = rng.normal(size=(filters, 1, kernel, kernel)).astype(np.float32)
    dense = rng.normal(scale=0.01, size=(filters * 28 * 28, 10)).astype(np.float32)
    graph = helper.make_graph(
        nodes,
        "small",
        [helper.make_tensor_value_info("images", TensorProto.FLOAT, ["N", 28, 28, 1])],
        [helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, ["N", 10])],
        [numpy_helper.from_array(weights, "kernel"), numpy_helper.from_array(dense, "dense")],
    )
    return save_onnx(graph, path)


def test_the_blocks_are_described_from_the_graph(tmp_path):
    activations = inside.Activations(write_small_cnn(tmp_path / "small.onnx"))
    image = np.zeros((28, 28), np.uint8)
    image[5:20, 12:15] = 255
    [block] = activations.blocks(image)
    assert block.words == "8 filters, 3x3, 28x28 maps"
    assert activations.predict(image[None]).shape == (1, 10)


# --- the explain command ----------------------------------------------------------------


def write_strokes_file(path, strokes):
    """A strokes file as samples.jsonl keeps them: one JSON object a line."""
    strokes = [[[round(x, 1), round(y, 1)] for x, y in stroke] for stroke in strokes]
    path.write_text(json.dumps({"label": 7, "strokes": strokes}) + "\n")
    return path


def red_pixels(path):
    import pygame as pg

    pixels = pg.surfarray.array3d(pg.image.load(str(path))).astype(int)
    return ((pixels[..., 0] - pixels[..., 1] > 60) & (pixels[..., 0] - pixels[..., 2] > 60)).sum()


def test_explain_writes_the_view_of_a_strokes_file(tmp_path, seven):
    _, strokes, _ = seven
    drawing = write_strokes_file(tmp_path / "seven.jsonl", strokes)
    out = tmp_path / "inside.png"
    result = run_python("-m", "deeplearning", "explain", drawing, "--out", out)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"wrote {out}: digit 1 of 1, read as 7")
    assert red_pixels(out) > 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["inside.png", "seven.jsonl"]


def test_explain_reads_a_canvas_png_by_the_picture_alone(tmp_path, seven, capsys):
    import cv2

    canvas, _, _ = seven
    drawing = tmp_path / "canvas.png"
    cv2.imwrite(str(drawing), canvas)
    out = tmp_path / "inside.png"
    assert explain.main([str(drawing), "--out", str(out)]) == 0
    assert "read as 7" in capsys.readouterr().out
    assert out.is_file() and red_pixels(out) > 0


def test_explain_picks_the_digit_and_overwrites_only_when_told(tmp_path, seven, capsys):
    _, strokes, _ = seven
    one = place_strokes([[(50, 0), (50, 100)]], 300, 60, 170)
    drawing = write_strokes_file(
        tmp_path / "two.jsonl", [*one, *[[(x + 150, y) for x, y in s] for s in strokes]]
    )
    out = tmp_path / "inside.png"
    out.write_bytes(b"kept")
    assert explain.main([str(drawing), "--out", str(out), "--digit", "2"]) == 1
    one_error_line(capsys.readouterr().err, str(out), "--force")
    assert out.read_bytes() == b"kept"
    assert explain.main([str(drawing), "--out", str(out), "--digit", "2", "--force"]) == 0
    assert "digit 2 of 2, read as 7" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("name", "content", "options", "fragments"),
    [
        ("missing.jsonl", None, [], ["missing.jsonl", "no such file"]),
        ("drawing.txt", b"", [], ["drawing.txt", ".png", ".jsonl"]),
        ("bad.jsonl", b'{"strokes": 3}\n', [], ["bad.jsonl: line 1", "strokes"]),
        ("cut.jsonl", b'{"strokes": [[[1, 2]', [], ["cut.jsonl: line 1", "cut short"]),
        ("empty.jsonl", b"\n", [], ["empty.jsonl", "no strokes"]),
        ("blank.png", "blank", [], ["blank.png", "no digit"]),
        ("noise.png", b"not a png", [], ["noise.png", "not a PNG"]),
        ("seven.jsonl", "seven", ["--digit", "2"], ["--digit 2", "1 digit"]),
        ("seven.jsonl", "seven", ["--digit", "0"], ["--digit", "0"]),
        ("seven.jsonl", "seven", ["--model", "none.onnx"], ["none.onnx", "not found"]),
        ("seven.jsonl", "seven", ["--out", "inside.jpg"], ["inside.jpg", ".png"]),
    ],
)
def test_explain_refuses_bad_input_in_one_line(
    tmp_path, seven, capsys, monkeypatch, name, content, options, fragments
):
    import cv2

    monkeypatch.chdir(tmp_path)
    path = tmp_path / name
    if content == "seven":
        write_strokes_file(path, seven[1])
    elif content == "blank":
        cv2.imwrite(str(path), np.full((640, 640), 255, np.uint8))
    elif content is not None:
        path.write_bytes(content)
    arguments = [str(path), *options]
    if "--out" not in options:
        arguments += ["--out", "inside.png"]
    assert explain.main(arguments) == 1
    one_error_line(capsys.readouterr().err, *fragments)
    assert not (tmp_path / "inside.png").exists()
