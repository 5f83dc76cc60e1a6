"""Figures for the notebook and the evaluate command; every function returns its Figure.

The figures are built with `matplotlib.figure.Figure` rather than pyplot: no global figure
list to leak, no GUI backend needed (saving a PNG uses Agg by itself), and in a notebook with
`%matplotlib inline` a returned figure is shown exactly once.
"""

import numpy as np
from matplotlib.backend_bases import FigureCanvasBase
from matplotlib.figure import Figure

from deeplearning.core.atomic import atomic_path
from deeplearning.reading.images import IMAGE_SIZE, NUM_CLASSES

# Small figures at a modest resolution keep notebooks with saved outputs light.
SCREEN_DPI = 72
SAVE_DPI = 110
DIGITS = list(range(NUM_CLASSES))
# The file formats a figure can be saved in, by suffix; pgf is left out: it needs LaTeX.
FIGURE_SUFFIXES = tuple(
    f".{name}" for name in sorted(FigureCanvasBase.get_supported_filetypes()) if name != "pgf"
)


def save_figure(figure, path, dpi=SAVE_DPI, overwrite=True):
    """Write a figure through a temporary file, so no half-written image is left behind;
    without `overwrite`, an existing file is never replaced (OverwriteError)."""
    with atomic_path(path, overwrite) as tmp:
        figure.savefig(tmp, dpi=dpi, bbox_inches="tight")
    return path


def _as_images(images):
    """(N, 28, 28) or (N, 28, 28, 1), bytes or floats -> (N, 28, 28) for imshow."""
    return np.asarray(images).reshape(-1, IMAGE_SIZE, IMAGE_SIZE)


def as_labels(labels):
    """Integer labels (int64) from integers or one-hot rows."""
    labels = np.asarray(labels)
    if labels.ndim == 2 and labels.shape[1] == NUM_CLASSES:
        labels = labels.argmax(axis=1)
    return labels.astype(np.int64)


def _image_grid(count, columns, cell_size=1.3, extra_height=0.35):
    """A figure with `count` image axes (axes left over are hidden); returns (figure, axes)."""
    columns = max(1, min(columns, count))
    rows = max(1, -(-count // columns))
    figure = Figure(
        figsize=(columns * cell_size, rows * (cell_size + extra_height)),
        dpi=SCREEN_DPI,
        layout="constrained",
    )
    axes = figure.subplots(rows, columns, squeeze=False).ravel()
    for ax in axes:
        ax.set_axis_off()
    return figure, axes[:count]


def _show_digit(ax, image, title, color="black"):
    ax.imshow(image, cmap="gray_r", vmin=0, vmax=image.max() or 1)
    ax.set_title(title, fontsize=9, color=color)


def class_balance(labels):
    """Bar chart of how many images there are of each digit."""
    counts = np.bincount(as_labels(labels), minlength=NUM_CLASSES)
    figure = Figure(figsize=(6, 3), dpi=SCREEN_DPI, layout="constrained")
    ax = figure.subplots()
    bars = ax.bar(DIGITS, counts, color="tab:blue")
    ax.bar_label(bars, fontsize=8)
    ax.set(xticks=DIGITS, xlabel="digit", ylabel="images", title="Class balance")
    ax.margins(y=0.12)
    return figure


def sample_images(images, labels, count=18, columns=9):
    """The first `count` images with their labels."""
    images, labels = _as_images(images), as_labels(labels)
    count = min(count, len(images))
    figure, axes = _image_grid(count, columns)
    for ax, image, label in zip(axes, images, labels, strict=False):
        _show_digit(ax, image, f"label {label}")
    return figure


def augmented_samples(images, augmenter, count=4, variants=5, seed=0):
    """Each of the first `count` images (left) beside `variants` random augmentations of it."""
    originals = np.asarray(images, dtype=np.float32).reshape(-1, IMAGE_SIZE, IMAGE_SIZE, 1)[:count]
    figure, axes = _image_grid(len(originals) * (variants + 1), variants + 1)
    axes = axes.reshape(len(originals), variants + 1)
    rng = np.random.default_rng(seed)
    for row, original in zip(axes, originals, strict=True):
        _show_digit(row[0], original[..., 0], "original")
        for ax in row[1:]:
            changed = augmenter.random_transform(original, seed=int(rng.integers(2**31)))
            _show_digit(ax, changed[..., 0], "augmented", color="dimgray")
    return figure


def training_curves(history):
    """Loss and accuracy per epoch, training and validation, from a Keras History or its dict."""
    values = getattr(history, "history", history)
    figure = Figure(figsize=(9, 3.2), dpi=SCREEN_DPI, layout="constrained")
    for ax, metric in zip(figure.subplots(1, 2), ("loss", "accuracy"), strict=True):
        for key, label in ((metric, "training"), (f"val_{metric}", "validation")):
            if key in values:
                epochs = np.arange(1, len(values[key]) + 1)
                ax.plot(epochs, values[key], marker="o", markersize=3, label=label)
        ax.set(xlabel="epoch", ylabel=metric, title=metric.capitalize())
        ax.xaxis.get_major_locator().set_params(integer=True)
        ax.grid(alpha=0.3)
        ax.legend()
    return figure


def confusion_counts(labels, predictions):
    """How many images of each digit (rows) were read as each digit (columns): (10, 10)."""
    from sklearn import metrics  # only when counting: it takes seconds to import

    return metrics.confusion_matrix(as_labels(labels), as_labels(predictions), labels=DIGITS)


def confusion_matrix(labels, predictions, title="Confusion matrix"):
    """The confusion matrix as an image, each cell annotated with its count."""
    counts = confusion_counts(labels, predictions)
    figure = Figure(figsize=(5.5, 5), dpi=SCREEN_DPI, layout="constrained")
    ax = figure.subplots()
    shown = ax.imshow(counts, cmap="Blues")
    figure.colorbar(shown, ax=ax, shrink=0.8)
    threshold = counts.max() / 2
    for (true, predicted), count in np.ndenumerate(counts):
        color = "white" if count > threshold else "black"
        ax.text(predicted, true, str(count), ha="center", va="center", fontsize=8, color=color)
    ax.set(xticks=DIGITS, yticks=DIGITS, xlabel="predicted", ylabel="true", title=title)
    return figure


def most_confident_errors(labels, probabilities, count=6):
    """Indices of the wrong predictions the model was surest about, surest first."""
    labels, probabilities = as_labels(labels), np.asarray(probabilities)
    predictions = probabilities.argmax(axis=1)
    wrong = np.flatnonzero(predictions != labels)
    confidence = probabilities[wrong, predictions[wrong]]
    return wrong[np.argsort(-confidence, kind="stable")][:count]


def confident_errors(images, labels, probabilities, count=6, columns=6):
    """The most confident errors: each image with its predicted label, probability and truth."""
    images, labels = _as_images(images), as_labels(labels)
    probabilities = np.asarray(probabilities)
    chosen = most_confident_errors(labels, probabilities, count)
    if len(chosen) == 0:
        figure = Figure(figsize=(4, 1), dpi=SCREEN_DPI)
        figure.text(0.5, 0.5, "no errors", ha="center", va="center")
        return figure
    figure, axes = _image_grid(len(chosen), columns, cell_size=1.5, extra_height=0.55)
    for ax, index in zip(axes, chosen, strict=True):
        predicted = probabilities[index].argmax()
        confidence = probabilities[index, predicted]
        title = f"predicted {predicted} ({confidence:.2f})\ntrue {labels[index]}"
        _show_digit(ax, images[index], title, color="firebrick")
    return figure
