"""Predicting a Kaggle-sized test set (28,000 images): images per second against the matmul peak.

    .venv/bin/python benchmarks/inference_throughput.py [--model model/mnist_cnn.keras]

The seed predicted with `model.predict` at its default batch of 32; the project (the evaluation
command and the notebook) calls the model through one compiled function in batches of 1,000.
"""

import sys
import time

import common
import numpy as np

from deeplearning.core import cli
from deeplearning.reading.images import to_model_input
from deeplearning.training.evaluate import predict_probabilities
from deeplearning.training.model import DEFAULT_MODEL_PATH, load_model

KAGGLE_TEST_IMAGES = 28_000


def images_per_second(predict, x):
    predict(x[:2000])  # warm up: trace and allocate
    start = time.perf_counter()
    labels = predict(x).argmax(1)
    return len(x) / (time.perf_counter() - start), labels


def parse_args(argv):
    parser = cli.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=DEFAULT_MODEL_PATH, help="the .keras model to time")
    parser.add_argument(
        "--count", type=cli.whole_number(1), default=KAGGLE_TEST_IMAGES, help="images to predict"
    )
    parser.add_argument("--dry-run", action="store_true", help="2,000 images, to check it runs")
    return parser.parse_args(argv)


def main(argv=None):
    return cli.run(lambda: measure(parse_args(argv)))


def measure(args):
    count = 2000 if args.dry_run else args.count

    model = load_model(args.model)
    images, _ = common.real_digits(5000)
    x = to_model_input(np.resize(images, (count, 28, 28)))  # real digits, repeated to size
    flops = common.forward_flops(model)
    peak = common.matmul_peak_gflops()
    variants = [
        ("seed: model.predict, batch 32", lambda v: model.predict(v, verbose=0)),
        ("model.predict, batch 1000", lambda v: model.predict(v, batch_size=1000, verbose=0)),
        ("project: evaluate.predict_probabilities", lambda v: predict_probabilities(model, v)),
    ]
    rows, answers = [], []
    for name, predict in variants:
        rate, labels = images_per_second(predict, x)
        answers.append(labels)
        rows.append([name, f"{rate:.0f}", f"{rate * flops / 1e9:.0f}", rate * flops / 1e9])
    peak = max(peak, common.matmul_peak_gflops())
    for row in rows:
        row[3] = f"{row[3] / peak:.0%}"
    assert all((a == answers[0]).all() for a in answers), "the variants disagree"
    print(f"machine: {common.machine_line()}")
    print(f"model: {flops / 1e6:.1f} MFLOP per image; float32 matmul peak {peak:.0f} GFLOP/s")
    print(f"{count} images per variant (all variants give the same labels)\n")
    common.print_table(["variant", "images/s", "GFLOP/s", "of matmul peak"], rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
