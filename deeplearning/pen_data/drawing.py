"""Handwriting drawn as the app would see it: strokes drawn with the app's pen at a height
people write at, prepared by the Recognizer into the 28x28 image the model reads, many at a
time in worker processes. Training and teaching learn from such copies; the replay reads them.
"""

import multiprocessing
import signal

import numpy as np

from deeplearning.reading.pen import (
    PEN_RADIUS,
    SINGLE_HEIGHT,
    place_strokes,
    render,
    stroke_bounds,
)
from deeplearning.reading.recognize import extract_digits

COPY_CHUNK = 1000  # digits drawn by one worker's job


def random_height(rng):
    """A whole-pixel ink height in SINGLE_HEIGHT, as people draw one digit."""
    return int(rng.integers(SINGLE_HEIGHT[0], SINGLE_HEIGHT[1] + 1))


def drawn_digit(strokes, height, pen_radius=PEN_RADIUS):
    """Strokes drawn `height` px tall with the app's pen and prepared by the app's Recognizer:
    the 28x28 image the model would see, or None when they do not come back as one digit."""
    if not strokes:
        return None
    margin = 2 * pen_radius
    placed = place_strokes(strokes, height, margin, margin, pen_radius)
    _, _, right, bottom = stroke_bounds(placed)
    size = (int(right) + 2 * margin, int(bottom) + 2 * margin)
    _, images = extract_digits(render(placed, size, pen_radius))
    return images[0] if len(images) == 1 else None


def in_processes(function, jobs, workers=2):
    """[function(job) for job in jobs], spread over `workers` processes.

    Drawing many copies is plain Python and OpenCV work, so processes (not threads) use
    every core. They are spawned, not forked: a fork would copy TensorFlow's threads. They
    leave Ctrl-C to this process, which stops them at once, so that an interrupted run ends
    with one word rather than a traceback from every worker.
    """
    context = multiprocessing.get_context("spawn")
    with context.Pool(workers, initializer=_leave_ctrl_c_to_parent) as pool:
        return pool.map(function, jobs, chunksize=1)


def _leave_ctrl_c_to_parent():
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _draw_chunk(args):
    items, to_strokes, seed = args
    rng = np.random.default_rng(seed)
    images, kept = [], []
    for index, item in enumerate(items):
        height = random_height(rng)
        image = drawn_digit(to_strokes(item, rng), height)
        if image is not None:
            images.append(image)
            kept.append(index)
    return images, kept


def drawn_copies(items, to_strokes, seed=0, workers=2, chunk=COPY_CHUNK):
    """Each item drawn once: `to_strokes(item, rng)` gives its strokes, drawn at a random
    height with the app's pen and prepared by the Recognizer, by `workers` processes
    (`to_strokes` must be a module-level function, for them to receive it).

    Returns (uint8 images (N, 28, 28), the indices of the items they came from): an item
    that does not come back as one digit is left out.
    """
    starts = range(0, len(items), chunk)
    jobs = [(items[i : i + chunk], to_strokes, seed + i) for i in starts]
    images, kept = [], []
    for start, (chunk_images, chunk_kept) in zip(
        starts, in_processes(_draw_chunk, jobs, workers), strict=True
    ):
        images += chunk_images
        kept += [start + k for k in chunk_kept]
    return np.array(images, np.uint8).reshape(-1, 28, 28), np.array(kept, np.int64)
