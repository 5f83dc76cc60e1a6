"""The tutorial notebook runs from top to bottom on a small data folder."""

import json
import sys
from pathlib import Path

import nbformat
import numpy as np
import pytest
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import AsyncKernelManager
from nbclient import NotebookClient

from deeplearning.model import load_model
from deeplearning.submission import read_submission

NOTEBOOK = Path(__file__).resolve().parent.parent / "deeplearning" / "MNIST.ipynb"
KERNEL_NAME = "deeplearning-tests"
CELL_TIMEOUT_S = 600
MODEL_PARAMETERS = 887_530
TEST_IMAGES = 1000  # in the kaggle_dir fixture


def inject_parameters(notebook, parameters):
    """Insert a cell setting `parameters` after the cell tagged `parameters`, as papermill does."""
    tags = [cell.metadata.get("tags", []) for cell in notebook.cells]
    index = next(i for i, cell_tags in enumerate(tags) if "parameters" in cell_tags)
    source = "\n".join(f"{name} = {value!r}" for name, value in parameters.items())
    cell = nbformat.v4.new_code_cell(source, metadata={"tags": ["injected-parameters"]})
    notebook.cells.insert(index + 1, cell)


def this_python_kernel(folder):
    """A kernel manager whose kernel runs on this interpreter (the project's .venv).

    A kernel spec of our own, written to `folder`, so that no `python3` spec installed
    elsewhere on the machine can send the notebook to another Python.
    """
    spec = folder / KERNEL_NAME / "kernel.json"
    spec.parent.mkdir(parents=True)
    argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    spec.write_text(json.dumps({"argv": argv, "display_name": KERNEL_NAME, "language": "python"}))
    specs = KernelSpecManager(kernel_dirs=[str(folder)], ensure_native_kernel=False)
    return AsyncKernelManager(kernel_name=KERNEL_NAME, kernel_spec_manager=specs)


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
    client = NotebookClient(
        notebook,
        km=this_python_kernel(out / "kernels"),
        timeout=CELL_TIMEOUT_S,
        # The notebook's imports expect to run from deeplearning/, as Jupyter would start it.
        resources={"metadata": {"path": str(NOTEBOOK.parent)}},
    )
    client.execute()
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
