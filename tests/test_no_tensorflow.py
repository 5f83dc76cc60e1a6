"""The app starts without TensorFlow or Keras: they take seconds to import, and reading a
canvas needs only the model's ONNX export. Each check runs in a fresh Python."""

import os
import subprocess
import sys

import pytest
from conftest import ROOT

HEAVY = ("tensorflow", "keras", "pandas")
HEADLESS = {**os.environ, "SDL_VIDEODRIVER": "dummy", "SDL_AUDIODRIVER": "dummy"}

# Opens the app as `python app.py ARGS` would, draws one stroke once the window is up, lets
# it be read, closes the window, then prints the heavy modules that were imported.
STARTED_APP = """
import sys, threading, time
import pygame as pg
import app

def use():
    time.sleep(0.3)
    pg.event.post(pg.event.Event(pg.MOUSEBUTTONDOWN, pos=(320, 150), button=1))
    for y in range(150, 470, 10):
        pg.event.post(pg.event.Event(pg.MOUSEMOTION, pos=(320, y), rel=(0, 0), buttons=(1, 0, 0)))
    pg.event.post(pg.event.Event(pg.MOUSEBUTTONUP, pos=(320, 470), button=1))
    time.sleep(2.0)
    pg.event.post(pg.event.Event(pg.QUIT))

set_mode = pg.display.set_mode

def set_mode_and_use(*args, **kwargs):
    screen = set_mode(*args, **kwargs)
    threading.Thread(target=use, daemon=True).start()
    return screen

pg.display.set_mode = set_mode_and_use
status = app.main(sys.argv[1:])
print("imported:", *[name for name in HEAVY if name in sys.modules])
sys.exit(status)
""".replace("HEAVY", repr(HEAVY))


def imported_after(code, *args):
    result = subprocess.run(
        [sys.executable, "-c", code, *map(str, args)],
        cwd=ROOT,
        env=HEADLESS,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()[-1].split()[1:]


@pytest.mark.parametrize(
    "module",
    [
        "app",
        "deeplearning",
        "deeplearning.recognize",
        "deeplearning.runtime",
        "deeplearning.samples",
        "deeplearning.pen",
        "deeplearning.data",
        "deeplearning.teach",
        "deeplearning.ui.models",
    ],
)
def test_importing_loads_no_tensorflow(module):
    code = f"import sys, {module}; print('imported:', *[n for n in {HEAVY!r} if n in sys.modules])"
    assert imported_after(code) == []


def test_the_recognizer_reads_without_tensorflow():
    code = (
        "import sys, numpy as np\n"
        "from deeplearning.recognize import Recognizer\n"
        "r = Recognizer()\n"
        "assert r.runtime == 'onnxruntime'\n"
        "r.predict_images(np.zeros((3, 28, 28), np.uint8))\n"
        f"print('imported:', *[n for n in {HEAVY!r} if n in sys.modules])"
    )
    assert imported_after(code) == []


def test_the_app_starts_and_reads_without_tensorflow(tmp_path):
    assert imported_after(STARTED_APP, "--samples", tmp_path / "samples") == []


def test_the_app_reads_a_taught_model_without_tensorflow(tmp_path):
    """A taught model and its export, as teach writes them: the app starts with it."""
    import shutil

    from deeplearning.runtime import DEFAULT_MODEL_PATH, exported_path
    from deeplearning.samples import SampleSet

    taught = SampleSet(tmp_path).taught_model_path
    taught.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(DEFAULT_MODEL_PATH, taught)
    shutil.copy(exported_path(DEFAULT_MODEL_PATH), exported_path(taught))
    assert imported_after(STARTED_APP, "--samples", tmp_path) == []
