"""Execute the tutorial notebook headless and save it with its outputs, ready to commit.

    python -m deeplearning notebook --force                 # the full run, written in place
    python -m deeplearning notebook --sample 2000 --epochs 1 --out /tmp/quick.ipynb

With no --sample or --epochs the notebook runs with its own parameters cell, as a reader
would run it; otherwise the values go in a cell after it, as papermill does. The saved copy
is normalised so that it diffs cleanly: no timing or widget metadata, one fixed kernel
description, and no output that names a folder of the machine it ran on.
"""

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from deeplearning.core import cli
from deeplearning.core.atomic import atomic_path, check_output
from deeplearning.core.errors import InputError
from deeplearning.datasets.mnist import CSV_BLOCK_LINES, load_test_csv, load_train_csv
from deeplearning.datasets.submission import read_submission

NOTEBOOK = Path(__file__).resolve().parents[1] / "MNIST.ipynb"
KERNEL_NAME = "deeplearning"
CELL_TIMEOUT_S = 3 * 60 * 60  # the training cell of a full run takes most of an hour
KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}


def inject_parameters(notebook, parameters):
    """Insert a cell setting `parameters` after the cell tagged `parameters`, as papermill does."""
    import nbformat

    tags = [cell.metadata.get("tags", []) for cell in notebook.cells]
    index = next(i for i, cell_tags in enumerate(tags) if "parameters" in cell_tags)
    source = "\n".join(f"{name} = {value!r}" for name, value in parameters.items())
    cell = nbformat.v4.new_code_cell(source, metadata={"tags": ["injected-parameters"]})
    cell.id = "injected-parameters"  # a fixed id: nbformat would draw a random one
    notebook.cells.insert(index + 1, cell)


def this_python_kernel(folder):
    """A kernel manager whose kernel runs on this interpreter (the project's .venv).

    A kernel spec of our own, written to `folder`, so that no `python3` spec installed
    elsewhere on the machine can send the notebook to another Python. What C libraries
    write straight to the process's stderr (TensorFlow's start-up log of CUDA probes and
    oneDNN notices, which no setting silences) stays in the kernel's own log rather than in
    the saved outputs, where a reader would take it for errors.
    """
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import AsyncKernelManager

    spec = Path(folder) / KERNEL_NAME / "kernel.json"
    spec.parent.mkdir(parents=True, exist_ok=True)
    argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    argv.append("--IPKernelApp.capture_fd_output=False")
    spec.write_text(json.dumps({"argv": argv, "display_name": KERNEL_NAME, "language": "python"}))
    specs = KernelSpecManager(kernel_dirs=[str(folder)], ensure_native_kernel=False)
    return AsyncKernelManager(kernel_name=KERNEL_NAME, kernel_spec_manager=specs)


def execute(notebook, kernels_dir, timeout=CELL_TIMEOUT_S):
    """Run every cell of `notebook` in place, from deeplearning/ as Jupyter would start it."""
    from nbclient import NotebookClient

    client = NotebookClient(
        notebook,
        km=this_python_kernel(kernels_dir),
        timeout=timeout,
        record_timing=False,  # timestamps would change every line of metadata on every run
        resources={"metadata": {"path": str(NOTEBOOK.parent)}},
    )
    # The kernel's own stderr (TensorFlow's C++ start-up lines, "Parent appears to have
    # exited") is not the notebook's: cells' errors and output come over Jupyter's channels.
    client.execute(stderr=subprocess.DEVNULL)
    return notebook


def normalise(notebook):
    """Make two runs of the same notebook differ only where their outputs do."""
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    notebook.metadata = {
        "kernelspec": dict(KERNELSPEC),
        "language_info": {"name": "python", "version": version},
    }
    for cell in notebook.cells:
        cell.metadata.pop("execution", None)
        cell.metadata.pop("widgets", None)
        for output in cell.get("outputs", []):
            output.get("metadata", {}).pop("widgets", None)
    return notebook


def machine_paths_in(notebook):
    """The cells whose outputs name this machine's folders (the project's or the home folder)."""
    folders = {str(NOTEBOOK.parent.parent), str(Path.home())} - {"/"}
    found = []
    for index, cell in enumerate(notebook.cells):
        text = json.dumps(cell.get("outputs", []))
        if any(folder in text for folder in folders):
            found.append(index)
    return found


def parse_args(argv):
    parser = cli.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--out",
        type=Path,
        default=NOTEBOOK,
        help="where to save the executed notebook "
        "(default: the notebook itself, which needs --force)",
    )
    parser.add_argument("--force", action="store_true", help="replace --out if it exists")
    parser.add_argument(
        "--sample", type=cli.whole_number(100), help="train on the first N images (a quick run)"
    )
    parser.add_argument("--epochs", type=cli.whole_number(1), help="train for at most N epochs")
    parser.add_argument(
        "--data", type=Path, help="a folder with train.csv and test.csv (default: the notebook's)"
    )
    return parser.parse_args(argv)


def check_data(data):
    """Read what the notebook reads, as it reads it, before the kernel starts: a bad file is
    then one `error:` line, not a cell's traceback after minutes of work. Of train.csv only
    the first rows: all 60,000 take seconds to read, and the notebook reads them again."""
    for name in ("train.csv", "test.csv"):
        if not (data / name).is_file():
            raise InputError(
                f"{data / name}: no such file; build it with "
                f"`python -m deeplearning data mnist --out {data}`"
            )
    load_train_csv(data / "train.csv", max_rows=CSV_BLOCK_LINES)
    test_images = load_test_csv(data / "test.csv")
    labels = data / "test_labels.csv"
    if labels.exists():  # the notebook scores its submission with them
        read_submission(labels, expected_count=len(test_images))


def run(argv):
    args = parse_args(argv)
    check_output(args.out, args.force, suffixes=[".ipynb"], what="--out")
    data = args.data.resolve() if args.data else NOTEBOOK.parent.parent / "data"
    check_data(data)
    import nbformat

    notebook = nbformat.read(NOTEBOOK, as_version=4)
    parameters = {"DATA_DIR": str(data)} if args.data else {}
    if args.sample is not None:
        parameters["SAMPLE"] = args.sample
    if args.epochs is not None:
        parameters["EPOCHS"] = args.epochs
    if parameters:
        inject_parameters(notebook, parameters)
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as kernels:
        execute(notebook, kernels)
    normalise(notebook)
    if cells := machine_paths_in(notebook):
        print(f"warning: the outputs of cells {cells} name a folder of this machine")
    with atomic_path(args.out, overwrite=args.force) as tmp:
        nbformat.write(notebook, tmp)
    size = args.out.stat().st_size / 1e6
    print(f"saved {args.out} ({size:.2f} MB) after {time.perf_counter() - start:.0f} s")
    return 0


def main(argv=None):
    return cli.run(lambda: run(argv))


if __name__ == "__main__":
    sys.exit(main())
