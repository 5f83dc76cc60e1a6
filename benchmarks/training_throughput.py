"""Training throughput of the tutorial's recipe (batch 32, augmentation) against the matmul peak.

    .venv/bin/python benchmarks/training_throughput.py [--steps 320]

Each variant trains the same model on the same augmented batches; they differ only in how the
batches reach the model. The last row, without augmentation, is the ceiling the model's own
arithmetic allows.
"""

import sys
import time

import common
import keras
import numpy as np

from deeplearning.core import cli
from deeplearning.training.fitting import AugmentedBatches, make_augmenter
from deeplearning.training.model import build_model, compile_model
from deeplearning.training.train import BATCH_SIZE, split_validation

WARMUP_STEPS = 64
TRAIN_IMAGES = 16_000  # 500 batches


def images_per_second(batches, steps_per_execution, steps):
    """Train a fresh model for `steps` batches after a warm-up; return images per second."""
    keras.utils.set_random_seed(0)
    model = compile_model(build_model(), steps_per_execution=steps_per_execution)
    model.fit(batches, epochs=1, steps_per_epoch=WARMUP_STEPS, verbose=0)  # trace, warm caches
    start = time.perf_counter()
    model.fit(batches, epochs=1, steps_per_epoch=steps, verbose=0)
    return steps * BATCH_SIZE / (time.perf_counter() - start)


def plain_batches(x, y):
    """The same images without augmentation, as a repeating tf.data pipeline."""
    import tensorflow as tf

    return tf.data.Dataset.from_tensor_slices((x, y)).batch(BATCH_SIZE).repeat().prefetch(4)


def parse_args(argv):
    parser = cli.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--steps", type=cli.whole_number(1), default=320, help="timed batches per variant"
    )
    parser.add_argument("--dry-run", action="store_true", help="a few steps, to check it runs")
    return parser.parse_args(argv)


def main(argv=None):
    return cli.run(lambda: measure(parse_args(argv)))


def measure(args):
    steps = 32 if args.dry_run else min(args.steps, TRAIN_IMAGES // BATCH_SIZE - WARMUP_STEPS)

    images, labels = common.real_digits(5000)
    x, _, y, _ = split_validation(images, labels)
    # Repeat the real digits so one pass holds more batches than are timed: an iterator that
    # ran dry would end the timed fit early and inflate its rate.
    x, y = np.resize(x, (TRAIN_IMAGES, *x.shape[1:])), np.resize(y, (TRAIN_IMAGES, y.shape[1]))
    flops = common.training_flops(build_model())
    peak = common.matmul_peak_gflops()
    variants = [
        (
            "seed: ImageDataGenerator.flow, 1 step per call",
            make_augmenter().flow(x, y, BATCH_SIZE),
            1,
        ),
        ("ImageDataGenerator.flow, 32 steps per call", make_augmenter().flow(x, y, BATCH_SIZE), 32),
        ("project: 2 augmenting threads, 32 steps per call", AugmentedBatches(x, y, workers=2), 32),
        ("ceiling: no augmentation, 32 steps per call", plain_batches(x, y), 32),
    ]
    rows = []
    for name, batches, per_call in variants:
        rate = images_per_second(batches, per_call, steps)
        gflops = rate * flops / 1e9
        rows.append([name, f"{rate:.0f}", f"{gflops:.0f}", f"{gflops / peak:.0%}"])
    peak = max(peak, common.matmul_peak_gflops())  # again at the end: the higher is the peak
    for row in rows:
        row[3] = f"{float(row[2]) / peak:.0%}"
    print(f"machine: {common.machine_line()}")
    print(
        f"model: {flops / 1e6:.1f} MFLOP per training image; float32 matmul peak {peak:.0f} GFLOP/s"
    )
    print(f"{steps} timed batches of {BATCH_SIZE} per variant\n")
    common.print_table(["variant", "images/s", "GFLOP/s", "of matmul peak"], rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
