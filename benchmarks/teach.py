"""Teach mode on writers the model never saw: how many of their misread digits it fixes.

    .venv/bin/python benchmarks/teach.py --unipen ../shared/unipen --mnist ../shared/mnist
    .venv/bin/python benchmarks/teach.py ... --writers 3 --per-digit 3      # a shorter run

For the held-out UNIPEN writers (deeplearning/pen_data/unipen.py) the base model misreads
most: each of their digits is drawn once with the app's pen, anywhere on the canvas at
110-460 px, and read by the Recognizer, as deeplearning.pen_data.replay does. Then, for 1, 3
and 5 samples per digit, the writer's first that many digits of each class (those read as one
digit, as a user could select them in the app) become a sample set in the app's format,
`python -m deeplearning teach` runs on it with its defaults in a process of its own (the time
is its whole run, imports included), and the writer's other digits are read again with the
taught model. Also reported: MNIST test
accuracy of every taught model beside the base model's.

Goal (per taught model at 3 samples per digit): at least half of the writers' remaining errors
gone, no writer worse, MNIST accuracy within 0.15 pp of the base, teaching in at most 60 s.
"""

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import common
import numpy as np

from deeplearning.core import cli
from deeplearning.core.errors import InputError
from deeplearning.datasets.mnist import load_mnist
from deeplearning.pen_data.replay import pen_digit_strokes, read_cases, single_digit_cases
from deeplearning.pen_data.unipen import load_pen_digits, split_by_writer
from deeplearning.personal.samples import Sample, SampleSet
from deeplearning.reading.recognize import Recognizer
from deeplearning.training.model import DEFAULT_MODEL_PATH

ROOT = Path(__file__).resolve().parent.parent
WRITERS = 8  # the writers with the most misread digits
PER_DIGIT = (1, 3, 5)
MIN_ERRORS = 2  # a writer with fewer misread digits has nothing to measure
GOAL_FIXED = 0.5
GOAL_MNIST_PP = 0.15
GOAL_SECONDS = 60.0
SEED = 0


def writer_cases(digits, recognizer):
    """Each of a writer's digits drawn once and read: the Outcomes, in the file's order."""
    rng = np.random.default_rng(SEED)
    cases = single_digit_cases(pen_digit_strokes(digits), [d.label for d in digits], rng)
    return read_cases(recognizer, cases)


def pick_samples(outcomes, per_digit):
    """The first `per_digit` outcomes of each class read as one digit: (samples, the rest)."""
    taken, samples = {}, []
    for index, outcome in enumerate(outcomes):
        label = int(outcome.case.text)
        if len(outcome.digits) == 1 and taken.get(label, 0) < per_digit:
            taken[label] = taken.get(label, 0) + 1
            samples.append(index)
    chosen = set(samples)
    rest = [o for i, o in enumerate(outcomes) if i not in chosen]
    return [outcomes[i] for i in samples], rest


def as_sample(outcome):
    return Sample(int(outcome.case.text), outcome.digits[0].image, outcome.case.strokes)


def errors(outcomes):
    return sum(not o.right for o in outcomes)


def mnist_accuracy(recognizer, images, labels):
    probabilities = np.concatenate(
        [recognizer.predict_images(images[i : i + 1000]) for i in range(0, len(images), 1000)]
    )
    return float((probabilities.argmax(axis=1) == labels).mean())


def run_teach(samples_dir, out):
    """deeplearning.training.teach with its defaults, as a user runs it: (seconds, its output)."""
    command = [sys.executable, "-m", "deeplearning", "teach", "--samples", str(samples_dir)]
    command += ["--out", str(out)]
    start = time.perf_counter()
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if result.returncode != 0:
        raise InputError(f"deeplearning.training.teach failed: {result.stderr.strip()[-500:]}")
    return seconds, result.stdout


def parse_args(argv):
    parser = cli.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--unipen", type=Path, required=True, help="the UNIPEN pen digits")
    parser.add_argument("--mnist", type=Path, required=True, help="the MNIST IDX files")
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL_PATH, help="the base model")
    parser.add_argument(
        "--writers", type=cli.whole_number(1), default=WRITERS, help="how many writers"
    )
    parser.add_argument(
        "--per-digit",
        type=cli.whole_number(1, 20),
        nargs="+",
        default=list(PER_DIGIT),
        help="samples per digit to teach with (default 1 3 5)",
    )
    parser.add_argument("--json", type=Path, help="also write the rows to this JSON file")
    return parser.parse_args(argv)


def measure(args):
    base = Recognizer(args.model)
    _, (test_images, test_labels) = load_mnist(args.mnist)
    base_mnist = mnist_accuracy(base, test_images, test_labels)
    _, held_out = split_by_writer(load_pen_digits(args.unipen))
    by_writer = {}
    for digit in held_out:
        by_writer.setdefault(digit.writer, []).append(digit)
    read = {writer: writer_cases(digits, base) for writer, digits in by_writer.items()}
    worst = sorted(read, key=lambda w: (-errors(read[w]), w))[: args.writers]
    worst = [w for w in worst if errors(read[w]) >= MIN_ERRORS]
    print(f"{common.machine_line()}")
    print(
        f"base model {args.model}: MNIST test accuracy {base_mnist:.4f}; "
        f"{len(by_writer)} held-out writers, {sum(map(errors, read.values()))} misread digits "
        f"of {len(held_out)}; the {len(worst)} worst: "
        + ", ".join(f"{w} ({errors(read[w])}/{len(read[w])})" for w in worst)
    )
    rows = []
    for per_digit in args.per_digit:
        for writer in worst:
            samples, rest = pick_samples(read[writer], per_digit)
            with tempfile.TemporaryDirectory() as folder:
                SampleSet(folder).append(as_sample(o) for o in samples)
                out = Path(folder) / "taught.keras"
                seconds, _ = run_teach(folder, out)
                taught = Recognizer(out)
                after = read_cases(taught, [o.case for o in rest])
                accuracy = mnist_accuracy(taught, test_images, test_labels)
            row = {
                "writer": writer,
                "per_digit": per_digit,
                "samples": len(samples),
                "digits_read": len(rest),
                "errors_before": errors(rest),
                "errors_after": errors(after),
                "seconds": round(seconds, 1),
                "mnist": round(accuracy, 4),
                "mnist_change_pp": round(100 * (accuracy - base_mnist), 2),
                "still_wrong": sorted(
                    f"{o.case.text}->{o.read or '-'}" for o in after if not o.right
                ),
            }
            rows.append(row)
            print(json.dumps(row), flush=True)
    print_summary(rows)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1) + "\n")
    return 0


def print_summary(rows):
    headers = ["per digit", "writers", "errors before", "after", "fixed", "worse", "mnist pp"]
    table = []
    for per_digit in sorted({r["per_digit"] for r in rows}):
        group = [r for r in rows if r["per_digit"] == per_digit]
        before = sum(r["errors_before"] for r in group)
        after = sum(r["errors_after"] for r in group)
        worse = sum(r["errors_after"] > r["errors_before"] for r in group)
        changes = [r["mnist_change_pp"] for r in group]
        seconds = [r["seconds"] for r in group]
        table.append(
            [
                per_digit,
                len(group),
                before,
                after,
                f"{1 - after / before:.0%}" if before else "-",
                worse,
                f"{min(changes):+.2f}..{max(changes):+.2f}",
                f"{max(seconds):.0f}",
            ]
        )
    common.print_table([*headers, "slowest s"], table)


def main(argv=None):
    return cli.run(lambda: measure(parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
