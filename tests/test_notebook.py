"""The tutorial notebook runs from top to bottom on a small data folder."""

import json

import nbformat
import numpy as np
import pytest
from conftest import one_error_line

from deeplearning.datasets.submission import read_submission
from deeplearning.training.model import load_model
from deeplearning.training.notebook import (
    NOTEBOOK,
    execute,
    inject_parameters,
    machine_paths_in,
    normalise,
)

CELL_TIMEOUT_S = 600
FULL_RUN_IMAGES = 60_000
MAX_NOTEBOOK_BYTES = 3_000_000
MODEL_PARAMETERS = 887_530
TEST_IMAGES = 1000  # in the kaggle_dir fixture


def printed_text(notebook):
    return "".join(
        output.get("text", "")
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.outputs
        if output.output_type == "stream"
    )


@pytest.fixture(scope="module")
def executed(tmp_path_factory, kaggle_dir):
    """Run the notebook with a quick run's parameters: (notebook, model path, submission path)."""
    out = tmp_path_factory.mktemp("notebook")
    model_path, submission_path = out / "model.keras", out / "submission.csv"
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    inject_parameters(
        notebook,
        {
            "DATA_DIR": str(kaggle_dir),
            "SAMPLE": 2000,
            "EPOCHS": 1,
            "MODEL_PATH": str(model_path),
            "SUBMISSION_PATH": str(submission_path),
        },
    )
    execute(notebook, out / "kernels", timeout=CELL_TIMEOUT_S)
    return notebook, model_path, submission_path


def test_notebook_saves_a_loadable_model(executed):
    _, model_path, _ = executed
    model = load_model(model_path)
    assert model.count_params() == MODEL_PARAMETERS
    info = json.loads(model_path.with_suffix(".json").read_text())
    assert info["training_images"] == 2000 and info["epochs_run"] == 1


def test_notebook_writes_a_valid_submission(executed):
    _, _, submission_path = executed
    labels = read_submission(submission_path)
    assert len(labels) == TEST_IMAGES
    assert np.isin(labels, np.arange(10)).all()


def test_notebook_scores_the_submission(executed):
    notebook, _, _ = executed
    assert "submission accuracy: " in printed_text(notebook)


def test_parameters_cell_keeps_the_real_defaults():
    """The committed notebook trains fully and never writes over the shipped model."""
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    (cell,) = [c for c in notebook.cells if "parameters" in c.metadata.get("tags", [])]
    assert 'DATA_DIR = "../data"' in cell.source and "EPOCHS = 100" in cell.source
    assert "SAMPLE = None" in cell.source
    assert 'MODEL_PATH = "../model/mnist_cnn_notebook.keras"' in cell.source


# --- the committed notebook shows a full run ---------------------------------------------------


def committed_output(pattern):
    """The first printed line of the committed notebook that starts with `pattern`."""
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    lines = printed_text(notebook).splitlines()
    found = [line for line in lines if line.startswith(pattern)]
    assert found, f"the committed notebook prints no line starting {pattern!r}"
    return found[0]


def test_committed_outputs_come_from_a_full_run():
    assert committed_output("60,000 labelled training images")
    assert committed_output("training 54,000 images, validation 6,000")
    info_line = committed_output("saved mnist_cnn_notebook.keras: ")
    assert "epochs run" in info_line
    assert float(committed_output("validation accuracy 0.").split()[2]) >= 0.994
    assert float(committed_output("submission accuracy: ").split()[2]) >= 0.994


def test_committed_notebook_ran_every_cell_in_order():
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert [cell.execution_count for cell in code] == list(range(1, len(code) + 1))
    errors = [o for c in code for o in c.outputs if o.output_type == "error"]
    assert not errors


def test_committed_notebook_is_light_and_clean():
    assert NOTEBOOK.stat().st_size < MAX_NOTEBOOK_BYTES
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    assert normalise(nbformat.from_dict(json.loads(json.dumps(notebook)))) == notebook
    assert machine_paths_in(notebook) == []
    assert not any("injected-parameters" in c.metadata.get("tags", []) for c in notebook.cells)


def test_the_runner_checks_its_paths_before_running(tmp_path, capsys):
    from deeplearning.training import notebook

    assert notebook.main([]) == 1  # the committed notebook, without --force
    one_error_line(capsys.readouterr().err, "MNIST.ipynb: already exists (pass --force")
    out = tmp_path / "run.ipynb"
    assert notebook.main(["--out", str(out), "--data", str(tmp_path)]) == 1
    one_error_line(capsys.readouterr().err, "train.csv: no such file")
    assert notebook.main(["--out", str(tmp_path / "run.txt")]) == 1
    one_error_line(capsys.readouterr().err, "must end in .ipynb")
    assert not out.exists()


@pytest.fixture
def no_kernel(monkeypatch):
    """The runner with its kernel replaced: a test of what happens before it starts."""
    from deeplearning.training import notebook

    def started(*args, **kwargs):
        raise AssertionError("the kernel was started")

    monkeypatch.setattr(notebook, "execute", started)
    return notebook


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("train.csv", "label,foo\nx,y\n", "train.csv: line 1: wrong header"),
        ("test.csv", "pixel0\n1\n", "test.csv: line 1: wrong header"),
        ("test_labels.csv", "ImageId,Label\n1,x\n", "test_labels.csv: "),
    ],
)
def test_the_runner_reads_its_data_before_the_kernel_starts(
    tmp_path, kaggle_dir, capsys, no_kernel, name, text, message
):
    """A bad data file is one line, not a cell's traceback after the kernel started."""
    data = tmp_path / "data"
    data.mkdir()
    for csv in ("train.csv", "test.csv", "test_labels.csv"):
        (data / csv).write_bytes((kaggle_dir / csv).read_bytes())
    (data / name).write_text(text)
    out = tmp_path / "run.ipynb"
    assert no_kernel.main(["--out", str(out), "--data", str(data)]) == 1
    one_error_line(capsys.readouterr().err, message)
    assert not out.exists()


def test_the_kernels_own_stderr_stays_off_the_terminal(tmp_path, capfd):
    """What a kernel writes to its stderr (TensorFlow's C++ start-up lines) is not the
    notebook's output: a cell's prints are kept, the kernel's chatter is not shown."""
    notebook = nbformat.v4.new_notebook()
    code = "import os\nos.write(2, b'kernel chatter\\n')\nprint('cell output')"
    notebook.cells.append(nbformat.v4.new_code_cell(code))
    execute(notebook, tmp_path / "kernels", timeout=60)
    assert "kernel chatter" not in capfd.readouterr().err
    assert printed_text(notebook) == "cell output\n"
