"""The path model: a 1-D CNN that reads a digit from the pen's path (deeplearning.reading.path),
beside the picture CNN, which errs on other digits.

    python -m deeplearning train-path --unipen ../shared/unipen   # model/path_cnn_trained.keras
    python -m deeplearning train-path --unipen DIR --out OTHER.keras --epochs 20 --copies 8
    python -m deeplearning train-path --unipen DIR --traced-mnist ../shared/mnist

It trains on recorded pen digits (deeplearning/pen_data/unipen.py's format) by the training
writers only; some of those writers are set apart again, chosen as the held-out ones are
(split_by_writer), to stop training when the loss on their digits stalls. Each training
digit is copied `--copies` times, each copy as the same hand might write it another time
(vary_strokes), sampled more slowly (every k-th point kept, k from 1 to 4), with strokes
reversed and put in another order now and then: a person does not always start a stroke at
the same end, and MNIST digits traced into strokes come in an order a tracing finds, not a
hand. With `--traced-mnist`, MNIST training images traced into strokes
(deeplearning/pen_data/tracing.py) join the training digits: many more shapes, in the order
and direction a tracing finds, so that the model knows such paths too and is less sure of
its misreadings there, where the app meets strokes no hand drew. The held-out writers'
digits are read at the end, as they were written, then with every stroke reversed and in a
random order.

It saves the `.keras` model, a JSON record and the ONNX export beside them, never over an
existing file without --force, and never over a shipped model. Every path and option is
checked before TensorFlow is imported.
"""

import sys
import time
from pathlib import Path

import numpy as np

from deeplearning.core import cli
from deeplearning.core.atomic import atomic_paths, check_outputs
from deeplearning.datasets.mnist import DataError, load_train_set
from deeplearning.pen_data.drawing import in_processes
from deeplearning.pen_data.tracing import image_to_strokes
from deeplearning.pen_data.unipen import (
    PenDigit,
    data_file,
    load_pen_digits,
    split_by_writer,
    vary_strokes,
)
from deeplearning.reading.images import NUM_CLASSES
from deeplearning.reading.path import FEATURES, POINTS, path_batch, path_features
from deeplearning.reading.runtime import (
    DEFAULT_PATH_MODEL_PATH,
    ModelError,
    exported_path,
    file_sha256,
)
from deeplearning.training.saving import check_not_shipped, model_files

# A training's own model: the shipped model/path_cnn.keras stays as it came (.gitignore'd).
DEFAULT_OUT = DEFAULT_PATH_MODEL_PATH.with_name("path_cnn_trained.keras")
EPOCHS = 30
COPIES = 6
BATCH_SIZE = 64
LEARNING_RATE = 1e-3
MAX_DROP = 4  # a copy keeps every k-th point, k from 1 to this: slower sampling
REVERSE_CHANCE = 0.3  # each stroke of a copy is reversed with this chance
REORDER_CHANCE = 0.3  # a copy's strokes are put in a random order with this chance
DRY_RUN_DIGITS = 300
TRACED_COUNT = 20_000  # MNIST training images traced with --traced-mnist
TRACED_WRITER = "traced-mnist"
TRACE_CHUNK = 500


def build_path_model():
    """The 1-D CNN (116,682 parameters): (N, POINTS, FEATURES) -> (N, 10) probabilities."""
    import keras
    from keras import layers

    return keras.Sequential(
        [
            keras.Input(shape=(POINTS, FEATURES)),
            layers.Conv1D(64, 5, padding="same", activation="relu"),
            layers.Conv1D(64, 5, padding="same", activation="relu"),
            layers.MaxPool1D(2),
            layers.Conv1D(128, 3, padding="same", activation="relu"),
            layers.Conv1D(128, 3, padding="same", activation="relu"),
            layers.MaxPool1D(2),
            layers.Flatten(),
            layers.Dropout(0.3),
            layers.Dense(NUM_CLASSES, activation="softmax"),
        ],
        name="path_cnn",
    )


def load_path_model(path):
    """A saved path model, read with Keras's safe mode on; ModelError naming the file when
    it cannot be read or does not take (None, POINTS, FEATURES) paths to (None, 10)."""
    import keras

    try:
        model = keras.saving.load_model(path, compile=False, safe_mode=True)
    except Exception as error:  # Keras raises many types for a damaged file
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise ModelError(f"{path}: not a readable Keras model ({reason})") from None
    if (model.input_shape, model.output_shape) != ((None, POINTS, FEATURES), (None, NUM_CLASSES)):
        raise ModelError(
            f"{path}: model takes {model.input_shape} and gives {model.output_shape}, "
            f"expected (None, {POINTS}, {FEATURES}) -> (None, {NUM_CLASSES})"
        )
    return model


# --- training copies ---------------------------------------------------------------------------


def sampled_slower(stroke, k):
    """Every k-th point of a stroke, its last point kept: a slower pen or mouse."""
    keep = np.unique(np.r_[np.arange(0, len(stroke), k), len(stroke) - 1])
    return stroke[keep]


def reversed_strokes(strokes):
    return [stroke[::-1] for stroke in strokes]


def reordered(strokes, rng):
    return [strokes[i] for i in rng.permutation(len(strokes))]


def training_copy(strokes, rng):
    """One copy of a digit's strokes as another writing of it (see the module's docstring)."""
    strokes = vary_strokes(strokes, rng)
    k = int(rng.integers(1, MAX_DROP + 1))
    strokes = [sampled_slower(stroke, k) for stroke in strokes]
    strokes = [s[::-1] if rng.random() < REVERSE_CHANCE else s for s in strokes]
    return reordered(strokes, rng) if rng.random() < REORDER_CHANCE else strokes


def training_set(digits, copies, rng):
    """(features (N x copies, POINTS, FEATURES), labels) of `copies` varied copies of each digit."""
    features = path_batch([training_copy(d.strokes, rng) for d in digits for _ in range(copies)])
    return features, np.repeat([d.label for d in digits], copies).astype(np.int64)


def as_written(digits):
    """(features, labels) of pen digits as they were written."""
    return path_batch([d.strokes for d in digits]), np.array([d.label for d in digits])


def shuffled_pens(digits, seed=0):
    """(features, labels) of the digits with every stroke reversed and in a random order."""
    rng = np.random.default_rng(seed)
    features = [path_features(reordered(reversed_strokes(d.strokes), rng)) for d in digits]
    return np.stack(features), np.array([d.label for d in digits])


def accuracy(model, features, labels):
    return float((predict(model, features).argmax(axis=1) == labels).mean())


def predict(model, features):
    return model.predict(features, batch_size=1024, verbose=0)


def _trace_chunk(images):
    return [image_to_strokes(image) for image in images]


def traced_mnist(source, count):
    """The first `count` MNIST training images traced into strokes, as pen digits."""
    return traced_mnist_images(*load_train_set(source, count))


def traced_mnist_images(images, labels):
    """MNIST images (ink bright) traced into strokes by two processes, as pen digits; an
    image that gives no stroke is left out."""
    chunks = [images[i : i + TRACE_CHUNK] for i in range(0, len(images), TRACE_CHUNK)]
    strokes = [s for chunk in in_processes(_trace_chunk, chunks) for s in chunk]
    return [
        PenDigit(int(label), TRACED_WRITER, [np.asarray(stroke, np.float32) for stroke in digit])
        for label, digit in zip(labels, strokes, strict=True)
        if digit
    ]


# --- training ---------------------------------------------------------------------------------


def train_path_model(train, validation, epochs=EPOCHS, copies=COPIES, seed=1, verbose=2):
    """Train a fresh path model on varied copies of the `train` pen digits, stopping (best
    weights kept) when the loss on the `validation` digits, as written, stalls for 4 epochs.
    Returns (model, history, seconds)."""
    import keras

    keras.utils.set_random_seed(seed)
    start = time.perf_counter()
    x, y = training_set(train, copies, np.random.default_rng(seed))
    print(f"made {len(y):,} training copies in {time.perf_counter() - start:.0f} s", flush=True)
    model = build_path_model()
    model.compile(
        optimizer=keras.optimizers.Adam(LEARNING_RATE),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    callbacks = [
        keras.callbacks.ReduceLROnPlateau(monitor="val_loss", patience=2, factor=0.5, verbose=1),
        keras.callbacks.EarlyStopping(monitor="val_loss", patience=4, restore_best_weights=True),
    ]
    start = time.perf_counter()
    history = model.fit(
        x,
        y,
        batch_size=BATCH_SIZE,
        epochs=epochs,
        validation_data=as_written(validation),
        callbacks=callbacks,
        verbose=verbose,
    )
    return model, history, time.perf_counter() - start


def save_path_model(model, path, info, overwrite=False):
    """Save the model without optimizer state, its JSON record and its ONNX export, all
    written under temporary names and put in place together."""
    import keras

    from deeplearning.training.export import export_model

    bare = keras.models.clone_model(model)  # uncompiled: the weights without Adam's state
    bare.set_weights(model.get_weights())
    path = Path(path)
    with atomic_paths(model_files(path), overwrite) as (tmp, tmp_json, tmp_exported):
        bare.save(tmp)
        info = {**info, "model_file": path.name, "sha256": file_sha256(tmp)}
        tmp_json.write_text(_json(info))
        export_model(bare, tmp_exported, info["sha256"], path.name)
    return info


def _json(info):
    import json

    return json.dumps(info, indent=2) + "\n"


def training_info(args, train, validation, held_out, history, seconds, scores):
    from deeplearning.training.machine import machine_record

    val_loss = history.history["val_loss"]
    best = int(np.argmin(val_loss))
    pens = [d for d in train if d.writer != TRACED_WRITER]
    traced = {}
    if args.traced_mnist is not None:
        traced = {"traced_mnist": str(args.traced_mnist), "traced_digits": len(train) - len(pens)}
    return {
        "data": str(args.unipen),
        "input": f"float32 (N, {POINTS}, {FEATURES}): deeplearning/reading/path.py",
        "training_digits": len(pens),
        "training_writers": len({d.writer for d in pens}),
        **traced,
        "validation_digits": len(validation),
        "validation_writers": len({d.writer for d in validation}),
        "copies": args.copies,
        "epochs_run": len(val_loss),
        "best_epoch": best + 1,
        "validation_accuracy": round(float(history.history["val_accuracy"][best]), 5),
        "held_out_digits": len(held_out),
        "held_out_writers": len({d.writer for d in held_out}),
        **{key: round(value, 5) for key, value in scores.items()},
        "seconds": round(seconds, 1),
        **machine_record(),
    }


# --- the command ------------------------------------------------------------------------------


def parse_args(argv):
    parser = cli.ArgumentParser(
        prog="python -m deeplearning train-path",
        description="Train the path model on recorded pen digits.",
    )
    parser.add_argument(
        "--unipen",
        type=Path,
        required=True,
        metavar="DIR",
        help="recorded pen digits (a file, or a folder holding digits.jsonl.gz)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=DEFAULT_OUT,
        help="model file to write (.keras; default model/path_cnn_trained.keras), with its JSON "
        "record and ONNX export beside it",
    )
    parser.add_argument(
        "--epochs", type=cli.whole_number(1), default=EPOCHS, help=f"most epochs (default {EPOCHS})"
    )
    parser.add_argument(
        "--copies",
        type=cli.whole_number(1),
        default=COPIES,
        help=f"varied copies of each training digit (default {COPIES})",
    )
    parser.add_argument(
        "--traced-mnist",
        type=Path,
        metavar="DIR",
        help="also train on MNIST training images traced into strokes: a folder of MNIST's IDX "
        "files, or with the train.csv that `python -m deeplearning data mnist` writes",
    )
    parser.add_argument(
        "--traced-count",
        type=cli.whole_number(1),
        default=TRACED_COUNT,
        help=f"how many of those images, from the first (default {TRACED_COUNT:,})",
    )
    parser.add_argument("--seed", type=cli.seed, default=1, help="random seed (default 1)")
    parser.add_argument("--force", action="store_true", help="overwrite an existing model")
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help=f"one epoch on {DRY_RUN_DIGITS} digits; check every path, write nothing",
    )
    args = parser.parse_args(argv)
    if args.dry_run:
        args.epochs = 1
    return args


def check_paths(args):
    """The pen data are there and the outputs can be written: before any long work."""
    if not data_file(args.unipen).is_file():
        raise DataError(f"{data_file(args.unipen)}: no such file (pen digits)")
    if args.traced_mnist is not None:
        load_train_set(args.traced_mnist, max_rows=1)  # DataError if there are none
    check_not_shipped(args.out)
    model, json_file, exported = model_files(args.out)
    check_outputs(
        [
            (model, [".keras"], "model file"),
            (json_file, None, "model's JSON file"),
            (exported, None, "model's ONNX export"),
        ],
        force=args.force or args.dry_run,
    )


def run(argv):
    args = parse_args(argv)
    check_paths(args)
    train, held_out = split_by_writer(load_pen_digits(args.unipen))
    train, validation = split_by_writer(train)  # other writers again, for early stopping
    if args.dry_run:
        train, validation = train[::50][:DRY_RUN_DIGITS], validation[::50]
        args.traced_count = min(args.traced_count, DRY_RUN_DIGITS)
    print(
        f"pen digits: training on {len(train)} by {len({d.writer for d in train})} writers, "
        f"validating on {len(validation)} by {len({d.writer for d in validation})} others, "
        f"{len(held_out)} by {len({d.writer for d in held_out})} held-out writers kept apart",
        flush=True,
    )
    if args.traced_mnist is not None:
        start = time.perf_counter()
        traced = traced_mnist(args.traced_mnist, args.traced_count)
        print(
            f"traced {len(traced):,} MNIST training images in {time.perf_counter() - start:.0f} s"
        )
        train = train + traced
    model, history, seconds = train_path_model(
        train, validation, args.epochs, args.copies, args.seed
    )
    print(f"trained in {seconds:.0f} s", flush=True)
    scores = {
        "held_out_accuracy": accuracy(model, *as_written(held_out)),
        "held_out_accuracy_reversed_reordered": accuracy(model, *shuffled_pens(held_out)),
    }
    print(
        f"held-out writers: {scores['held_out_accuracy']:.2%} of {len(held_out)} digits as "
        f"written, {scores['held_out_accuracy_reversed_reordered']:.2%} with every stroke "
        "reversed and in a random order",
        flush=True,
    )
    if args.dry_run:
        print("dry run: nothing saved")
        return 0
    info = training_info(args, train, validation, held_out, history, seconds, scores)
    save_path_model(model, args.out, info, overwrite=args.force)
    print(f"saved {args.out}, {args.out.with_suffix('.json')} and {exported_path(args.out)}")
    return 0


def main(argv=None):
    return cli.run(lambda: run(argv))


if __name__ == "__main__":
    sys.exit(main())
