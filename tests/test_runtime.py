"""An exported model is checked at load for what the app does with it: float32 images in,
float32 probabilities out, any number of digits at once. Anything else is a ModelError
naming the file, never a crash at the first reading."""

import re

import numpy as np
import pytest
from onnx import TensorProto, helper, numpy_helper
from path_stand_in import save_onnx, write_path_model

from deeplearning.reading.recognize import Recognizer
from deeplearning.reading.runtime import ExportedModel, ModelError

PIXELS = 28 * 28


def write_model(path, input_type=TensorProto.FLOAT, batch="N", rows=-1, output_type=None):
    """A small ONNX model, images (batch, 28, 28, 1) -> softmax over 10 (of type
    output_type): the images are reshaped to (rows, 784)."""
    output_type = input_type if output_type is None else output_type
    dtype = helper.tensor_dtype_to_np_dtype(input_type)
    weights = np.random.default_rng(0).normal(size=(PIXELS, 10)).astype(dtype)
    nodes = [
        helper.make_node("Reshape", ["images", "shape"], ["flat"]),
        helper.make_node("MatMul", ["flat", "weights"], ["scores"]),
        helper.make_node("Softmax", ["scores"], ["soft"], axis=1),
        helper.make_node("Cast", ["soft"], ["probabilities"], to=output_type),
    ]
    graph = helper.make_graph(
        nodes,
        "digits",
        [helper.make_tensor_value_info("images", input_type, [batch, 28, 28, 1])],
        [helper.make_tensor_value_info("probabilities", output_type, [batch, 10])],
        [
            numpy_helper.from_array(np.array([rows, PIXELS], np.int64), "shape"),
            numpy_helper.from_array(weights, "weights"),
        ],
    )
    return save_onnx(graph, path)


def test_a_model_for_any_number_of_digits_reads_them(tmp_path):
    model = ExportedModel(write_model(tmp_path / "good.onnx"))
    probabilities = model.predict(np.zeros((5, 28, 28, 1), np.float32))
    assert probabilities.shape == (5, 10) and probabilities.dtype == np.float32


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"input_type": TensorProto.DOUBLE}, "takes float64 (N, 28, 28, 1)"),
        ({"output_type": TensorProto.DOUBLE}, "gives float64 (N, 10)"),
        ({"batch": 1, "rows": 1}, "takes float32 (1, 28, 28, 1)"),
    ],
)
def test_a_model_the_app_cannot_read_with_is_refused_at_load(tmp_path, options, message):
    path = write_model(tmp_path / "odd.onnx", **options)
    with pytest.raises(ModelError, match=r"odd\.onnx: .*" + re.escape(message)) as error:
        ExportedModel(path)
    assert "expected float32 (N, 28, 28, 1) -> float32 (N, 10)" in str(error.value)
    with pytest.raises(ModelError, match="odd.onnx"):
        Recognizer(path)


def test_the_path_model_is_checked_for_its_own_input(tmp_path):
    path = write_path_model(tmp_path / "path.onnx")
    model = ExportedModel(path, input_shape=(64, 5))
    assert model.predict(np.zeros((3, 64, 5), np.float32)).shape == (3, 10)
    with pytest.raises(ModelError, match=re.escape("expected float32 (N, 28, 28, 1) -> ")):
        ExportedModel(path)  # the CNN's input: a path model is no image model
    with pytest.raises(ModelError, match=re.escape("expected float32 (N, 64, 5) -> ")):
        ExportedModel(write_model(tmp_path / "images.onnx"), input_shape=(64, 5))
