"""The CNN's architecture and model loading."""

import os
import subprocess
import sys

import keras
import pytest
from keras import layers

from deeplearning.training.model import ModelError, build_model, load_model

EXPECTED_LAYERS = [
    (layers.Conv2D, 32, (5, 5)),
    (layers.Conv2D, 32, (5, 5)),
    (layers.MaxPooling2D, None, None),
    (layers.Dropout, 0.25, None),
    (layers.Conv2D, 64, (3, 3)),
    (layers.Conv2D, 64, (3, 3)),
    (layers.MaxPooling2D, None, None),
    (layers.Dropout, 0.25, None),
    (layers.Flatten, None, None),
    (layers.Dense, 256, None),
    (layers.Dropout, 0.5, None),
    (layers.Dense, 10, None),
]


def test_architecture_matches_the_tutorial():
    model = build_model()
    assert model.count_params() == 887_530
    assert model.input_shape == (None, 28, 28, 1)
    assert model.output_shape == (None, 10)
    assert len(model.layers) == len(EXPECTED_LAYERS)
    for layer, (kind, size, kernel) in zip(model.layers, EXPECTED_LAYERS, strict=True):
        assert isinstance(layer, kind), layer
        if kind is layers.Conv2D:
            assert (layer.filters, layer.kernel_size, layer.padding) == (size, kernel, "same")
            assert layer.activation.__name__ == "relu"
        elif kind is layers.Dropout:
            assert layer.rate == size
        elif kind is layers.Dense:
            assert layer.units == size
        elif kind is layers.MaxPooling2D:
            assert layer.pool_size == (2, 2)
    assert model.layers[-1].activation.__name__ == "softmax"


def test_missing_model_names_file_and_command(tmp_path):
    path = tmp_path / "absent.keras"
    with pytest.raises(ModelError) as caught:
        load_model(path)
    assert str(path) in str(caught.value)
    assert "python -m deeplearning train" in str(caught.value)


def test_damaged_model_is_a_clear_error(tmp_path):
    path = tmp_path / "broken.keras"
    path.write_bytes(b"not a zip file at all")
    with pytest.raises(ModelError, match="not a readable Keras model"):
        load_model(path)


def test_saved_model_loads_back(tmp_path):
    path = tmp_path / "m.keras"
    build_model().save(path)
    assert load_model(path).count_params() == 887_530


def spatial_softmax():
    """A per-pixel classifier: (None, 28, 28, 1) -> (None, 28, 28, 10)."""
    return keras.Sequential([keras.Input((28, 28, 1)), layers.Conv2D(10, 1, activation="softmax")])


def extra_axis():
    """Ten probabilities with an extra axis: (None, 28, 28, 1) -> (None, 1, 10)."""
    return keras.Sequential(
        [
            keras.Input((28, 28, 1)),
            layers.Flatten(),
            layers.Dense(10, activation="softmax"),
            layers.Reshape((1, 10)),
        ]
    )


def two_outputs():
    inputs = keras.Input((28, 28, 1))
    flat = layers.Flatten()(inputs)
    return keras.Model(inputs, [layers.Dense(10)(flat), layers.Dense(10)(flat)])


@pytest.mark.parametrize(
    ("make", "given"),
    [(spatial_softmax, "(None, 28, 28, 10)"), (extra_axis, "(None, 1, 10)"), (two_outputs, "?")],
)
def test_a_model_of_another_shape_is_refused(tmp_path, make, given):
    path = tmp_path / "other.keras"
    make().save(path)
    with pytest.raises(ModelError) as caught:
        load_model(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: model takes") and f"gives {given}" in message
    assert "expected (None, 28, 28, 1) -> (None, 10)" in message


def test_a_folder_is_not_a_model(tmp_path):
    with pytest.raises(ModelError, match="is a folder"):
        load_model(tmp_path)


def test_a_tensorflow_command_prints_nothing_on_stderr_when_it_succeeds(tmp_path):
    """Run as a user runs it (no TF_CPP_MIN_LOG_LEVEL of their own): on a machine without a
    GPU, TensorFlow's `failed call to cuInit: ... CUDA error` must not be shown, as it reads
    as a failure of the command."""
    from conftest import ROOT

    from deeplearning.training.model import DEFAULT_MODEL_PATH

    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    out = tmp_path / "exported.onnx"
    command = [sys.executable, "-m", "deeplearning", "export", DEFAULT_MODEL_PATH, "--out", out]
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert out.is_file()
