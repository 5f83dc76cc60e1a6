"""The path model: its input (the pen's path resampled), training, export and command, on
stroke fixtures written here; and the shipped model/path_cnn.* files agree with each other."""

import gzip
import json
import subprocess
import sys

import numpy as np
import pytest
from conftest import DIGIT_STROKES, ROOT, one_error_line

from deeplearning.pen_data.unipen import PenDigit, vary_strokes
from deeplearning.personal.samples import Sample, SampleSet
from deeplearning.reading.path import FEATURES, POINTS, path_batch, path_features
from deeplearning.reading.runtime import (
    SOURCE_SHA256,
    exported_path,
    file_sha256,
    path_model_beside,
)
from deeplearning.training import path_model, teach

SHIPPED = ROOT / "model" / "path_cnn.keras"
TOLERANCE = 1e-4  # largest difference allowed between the two runtimes' probabilities


def curve(label, points=200, wobble=0.0, rng=None):
    """A smooth pen stroke of its own shape for each label, sampled at `points` points."""
    t = np.linspace(0.0, 1.0, points)
    x = np.cos(2 * np.pi * (0.3 + 0.1 * label) * t) * (1 + 0.1 * label)
    y = np.sin(2 * np.pi * (0.5 + 0.15 * label) * t) + 2 * t
    stroke = np.c_[x, y] * 100
    if rng is not None:
        stroke = stroke + rng.normal(0.0, wobble, stroke.shape)
    return stroke


def fixture_strokes(label, rng=None, wobble=0.0):
    """One digit: a curve, and for odd labels a bar after it (a second stroke)."""
    strokes = [curve(label, rng=rng, wobble=wobble)]
    if label % 2:
        strokes.append(np.array([[-80.0, 0.0], [-40.0, 5.0], [0.0, 10.0]]))
    return strokes


def fixture_digits(writers=10, per_label=2, seed=0):
    rng = np.random.default_rng(seed)
    return [
        PenDigit(label, f"fix/w{w}", fixture_strokes(label, rng, wobble=2.0))
        for w in range(writers)
        for label in range(10)
        for _ in range(per_label)
    ]


def write_pen_data(path, digits):
    with gzip.open(path, "wt", encoding="utf-8") as file:
        for d in digits:
            strokes = [np.round(s).astype(int).tolist() for s in d.strokes]
            file.write(json.dumps({"label": str(d.label), "writer": d.writer, "strokes": strokes}))
            file.write("\n")
    return path


# --- the input --------------------------------------------------------------------------------


def test_features_do_not_depend_on_the_sampling_rate():
    """A digit from a tablet (200-500 points a stroke) and from a slow mouse (every 10th
    point, the ends kept) give nearly the same input."""
    dense = fixture_strokes(3) + [curve(5, points=500)]
    sparse = [np.r_[s[::10], s[-1:]] if len(s) > 3 else s for s in dense]
    a, b = path_features(dense), path_features(sparse)
    assert a.shape == (POINTS, FEATURES) and a.dtype == np.float32
    assert np.abs(a[:, :2] - b[:, :2]).max() < 0.02  # positions
    assert np.abs(a[:, 2:4] - b[:, 2:4]).mean() < 0.03  # directions
    assert (a[:, 4] != b[:, 4]).sum() <= 1  # pen-down, but for where a jump begins


def test_positions_are_centred_and_scaled_by_the_longer_side():
    tall = [[(10, 0), (10, 400)], [(0, 200), (100, 200)]]  # a cross in any units, 100 x 400
    features = path_features(tall)
    # The box's centre is (50, 200), its longer side 400; the path ends where its points do.
    assert np.allclose(features[0, :2], [-0.1, -0.5]) and np.allclose(features[-1, :2], [0.125, 0])
    assert np.abs(features[:, :2]).max() <= 0.5
    scaled = [[(3 * x + 7, 3 * y - 2) for x, y in stroke] for stroke in tall]
    assert np.allclose(path_features(scaled), features, atol=1e-5)


def test_pen_is_down_on_strokes_and_up_on_the_jump_between_them():
    # Two bars 10 long, 10 apart: the jump between them is a third of the path.
    features = path_features([[(0, 0), (0, 10)], [(10, 10), (10, 0)]])
    pen = features[:, 4]
    assert set(pen) == {0.0, 1.0}
    assert abs(pen.mean() - 2 / 3) < 0.05
    up = np.flatnonzero(pen == 0)
    assert (np.diff(up) == 1).all()  # one jump, in one piece, in the middle
    jump = features[up[1:-1], 2:4]  # its ends see the strokes beside it too
    assert np.allclose(jump, [1.0, 0.0], atol=1e-5)  # moving right, across
    assert np.allclose(features[:10, 2:4], [0.0, 1.0], atol=1e-5)  # first bar: down the page
    assert (features[:, 4][:10] == 1).all() and (features[:, 4][-10:] == 1).all()


def test_reversing_the_strokes_reverses_the_directions():
    strokes = fixture_strokes(4)
    forward, backward = path_features(strokes), path_features([s[::-1] for s in strokes])
    assert np.allclose(backward[::-1, :2], forward[:, :2], atol=1e-4)
    inner = slice(2, -2)  # the ends see one neighbour only
    assert np.allclose(backward[::-1, 2:4][inner], -forward[:, 2:4][inner], atol=0.05)


@pytest.mark.parametrize(
    "strokes",
    [
        [[(5, 5)]],  # a dot
        [[(5, 5), (5, 5), (5, 5)]],  # a pen that never moved
        [[(5, 5)], [(5, 5)]],  # two dots in one place
        [[(0, 0), (10, 0)], [(20, 5)]],  # a bar and a dot after it
    ],
)
def test_dots_and_paths_that_never_move_give_a_finite_input(strokes):
    features = path_features(strokes)
    assert features.shape == (POINTS, FEATURES) and np.isfinite(features).all()
    assert np.abs(features[:, :2]).max() <= 0.5
    norms = np.hypot(features[:, 2], features[:, 3])
    assert np.all((np.abs(norms - 1) < 1e-5) | (norms == 0))


def test_a_batch_gives_each_digit_what_it_gets_alone():
    """Digits are resampled together: none may reach into its neighbours' points, dots and
    pens that never moved among them."""
    digits = [fixture_strokes(label) for label in range(3)]
    digits[1:1] = [[[(5, 5)]], [[(9, 9), (9, 9)]], [[(0, 0), (10, 0)], [(20, 5)]]]
    batch = path_batch(digits)
    assert batch.shape == (6, POINTS, FEATURES) and batch.dtype == np.float32
    for row, digit in zip(batch, digits, strict=True):
        assert np.abs(row - path_batch([digit])[0]).max() < 1e-6


# --- training copies --------------------------------------------------------------------------


def test_slower_sampling_keeps_both_ends():
    stroke = np.arange(20.0).reshape(10, 2)
    assert np.array_equal(path_model.sampled_slower(stroke, 4), stroke[[0, 4, 8, 9]])
    assert np.array_equal(path_model.sampled_slower(stroke, 1), stroke)
    assert np.array_equal(path_model.sampled_slower(stroke[:1], 3), stroke[:1])


def test_training_copies_reverse_and_reorder_strokes_now_and_then():
    rng = np.random.default_rng(0)
    strokes = fixture_strokes(1)
    copies = [path_model.training_copy(strokes, rng) for _ in range(1000)]
    # After vary_strokes moves the points, the curve is the stroke of about 200 points (or
    # fewer when thinned), and the bar has 3: which comes first, and which way it runs.
    curve_first = np.mean([len(c[0]) > 3 for c in copies])
    reversed_bar = np.mean([_bar(c)[0, 0] > _bar(c)[-1, 0] for c in copies])
    assert 0.75 < curve_first < 0.95  # reordered about 0.3 x half of the time
    assert 0.2 < reversed_bar < 0.4


def _bar(strokes):
    return next(s for s in strokes if len(s) <= 3)


# --- the model --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """The command run for one epoch on a pen-data fixture: (folder, the model's path)."""
    folder = tmp_path_factory.mktemp("path")
    data = write_pen_data(folder / "digits.jsonl.gz", fixture_digits())
    out = folder / "model" / "path.keras"
    argv = ["--unipen", str(data), "--out", str(out), "--epochs", "1", "--copies", "2"]
    assert path_model.main(argv) == 0
    return folder, out


def test_the_model_takes_paths_to_probabilities():
    model = path_model.build_path_model()
    assert model.input_shape == (None, POINTS, FEATURES)
    assert model.output_shape == (None, 10)
    batch = path_batch([fixture_strokes(label) for label in range(4)])
    probabilities = model(batch).numpy()
    assert np.allclose(probabilities.sum(axis=1), 1.0, atol=1e-5)


def test_training_learns_from_the_fixture(tmp_path):
    """Three epochs on the fixture's shapes read its held-apart writers better than chance."""
    digits = fixture_digits()
    train = [d for d in digits if d.writer not in ("fix/w8", "fix/w9")]
    validation = [d for d in digits if d.writer in ("fix/w8", "fix/w9")]
    model, history, _ = path_model.train_path_model(
        train, validation, epochs=3, copies=3, verbose=0
    )
    assert len(history.history["val_loss"]) == 3
    assert path_model.accuracy(model, *path_model.as_written(validation)) > 0.3


def test_the_command_saves_model_record_and_export(trained, capsys):
    import onnxruntime as ort

    from deeplearning.training.model import load_model  # noqa: F401 (Keras's loader below)

    folder, out = trained
    record = json.loads(out.with_suffix(".json").read_text())
    assert record["sha256"] == file_sha256(out) and record["model_file"] == "path.keras"
    assert record["training_writers"] + record["validation_writers"] == 8
    assert record["held_out_writers"] == 2 and record["epochs_run"] == 1
    session = ort.InferenceSession(str(exported_path(out)))
    assert session.get_modelmeta().custom_metadata_map[SOURCE_SHA256] == file_sha256(out)
    # Nothing is written over the model without --force.
    data = folder / "digits.jsonl.gz"
    before = out.read_bytes()
    assert path_model.main(["--unipen", str(data), "--out", str(out), "--epochs", "1"]) == 1
    one_error_line(capsys.readouterr().err, out, "--force")
    assert out.read_bytes() == before


def test_traced_mnist_digits_join_the_training_and_its_record(kaggle_dir, tmp_path, capsys):
    data = write_pen_data(tmp_path / "digits.jsonl.gz", fixture_digits())
    out = tmp_path / "traced.keras"
    argv = ["--unipen", str(data), "--out", str(out), "--epochs", "1", "--copies", "1"]
    assert path_model.main([*argv, "--traced-mnist", str(kaggle_dir), "--traced-count", "40"]) == 0
    assert "traced 40 MNIST training images" in capsys.readouterr().out
    record = json.loads(out.with_suffix(".json").read_text())
    assert record["traced_digits"] == 40 and record["traced_mnist"] == str(kaggle_dir)
    assert record["training_writers"] + record["validation_writers"] == 8  # pen writers only


def test_traced_mnist_traces_real_digits_as_pen_digits(mnist_sample):
    images, labels = mnist_sample
    traced = path_model.traced_mnist_images(images[:6], labels[:6])
    assert [d.label for d in traced] == labels[:6].tolist()
    assert all(d.writer == path_model.TRACED_WRITER for d in traced)
    assert all(len(stroke) >= 1 and stroke.shape[1] == 2 for d in traced for stroke in d.strokes)


def test_the_export_gives_the_same_probabilities_as_keras(trained):
    _, out = trained
    assert_export_matches(out)


def assert_export_matches(model_path):
    import keras
    import onnxruntime as ort

    model = keras.saving.load_model(model_path, compile=False, safe_mode=True)
    rng = np.random.default_rng(1)
    batch = path_batch([fixture_strokes(i % 10, rng, wobble=3.0) for i in range(50)])
    expected = model(batch).numpy()
    session = ort.InferenceSession(str(exported_path(model_path)))
    got = session.run(None, {session.get_inputs()[0].name: batch})[0]
    assert got.shape == (50, 10) and got.dtype == np.float32
    assert np.abs(got - expected).max() <= TOLERANCE


# --- the command's bad input -----------------------------------------------------------------


@pytest.mark.parametrize(
    "argv, message",
    [
        ([], "the following arguments are required: --unipen"),
        (["--unipen", "{tmp}/none"], "none: no such file"),
        (["--unipen", "{data}", "--out", "{tmp}/model.h5"], "must end in .keras"),
        (["--unipen", "{data}", "--out", "{tmp}/folder.keras"], "is a folder"),
        (["--unipen", "{data}", "--epochs", "0"], "--epochs: 0 is out of range"),
        (["--unipen", "{data}", "--copies", "x"], "--copies: 'x' is not a whole number"),
        (["--unipen", "{data}", "--traced-mnist", "{tmp}"], "no MNIST training images"),
        (["--unipen", "{data}", "--traced-mnist", "{tmp}/none"], "none: folder not found"),
    ],
)
def test_bad_input_is_one_error_line_before_tensorflow(tmp_path, argv, message):
    data = write_pen_data(tmp_path / "digits.jsonl.gz", fixture_digits(writers=1, per_label=1))
    (tmp_path / "folder.keras").mkdir()
    argv = [a.format(tmp=tmp_path, data=data) for a in argv]
    code = (
        "import sys; from deeplearning.training import path_model; "
        f"status = path_model.main({argv!r}); "
        "print('tensorflow' in sys.modules); sys.exit(status)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 1
    assert result.stdout.strip() == "False"  # said before TensorFlow's seconds of start-up
    one_error_line(result.stderr, message)


def test_bad_pen_data_is_one_error_line(tmp_path, capsys):
    data = tmp_path / "digits.jsonl"
    data.write_text('{"label": "3", "writer": "a/b", "strokes": []}\n')
    assert path_model.main(["--unipen", str(data), "--out", str(tmp_path / "m.keras")]) == 1
    one_error_line(capsys.readouterr().err, "line 1", "'strokes' must be a non-empty list")


# --- the shipped model ------------------------------------------------------------------------


def test_the_shipped_export_is_of_the_shipped_model():
    import onnxruntime as ort

    session = ort.InferenceSession(str(exported_path(SHIPPED)))
    assert session.get_modelmeta().custom_metadata_map[SOURCE_SHA256] == file_sha256(SHIPPED)
    record = json.loads(SHIPPED.with_suffix(".json").read_text())
    assert record["sha256"] == file_sha256(SHIPPED)
    assert session.get_inputs()[0].shape[1:] == [POINTS, FEATURES]


def test_the_shipped_export_reads_as_keras_does():
    assert_export_matches(SHIPPED)


# --- teaching ---------------------------------------------------------------------------------


def _arc(cx, cy, radius, start, stop, points=20):
    angles = np.linspace(start, stop, points)
    return list(zip(cx + radius * np.cos(angles), cy + radius * np.sin(angles), strict=True))


# One writer's habit: a 3 written from the bottom up, which the path model takes for an 8.
THREE_BOTTOM_UP = [_arc(35, 72, 28, 2.5, -1.6)[::-1] + _arc(35, 25, 22, 1.6, -2.5)[::-1]]


def canvas_strokes(strokes, rng=None):
    """The strokes as canvas pixels, as the app records them (varied, with `rng`)."""
    points = [40 + np.asarray(s, float) * 2 for s in strokes]
    return vary_strokes(points, rng) if rng is not None else points


@pytest.fixture(scope="module")
def taught_path(tmp_path_factory):
    """Teaching on four 3s written from the bottom up and a 0, 4 and 1: (taught path model,
    status, stdout)."""
    folder = tmp_path_factory.mktemp("personal")
    digits = [(3, THREE_BOTTOM_UP)] * 4 + [(d, DIGIT_STROKES[d]) for d in (0, 4, 1)]
    image = np.zeros((28, 28), np.uint8)  # the picture model's part is test_teach.py's
    SampleSet(folder).append(Sample(label, image, canvas_strokes(s)) for label, s in digits)
    out = tmp_path_factory.mktemp("taught") / "taught.keras"
    no_data = tmp_path_factory.mktemp("no-data")
    argv = ["--samples", folder, "--out", out, "--data", no_data, "--epochs", "1", "--copies", "50"]
    result = subprocess.run(
        [sys.executable, "-m", "deeplearning", "teach", *map(str, argv)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    return path_model_beside(out), result.returncode, result.stdout


def test_teaching_teaches_the_path_model_the_writers_hand(taught_path):
    import keras

    path, status, _ = taught_path
    assert status == 0 and path.name == "taught_path.keras"
    rng = np.random.default_rng(5)
    fresh = path_batch([canvas_strokes(THREE_BOTTOM_UP, rng) for _ in range(12)])  # new ones
    base = keras.saving.load_model(SHIPPED, compile=False)
    taught = keras.saving.load_model(path, compile=False)
    before, after = base(fresh).numpy()[:, 3], taught(fresh).numpy()[:, 3]
    assert after.mean() > before.mean() + 0.3
    assert (after > 0.5).mean() >= 0.75
    assert_export_matches(path)


def test_the_taught_path_model_keeps_reading_other_digits(taught_path):
    import keras

    taught = keras.saving.load_model(taught_path[0], compile=False)
    rng = np.random.default_rng(6)
    for label in (2, 5, 7, 8):
        fresh = path_batch([canvas_strokes(DIGIT_STROKES[label], rng) for _ in range(3)])
        assert (taught(fresh).numpy().argmax(axis=1) == label).all(), label


def test_teaching_the_path_model_is_on_the_progress_bar(taught_path):
    """The picture model's training fills the bar to 1 - PATH_SHARE, the path model's the
    rest; the app's bar never goes back."""
    _, _, stdout = taught_path
    shown = [float(line.split()[1]) for line in stdout.splitlines() if line.startswith("progress:")]
    assert shown[0] == 0.0 and shown[-1] == 1.0 and shown == sorted(shown)
    assert 1 - teach.PATH_SHARE in shown


def test_the_taught_path_models_record(taught_path):
    path, _, _ = taught_path
    record = json.loads(path.with_suffix(".json").read_text())
    assert record["taught_from_sha256"] == file_sha256(SHIPPED)
    assert record["sha256"] == file_sha256(path) and record["samples"] == 7
    assert record["traced_mnist_digits"] > 0 and record["epochs"] == 1


def test_the_export_command_exports_a_path_model(trained, tmp_path, capsys):
    """What the app's message for an out-of-date export says to run works on a path model."""
    from deeplearning.training import export

    _, out = trained
    model = tmp_path / "path.keras"
    model.write_bytes(out.read_bytes())
    assert export.main([str(model)]) == 0, capsys.readouterr().err
    assert_export_matches(model)


def test_train_path_never_writes_the_shipped_path_model(tmp_path, capsys):
    data = tmp_path / "digits.jsonl"
    data.write_text("")
    argv = ["--unipen", str(data), "--out", str(SHIPPED), "--force"]
    assert path_model.main(argv) == 1
    one_error_line(capsys.readouterr().err, SHIPPED, "is the shipped path model")
    assert path_model.DEFAULT_OUT.name == "path_cnn_trained.keras"


def test_a_taught_models_own_path_model_is_read_with_it(tmp_path):
    """Teaching writes NAME_path.keras beside the taught NAME.keras: the Recognizer reads
    with that one, and with the shipped path model where a model has none."""
    import shutil

    from deeplearning.reading.recognize import Recognizer
    from deeplearning.reading.runtime import DEFAULT_MODEL_PATH

    taught = tmp_path / "mnist_cnn_taught.keras"
    for source, target in [(DEFAULT_MODEL_PATH, taught), (SHIPPED, path_model_beside(taught))]:
        shutil.copy(source, target)
        shutil.copy(exported_path(source), exported_path(target))
    assert Recognizer(taught).path_model.path == exported_path(path_model_beside(taught))
    assert Recognizer().path_model.path == exported_path(SHIPPED)
