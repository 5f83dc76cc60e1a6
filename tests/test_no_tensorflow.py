"""The app starts without TensorFlow or Keras: they take seconds to import, and reading a
canvas needs only the model's ONNX export. Each check runs in a fresh Python."""

import pytest
from app_driver import driven_app, run_driven_app

HEAVY = ("tensorflow", "keras", "pandas")
# The app run as `python app.py ARGS` would, one stroke drawn and read, the window closed; then
# it prints the heavy modules that were imported.
STARTED_APP = driven_app(after=f"print('imported:', *[m for m in {HEAVY!r} if m in sys.modules])")


def imported_after(code, *args):
    result = run_driven_app(code, *args)
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()[-1].split()[1:]


@pytest.mark.parametrize(
    "module",
    [
        "app",
        "deeplearning",
        "deeplearning.reading.recognize",
        "deeplearning.reading.runtime",
        "deeplearning.personal.samples",
        "deeplearning.reading.pen",
        "deeplearning.datasets.mnist",
        "deeplearning.training.teach",
        "deeplearning.ui.models",
    ],
)
def test_importing_loads_no_tensorflow(module):
    code = f"import sys, {module}; print('imported:', *[n for n in {HEAVY!r} if n in sys.modules])"
    assert imported_after(code) == []


def test_the_recognizer_reads_without_tensorflow():
    code = (
        "import sys, numpy as np\n"
        "from deeplearning.reading.recognize import Recognizer\n"
        "r = Recognizer()\n"
        "r.predict_images(np.zeros((3, 28, 28), np.uint8))\n"
        f"print('imported:', *[n for n in {HEAVY!r} if n in sys.modules])"
    )
    assert imported_after(code) == []


def test_the_app_starts_and_reads_without_tensorflow(tmp_path):
    assert imported_after(STARTED_APP, "--samples", tmp_path / "samples") == []


def test_the_app_reads_a_taught_model_without_tensorflow(tmp_path):
    """A taught model and its export, as teach writes them: the app starts with it."""
    import shutil

    from deeplearning.personal.samples import SampleSet
    from deeplearning.reading.runtime import DEFAULT_MODEL_PATH, exported_path

    taught = SampleSet(tmp_path).taught_model_path
    taught.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(DEFAULT_MODEL_PATH, taught)
    shutil.copy(exported_path(DEFAULT_MODEL_PATH), exported_path(taught))
    assert imported_after(STARTED_APP, "--samples", tmp_path) == []
