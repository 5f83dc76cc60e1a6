"""The evaluate command: a model on an MNIST IDX folder, and Kaggle submission scoring."""

import gzip
import json
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pandas as pd
import pytest

from deeplearning.datasets.mnist import MNIST_FILES, mnist_to_csvs
from deeplearning.reading.images import NUM_CLASSES, to_model_input
from deeplearning.reading.runtime import exported_path
from deeplearning.training import evaluate
from deeplearning.training.model import build_model, compile_model

REPO = Path(__file__).resolve().parent.parent
TRAIN_COUNT = 2000
TEST_COUNT = 300
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def write_idx(path, array):
    """Write a uint8 array as a gzipped IDX file: magic 0x0000 08 ndim, then each dimension."""
    array = np.ascontiguousarray(array, dtype=np.uint8)
    header = bytes([0, 0, 0x08, array.ndim])
    header += b"".join(int(size).to_bytes(4, "big") for size in array.shape)
    Path(path).write_bytes(gzip.compress(header + array.tobytes()))


def write_mnist_folder(folder, train, test):
    folder.mkdir(parents=True, exist_ok=True)
    arrays = {
        "train_images": train[0],
        "train_labels": train[1],
        "test_images": test[0],
        "test_labels": test[1],
    }
    for key, stem in MNIST_FILES.items():
        write_idx(folder / f"{stem}.gz", arrays[key])
    return folder


@pytest.fixture(scope="module")
def mnist_dir(tmp_path_factory, mnist_sample):
    images, labels = mnist_sample
    train = images[:TRAIN_COUNT], labels[:TRAIN_COUNT]
    test = images[-TEST_COUNT:], labels[-TEST_COUNT:]
    return write_mnist_folder(tmp_path_factory.mktemp("mnist"), train, test)


@pytest.fixture(scope="module")
def model_path(tmp_path_factory, mnist_sample):
    """A model trained briefly on images the test split does not hold (enough for ~90%)."""
    images, labels = mnist_sample
    keras.utils.set_random_seed(0)
    model = compile_model(build_model())
    x = to_model_input(images[:TRAIN_COUNT])
    y = keras.utils.to_categorical(labels[:TRAIN_COUNT], NUM_CLASSES)
    model.fit(x, y, batch_size=64, epochs=2, verbose=0)
    path = tmp_path_factory.mktemp("model") / "small.keras"
    model.save(path)
    return path


@pytest.fixture(scope="module")
def labels_csv(tmp_path_factory, mnist_sample):
    labels = mnist_sample[1][-TEST_COUNT:]
    path = tmp_path_factory.mktemp("labels") / "test_labels.csv"
    write_frame(path, np.arange(1, TEST_COUNT + 1), labels)
    return path


def write_frame(path, ids, labels):
    pd.DataFrame({"ImageId": ids, "Label": labels}).to_csv(path, index=False)
    return path


def last_json(output):
    return json.loads(output.strip().splitlines()[-1])


def assert_clean_error(capsys, code, *names):
    """Exit code 1 and a single `error:` line on stderr that names each of `names`."""
    err = capsys.readouterr().err
    assert code == 1
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    for name in names:
        assert str(name) in lines[0]


def test_model_on_mnist_folder_prints_report_json_and_writes_pngs(
    capsys, tmp_path, model_path, mnist_dir
):
    errors_png, confusion_png = tmp_path / "errors.png", tmp_path / "confusion.png"
    argv = ["--model", str(model_path), "--mnist", str(mnist_dir)]
    code = evaluate.main([*argv, "--errors", str(errors_png), "--confusion", str(confusion_png)])
    out = capsys.readouterr().out
    assert code == 0
    summary = last_json(out)
    assert summary["count"] == TEST_COUNT
    assert summary["accuracy"] > 0.8
    assert summary["errors"] == round((1 - summary["accuracy"]) * TEST_COUNT)
    assert sorted(summary["per_class"]) == [str(d) for d in range(NUM_CLASSES)]
    assert "confusion matrix:" in out and "true\\pred" in out
    for png in (errors_png, confusion_png):
        assert png.read_bytes().startswith(PNG_MAGIC)


def test_the_model_is_measured_as_the_app_reads_it_too(capsys, tmp_path, model_path, mnist_dir):
    """Through its ONNX export, where it has an up-to-date one; said plainly where not."""
    from deeplearning.training.export import export_file

    model = tmp_path / model_path.name
    model.write_bytes(model_path.read_bytes())
    argv = ["--model", str(model), "--mnist", str(mnist_dir)]
    assert evaluate.main(argv) == 0
    out = capsys.readouterr().out
    assert "as the app reads it: not measured" in out and "app_accuracy" not in last_json(out)
    export_file(model, exported_path(model))
    assert evaluate.main(argv) == 0
    out = capsys.readouterr().out
    summary = last_json(out)
    assert f"as the app reads it ({model.stem}.onnx, ONNX Runtime)" in out
    assert abs(summary["app_accuracy"] - summary["accuracy"]) <= 0.01


def test_the_data_commands_csvs_serve_as_the_idx_folder(capsys, tmp_path, model_path, mnist_sample):
    """data/ as `python -m deeplearning data mnist` writes it (no IDX files): the same test
    images in the same order, so the same figures."""
    images, labels = mnist_sample
    train, test = (images[:10], labels[:10]), (images[-TEST_COUNT:], labels[-TEST_COUNT:])
    csvs = tmp_path / "data"
    mnist_to_csvs(train, test, csvs)
    idx = write_mnist_folder(tmp_path / "mnist", train, test)
    summaries = []
    for folder in (idx, csvs):
        assert evaluate.main(["--model", str(model_path), "--mnist", str(folder)]) == 0
        summaries.append(last_json(capsys.readouterr().out))
    assert summaries[0] == summaries[1] and summaries[1]["count"] == TEST_COUNT


def test_a_folder_without_mnist_says_how_to_make_it(capsys, tmp_path, model_path):
    code = evaluate.main(["--model", str(model_path), "--mnist", str(tmp_path)])
    assert_clean_error(capsys, code, tmp_path, "python -m deeplearning data mnist --out")
    one_image = (np.zeros((1, 28, 28), np.uint8), np.zeros(1, np.uint8))
    mnist_to_csvs(one_image, one_image, tmp_path)
    (tmp_path / "test_labels.csv").unlink()  # test.csv without its labels is no test set
    code = evaluate.main(["--model", str(model_path), "--mnist", str(tmp_path)])
    assert_clean_error(capsys, code, tmp_path / "test_labels.csv", "not found")


def test_existing_png_is_kept_unless_force(capsys, tmp_path, model_path, mnist_dir):
    errors_png = tmp_path / "errors.png"
    errors_png.write_bytes(b"keep me")
    argv = ["--model", str(model_path), "--mnist", str(mnist_dir), "--errors", str(errors_png)]
    assert_clean_error(capsys, evaluate.main(argv), errors_png, "--force")
    assert errors_png.read_bytes() == b"keep me"
    assert evaluate.main([*argv, "--force"]) == 0
    assert errors_png.read_bytes().startswith(PNG_MAGIC)


def test_accuracy_report_takes_bytes_or_model_input(model_path, mnist_sample):
    model = keras.saving.load_model(model_path)
    images, labels = mnist_sample[0][:50], mnist_sample[1][:50]
    from_bytes = evaluate.accuracy_report(model, images, labels, batch_size=16)
    one_hot = keras.utils.to_categorical(labels, NUM_CLASSES)
    from_floats = evaluate.accuracy_report(model, to_model_input(images), one_hot)
    np.testing.assert_array_equal(from_bytes.predictions, from_floats.predictions)
    assert from_bytes.count == 50 and from_bytes.probabilities.shape == (50, NUM_CLASSES)


def test_correct_submission_scores_one(capsys, tmp_path, labels_csv):
    truth = pd.read_csv(labels_csv)
    submission = write_frame(tmp_path / "submission.csv", truth.ImageId, truth.Label)
    code = evaluate.main(["--submission", str(submission), "--labels", str(labels_csv)])
    summary = last_json(capsys.readouterr().out)
    assert code == 0
    assert summary["accuracy"] == 1.0 and summary["count"] == TEST_COUNT
    assert summary["errors"] == 0


def test_one_wrong_label_scores_n_minus_one_over_n(capsys, tmp_path, labels_csv):
    truth = pd.read_csv(labels_csv)
    labels = truth.Label.to_numpy().copy()
    labels[7] = (labels[7] + 1) % NUM_CLASSES
    # Rows in another order: scoring goes by ImageId, not by position.
    shuffled = np.random.default_rng(0).permutation(TEST_COUNT)
    path = write_frame(tmp_path / "submission.csv", truth.ImageId[shuffled], labels[shuffled])
    code = evaluate.main(["--submission", str(path), "--labels", str(labels_csv)])
    summary = last_json(capsys.readouterr().out)
    assert code == 0
    assert summary["accuracy"] == round((TEST_COUNT - 1) / TEST_COUNT, 5)
    assert summary["errors"] == 1


def bad_submission(tmp_path, truth, problem):
    ids, labels = truth.ImageId.to_numpy().copy(), truth.Label.to_numpy().copy()
    if problem == "duplicate ImageId":
        ids[5] = ids[4]
    elif problem == "missing ImageId":
        ids, labels = ids[:-1], labels[:-1]
    elif problem == "label 10":
        labels[3] = 10
    return write_frame(tmp_path / "submission.csv", ids, labels)


@pytest.mark.parametrize(
    ("problem", "message"),
    [
        ("duplicate ImageId", "appears more than once"),
        ("missing ImageId", "missing"),
        ("label 10", "holds 10"),
    ],
)
def test_bad_submission_is_one_clear_error(capsys, tmp_path, labels_csv, problem, message):
    path = bad_submission(tmp_path, pd.read_csv(labels_csv), problem)
    code = evaluate.main(["--submission", str(path), "--labels", str(labels_csv)])
    assert_clean_error(capsys, code, path, message)


def test_missing_submission_file_is_named(capsys, tmp_path, labels_csv):
    missing = tmp_path / "nothing.csv"
    code = evaluate.main(["--submission", str(missing), "--labels", str(labels_csv)])
    assert_clean_error(capsys, code, missing, "not found")


def test_missing_model_file_is_named(capsys, tmp_path, mnist_dir):
    missing = tmp_path / "absent.keras"
    code = evaluate.main(["--model", str(missing), "--mnist", str(mnist_dir)])
    assert_clean_error(capsys, code, missing, "not found")


def test_missing_mnist_folder_is_named(capsys, tmp_path, model_path):
    missing = tmp_path / "no-mnist"
    errors_png = tmp_path / "errors.png"
    argv = ["--model", str(model_path), "--mnist", str(missing), "--errors", str(errors_png)]
    assert_clean_error(capsys, evaluate.main(argv), missing, "not found")
    assert not errors_png.exists()


def test_model_with_wrong_shape_is_refused(capsys, tmp_path, mnist_dir):
    path = tmp_path / "wrong.keras"
    layers = [keras.Input((32, 32, 1)), keras.layers.Flatten(), keras.layers.Dense(5)]
    keras.Sequential(layers).save(path)
    code = evaluate.main(["--model", str(path), "--mnist", str(mnist_dir)])
    assert_clean_error(capsys, code, path, "expected (None, 28, 28, 1)")


def test_images_of_wrong_shape_are_refused(capsys, tmp_path, model_path, mnist_sample):
    images, labels = mnist_sample
    wrong = images[:20, :, :27]  # 28 x 27 images
    folder = write_mnist_folder(tmp_path / "mnist", (wrong, labels[:20]), (wrong, labels[:20]))
    code = evaluate.main(["--model", str(model_path), "--mnist", str(folder)])
    assert_clean_error(capsys, code, folder, "not (N, 28, 28)")


def test_command_line_error_has_no_traceback(tmp_path):
    missing = tmp_path / "absent.keras"
    result = subprocess.run(
        [sys.executable, "-m", "deeplearning", "evaluate", "--model", str(missing), "--mnist", "."],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert f"error: {missing}: model file not found" in result.stderr


# --- image paths are checked before the work; numbers that overflow ----------------------------


@pytest.fixture
def no_work(monkeypatch):
    def evaluate_model(model_path, mnist_dir):
        raise AssertionError("the model was measured before the image paths were checked")

    monkeypatch.setattr(evaluate, "evaluate_model", evaluate_model)


@pytest.mark.parametrize("option", ["--errors", "--confusion"])
@pytest.mark.parametrize("name", ["errors", "errors.csv", "errors.pgf"])
def test_an_image_path_without_an_image_suffix_is_refused_first(
    capsys, tmp_path, no_work, option, name
):
    code = evaluate.main(
        ["--model", "m.keras", "--mnist", str(tmp_path), option, str(tmp_path / name)]
    )
    assert_clean_error(capsys, code, tmp_path / name, "must end in", ".png")
    assert list(tmp_path.iterdir()) == []


def test_one_image_named_twice_is_refused(capsys, tmp_path, no_work):
    png = str(tmp_path / "out.png")
    code = evaluate.main(["--mnist", str(tmp_path), "--errors", png, "--confusion", png])
    assert_clean_error(capsys, code, "named twice")


def test_errors_with_a_submission_is_refused(capsys, tmp_path, labels_csv):
    argv = ["--submission", str(labels_csv), "--labels", str(labels_csv)]
    code = evaluate.main([*argv, "--errors", str(tmp_path / "e.png")])
    assert_clean_error(capsys, code, "--errors", "submission")


def test_an_image_made_meanwhile_is_not_replaced(capsys, tmp_path, labels_csv, monkeypatch):
    png = tmp_path / "confusion.png"
    real = evaluate.score_submission

    def someone_writes_meanwhile(submission, labels):
        png.write_bytes(b"theirs")
        return real(submission, labels)

    monkeypatch.setattr(evaluate, "score_submission", someone_writes_meanwhile)
    argv = ["--submission", str(labels_csv), "--labels", str(labels_csv)]
    code = evaluate.main([*argv, "--confusion", str(png)])
    assert_clean_error(capsys, code, png, "already exists")
    assert png.read_bytes() == b"theirs"
    assert [p.name for p in tmp_path.iterdir()] == ["confusion.png"]


@pytest.mark.parametrize(
    ("image_id", "message"),
    [
        ("99999999999999999999", "holds 99999999999999999999, an ImageId must be 1..2147483648"),
        ("12345678901234567890", "holds 12345678901234567890, an ImageId"),
        ("inf", "holds 'inf', which is not a finite number"),
    ],
)
def test_an_image_id_that_overflows_is_one_line(capsys, tmp_path, labels_csv, image_id, message):
    path = tmp_path / "submission.csv"
    path.write_text(f"ImageId,Label\n1,3\n{image_id},4\n")
    code = evaluate.main(["--submission", str(path), "--labels", str(labels_csv)])
    assert_clean_error(capsys, code, path, "line 3", message)


def test_a_submission_saved_by_excel_with_a_byte_order_mark_is_scored(capsys, tmp_path, labels_csv):
    truth = pd.read_csv(labels_csv)
    path = tmp_path / "submission.csv"
    rows = "".join(f"{i},{label}\n" for i, label in zip(truth.ImageId, truth.Label, strict=True))
    path.write_text("\ufeffImageId,Label\n" + rows, encoding="utf-8")
    code = evaluate.main(["--submission", str(path), "--labels", str(labels_csv)])
    assert code == 0 and last_json(capsys.readouterr().out)["accuracy"] == 1.0
