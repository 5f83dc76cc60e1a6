"""Train the CNN with the tutorial's recipe and save it to `model/`.

The recipe: pixels / 255, one-hot labels, 10% held out for validation, ImageDataGenerator
augmentation (rotation 10 degrees, zoom 10%, shifts 10%), batch 32, Adam, the learning rate
halved when validation loss stalls for 3 epochs, and training stopped (keeping the best
weights) when it stalls for 5.

Command line:

    python -m deeplearning train --data data/            # full run: model/mnist_cnn_trained.keras
    python -m deeplearning train --data data/ --dry-run  # one quick epoch, saves nothing

A run saves the model with its JSON record and its ONNX export (the app reads a `.keras` model
through it), never over the shipped model/mnist_cnn.keras. Every path and option is checked
before TensorFlow is imported: a mistake is said in a moment, not after seconds of start-up.
"""

import argparse
import functools
import sys
import time
from pathlib import Path

import numpy as np

from deeplearning.core import cli
from deeplearning.core.atomic import check_outputs
from deeplearning.core.errors import InputError
from deeplearning.datasets.mnist import DataError, load_test_csv, load_train_csv
from deeplearning.datasets.paper_digits import as_the_app_sees_them
from deeplearning.datasets.paper_digits import load as load_paper
from deeplearning.datasets.paper_digits import split as paper_split
from deeplearning.datasets.submission import read_submission
from deeplearning.reading.images import NUM_CLASSES, NUM_PIXELS, to_model_input
from deeplearning.reading.runtime import DEFAULT_MODEL_PATH, file_sha256
from deeplearning.training.machine import computing_in, machine_record
from deeplearning.training.model import build_model, check_model_file, compile_model, load_model
from deeplearning.training.saving import check_not_shipped, model_files, save_or_rescue

BATCH_SIZE = 32
MAX_EPOCHS = 100
VALIDATION_FRACTION = 0.1
SPLIT_SEED = 42
# Several batches per call into TensorFlow: the same computation, less Python overhead.
STEPS_PER_EXECUTION = 32
# Threads that make augmented batches ahead of the model (see AugmentedBatches).
AUGMENT_WORKERS = 2
DRY_RUN_SAMPLE = 1000
INITIAL_RATE = 1e-3  # Adam's default
DECAY_PER_EPOCH = 0.8
SCHEDULES = ("plateau", "decay")
DEFAULT_UNIPEN_COPIES = 4
DEFAULT_PAPER_COPIES = 4
MODEL_SUFFIXES = (".keras", ".h5")  # the formats Keras saves a whole model in
# A training's own model: the shipped model/mnist_cnn.keras stays as it came (.gitignore'd).
DEFAULT_OUT = DEFAULT_MODEL_PATH.with_name("mnist_cnn_trained.keras")


def split_validation(images, labels):
    """Hold out 10% for validation, as the tutorial does: (x_train, x_val, y_train, y_val).

    Images become float32 (N, 28, 28, 1) in [0, 1]; labels become one-hot vectors.
    """
    import keras
    from sklearn.model_selection import train_test_split

    x = to_model_input(images)
    y = keras.utils.to_categorical(labels, NUM_CLASSES)
    return train_test_split(x, y, test_size=VALIDATION_FRACTION, random_state=SPLIT_SEED)


def decaying_rate(epoch, rate=None, initial=INITIAL_RATE):
    """The 'decay' schedule: the initial rate (Adam's default) for 3 epochs, then 20% less
    each epoch."""
    return initial * DECAY_PER_EPOCH ** max(0, epoch - 2)


def make_callbacks(schedule="plateau", initial_rate=INITIAL_RATE):
    """Lower the learning rate as training goes; stop (best weights kept) when validation loss
    stalls for 5 epochs.

    `plateau`, the tutorial's: halve the rate when validation loss stalls for 3 epochs.
    `decay`: lower it a little every epoch, so that late epochs refine rather than wander.
    """
    import keras

    if schedule == "plateau":
        annealer = keras.callbacks.ReduceLROnPlateau(
            monitor="val_loss", patience=3, factor=0.5, min_lr=1e-5, verbose=1
        )
    else:
        annealer = keras.callbacks.LearningRateScheduler(
            functools.partial(decaying_rate, initial=initial_rate)
        )
    return [
        annealer,
        keras.callbacks.EarlyStopping(monitor="val_loss", patience=5, restore_best_weights=True),
    ]


def train(
    images,
    labels,
    epochs=MAX_EPOCHS,
    batch_size=BATCH_SIZE,
    verbose=1,
    extra_callbacks=(),
    steps_per_execution=STEPS_PER_EXECUTION,
    workers=AUGMENT_WORKERS,
    precision="float32",
    traced_copies=0,
    schedule="plateau",
    pen_digits=(),
    unipen_copies=0,
    start_from=None,
    initial_rate=INITIAL_RATE,
    paper=None,
    paper_copies=0,
):
    """Train a fresh model with the tutorial's recipe; return (model, history, seconds).

    Two optional extensions: `precision="mixed_bfloat16"` computes in bfloat16 (much faster
    on CPUs with bfloat16 matrix units; the weights stay float32), and `traced_copies` adds that
    many copies of every training image as the app's pen would draw it, each at its own
    random size (validation images never). `pen_digits` (recorded pen digits, see
    deeplearning/unipen.py) adds `unipen_copies` varied drawings of each of them.
    `paper` (uint8 images and labels of scanned digits, as the read command prepares them)
    adds each `paper_copies` times; the augmentation varies the copies. `start_from` (a saved
    model's path) fine-tunes its weights instead of fresh ones, starting at `initial_rate`.
    """
    import keras

    from deeplearning.training.fitting import AugmentedBatches

    x_train, x_val, y_train, y_val = split_validation(images, labels)
    if traced_copies:
        from deeplearning.pen_data.tracing import traced_copies as trace_and_draw

        start = time.perf_counter()
        originals = np.rint(x_train[..., 0] * 255).astype(np.uint8)
        drawn = [
            trace_and_draw(originals, seed=copy * len(originals)) for copy in range(traced_copies)
        ]
        print(
            f"drew {traced_copies} x {len(originals)} traced copies "
            f"in {time.perf_counter() - start:.0f} s"
        )
        x_train = np.concatenate([x_train, *map(to_model_input, drawn)])
        y_train = np.concatenate([y_train] * (traced_copies + 1))
    if pen_digits and unipen_copies:
        from deeplearning.pen_data.unipen import varied_copies

        start = time.perf_counter()
        drawn, drawn_labels = varied_copies(pen_digits, unipen_copies)
        print(
            f"drew {len(drawn)} varied copies of {len(pen_digits)} pen digits "
            f"in {time.perf_counter() - start:.0f} s"
        )
        x_train = np.concatenate([x_train, to_model_input(drawn)])
        y_train = np.concatenate([y_train, keras.utils.to_categorical(drawn_labels, NUM_CLASSES)])
    if paper is not None and paper_copies:
        paper_images, paper_labels = paper
        x_train = np.concatenate([x_train, *[to_model_input(paper_images)] * paper_copies])
        paper_y = keras.utils.to_categorical(paper_labels, NUM_CLASSES)
        y_train = np.concatenate([y_train, *[paper_y] * paper_copies])
    with computing_in(precision):
        model = build_model()
        if start_from:
            model.set_weights(load_model(start_from).get_weights())
        model = compile_model(model, steps_per_execution, initial_rate)
        batches = AugmentedBatches(x_train, y_train, batch_size, workers)
        start = time.perf_counter()
        history = model.fit(
            batches,
            epochs=epochs,
            validation_data=(x_val, y_val),
            callbacks=[*make_callbacks(schedule, initial_rate), *extra_callbacks],
            verbose=verbose,
        )
    return model, history, time.perf_counter() - start


def training_info(data, count, history, seconds, batch_size):
    """What a reader of the model needs to know about how it was trained."""
    val_acc = history.history.get("val_accuracy", [])
    val_loss = history.history.get("val_loss", [])
    return {
        "data": str(data),
        "training_images": int(count),
        "validation_fraction": VALIDATION_FRACTION,
        "batch_size": batch_size,
        "epochs_run": len(val_acc),
        "best_epoch": int(np.argmin(val_loss)) + 1 if val_loss else None,
        "validation_accuracy": round(float(val_acc[int(np.argmin(val_loss))]), 5)
        if val_acc
        else None,
        "seconds": round(seconds, 1),
        **machine_record(),
    }


def parse_args(argv):
    parser = cli.ArgumentParser(
        prog="python -m deeplearning train", description="Train the digit CNN."
    )
    parser.add_argument("--data", type=Path, default=Path("data"), help="folder with train.csv")
    parser.add_argument(
        "--epochs", type=cli.whole_number(1), default=MAX_EPOCHS, help="most epochs (default 100)"
    )
    parser.add_argument(
        "--batch-size", type=cli.whole_number(1), default=BATCH_SIZE, help="batch size (default 32)"
    )
    parser.add_argument(
        "--sample",
        type=cli.whole_number(10),
        help="train on only the first N images (and N pen digits); at least 10",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=DEFAULT_OUT,
        help="model file to write (.keras or .h5; default model/mnist_cnn_trained.keras), with "
        "its JSON record and ONNX export beside it; never the shipped model/mnist_cnn.keras",
    )
    parser.add_argument(
        "--force", action="store_true", help="overwrite an existing model, its JSON or the log"
    )
    parser.add_argument("--log", type=Path, help="CSV file for a per-epoch log")
    parser.add_argument(
        "--watch-test",
        action="store_true",
        help="log accuracy on test.csv + test_labels.csv each epoch (needs --log; never steers)",
    )
    parser.add_argument(
        "--precision",
        choices=["float32", "mixed_bfloat16"],
        default="float32",
        help="arithmetic of training (default float32, as the tutorial)",
    )
    parser.add_argument(
        "--schedule",
        choices=SCHEDULES,
        default="plateau",
        help="learning-rate schedule: plateau (the tutorial's) or decay (20%% less each epoch)",
    )
    parser.add_argument(
        "--traced-copies",
        type=cli.whole_number(0),
        nargs="?",
        const=1,
        default=0,
        metavar="N",
        help="also train on N copies (default 1) of each training image traced into strokes and "
        "drawn with the app's pen",
    )
    parser.add_argument(
        "--unipen",
        type=Path,
        metavar="DATA",
        help="also train on recorded pen digits (deeplearning/unipen.py's format, a file or a "
        "folder holding digits.jsonl.gz); the held-out writers are left out",
    )
    parser.add_argument(
        "--unipen-copies",
        type=cli.whole_number(1),
        default=DEFAULT_UNIPEN_COPIES,
        metavar="N",
        help=f"varied drawings of each --unipen digit (default {DEFAULT_UNIPEN_COPIES})",
    )
    parser.add_argument(
        "--paper",
        type=Path,
        metavar="DIR",
        help="also train on scanned paper digits (<writer>/<digit>/*.png, as in "
        "../shared/paper_digits), prepared as the read command prepares them; the held-out "
        "writers are left out",
    )
    parser.add_argument(
        "--paper-copies",
        type=cli.whole_number(1),
        default=DEFAULT_PAPER_COPIES,
        metavar="N",
        help=f"copies of each --paper digit (default {DEFAULT_PAPER_COPIES})",
    )
    parser.add_argument(
        "--start-from",
        type=Path,
        metavar="MODEL",
        help="fine-tune this saved model's weights instead of training fresh ones",
    )
    parser.add_argument(
        "--initial-rate",
        type=learning_rate,
        default=INITIAL_RATE,
        help=f"Adam's learning rate at the start (default {INITIAL_RATE}; lower to fine-tune)",
    )
    parser.add_argument("--seed", type=cli.seed, default=1, help="random seed (default 1)")
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help=f"one epoch on {DRY_RUN_SAMPLE} images; check every path, write nothing",
    )
    args = parser.parse_args(argv)
    if args.watch_test and not args.log:
        parser.error("--watch-test needs --log FILE to write to")
    if args.dry_run:
        args.epochs, args.sample = 1, min(args.sample or DRY_RUN_SAMPLE, DRY_RUN_SAMPLE)
    return args


def learning_rate(text):
    """An argparse type: a learning rate above 0 and at most 1."""
    rate = cli.fraction(text)
    if rate == 0:
        raise argparse.ArgumentTypeError(f"{text} is out of range: it must be above 0")
    return rate


def check_memory(images, traced_copies, pen_digits, unipen_copies, paper_images=0):
    """Refuse, before hours of drawing, copies that would not fit in the memory free now."""
    available = available_memory()
    count = images * (1 + traced_copies) + pen_digits * unipen_copies + paper_images
    needed = 2 * count * NUM_PIXELS * 4  # float32 images, twice over while they are joined
    if available is not None and needed > available:
        raise InputError(
            f"--traced-copies {traced_copies}, --unipen-copies {unipen_copies}: {count:,} training "
            f"images would need about {needed / 1e9:.1f} GB; {available / 1e9:.1f} GB is free"
        )


def available_memory():
    """Bytes of memory free for new work (Linux's MemAvailable), or None where unknown."""
    try:
        with open("/proc/meminfo") as file:
            fields = dict(line.split(":", 1) for line in file if ":" in line)
        return int(fields["MemAvailable"].split()[0]) * 1024
    except (OSError, KeyError, ValueError):
        return None


def output_paths(args):
    """What a run writes, as check_outputs takes them: the model, its JSON, its export and
    the log."""
    model, json_file, exported = model_files(args.out)
    paths = [
        (model, MODEL_SUFFIXES, "model file"),
        (json_file, None, "model's JSON file"),
        (exported, None, "model's ONNX export"),
    ]
    return paths + ([(args.log, None, "log")] if args.log else [])


def check_data(args):
    """The CSV files a run reads are there (what they hold is checked as they are read)."""
    names = ["train.csv", *(["test.csv", "test_labels.csv"] if args.watch_test else [])]
    for path in (args.data / name for name in names):
        if not path.exists():
            raise DataError(
                f"{path}: file not found; make it with: "
                f"python -m deeplearning data mnist --out {args.data}"
            )


def main(argv=None):
    return cli.run(lambda: run(argv))


def run(argv):
    args = parse_args(argv)
    # Every path before any work, and before TensorFlow's seconds of start-up; a dry run
    # writes nothing, so existing files do no harm.
    check_not_shipped(args.out, args.start_from)
    check_outputs(output_paths(args), force=args.force or args.dry_run)
    if args.start_from:
        check_model_file(args.start_from)
    check_data(args)
    images, labels = load_train_csv(args.data / "train.csv")
    pen_digits, held_out = [], []
    paper_digits = []
    if args.paper:
        paper_digits, paper_held_out = paper_split(load_paper(args.paper))
        if args.sample:
            paper_digits = paper_digits[:: max(1, len(paper_digits) // args.sample)]
    if args.unipen:
        from deeplearning.pen_data.unipen import load_pen_digits, split_by_writer

        pen_digits, held_out = split_by_writer(load_pen_digits(args.unipen))
    test = None
    if args.watch_test:
        test_images = load_test_csv(args.data / "test.csv")
        test_labels = read_submission(args.data / "test_labels.csv", len(test_images))
        test = (to_model_input(test_images), test_labels)
    if args.sample:
        images, labels = images[: args.sample], labels[: args.sample]
        pen_digits = pen_digits[: args.sample]
    check_memory(
        len(images),
        args.traced_copies,
        len(pen_digits),
        args.unipen_copies,
        len(paper_digits) * args.paper_copies,
    )
    if args.unipen:
        writers = len({d.writer for d in pen_digits})
        print(
            f"pen digits: training on {len(pen_digits)} by {writers} writers from {args.unipen}; "
            f"{len(held_out)} by held-out writers left out"
        )
    paper = None
    if paper_digits:
        from deeplearning.reading.recognize import Recognizer

        start = time.perf_counter()
        paper = as_the_app_sees_them(paper_digits, Recognizer())
        print(
            f"paper digits: training on {len(paper[1])} of {len(paper_digits)} crops by "
            f"{len({d.writer for d in paper_digits})} writers from {args.paper} (prepared in "
            f"{time.perf_counter() - start:.0f} s); {len(paper_held_out)} by held-out writers "
            "left out"
        )
    import keras

    from deeplearning.training.fitting import EpochLog

    if args.start_from:
        load_model(args.start_from)  # a ModelError naming the file, before the training
    keras.utils.set_random_seed(args.seed)
    print(
        f"training on {len(images)} images from {args.data / 'train.csv'}, "
        f"up to {args.epochs} epochs"
    )
    log = None
    if args.log:
        log = EpochLog(None if args.dry_run else args.log, test, overwrite=args.force)
    model, history, seconds = train(
        images,
        labels,
        args.epochs,
        args.batch_size,
        extra_callbacks=[log] if log else [],
        precision=args.precision,
        traced_copies=args.traced_copies,
        schedule=args.schedule,
        pen_digits=pen_digits,
        unipen_copies=args.unipen_copies,
        start_from=args.start_from,
        initial_rate=args.initial_rate,
        paper=paper,
        paper_copies=args.paper_copies,
    )
    info = training_info(args.data / "train.csv", len(images), history, seconds, args.batch_size)
    info.update(precision=args.precision, traced_copies=args.traced_copies, schedule=args.schedule)
    info["initial_rate"] = args.initial_rate
    if args.start_from:
        info.update(start_from=str(args.start_from), start_from_sha256=file_sha256(args.start_from))
    if args.unipen:
        info.update(
            pen_data=str(args.unipen),
            pen_digits=len(pen_digits),
            unipen_copies_each=args.unipen_copies,
        )
    if paper is not None:
        info.update(
            paper_data=str(args.paper),
            paper_digits=len(paper[1]),
            paper_copies_each=args.paper_copies,
        )
    info["command"] = "python -m deeplearning train " + " ".join(
        argv if argv is not None else sys.argv[1:]
    )
    print(
        f"trained {info['epochs_run']} epochs in {seconds:.0f} s; "
        f"validation accuracy {info['validation_accuracy']}"
    )
    if args.dry_run:
        print("dry run: nothing saved (no model, no JSON, no log)")
        return 0
    # The app reads a .keras model only through an export that matches it.
    status = save_or_rescue(model, args.out, info, overwrite=args.force, export=True)
    if log and log.error:
        log.write()  # one more try, now that the model is safe
        if log.error:
            print(f"error: {log.error}", file=sys.stderr)
            return 1
    return status


if __name__ == "__main__":
    sys.exit(main())
