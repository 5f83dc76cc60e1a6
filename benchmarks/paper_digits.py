"""The read command's figures on real scanned pen digits: ../shared/paper_digits by writer.

    .venv/bin/python benchmarks/paper_digits.py [--folder ../shared/paper_digits] [--all]
                                                [--model model/mnist_cnn.keras]

Each crop is read as one image, as the read command reads a file (deeplearning.paper.read):
right when exactly one digit is found and it is the crop's label. The held-out writers (the
last six, deeplearning.datasets.paper_digits) are reported one by one and together; --all
reports every writer. Beside it, the crop given to the Recognizer as if it were the app's
canvas (greyscale as it is), the way photos were read before the paper preparation.
"""

import argparse
import sys
import time
from collections import Counter
from pathlib import Path

import common  # noqa: F401  (the project on the path, TensorFlow quiet)

from deeplearning.core import cli
from deeplearning.datasets import paper_digits
from deeplearning.paper.read import read_image
from deeplearning.reading.recognize import Recognizer, read_number


def as_canvas(recognizer, path):
    """The crop read as the app's canvas: its grey pixels as they are."""
    import cv2

    return read_number(recognizer.recognize(cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)))


def as_paper(recognizer, path):
    return "".join(read_image(recognizer, path).lines)


def measure(recognizer, digits):
    """writer -> (crops, right as paper, right as a canvas); and the confusions as paper."""
    counts = {}
    confusions = Counter()
    for digit in digits:
        crops, paper, canvas = counts.get(digit.writer, (0, 0, 0))
        read_paper = as_paper(recognizer, digit.path)
        right = read_paper == str(digit.label)
        if not right:
            confusions[(digit.label, read_paper or "-")] += 1
        canvas_right = as_canvas(recognizer, digit.path) == str(digit.label)
        counts[digit.writer] = (crops + 1, paper + right, canvas + canvas_right)
    return counts, confusions


def report(counts, confusions, seconds):
    print(f"{'writer':<12}{'crops':>7}{'paper':>9}{'canvas':>9}")
    for writer, (crops, paper, canvas) in counts.items():
        print(f"{writer:<12}{crops:>7}{paper / crops:>9.2%}{canvas / crops:>9.2%}")
    crops, paper, canvas = (sum(column) for column in zip(*counts.values(), strict=True))
    print(f"{'all':<12}{crops:>7}{paper / crops:>9.2%}{canvas / crops:>9.2%}")
    common_ones = ", ".join(
        f"{label}->{read}: {n}" for (label, read), n in confusions.most_common(12)
    )
    print(f"most common misreadings (label->read): {common_ones}")
    print(f"{seconds / crops * 1000:.1f} ms a crop, both ways")


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folder", type=Path, default=paper_digits.DEFAULT_FOLDER)
    parser.add_argument("--all", action="store_true", help="every writer, not only held-out")
    parser.add_argument("--model", type=Path, help="model file (default: model/mnist_cnn.keras)")
    return parser.parse_args(argv)


def run(args):
    digits = paper_digits.load(args.folder)
    if not args.all:
        _, digits = paper_digits.split(digits)
    held_out = ", ".join(paper_digits.held_out_writers(paper_digits.load(args.folder)))
    print(f"held-out writers: {held_out}")
    recognizer = Recognizer(model_path=args.model)
    start = time.perf_counter()
    counts, confusions = measure(recognizer, digits)
    report(counts, confusions, time.perf_counter() - start)
    return 0


if __name__ == "__main__":
    sys.exit(cli.run(lambda: run(parse_args(sys.argv[1:]))))
