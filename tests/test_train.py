"""A short real training run and the training command."""

import json

import numpy as np
import pytest

from deeplearning import train
from deeplearning.model import load_model
from deeplearning.train import file_sha256


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
    assert info["pen_digits"] == 280 and info["pen_copies_each"] == 2
    assert info["pen_data"] == str(pen_data)
    assert load_model(out).count_params() == 887_530


def test_command_refuses_bad_pen_data(tmp_path, kaggle_dir, capsys):
    args = ["--data", str(kaggle_dir), "--out", str(tmp_path / "m.keras")]
    assert train.main([*args, "--unipen", str(tmp_path)]) == 1
    assert "digits.jsonl.gz: no such file" in capsys.readouterr().err
    assert train.main([*args, "--unipen", str(tmp_path), "--unipen-copies", "0"]) == 1
    assert "--unipen-copies 0" in capsys.readouterr().err
