"""Measure a trained model on MNIST's 10,000 test images, or score a Kaggle submission.

Command line:

    python -m deeplearning evaluate --model model/mnist_cnn.keras --mnist data/
    python -m deeplearning evaluate --submission data/submission.csv --labels data/test_labels.csv

MNIST's test images come from a folder of its IDX files or from the test.csv and
test_labels.csv that `python -m deeplearning data mnist` writes (data/ by default).

Both print the accuracy, the accuracy for each digit and the confusion matrix; the last line
printed is one JSON object, e.g. {"accuracy": 0.9962, "count": 10000, "errors": 38, ...}.
With a model, the most confident errors are drawn into a PNG grid (`--errors`) and, when
asked, the confusion matrix too (`--confusion`). Existing PNGs are kept unless `--force`.
"""

import json
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from deeplearning.core import cli
from deeplearning.core.atomic import check_outputs
from deeplearning.datasets.mnist import DataError, load_test_set
from deeplearning.datasets.submission import read_submission
from deeplearning.reading.images import IMAGE_SIZE, NUM_CLASSES, to_model_input
from deeplearning.reading.runtime import ExportedModel, load_exported
from deeplearning.training import plots
from deeplearning.training.model import (
    DEFAULT_MODEL_PATH,
    ModelError,
    check_model_file,
    inference_function,
    load_model,
)

PREDICT_BATCH = 1000
DEFAULT_MNIST = Path("data")
DEFAULT_LABELS = Path("data/test_labels.csv")
ERROR_GRID_COUNT = 24
ERROR_GRID_COLUMNS = 8
DIGITS = range(NUM_CLASSES)


@dataclass
class Report:
    """True labels against predictions (and the probabilities behind them, when known)."""

    labels: np.ndarray
    predictions: np.ndarray
    probabilities: np.ndarray | None = None

    @property
    def count(self):
        return len(self.labels)

    @property
    def errors(self):
        return int(np.sum(self.predictions != self.labels))

    @property
    def accuracy(self):
        return float(np.mean(self.predictions == self.labels)) if self.count else 0.0

    @property
    def per_class(self):
        """Accuracy among the images of each digit (None for a digit with no images)."""
        result = {}
        for digit in DIGITS:
            mask = self.labels == digit
            hits = self.predictions[mask] == digit
            result[str(digit)] = float(np.mean(hits)) if mask.any() else None
        return result

    @property
    def confusion(self):
        return plots.confusion_counts(self.labels, self.predictions)

    def summary(self):
        """The numbers for the JSON line, rounded to what is meaningful."""
        per_class = {d: None if a is None else round(a, 5) for d, a in self.per_class.items()}
        return {
            "accuracy": round(self.accuracy, 5),
            "count": self.count,
            "errors": self.errors,
            "per_class": per_class,
        }


def _as_model_input(images):
    """uint8 (N, 28, 28) images or model-ready floats (N, 28, 28, 1) -> model input."""
    images = np.asarray(images)
    if images.ndim == 4 and images.shape[1:] == (IMAGE_SIZE, IMAGE_SIZE, 1):
        images = images[..., 0]
    if images.ndim != 3 or images.shape[1:] != (IMAGE_SIZE, IMAGE_SIZE):
        raise DataError(f"images have shape {images.shape}, expected (N, 28, 28) or (N, 28, 28, 1)")
    if images.dtype == np.uint8:
        return to_model_input(images)
    return images.astype(np.float32).reshape(-1, IMAGE_SIZE, IMAGE_SIZE, 1)


def predict_probabilities(model, images, batch_size=PREDICT_BATCH):
    """Class probabilities (N, 10), computed a batch at a time in inference mode by a Keras
    model, or by an ExportedModel as the app reads with it."""
    x = _as_model_input(images)
    call = model.predict if isinstance(model, ExportedModel) else inference_function(model)
    batches = [
        np.asarray(call(x[start : start + batch_size])) for start in range(0, len(x), batch_size)
    ]
    probabilities = np.concatenate(batches) if batches else np.zeros((0, NUM_CLASSES), np.float32)
    if probabilities.shape != (len(x), NUM_CLASSES):
        raise ModelError(
            f"model gave outputs of shape {probabilities.shape}, expected ({len(x)}, 10)"
        )
    return probabilities


def accuracy_report(model, images, labels, batch_size=PREDICT_BATCH):
    """Predict `images` and compare with `labels` (integers or one-hot): a Report."""
    probabilities = predict_probabilities(model, images, batch_size)
    given = np.shape(labels)
    labels = plots.as_labels(labels)
    if labels.shape != (len(probabilities),):
        count = len(probabilities)
        raise DataError(f"labels have shape {given}, expected ({count},) or ({count}, 10)")
    return Report(labels, probabilities.argmax(axis=1), probabilities)


def score_submission(submission_path, labels_path):
    """Score a Kaggle submission against held-out `ImageId,Label` labels: a Report.

    The labels file says how many rows to expect; read_submission rejects missing or
    duplicate ImageIds and labels outside 0..9, naming the file and line.
    """
    truth = read_submission(labels_path)
    predictions = read_submission(submission_path, expected_count=len(truth))
    return Report(truth.astype(np.int64), predictions.astype(np.int64))


def format_confusion(confusion):
    """The confusion matrix as aligned text: rows are true digits, columns predictions."""
    width = max(5, len(str(confusion.max())) + 1)
    header = "true\\pred" + "".join(f"{d:>{width}}" for d in DIGITS)
    rows = [f"{t:>9}" + "".join(f"{n:>{width}}" for n in row) for t, row in enumerate(confusion)]
    return "\n".join([header, *rows])


def format_report(report, name):
    """Accuracy, accuracy per digit and the confusion matrix, as lines of text."""
    lines = [f"{name}: accuracy {report.accuracy:.4f} ({report.errors} errors in {report.count})"]
    lines.append("accuracy per digit:")
    for digit, accuracy in report.per_class.items():
        shown = "no images" if accuracy is None else f"{accuracy:.4f}"
        lines.append(f"  {digit}: {shown}")
    lines.append("confusion matrix:")
    lines.append(format_confusion(report.confusion))
    return "\n".join(lines)


def app_reading(model_path, images, report):
    """The same images read as the app reads them, through the model's ONNX export (the
    CNN's in 8-bit integers): (a line to print, its accuracy or None without an export)."""
    try:
        exported = load_exported(model_path)
    except ModelError as error:
        return f"as the app reads it: not measured ({error})", None
    predictions = predict_probabilities(exported, images).argmax(axis=1)
    accuracy = float(np.mean(predictions == report.labels))
    same = int(np.sum(predictions == report.predictions))
    line = (
        f"as the app reads it ({exported.path.name}, ONNX Runtime): accuracy {accuracy:.4f}, "
        f"the same label as above for {same} of {report.count} images"
    )
    return line, accuracy


def evaluate_model(model_path, mnist_dir):
    """Load MNIST's test images and a model and measure one on the other: (report, images).

    The data is read before the model: a missing folder is said before TensorFlow starts."""
    check_model_file(model_path)
    test_images, test_labels = load_test_set(mnist_dir)
    model = load_model(model_path)
    return accuracy_report(model, test_images, test_labels), test_images


def parse_args(argv):
    parser = cli.ArgumentParser(
        prog="python -m deeplearning evaluate",
        description="Measure a model on MNIST's test images, or score a Kaggle submission.",
    )
    parser.add_argument(
        "--model", type=Path, default=DEFAULT_MODEL_PATH, help="the .keras model to measure"
    )
    parser.add_argument(
        "--mnist",
        type=Path,
        default=DEFAULT_MNIST,
        help="folder with MNIST's IDX files, or with the test.csv and test_labels.csv that "
        f"`python -m deeplearning data mnist` writes (default: {DEFAULT_MNIST})",
    )
    parser.add_argument(
        "--errors",
        type=Path,
        help="draw the most confident errors into this image (.png, .pdf, .svg, ...)",
    )
    parser.add_argument("--confusion", type=Path, help="also draw the confusion matrix here")
    parser.add_argument("--force", action="store_true", help="overwrite existing image files")
    parser.add_argument(
        "--submission", type=Path, help="score this Kaggle submission instead of a model"
    )
    parser.add_argument(
        "--labels",
        type=Path,
        default=DEFAULT_LABELS,
        help=f"held-out ImageId,Label file for --submission (default: {DEFAULT_LABELS})",
    )
    args = parser.parse_args(argv)
    if args.submission and args.errors:
        parser.error("--errors draws a model's errors; a submission has no images to draw")
    return args


def image_outputs(args):
    """The images a run writes, as check_outputs takes them."""
    named = (("errors image", args.errors), ("confusion-matrix image", args.confusion))
    return [(path, plots.FIGURE_SUFFIXES, what) for what, path in named if path]


def run(args):
    """Do what the arguments ask; print the report and return its summary."""
    check_outputs(image_outputs(args), args.force)  # before the slow part, not after it
    app_accuracy = None
    if args.submission:
        report = score_submission(args.submission, args.labels)
        print(format_report(report, str(args.submission)))
    else:
        report, images = evaluate_model(args.model, args.mnist)
        print(format_report(report, str(args.model)))
        line, app_accuracy = app_reading(args.model, images, report)
        print(line)
        if args.errors:
            errors = plots.confident_errors(
                images, report.labels, report.probabilities, ERROR_GRID_COUNT, ERROR_GRID_COLUMNS
            )
            print(f"wrote {plots.save_figure(errors, args.errors, overwrite=args.force)}")
    if args.confusion:
        figure = plots.confusion_matrix(report.labels, report.predictions)
        print(f"wrote {plots.save_figure(figure, args.confusion, overwrite=args.force)}")
    summary = report.summary()
    if app_accuracy is not None:
        summary["app_accuracy"] = round(app_accuracy, 5)
    return summary


def main(argv=None):
    def body():
        print(json.dumps(run(parse_args(argv))))
        return 0

    return cli.run(body)


if __name__ == "__main__":
    sys.exit(main())
