"""Recognition latency per canvas update: the project's Recognizer against the seed's way.

    .venv/bin/python benchmarks/recognition_latency.py [--updates 100] [--seed-updates 20]

Each canvas is the app's 640x640 canvas with 1, 4 or 10 real MNIST digits, traced into pen
strokes and drawn with the app's round pen (deeplearning.pen_data.replay): one digit large,
four in a row, ten in two rows of five. Every update reads the whole canvas with its
strokes, as the app does while the pen moves: the CNN reads the picture, the path model
(model/path_cnn.keras) the strokes, and the readings are combined. The picture alone (no
strokes given) is timed beside it, for what the path model costs.

The seed read a drawing by saving the canvas to a PNG file, loading it back, finding each
outer contour, cropping and resizing it to 28x28 and calling `model.predict` once per digit.
Both ways run here on the same canvases with the same model: the project reads it through its
ONNX export in ONNX Runtime, as the app does, and the seed's way calls it in Keras. The labels
they read are shown for information only: the seed's crops lack MNIST's margin and stroke
width, so the two ways may read a digit differently.
"""

import sys
import tempfile
import time
from pathlib import Path

import common
import cv2
import numpy as np

from deeplearning.core import cli
from deeplearning.pen_data.replay import CANVAS_MARGIN
from deeplearning.pen_data.tracing import image_to_strokes
from deeplearning.reading.pen import CANVAS_SIZE, ink_width, place_strokes, render
from deeplearning.reading.recognize import Recognizer
from deeplearning.reading.runtime import DEFAULT_PATH_MODEL_PATH, ModelError
from deeplearning.training.model import DEFAULT_MODEL_PATH, load_model

# What each canvas holds: the digits, row by row, and their ink height in px.
CANVASES = (
    (("5",), 260),
    (("2048",), 150),
    (("01234", "56789"), 115),
)
DIGIT_GAP = 0.25  # gap between digits in a row, as a fraction of the ink height
ROW_GAP = 1.0  # gap between rows, as a fraction of the ink height: rows must not merge
WARMUP_UPDATES = 3  # untimed updates first: traces, caches, the first model.predict
DRY_RUN_UPDATES = 10
DRY_RUN_SEED_UPDATES = 3
SEED_THRESHOLD = 127  # the seed's binarisation of the grey PNG
# Goals: p95 latency (ms) by digit count, where there is one, and the speed-up over the seed.
LATENCY_GOAL_MS = {1: 2.5, 10: 9.0}
SPEED_UP_GOAL = 20.0


# --- the canvases ---------------------------------------------------------------------------


def pick_images(labels, text, used):
    """For each character of `text`, the index of the next unused image with that label."""
    picked = []
    for char in text:
        index = next(i for i in np.flatnonzero(labels == int(char)) if i not in used)
        used.add(index)
        picked.append(int(index))
    return picked


def lay_out_rows(strokes_of, rows, height):
    """Place each row's digits left to right, rows centred on the canvas and far enough apart
    not to merge. Returns (canvas strokes, ink boxes (x, y, w, h) row by row, height used);
    a row too wide for the canvas makes every digit smaller."""
    width, canvas_height = CANVAS_SIZE
    room = width - 2 * CANVAS_MARGIN

    def row_width(row, h):
        return sum(ink_width(strokes_of[i], h) for i in row) + DIGIT_GAP * h * (len(row) - 1)

    widest = max(row_width(row, height) for row in rows)
    if widest > room:
        height *= room / widest * 0.99
    total = len(rows) * height + ROW_GAP * height * (len(rows) - 1)
    assert total <= canvas_height - 2 * CANVAS_MARGIN, "the rows do not fit the canvas"
    strokes, boxes = [], []
    y = (canvas_height - total) / 2
    for row in rows:
        x = (width - row_width(row, height)) / 2
        for index in row:
            w = ink_width(strokes_of[index], height)
            strokes += place_strokes(strokes_of[index], height, x, y)
            boxes.append((x, y, w, height))
            x += w + DIGIT_GAP * height
        y += height * (1 + ROW_GAP)
    return strokes, boxes, height


def overlaps(a, b):
    return a[0] < b[0] + b[2] and b[0] < a[0] + a[2] and a[1] < b[1] + b[3] and b[1] < a[1] + a[3]


def make_canvases(images, labels):
    """[(text, rows' centre y, canvas uint8, ink height, strokes)] for each of CANVASES."""
    used, canvases = set(), []
    for rows, height in CANVASES:
        picked = [pick_images(labels, text, used) for text in rows]
        strokes_of = {i: image_to_strokes(images[i]) for row in picked for i in row}
        strokes, boxes, height = lay_out_rows(strokes_of, picked, height)
        assert not any(overlaps(a, b) for k, a in enumerate(boxes) for b in boxes[k + 1 :]), (
            "digits overlap"
        )
        row_centres = sorted({y + h / 2 for _, y, _, h in boxes})
        canvases.append(("".join(rows), row_centres, render(strokes), height, strokes))
    return canvases


def in_reading_order(found, row_centres):
    """Labels of [(box, label)] read row by row, each row left to right."""

    def key(item):
        (x, y, w, h), _ = item
        row = min(range(len(row_centres)), key=lambda r: abs(row_centres[r] - (y + h / 2)))
        return row, x + w / 2

    return "".join(str(label) for _, label in sorted(found, key=key))


# --- the two ways to read a canvas ----------------------------------------------------------


def project_reading(recognizer, canvas, strokes=None):
    return [(digit.box, digit.label) for digit in recognizer.recognize(canvas, strokes)]


def seed_crop(ink):
    """A contour's crop, padded to a square, resized to 28x28 and scaled to [0, 1]."""
    h, w = ink.shape
    side = max(h, w)
    top, left = (side - h) // 2, (side - w) // 2
    square = cv2.copyMakeBorder(
        ink, top, side - h - top, left, side - w - left, cv2.BORDER_CONSTANT
    )
    return cv2.resize(square, (28, 28), interpolation=cv2.INTER_AREA).astype(np.float32) / 255.0


def seed_reading(model, canvas, png_path):
    """The seed's way: PNG out and back in, outer contours, one model.predict per digit."""
    cv2.imwrite(str(png_path), canvas)
    grey = cv2.imread(str(png_path), cv2.IMREAD_GRAYSCALE)
    _, ink = cv2.threshold(grey, SEED_THRESHOLD, 255, cv2.THRESH_BINARY_INV)
    contours, _ = cv2.findContours(ink, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    found = []
    for contour in contours:
        x, y, w, h = cv2.boundingRect(contour)
        x_input = seed_crop(ink[y : y + h, x : x + w]).reshape(1, 28, 28, 1)
        probabilities = model.predict(x_input, verbose=0)[0]
        found.append(((x, y, w, h), int(probabilities.argmax())))
    return found


def latencies_ms(read, canvas, updates):
    """Time `updates` readings of the canvas after a few untimed ones: (ms list, last reading)."""
    for _ in range(WARMUP_UPDATES):
        found = read(canvas)
    samples = []
    for _ in range(updates):
        start = time.perf_counter()
        found = read(canvas)
        samples.append((time.perf_counter() - start) * 1000)
    return samples, found


def goal_check(digits, project_p95, speed_up):
    """(what the goal is, whether it is met) for a canvas with this many digits."""
    goals, met = [f"speed-up >= {SPEED_UP_GOAL:.0f}x"], speed_up >= SPEED_UP_GOAL
    if digits in LATENCY_GOAL_MS:
        goals.insert(0, f"p95 <= {LATENCY_GOAL_MS[digits]:g} ms")
        met = met and project_p95 <= LATENCY_GOAL_MS[digits]
    return ", ".join(goals), "yes" if met else "NO"


def parse_args(argv):
    parser = cli.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=DEFAULT_MODEL_PATH, help="the .keras model to time")
    parser.add_argument(
        "--path-model", default=DEFAULT_PATH_MODEL_PATH, help="the path model to time with it"
    )
    parser.add_argument(
        "--updates", type=cli.whole_number(1), default=100, help="timed project updates"
    )
    parser.add_argument(
        "--seed-updates", type=cli.whole_number(1), default=20, help="timed seed-way updates"
    )
    parser.add_argument("--dry-run", action="store_true", help="a few updates, to check it runs")
    return parser.parse_args(argv)


def main(argv=None):
    return cli.run(lambda: measure(parse_args(argv)))


def measure(args):
    updates = DRY_RUN_UPDATES if args.dry_run else args.updates
    seed_updates = DRY_RUN_SEED_UPDATES if args.dry_run else args.seed_updates

    # The models' ONNX exports, in ONNX Runtime
    recognizer = Recognizer(args.model, path_model_path=args.path_model)
    if recognizer.path_model is None:
        raise ModelError(f"{args.path_model}: path model file not found")
    model = load_model(args.model)  # the seed's way: the same model in Keras
    images, labels = common.real_digits(5000)
    rows, readings = [], []
    with tempfile.TemporaryDirectory() as folder:
        png_path = Path(folder) / "canvas.png"
        for text, row_centres, canvas, height, strokes in make_canvases(images, labels):
            project_ms, project_found = latencies_ms(
                lambda c, s=strokes: project_reading(recognizer, c, s), canvas, updates
            )
            picture_ms, _ = latencies_ms(lambda c: project_reading(recognizer, c), canvas, updates)
            seed_ms, seed_found = latencies_ms(
                lambda c: seed_reading(model, c, png_path), canvas, seed_updates
            )
            project_p50, project_p95 = common.percentiles(project_ms)
            picture_p95 = common.percentiles(picture_ms)[1]
            seed_p50, seed_p95 = common.percentiles(seed_ms)
            speed_up = seed_p95 / project_p95
            goal, met = goal_check(len(text), project_p95, speed_up)
            rows.append(
                [
                    len(text),
                    f"{height:.0f}",
                    f"{project_p50:.2f}",
                    f"{project_p95:.2f}",
                    f"{picture_p95:.2f}",
                    f"{seed_p50:.1f}",
                    f"{seed_p95:.1f}",
                    f"{speed_up:.0f}x",
                    f"{seed_p50 / project_p50:.0f}x",
                    goal,
                    met,
                ]
            )
            project_text = in_reading_order(project_found, row_centres)
            seed_text = in_reading_order(seed_found, row_centres)
            readings.append((text, project_text, seed_text))

    print(f"machine: {common.machine_line()}")
    print(
        f"{CANVAS_SIZE[0]}x{CANVAS_SIZE[1]} canvases of replayed MNIST digits; {updates} timed "
        f"updates for the project, {seed_updates} for the seed's way, after {WARMUP_UPDATES} "
        "untimed each\n"
    )
    common.print_table(
        [
            "digits",
            "ink px",
            "project p50 ms",
            "project p95 ms",
            "picture alone p95 ms",
            "seed p50 ms",
            "seed p95 ms",
            "speed-up p95",
            "speed-up p50",
            "goal",
            "met",
        ],
        rows,
    )
    print("\nlabels read, row by row (for information):")
    for text, project_text, seed_text in readings:
        same = "same" if project_text == seed_text else "different"
        print(f"  drawn {text}: project {project_text or '-'}, seed {seed_text or '-'} ({same})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
