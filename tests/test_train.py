"""A short real training run and the training command."""

import json
import os
import signal
import subprocess
import sys
from types import SimpleNamespace

import numpy as np
import pytest
from conftest import ROOT, one_error_line, run_python, sigint_as_in_a_terminal

from deeplearning.reading.runtime import load_exported
from deeplearning.training import fitting, train
from deeplearning.training.model import build_model, load_model
from deeplearning.training.train import file_sha256


def test_split_is_the_tutorials(mnist_sample):
    images, labels = mnist_sample
    x_train, x_val, y_train, y_val = train.split_validation(images[:1000], labels[:1000])
    assert x_train.shape == (900, 28, 28, 1) and x_val.shape == (100, 28, 28, 1)
    assert y_train.shape == (900, 10) and set(np.unique(y_train)) == {0.0, 1.0}
    assert x_train.dtype == np.float32 and 0.0 <= x_train.min() and x_train.max() <= 1.0
    # Same random_state, same split: reproducible from run to run.
    again = train.split_validation(images[:1000], labels[:1000])[1]
    np.testing.assert_array_equal(x_val, again)


def test_short_training_learns(mnist_sample):
    """Three epochs on 4,000 real digits: a broken pipeline stays near 10% (chance)."""
    images, labels = mnist_sample
    _, history, _ = train.train(images[:4000], labels[:4000], epochs=3, verbose=0)
    assert history.history["val_accuracy"][-1] >= 0.90
    assert history.history["loss"][-1] < history.history["loss"][0]


def test_command_saves_model_and_info(tmp_path, kaggle_dir, capsys):
    out = tmp_path / "model" / "m.keras"
    log = tmp_path / "log.csv"
    args = ["--data", str(kaggle_dir), "--epochs", "1", "--sample", "300", "--out", str(out)]
    assert train.main([*args, "--log", str(log), "--watch-test"]) == 0
    info = json.loads(out.with_suffix(".json").read_text())
    assert info["sha256"] == file_sha256(out)
    assert info["training_images"] == 300 and info["epochs_run"] == 1
    assert load_model(out).count_params() == 887_530
    # The app reads the model through its export, which must be there and match it.
    assert load_exported(out).predict(np.zeros((1, 28, 28, 1), np.float32)).shape == (1, 10)
    assert log.read_text().splitlines()[0].endswith("test_accuracy")
    # Without --force the model is kept.
    before = out.read_bytes()
    assert train.main(args) == 1
    assert "already exists" in capsys.readouterr().err
    assert out.read_bytes() == before


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--epochs", "0"], "--epochs"),
        (["--watch-test"], "--log"),
        ([], "train.csv: file not found"),
    ],
)
def test_command_bad_input(tmp_path, capsys, extra, message):
    assert train.main(["--data", str(tmp_path), "--out", str(tmp_path / "m.keras"), *extra]) == 1
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_command_trains_on_pen_digits_of_training_writers_only(tmp_path, kaggle_dir, pen_data):
    out = tmp_path / "m.keras"
    args = ["--data", str(kaggle_dir), "--epochs", "1", "--sample", "300", "--out", str(out)]
    assert train.main([*args, "--unipen", str(pen_data), "--unipen-copies", "2"]) == 0
    info = json.loads(out.with_suffix(".json").read_text())
    # 17 writers x 20 digits; the 3 held-out writers' 60 are left out.
    assert info["pen_digits"] == 280 and info["unipen_copies_each"] == 2
    assert info["pen_data"] == str(pen_data)
    assert load_model(out).count_params() == 887_530


def test_command_refuses_bad_pen_data(tmp_path, kaggle_dir, capsys):
    args = ["--data", str(kaggle_dir), "--out", str(tmp_path / "m.keras")]
    assert train.main([*args, "--unipen", str(tmp_path)]) == 1
    assert "digits.jsonl.gz: no such file" in capsys.readouterr().err
    assert train.main([*args, "--unipen", str(tmp_path), "--unipen-copies", "0"]) == 1
    assert "--unipen-copies: 0 is out of range" in capsys.readouterr().err


def write_paper_digits(folder, mnist_sample, writers=7, per_label=2):
    """A paper-digits folder (<writer>/<digit>/*.png): MNIST digits as dark ink on light
    paper, 96 px crops; the last six writers are the held-out ones."""
    import cv2

    images, labels = mnist_sample
    index = 0
    for w in range(writers):
        for label in range(10):
            (folder / f"{w:04d}_CH3M" / str(label)).mkdir(parents=True)
            for n in range(per_label):
                index = int(np.flatnonzero(labels[index:] == label)[0]) + index
                ink = cv2.resize(images[index], (64, 64), interpolation=cv2.INTER_LINEAR)
                crop = np.full((96, 96), 235, np.uint8)
                crop[16:80, 16:80] -= (ink.astype(np.float32) * 0.8).astype(np.uint8)
                cv2.imwrite(str(folder / f"{w:04d}_CH3M" / str(label) / f"number-{n}.png"), crop)
                index += 1
    return folder


def test_command_trains_on_paper_digits_of_training_writers_only(
    tmp_path, kaggle_dir, mnist_sample, capsys
):
    paper = write_paper_digits(tmp_path / "paper", mnist_sample)
    out = tmp_path / "m.keras"
    args = ["--data", str(kaggle_dir), "--epochs", "1", "--sample", "300", "--out", str(out)]
    assert train.main([*args, "--paper", str(paper), "--paper-copies", "3"]) == 0
    printed = capsys.readouterr().out
    # One training writer's 20 crops; the six held-out writers' 120 are left out.
    assert "of 20 crops by 1 writers" in printed and "120 by held-out writers" in printed
    info = json.loads(out.with_suffix(".json").read_text())
    assert 18 <= info["paper_digits"] <= 20 and info["paper_copies_each"] == 3
    assert info["paper_data"] == str(paper)


def test_command_refuses_a_folder_without_paper_digits(tmp_path, kaggle_dir, capsys):
    args = ["--data", str(kaggle_dir), "--out", str(tmp_path / "m.keras")]
    assert train.main([*args, "--paper", str(tmp_path)]) == 1
    one_error_line(capsys.readouterr().err, "holds no <writer>/<digit>/*.png images")


# --- every path and option is checked before the work ----------------------------------------


@pytest.fixture
def no_work(monkeypatch):
    """Fail the test if the command reads the data: it must refuse before."""

    def load(path):
        raise AssertionError("the data was read before the arguments were checked")

    monkeypatch.setattr(train, "load_train_csv", load)


@pytest.mark.parametrize(
    ("out", "log", "message"),
    [
        ("noext", None, "must end in .keras or .h5"),
        ("model.txt", None, "must end in .keras or .h5"),
        ("adir.keras", None, "adir.keras: is a folder"),
        ("afile/m.keras", None, "afile: is a file, not a folder"),
        ("m.keras", "adir.keras", "adir.keras: is a folder"),
        ("m.keras", "afile/log.csv", "afile: is a file, not a folder"),
        ("m.keras", "m.json", "named twice"),
        ("j.keras", None, "j.json: is a folder"),
        ("m.keras", "old.csv", "old.csv: already exists (pass --force"),
    ],
)
def test_outputs_are_checked_before_any_work(tmp_path, capsys, no_work, out, log, message):
    (tmp_path / "adir.keras").mkdir()
    (tmp_path / "j.json").mkdir()
    (tmp_path / "afile").write_text("mine")
    (tmp_path / "old.csv").write_text("my log")
    argv = ["--data", str(tmp_path), "--out", str(tmp_path / out)]
    argv += ["--log", str(tmp_path / log)] if log else []
    assert train.main(argv) == 1
    one_error_line(capsys.readouterr().err, message)
    assert (tmp_path / "old.csv").read_text() == "my log"
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "adir.keras",
        "afile",
        "j.json",
        "old.csv",
    ]


def test_a_read_only_folder_is_refused_before_any_work(tmp_path, kaggle_dir, unprivileged):
    folder = tmp_path / "models"
    folder.mkdir()
    folder.chmod(0o555)
    result = run_python(
        "-m", "deeplearning", "train", "--data", kaggle_dir, "--sample", "100", "--epochs", "1",
        "--out", folder / "m.keras", prefix=unprivileged,
    )  # fmt: skip
    assert result.returncode == 1
    one_error_line(result.stderr, folder, "cannot write", "Permission denied")
    assert "training on" not in result.stdout


@pytest.mark.parametrize(
    ("option", "message"),
    [
        (["--traced-copies", "-1"], "--traced-copies: -1 is out of range: it must be 0 or more"),
        (["--seed", "-1"], "--seed: -1 is out of range: it must be 0..4294967295"),
        (["--seed", str(2**32)], f"--seed: {2**32} is out of range"),
        (["--unipen-copies", "0"], "--unipen-copies: 0 is out of range"),
        (["--batch-size", "0"], "--batch-size: 0 is out of range"),
        (["--sample", "9"], "--sample: 9 is out of range: it must be 10 or more"),
        (["--epochs", "two"], "--epochs: 'two' is not a whole number"),
    ],
)
def test_bad_numbers_are_one_line(tmp_path, capsys, no_work, option, message):
    assert train.main(["--data", str(tmp_path), "--out", str(tmp_path / "m.keras"), *option]) == 1
    one_error_line(capsys.readouterr().err, message)
    assert list(tmp_path.iterdir()) == []


def test_a_dry_run_writes_nothing_not_even_the_log(tmp_path, kaggle_dir, capsys):
    log = tmp_path / "log.csv"
    log.write_text("my log")
    out = tmp_path / "m.keras"
    argv = ["--data", str(kaggle_dir), "--sample", "100", "--out", str(out), "--log", str(log)]
    assert train.main([*argv, "--dry-run"]) == 0
    assert "nothing saved" in capsys.readouterr().out
    assert log.read_text() == "my log" and not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["log.csv"]


# --- a finished training is never lost ---------------------------------------------------------


@pytest.fixture
def trained(monkeypatch):
    """Training replaced by an untrained model: for what happens after it."""
    history = SimpleNamespace(history={"val_accuracy": [0.5], "val_loss": [1.0]})
    monkeypatch.setattr(train, "train", lambda *args, **kwargs: (build_model(), history, 1.0))


def test_a_save_that_fails_keeps_the_model_elsewhere(
    tmp_path, kaggle_dir, capsys, trained, monkeypatch
):
    from deeplearning.core.atomic import OutputError
    from deeplearning.training import saving

    out = tmp_path / "m.keras"
    real_save = saving.save_model

    def full_disk(model, path, info, overwrite=True, **options):
        if path == out:
            raise OutputError(f"{path}: cannot write (No space left on device)")
        return real_save(model, path, info, overwrite, **options)

    monkeypatch.setattr(saving, "save_model", full_disk)
    assert train.main(["--data", str(kaggle_dir), "--out", str(out)]) == 1
    line = one_error_line(capsys.readouterr().err, out, "No space left on device")
    rescued = line.rsplit("the trained model is saved as ", 1)[1]
    assert load_model(rescued).count_params() == 887_530
    assert json.loads(open(rescued.replace(".keras", ".json")).read())["epochs_run"] == 1


def test_a_model_made_meanwhile_is_not_replaced(tmp_path, kaggle_dir, capsys, trained, monkeypatch):
    out = tmp_path / "m.keras"
    real_train = train.train

    def someone_saves_meanwhile(*args, **kwargs):
        out.write_text("their model")
        return real_train(*args, **kwargs)

    monkeypatch.setattr(train, "train", someone_saves_meanwhile)
    assert train.main(["--data", str(kaggle_dir), "--out", str(out)]) == 1
    one_error_line(capsys.readouterr().err, out, "already exists", "saved as")
    assert out.read_text() == "their model" and not out.with_suffix(".json").exists()


# --- interrupted runs --------------------------------------------------------------------------

SIGTERM_DURING_SAVE = """
import os, signal, sys, time
import keras
from deeplearning.training import train

def save(model, path, *args, **kwargs):
    open(path, "wb").close()  # Keras has begun writing
    os.kill(os.getpid(), signal.SIGTERM)
    time.sleep(10)

keras.Model.save = save
sys.exit(train.main(sys.argv[1:]))
"""


def test_sigterm_during_the_save_leaves_nothing(tmp_path, kaggle_dir):
    out = tmp_path / "models" / "m.keras"
    argv = ["--data", kaggle_dir, "--sample", "100", "--epochs", "1", "--out", out]
    result = run_python("-c", SIGTERM_DURING_SAVE, *argv)
    assert result.returncode == 143, result.stderr
    assert result.stderr.strip().splitlines()[-1] == "terminated"
    assert "Traceback" not in result.stderr
    assert list(out.parent.iterdir()) == []


def test_ctrl_c_during_training_says_interrupted(tmp_path, kaggle_dir):
    command = [sys.executable, "-m", "deeplearning", "train", "--data", str(kaggle_dir)]
    command += ["--sample", "100", "--epochs", "50", "--out", str(tmp_path / "m.keras")]
    with sigint_as_in_a_terminal():  # Ctrl-C reaches it however the tests were started
        process = subprocess.Popen(
            command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )  # fmt: skip
    try:
        for line in process.stdout:
            if line.startswith("training on"):
                break
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=120)
    finally:
        process.kill()
    assert process.returncode == 130, err
    assert err.strip().splitlines()[-1] == "interrupted" and "Traceback" not in err
    assert list(tmp_path.iterdir()) == []


def test_a_log_that_cannot_be_written_does_not_stop_training(tmp_path, capsys, monkeypatch):
    from deeplearning.core.atomic import OutputError

    log = fitting.EpochLog(tmp_path / "log.csv")
    log.rows = [{"epoch": 1, "seconds": 1.0}]

    def full_disk(path, overwrite=True):
        raise OutputError(f"{path}: cannot write (No space left on device)")

    monkeypatch.setattr(fitting, "atomic_path", full_disk)
    log.write()
    log.write()
    assert "No space left on device" in str(log.error)
    assert capsys.readouterr().err.count("warning: ") == 1  # said once, not every epoch
    monkeypatch.undo()
    log.write()
    assert log.error is None and (tmp_path / "log.csv").read_text().startswith("epoch,seconds")


@pytest.mark.parametrize(
    "option", [["--traced-copies", "1000000"], ["--unipen-copies", "1000000000"]]
)
def test_copies_that_cannot_fit_in_memory_are_refused_before_drawing(
    tmp_path, kaggle_dir, pen_data, capsys, monkeypatch, option
):
    def no_training(*args, **kwargs):
        raise AssertionError("training started")

    monkeypatch.setattr(train, "train", no_training)
    argv = ["--data", str(kaggle_dir), "--out", str(tmp_path / "m.keras"), *option]
    assert train.main([*argv, "--unipen", str(pen_data)]) == 1
    one_error_line(capsys.readouterr().err, " ".join(option), "GB is free")


def test_command_fine_tunes_a_saved_model(tmp_path, kaggle_dir, capsys):
    """--start-from keeps the saved model's knowledge: one short epoch at a low rate leaves
    it reading far better than a fresh model could after so little training."""
    from deeplearning.training.model import DEFAULT_MODEL_PATH

    out = tmp_path / "tuned.keras"
    args = ["--data", str(kaggle_dir), "--epochs", "1", "--sample", "200", "--out", str(out)]
    assert (
        train.main([*args, "--start-from", str(DEFAULT_MODEL_PATH), "--initial-rate", "1e-5"]) == 0
    )
    info = json.loads(out.with_suffix(".json").read_text())
    assert info["start_from_sha256"] == file_sha256(DEFAULT_MODEL_PATH)
    assert info["initial_rate"] == 1e-5 and info["validation_accuracy"] >= 0.95
    assert train.main([*args, "--force", "--start-from", str(tmp_path / "none.keras")]) == 1
    assert "none.keras: model file not found" in capsys.readouterr().err
    assert train.main([*args, "--force", "--initial-rate", "0"]) == 1
    assert "--initial-rate: 0 is out of range" in capsys.readouterr().err


# --- the shipped model is never a training's output -------------------------------------------


def test_training_writes_its_own_model_by_default(tmp_path):
    from deeplearning.training.model import DEFAULT_MODEL_PATH

    out = train.parse_args(["--data", str(tmp_path)]).out
    assert out == DEFAULT_MODEL_PATH.with_name("mnist_cnn_trained.keras")
    written = [str(out.with_suffix(suffix)) for suffix in (".keras", ".json", ".onnx")]
    ignored = subprocess.run(["git", "check-ignore", *written], cwd=ROOT, capture_output=True)
    assert ignored.stdout.decode().splitlines() == written  # git leaves them out


@pytest.mark.parametrize("name", ["the model", "a link to it", "an .h5 beside it"])
def test_the_shipped_model_is_refused_even_with_force(tmp_path, capsys, no_work, name):
    from deeplearning.training.model import DEFAULT_MODEL_PATH

    out = {
        "the model": DEFAULT_MODEL_PATH,
        "a link to it": tmp_path / "link.keras",
        "an .h5 beside it": DEFAULT_MODEL_PATH.with_suffix(".h5"),  # its .json and .onnx
    }[name]
    (tmp_path / "link.keras").symlink_to(DEFAULT_MODEL_PATH)
    before = {p: p.read_bytes() for p in DEFAULT_MODEL_PATH.parent.glob("mnist_cnn.*")}
    assert train.main(["--data", str(tmp_path), "--out", str(out), "--force"]) == 1
    line = one_error_line(capsys.readouterr().err, out, "the shipped model", "--out")
    assert "--force" not in line
    assert {p: p.read_bytes() for p in DEFAULT_MODEL_PATH.parent.glob("mnist_cnn.*")} == before


# --- paths and options are checked before TensorFlow is imported ------------------------------

CHECK_WITHOUT_TENSORFLOW = """
import sys
from deeplearning.__main__ import main
status = main(sys.argv[1:])
heavy = sorted({"tensorflow", "keras"} & set(sys.modules))
print("imported:", " ".join(heavy) or "nothing heavy")
sys.exit(status)
"""


@pytest.mark.parametrize(
    ("command", "message"),
    [
        (["train", "--data", "{missing}", "--out", "{tmp}/m.keras"], "train.csv: file not found"),
        (["train", "--out", "{tmp}/m.keras", "--start-from", "{missing}/m.keras"], "not found"),
        (["evaluate", "--mnist", "{missing}"], "folder not found"),
        (["evaluate", "--model", "{missing}/m.keras", "--mnist", "{tmp}"], "not found"),
        (["export", "{missing}/m.keras"], "model file not found"),
        (["teach", "--samples", "{missing}"], "no such folder"),
        (["notebook", "--data", "{missing}", "--out", "{tmp}/n.ipynb"], "no such file"),
    ],
)
def test_a_command_checks_its_paths_before_importing_tensorflow(tmp_path, command, message):
    argv = [a.format(missing=tmp_path / "missing", tmp=tmp_path) for a in command]
    result = run_python("-c", CHECK_WITHOUT_TENSORFLOW, *argv)
    assert result.returncode == 1
    one_error_line(result.stderr, message)
    assert result.stdout.splitlines()[-1] == "imported: nothing heavy"
