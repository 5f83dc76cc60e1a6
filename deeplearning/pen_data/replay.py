"""Replay real handwriting through the app's pen and measure how well it is read back.

Two sources of handwriting, each drawn with the app's round pen on its 640x640 canvas, one
digit anywhere at 110-460 px or a number of 2-4 digits left to right, and read by the
Recognizer exactly as the app's drawings are: the figures measure the whole path from pen to
label, not the CNN alone.

- Real pen trajectories (`--unipen`): the digits of the writers held out from training
  (deeplearning/unipen.py), numbers made of one writer's digits. This is what the app meets.
- MNIST's test scans (`--mnist`), thinned to their centre lines and traced into strokes
  (deeplearning/tracing.py). Tracing makes tidy strokes, so this flatters the app. They come
  from a folder of MNIST's IDX files or from the test.csv and test_labels.csv that
  `python -m deeplearning data mnist` writes (data/ by default). The order and direction of
  traced strokes are no hand's: the path model (model/path_cnn.keras) is not at home here.

The Recognizer is given the strokes as well as the canvas, as in the app: where the path
model is there, the report says what the picture (the CNN) and the path read alone beside
what they read combined. `--reorder` reverses each stroke and shuffles their order first: a
check that the combined reading holds where the path is misled.

Command line:

    python -m deeplearning replay --unipen ../shared/unipen --errors unipen_errors.png
    python -m deeplearning replay --mnist data/                              # 5000 + 1000 cases
    python -m deeplearning replay --mnist ../shared/mnist --quick --errors errors.png
    python -m deeplearning replay --unipen ../shared/unipen --reorder

Only MNIST test images 0..4999 are ever used: 5000..9999 are kept for judging.
"""

import json
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from deeplearning.core import cli
from deeplearning.core.atomic import atomic_path, check_outputs
from deeplearning.core.errors import InputError, shown
from deeplearning.datasets.mnist import load_test_set
from deeplearning.pen_data.tracing import image_to_strokes
from deeplearning.pen_data.unipen import load_pen_digits, split_by_writer
from deeplearning.reading.pen import CANVAS_SIZE, SINGLE_HEIGHT, ink_width, place_strokes, render
from deeplearning.reading.recognize import PATH, PICTURE, Recognizer, read_number
from deeplearning.reading.runtime import DEFAULT_PATH_MODEL_PATH

# --- cases -----------------------------------------------------------------------------------
DEVELOPMENT_COUNT = 5000  # MNIST test images 0..4999; 5000..9999 are reserved for judging
NUMBER_HEIGHT = (110, 250)  # px; a number too wide for the canvas is written smaller
NUMBER_DIGITS = (2, 4)
HEIGHT_JITTER = 0.08  # digits of one number differ in height by up to this fraction
GAP_FRACTION = (0.05, 0.40)  # gap between digits, as a fraction of the number's height
BASELINE_JITTER = 0.05  # vertical wobble of each digit, as a fraction of the height
CANVAS_MARGIN = 4  # px kept clear at the canvas edge

# --- command ---------------------------------------------------------------------------------
DEFAULT_MNIST = Path("data")
DEFAULT_NUMBERS = 1000
MAX_NUMBERS = 100_000  # every case is kept for the report: far more would exhaust memory
QUICK_COUNT = 50
QUICK_NUMBERS = 20
ERROR_TILES = 60
ERROR_COLUMNS = 6
TILE_SIZE = 200
CROP_SIZE = 40
HEIGHT_BANDS = (110, 200, 300, 461)
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
GREY = (110, 110, 110)
WORST_WRITERS = 5  # writers with the most misread digits, in the --unipen report
COMBINED = "combined"  # what the Recognizer returns, beside the models alone (Digit.readings)


class ReplayError(InputError):
    """Bad command-line input; the message says what is wrong."""


# --- cases ------------------------------------------------------------------------------------


@dataclass
class Case:
    """One canvas to read: the strokes, the text it should read as, and where it came from."""

    strokes: list  # canvas-pixel strokes of all its digits
    text: str
    sources: list  # indices of the digits used (MNIST images or pen digits)
    boxes: list  # ink box (x, y, w, h) of each digit, left to right
    height: float  # ink height in px
    group: str = ""  # where the digits came from: a pen-data set and writer, or none

    def canvas(self):
        return render(self.strokes)


class StrokeCache:
    """image_to_strokes for images by index, each traced at most once."""

    def __init__(self, images):
        self.images, self.cache = images, {}

    def __call__(self, index):
        if index not in self.cache:
            self.cache[index] = image_to_strokes(self.images[index])
        return self.cache[index]


def _as_cache(images):
    """Strokes by index: images are traced (once each); a callable already gives strokes."""
    return images if callable(images) else StrokeCache(images)


def pen_digit_strokes(digits):
    """Strokes by index for recorded pen digits (nothing to trace)."""
    return lambda index: digits[index].strokes


def single_digit_cases(images, labels, rng, count=None):
    """One digit per canvas, at a random ink height in SINGLE_HEIGHT, anywhere fully on the
    canvas. Uses digits 0..count-1 (all of them by default); `images` are MNIST images or a
    callable giving the strokes of a digit by index."""
    strokes_of = _as_cache(images)
    count = len(labels) if count is None else count
    width, height = CANVAS_SIZE
    cases = []
    for index in range(count):
        strokes = strokes_of(index)
        ink_height = rng.uniform(*SINGLE_HEIGHT)
        ink_w = ink_width(strokes, ink_height)
        while ink_w > width - 2 * CANVAS_MARGIN:  # a very wide digit: shrink it to fit
            ink_height *= (width - 2 * CANVAS_MARGIN) / ink_w * 0.99
            ink_w = ink_width(strokes, ink_height)
        x = rng.uniform(CANVAS_MARGIN, width - CANVAS_MARGIN - ink_w)
        y = rng.uniform(CANVAS_MARGIN, height - CANVAS_MARGIN - ink_height)
        placed = place_strokes(strokes, ink_height, x, y)
        box = (x, y, ink_w, ink_height)
        cases.append(Case(placed, str(labels[index]), [index], [box], ink_height))
    return cases


def number_cases(images, labels, rng, count=DEFAULT_NUMBERS, writers=None):
    """`count` numbers of 2-4 digits written left to right on one line, digits drawn at random
    from the images: one height per number with a little jitter, small gaps, no overlaps.

    With `writers` (a list of index lists, one per writer), each number is one writer's: a
    writer is picked at random, then that writer's digits.
    """
    strokes_of = _as_cache(images)
    if writers is not None:
        writers = [w for w in writers if len(w) >= NUMBER_DIGITS[1]]
    cases = []
    for _ in range(count):
        size = rng.integers(NUMBER_DIGITS[0], NUMBER_DIGITS[1] + 1)
        if writers is None:
            digits = rng.choice(len(labels), size=size, replace=False)
        else:
            digits = rng.choice(writers[rng.integers(len(writers))], size=size, replace=False)
        cases.append(_lay_out_number(strokes_of, labels, [int(i) for i in digits], rng))
    return cases


def _lay_out_number(strokes_of, labels, digits, rng):
    width, height = CANVAS_SIZE
    base = rng.uniform(*NUMBER_HEIGHT)
    heights = base * (1 + rng.uniform(-HEIGHT_JITTER, HEIGHT_JITTER, len(digits)))
    gaps = base * rng.uniform(*GAP_FRACTION, len(digits) - 1)
    room = width - 2 * CANVAS_MARGIN
    while True:
        widths = [ink_width(strokes_of(i), h) for i, h in zip(digits, heights, strict=True)]
        total = sum(widths) + gaps.sum()
        if total <= room:
            break
        # Too wide for the canvas: write it all smaller, as a person would.
        shrink = room / total * 0.99
        base, heights, gaps = base * shrink, heights * shrink, gaps * shrink
    wobble = base * rng.uniform(-BASELINE_JITTER, BASELINE_JITTER, len(digits))
    lowest = np.max(heights - wobble) + CANVAS_MARGIN  # every top stays on the canvas
    highest = height - CANVAS_MARGIN - np.max(wobble)  # every bottom stays on the canvas
    bottom = rng.uniform(lowest, max(lowest, highest))
    x = rng.uniform(CANVAS_MARGIN, CANVAS_MARGIN + room - total)
    strokes, boxes = [], []
    for index, h, w, dy, gap in zip(digits, heights, widths, wobble, [*gaps, 0], strict=True):
        top = bottom + dy - h
        strokes += place_strokes(strokes_of(index), h, x, top)
        boxes.append((x, top, w, h))
        x += w + gap
    text = "".join(str(labels[i]) for i in digits)
    return Case(strokes, text, digits, boxes, float(base))


# --- evaluation -------------------------------------------------------------------------------


def development_split(test_images, test_labels):
    """MNIST test images 0..4999 only: the rest are reserved for judging and never read here."""
    return test_images[:DEVELOPMENT_COUNT], test_labels[:DEVELOPMENT_COUNT]


def make_recognizer(model_path, path_model_path=DEFAULT_PATH_MODEL_PATH):
    """The app's Recognizer on these models (a seam the tests replace with a stand-in)."""
    return Recognizer(model_path=model_path, path_model_path=path_model_path)


@dataclass
class Outcome:
    case: Case
    digits: list  # what the Recognizer returned
    seconds: float
    scan_right: bool | None = None  # whether the model reads the original 28x28 scan right

    @property
    def read(self):
        return read_number(self.digits)

    @property
    def right(self):
        return self.read == self.case.text

    def read_by(self, model):
        """What one model read alone (PICTURE, PATH), "?" for a digit it did not read; or
        COMBINED, what the Recognizer returned."""
        if model == COMBINED:
            return self.read
        return "".join(
            str(int(d.readings[model].argmax())) if model in d.readings else "?"
            for d in self.digits
        )

    @property
    def failure(self):
        """None, 'wrong count' (too few or too many digits) or 'wrong label'."""
        if self.right:
            return None
        return "wrong count" if len(self.digits) != len(self.case.text) else "wrong label"


def scan_predictions(recognizer, images):
    """The model's labels for the original 28x28 images: the baseline the replay is held to."""
    return recognizer.predict_images(images).argmax(axis=1)


def read_cases(recognizer, cases, reorder=None):
    """Read each case's canvas with its strokes, as the app does; with `reorder` (a random
    generator), the strokes each reversed and in a random order, the canvas unchanged."""
    outcomes = []
    for case in cases:
        canvas = case.canvas()
        strokes = case.strokes if reorder is None else reordered(case.strokes, reorder)
        start = time.perf_counter()
        digits = list(recognizer.recognize(canvas, strokes))
        outcomes.append(Outcome(case, digits, time.perf_counter() - start))
    return outcomes


def reordered(strokes, rng):
    """The strokes as no hand draws them: each one backwards, in a random order."""
    return [list(strokes[i])[::-1] for i in rng.permutation(len(strokes))]


def models_read(outcomes):
    """The models that read alone in these outcomes (PICTURE, PATH), then COMBINED if more
    than one did."""
    seen = {name for o in outcomes for d in o.digits for name in getattr(d, "readings", {})}
    models = [name for name in (PICTURE, PATH) if name in seen]
    return models + [COMBINED] if len(models) > 1 else models


def accuracy_by(outcomes, model):
    """The fraction of the outcomes `model` (or COMBINED) reads right."""
    return sum(o.read_by(model) == o.case.text for o in outcomes) / len(outcomes)


def summarize(outcomes):
    """{'count', 'right', 'accuracy', 'wrong label', 'wrong count', 'too few', 'too many'}."""
    failures = [o.failure for o in outcomes]
    return {
        "count": len(outcomes),
        "right": failures.count(None),
        "accuracy": failures.count(None) / len(outcomes) if outcomes else 0.0,
        "wrong label": failures.count("wrong label"),
        "wrong count": failures.count("wrong count"),
        "too few": sum(len(o.digits) < len(o.case.text) for o in outcomes),
        "too many": sum(len(o.digits) > len(o.case.text) for o in outcomes),
    }


def report_lines(singles, numbers):
    lines = []
    for name, outcomes in (("single digits", singles), ("numbers", numbers)):
        s = summarize(outcomes)
        if not s["count"]:
            continue
        lines.append(
            f"{name}: {s['right']}/{s['count']} right = {100 * s['accuracy']:.2f}%; failures: "
            f"wrong label {s['wrong label']}, wrong digit count {s['wrong count']} "
            f"(too few {s['too few']}, too many {s['too many']})"
        )
    scanned = [o for o in singles if o.scan_right is not None]
    if scanned:
        lost = sum(o.scan_right and not o.right for o in scanned)
        lines.append(
            f"the model on the same {len(scanned)} images as scanned (28x28): "
            f"{100 * np.mean([o.scan_right for o in scanned]):.2f}% right; {lost} single digits "
            f"it reads right from the scan are lost in drawing and preprocessing"
        )
    if singles:
        lines.append("single digits by digit: " + _breakdown(singles, lambda c: c.text))
        lines.append("single digits by ink height: " + _by_height(singles))
        if any(o.case.group for o in singles):
            by_set = _breakdown(singles, lambda c: c.group.split("/")[0])
            lines.append("single digits by donor set: " + by_set)
            lines.append(f"writers with most misread digits: {_worst_writers(singles)}")
        confusions = Counter(f"{o.case.text}->{o.read}" for o in singles if o.failure)
        top = confusions.most_common(10)
        lines.append("commonest misreadings: " + (", ".join(f"{k} x{n}" for k, n in top) or "none"))
    lines += model_lines(singles, numbers)
    seconds = np.array([o.seconds for o in singles + numbers]) * 1000
    if len(seconds):
        lines.append(
            f"recognition time per canvas: mean {seconds.mean():.1f} ms, "
            f"p95 {np.percentile(seconds, 95):.1f} ms"
        )
    return lines


def model_lines(singles, numbers):
    """Each model alone beside the combined reading: single digits, numbers, and by digit."""
    models = models_read(singles + numbers)
    if len(models) < 2:
        return []
    lines = []
    for name, outcomes in (("single digits", singles), ("numbers", numbers)):
        if outcomes:
            rates = (f"{m} {100 * accuracy_by(outcomes, m):.2f}%" for m in models)
            lines.append(f"{name} by model: " + ", ".join(rates))
    for model in models:
        if singles:
            by_digit = _group_by(singles, lambda o: o.case.text)
            rates = (
                f"{digit} {100 * accuracy_by(group, model):.1f}%"
                for digit, group in sorted(by_digit.items())
            )
            lines.append(f"single digits by digit, {model}: " + ", ".join(rates))
    return lines


def _rate(outcomes):
    return f"{100 * sum(o.right for o in outcomes) / len(outcomes):.1f}% of {len(outcomes)}"


def _group_by(items, key):
    """{key(item): [items with that key]}, keys in order of first appearance."""
    groups = {}
    for item in items:
        groups.setdefault(key(item), []).append(item)
    return groups


def _breakdown(outcomes, key):
    """'key accuracy of count' for each value of key(case), in sorted order."""
    groups = _group_by(outcomes, lambda o: key(o.case))
    return ", ".join(f"{name} {_rate(group)}" for name, group in sorted(groups.items()))


def _worst_writers(outcomes, count=WORST_WRITERS):
    wrong = {
        w: (sum(not o.right for o in os), len(os))
        for w, os in _group_by(outcomes, lambda o: o.case.group).items()
    }
    worst = sorted(wrong.items(), key=lambda item: -item[1][0])[:count]
    return ", ".join(f"{name} {bad} wrong of {total}" for name, (bad, total) in worst)


def _by_height(outcomes):
    parts = []
    for low, high in zip(HEIGHT_BANDS[:-1], HEIGHT_BANDS[1:], strict=True):
        band = [o for o in outcomes if low <= o.case.height < high]
        if band:
            right = sum(o.right for o in band)
            parts.append(f"{low}-{high - 1} px {100 * right / len(band):.1f}% of {len(band)}")
    return ", ".join(parts)


def error_grid(outcomes, limit=ERROR_TILES):
    """A BGR image of up to `limit` failures: each canvas with the boxes the recognizer found,
    the expected and read text, and beneath it the 28x28 images the model was shown.
    Digits the model reads right from the scan come first: those the app itself loses."""
    failures = sorted((o for o in outcomes if not o.right), key=lambda o: o.scan_right is not True)
    failures = failures[:limit]
    tiles = [_error_tile(o) for o in failures]
    if not tiles:
        return None
    tiles += [np.full_like(tiles[0], 255)] * (-len(tiles) % ERROR_COLUMNS)
    rows = [np.hstack(tiles[i : i + ERROR_COLUMNS]) for i in range(0, len(tiles), ERROR_COLUMNS)]
    return np.vstack(rows)


def _error_tile(outcome):
    canvas = cv2.cvtColor(outcome.case.canvas(), cv2.COLOR_GRAY2BGR)
    for digit in outcome.digits:
        x, y, w, h = (int(v) for v in digit.box)
        cv2.rectangle(canvas, (x, y), (x + w, y + h), (0, 0, 255), 3)
    thumb = cv2.resize(canvas, (TILE_SIZE, TILE_SIZE), interpolation=cv2.INTER_AREA)
    strip = np.full((CROP_SIZE + 24, TILE_SIZE, 3), 255, np.uint8)
    for k, digit in enumerate(outcome.digits[: TILE_SIZE // CROP_SIZE]):
        crop = cv2.resize(np.asarray(digit.image, float), (CROP_SIZE, CROP_SIZE))
        crop = _to_uint8(crop)
        strip[24:, k * CROP_SIZE : (k + 1) * CROP_SIZE] = cv2.cvtColor(crop, cv2.COLOR_GRAY2BGR)
    label = f"want {outcome.case.text} read {outcome.read or '-'}"
    label += " (scan ok)" if outcome.scan_right else ""
    cv2.putText(strip, label, (3, 17), cv2.FONT_HERSHEY_SIMPLEX, 0.42, (0, 0, 200), 1)
    if outcome.case.group:  # the writer, in the canvas's top-left corner
        cv2.putText(thumb, outcome.case.group, (3, 12), cv2.FONT_HERSHEY_SIMPLEX, 0.35, GREY, 1)
    tile = np.vstack([thumb, strip])
    return cv2.copyMakeBorder(tile, 2, 2, 2, 2, cv2.BORDER_CONSTANT, value=(128, 128, 128))


def _to_uint8(image):
    """Recognizer crops may be 0..1 floats or 0..255; show them as 0..255."""
    scale = 255.0 if image.max(initial=0) <= 1.0 else 1.0
    return np.clip(image * scale, 0, 255).astype(np.uint8)


def write_error_grid(path, outcomes, overwrite=True):
    grid = error_grid(outcomes)
    if grid is None:
        return False
    with atomic_path(path, overwrite) as tmp:
        if not cv2.imwrite(str(tmp), grid):
            raise ReplayError(f"{path}: could not write the image")
    return True


# --- command line -----------------------------------------------------------------------------


def parse_args(argv):
    parser = cli.ArgumentParser(
        prog="python -m deeplearning replay",
        description="Draw real handwriting with the app's pen on its canvas and measure how well "
        "the recognizer reads it: recorded pen digits of held-out writers (--unipen), or MNIST "
        "test digits 0..4999 traced into strokes (--mnist, the default).",
    )
    source = parser.add_mutually_exclusive_group()
    source.add_argument(
        "--mnist",
        type=Path,
        default=DEFAULT_MNIST,
        help="folder with MNIST's IDX files, or with the test.csv and test_labels.csv that "
        f"`python -m deeplearning data mnist` writes (default {DEFAULT_MNIST})",
    )
    source.add_argument(
        "--unipen",
        type=Path,
        metavar="DATA",
        help="pen digits (deeplearning/unipen.py's format, a file or a folder holding "
        "digits.jsonl.gz): replay the held-out writers' digits",
    )
    parser.add_argument("--model", type=Path, help="model file (default: model/mnist_cnn.keras)")
    parser.add_argument(
        "--path-model",
        type=Path,
        help="path model file (default: model/path_cnn.keras where it is there; without one "
        "the picture reads alone)",
    )
    parser.add_argument(
        "--reorder",
        action="store_true",
        help="reverse each stroke and shuffle their order before reading (the canvas is the "
        "same): how the reading holds where the path model is misled",
    )
    parser.add_argument(
        "--count",
        type=int,
        help=f"single-digit canvases, from the first COUNT digits (default: all held-out pen "
        f"digits, or MNIST test images 0..{DEVELOPMENT_COUNT - 1})",
    )
    parser.add_argument(
        "--numbers",
        type=int,
        default=DEFAULT_NUMBERS,
        help=f"canvases with a number of 2-4 digits (default {DEFAULT_NUMBERS})",
    )
    parser.add_argument(
        "--seed", type=cli.seed, default=0, help="seed for sizes and places (default 0)"
    )
    parser.add_argument("--errors", type=Path, help="write a PNG grid of failures here")
    parser.add_argument("--force", action="store_true", help="overwrite an existing --errors file")
    parser.add_argument(
        "--quick",
        "--dry-run",
        action="store_true",
        help=f"a quick check: --count {QUICK_COUNT} --numbers {QUICK_NUMBERS}",
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.count, args.numbers = QUICK_COUNT, QUICK_NUMBERS
    if args.unipen is None and args.count is None:
        args.count = DEVELOPMENT_COUNT
    limit = DEVELOPMENT_COUNT if args.unipen is None else None
    if args.count is not None and not 0 <= args.count <= (limit or args.count):
        raise ReplayError(
            f"--count {args.count} is out of range: it must be 0..{DEVELOPMENT_COUNT} "
            f"(MNIST test images {DEVELOPMENT_COUNT}..9999 are reserved for judging)"
            if limit
            else f"--count {args.count} is out of range: it must be 0 or more"
        )
    if not 0 <= args.numbers <= MAX_NUMBERS:
        raise ReplayError(f"--numbers {args.numbers} is out of range: it must be 0..{MAX_NUMBERS}")
    if args.count == 0 and args.numbers == 0:
        raise ReplayError("nothing to do: --count and --numbers are both 0")
    return args


def mnist_cases(args, rng):
    """Traced MNIST test digits 0..4999: (singles, numbers, scans for the singles)."""
    images, labels = development_split(*load_test_set(args.mnist))
    if args.count > len(labels) or (args.numbers and not len(labels)):
        raise ReplayError(f"{args.mnist}: --count {args.count} but only {len(labels)} test images")
    strokes_of = StrokeCache(images)
    singles = single_digit_cases(strokes_of, labels, rng, args.count)
    numbers = number_cases(strokes_of, labels, rng, args.numbers)
    return singles, numbers, images[: args.count]


def unipen_cases(args, rng):
    """The held-out writers' pen digits: (singles, numbers of one writer's digits)."""
    _, digits = split_by_writer(load_pen_digits(args.unipen))
    if not digits:
        raise ReplayError(f"{args.unipen}: no held-out writers (too few writers per set)")
    count = len(digits) if args.count is None else args.count
    if count > len(digits):
        raise ReplayError(f"{args.unipen}: --count {count} but only {len(digits)} held-out digits")
    # A smaller count takes digits evenly spread over the file (every set, many writers)
    # first; numbers are made from all of them.
    chosen = set(np.linspace(0, len(digits) - 1, count).astype(int).tolist())
    digits = [digits[i] for i in sorted(chosen)] + [
        d for i, d in enumerate(digits) if i not in chosen
    ]
    strokes_of = pen_digit_strokes(digits)
    labels = [d.label for d in digits]
    by_writer = _group_by(range(len(digits)), lambda i: digits[i].writer)
    singles = single_digit_cases(strokes_of, labels, rng, count)
    numbers = number_cases(strokes_of, labels, rng, args.numbers, list(by_writer.values()))
    for case in singles + numbers:
        case.group = digits[case.sources[0]].writer
    writers = len({d.writer for d in digits[:count]})
    print(f"held-out writers: {len(by_writer)} ({len(digits)} digits); {count} digits of {writers}")
    return singles, numbers, None


def run(args):
    # Every path before the slow part: the image to write, then the model, then the cases.
    if args.errors:
        check_outputs([(args.errors, IMAGE_SUFFIXES, "errors image")], args.force)
    if args.path_model is not None and not args.path_model.is_file():
        raise ReplayError(f"{shown(args.path_model)}: path model file not found")
    recognizer = make_recognizer(args.model, args.path_model or DEFAULT_PATH_MODEL_PATH)
    rng = np.random.default_rng(args.seed)
    make_cases = mnist_cases if args.unipen is None else unipen_cases
    singles, numbers, scans = make_cases(args, rng)
    reorder = np.random.default_rng(args.seed + 1) if args.reorder else None
    singles = read_cases(recognizer, singles, reorder)
    if scans is not None and len(scans):
        scan = scan_predictions(recognizer, scans)
        for outcome, label in zip(singles, scan, strict=True):
            outcome.scan_right = str(label) == outcome.case.text
    numbers = read_cases(recognizer, numbers, reorder)
    model = args.model or "model/mnist_cnn.keras"
    if args.unipen is None:
        source = f"traced MNIST test images 0..{DEVELOPMENT_COUNT - 1}"
    else:
        source = f"pen digits of held-out writers from {args.unipen}"
    order = ", each stroke reversed and the strokes in random order" if args.reorder else ""
    print(f"replayed {source} with model {model}, seed {args.seed}{order}")
    for line in report_lines(singles, numbers):
        print(line)
    if args.errors and write_error_grid(args.errors, singles + numbers, overwrite=args.force):
        print(f"wrote {args.errors}")
    single, number = summarize(singles), summarize(numbers)
    result = {
        "single_accuracy": round(single["accuracy"], 5),
        "single_count": single["count"],
        "number_accuracy": round(number["accuracy"], 5),
        "number_count": number["count"],
    }
    models = models_read(singles + numbers)
    if len(models) > 1:
        result["by_model"] = {
            m: {
                "single_accuracy": round(accuracy_by(singles, m), 5) if singles else 0.0,
                "number_accuracy": round(accuracy_by(numbers, m), 5) if numbers else 0.0,
            }
            for m in models
        }
    print(json.dumps(result))
    return 0


def main(argv=None):
    return cli.run(lambda: run(parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
