"""Time to accuracy: training seconds until MNIST test accuracy first reaches a target.

    .venv/bin/python benchmarks/time_to_accuracy.py --recipe seed --log benchmarks/logs/seed.csv
    .venv/bin/python benchmarks/time_to_accuracy.py --recipe fast --log benchmarks/logs/fast.csv
    .venv/bin/python benchmarks/time_to_accuracy.py --from-log benchmarks/logs/*.csv

A run trains on MNIST's 60,000 training images and, after each epoch, measures the 10,000 test
images (time left out of the clock); it stops once the target is reached. The test set only
decides when this measurement ends: no model from here is shipped.

Recipes:
- seed: the tutorial's recipe as the original ran it: float32, one batch per call into TensorFlow.
- fast: the same model, data, augmentation and batch size, with bfloat16 arithmetic (mixed
  precision; this CPU has bfloat16 matrix units), 32 batches per call, two threads making the
  augmented batches, and the learning rate lowered a little every epoch (`decay`).
"""

import csv
import math
import sys
from pathlib import Path

import common
import keras

from deeplearning.core import cli
from deeplearning.core.atomic import check_outputs
from deeplearning.core.errors import os_reason
from deeplearning.datasets.mnist import DataError, load_mnist
from deeplearning.reading.images import to_model_input
from deeplearning.training.fitting import EpochLog
from deeplearning.training.train import train

TARGET = 0.9955  # the original project's reported accuracy
RECIPES = {
    "seed": {"precision": "float32", "steps_per_execution": 1, "workers": 1, "schedule": "plateau"},
    "fast": {
        "precision": "mixed_bfloat16",
        "steps_per_execution": 32,
        "workers": 2,
        "schedule": "decay",
    },
}


class StopAtAccuracy(keras.callbacks.Callback):
    """Stop once the EpochLog's latest test accuracy reaches the target."""

    def __init__(self, epoch_log, target):
        super().__init__()
        self.epoch_log, self.target = epoch_log, target

    def on_epoch_end(self, epoch, logs=None):
        if self.epoch_log.rows[-1]["test_accuracy"] >= self.target:
            self.model.stop_training = True


def run(recipe, mnist, log, target, max_epochs, force=False):
    keras.utils.set_random_seed(1)
    (x_train, y_train), (x_test, y_test) = load_mnist(mnist)
    epoch_log = EpochLog(log, test=(to_model_input(x_test), y_test), overwrite=force)
    train(
        x_train,
        y_train,
        epochs=max_epochs,
        verbose=2,
        extra_callbacks=[epoch_log, StopAtAccuracy(epoch_log, target)],
        **RECIPES[recipe],
    )
    if epoch_log.error:
        raise epoch_log.error


LOG_COLUMNS = ("epoch", "seconds", "test_accuracy")


def first_reaching(log, target):
    """(epoch, seconds) of the first row whose test accuracy reaches target, or None."""
    try:
        with open(log, newline="") as file:
            rows = csv.DictReader(file)
            missing = [name for name in LOG_COLUMNS if name not in (rows.fieldnames or ())]
            if missing:
                raise DataError(
                    f"{log}: line 1: no column {', '.join(missing)}; "
                    "a log written with --recipe has them"
                )
            for row in rows:
                values = [_number(log, rows.line_num, row, name) for name in LOG_COLUMNS]
                if values[2] >= target:
                    return int(values[0]), values[1]
    except OSError as error:
        raise DataError(f"{log}: cannot be read ({os_reason(error)})") from None
    return None


def _number(log, line, row, name):
    text = row.get(name) or ""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise DataError(f"{log}: line {line}: column '{name}' holds '{text}', not a number")
    return value


def report(logs, target):
    rows, baseline = [], None
    for log in logs:
        hit = first_reaching(log, target)
        if hit is None:
            rows.append([log, "not reached", "-", "-"])
            continue
        baseline = baseline or hit[1]
        rows.append([log, hit[0], f"{hit[1]:.0f}", f"{hit[1] / baseline:.2f}"])
    print(f"time until MNIST test accuracy >= {target:.2%} (first log is the baseline)\n")
    common.print_table(["log", "epochs", "training seconds", "vs baseline"], rows)


def parse_args(argv):
    parser = cli.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipe", choices=sorted(RECIPES), help="train with this recipe")
    parser.add_argument("--mnist", type=Path, default=Path("../shared/mnist"), help="IDX folder")
    parser.add_argument("--log", type=Path, help="per-epoch CSV log to write (with --recipe)")
    parser.add_argument("--force", action="store_true", help="overwrite an existing --log")
    parser.add_argument("--from-log", type=Path, nargs="+", help="report on existing logs")
    parser.add_argument(
        "--target", type=cli.fraction, default=TARGET, help="test accuracy to reach"
    )
    parser.add_argument(
        "--max-epochs", type=cli.whole_number(1), default=30, help="give up after this many"
    )
    args = parser.parse_args(argv)
    if args.recipe and not args.log:
        parser.error("--recipe needs --log FILE")
    if not args.recipe and not args.from_log:
        parser.error("give --recipe (with --log) or --from-log")
    return args


def measure(args):
    if args.recipe:
        check_outputs([(args.log, None, "log")], args.force)  # before hours of training
        run(args.recipe, args.mnist, args.log, args.target, args.max_epochs, args.force)
        report([args.log], args.target)
    else:
        report(args.from_log, args.target)
    return 0


def main(argv=None):
    return cli.run(lambda: measure(parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
