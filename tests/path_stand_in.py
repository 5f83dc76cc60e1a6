"""A stand-in for the model of the pen's path: an ONNX model with its signature, float32
(N, 64, 5) -> (N, 10) probabilities, made of one fixed linear layer."""

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

POINTS, FEATURES = 64, 5


def write_path_model(path, bias=None, points=POINTS, seed=0):
    """A path model whose scores are a fixed random linear map of the features plus `bias`
    (10 values): a large bias makes it read that digit whatever the strokes."""
    rng = np.random.default_rng(seed)
    weights = rng.normal(scale=0.05, size=(points * FEATURES, 10)).astype(np.float32)
    bias = np.zeros(10, np.float32) if bias is None else np.asarray(bias, np.float32)
    nodes = [
        helper.make_node("Reshape", ["paths", "shape"], ["flat"]),
        helper.make_node("MatMul", ["flat", "weights"], ["product"]),
        helper.make_node("Add", ["product", "bias"], ["scores"]),
        helper.make_node("Softmax", ["scores"], ["probabilities"], axis=1),
    ]
    graph = helper.make_graph(
        nodes,
        "path",
        [helper.make_tensor_value_info("paths", TensorProto.FLOAT, ["N", points, FEATURES])],
        [helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, ["N", 10])],
        [
            numpy_helper.from_array(np.array([-1, points * FEATURES], np.int64), "shape"),
            numpy_helper.from_array(weights, "weights"),
            numpy_helper.from_array(bias, "bias"),
        ],
    )
    return save_onnx(graph, path)


def save_onnx(graph, path):
    """An ONNX graph saved as a model file that ONNX Runtime reads: its path."""
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8  # what the ONNX Runtime here reads
    onnx.checker.check_model(model)
    onnx.save(model, path)
    return path


def sure_of(label, strength=20.0):
    """A bias that makes the stand-in read `label` with near certainty."""
    bias = np.zeros(10, np.float32)
    bias[label] = strength
    return bias
