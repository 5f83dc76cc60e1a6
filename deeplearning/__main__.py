"""The project's commands: `python -m deeplearning COMMAND [OPTIONS]`.

    data       build Kaggle-format CSV files from MNIST (downloaded, or IDX files you have)
    train      train the CNN
    train-path train the path model, which reads the pen's strokes
    evaluate   score a model on MNIST's test images, or a Kaggle submission
    export     write a model's ONNX export, which the app reads with
    replay     read real pen digits, or MNIST traced into strokes, as the app would
    teach      fine-tune a model on the samples you labelled in the app
    notebook   run the tutorial notebook headless and save it with its outputs
    explain    write why a drawing's digit was read as it was (the app's look-inside view)
    read       read the handwritten digits on photos and scans of paper

`python -m deeplearning COMMAND --help` lists a command's options.
"""

import importlib
import sys

from deeplearning.core import cli
from deeplearning.core.errors import shown
from deeplearning.core.quiet import quiet_imports
from deeplearning.training.machine import quiet_tensorflow_log

COMMANDS = {
    "data": "deeplearning.datasets.mnist",
    "train": "deeplearning.training.train",
    "train-path": "deeplearning.training.path_model",
    "evaluate": "deeplearning.training.evaluate",
    "export": "deeplearning.training.export",
    "replay": "deeplearning.pen_data.replay",
    "teach": "deeplearning.training.teach",
    "notebook": "deeplearning.training.notebook",
    "explain": "deeplearning.ui.explain",
    "read": "deeplearning.paper.read",
}
USAGE = "usage: python -m deeplearning {" + ",".join(COMMANDS) + "} [OPTIONS]"


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__.strip())
        return 0 if argv else 2
    name, *options = argv
    if name not in COMMANDS:
        print(USAGE, file=sys.stderr)
        print(f"error: {shown(name)}: no such command", file=sys.stderr)
        return 2
    # A training command imports TensorFlow (seconds) once its arguments are checked: Ctrl-C
    # meanwhile says `interrupted`, and TensorFlow's C++ start-up lines, and its CUDA error on
    # a machine without a GPU, stay off stderr.
    cli.quiet_interrupts()
    quiet_tensorflow_log()
    quiet_imports("tensorflow")
    command = importlib.import_module(COMMANDS[name])
    sys.argv[0] = f"python -m deeplearning {name}"
    return command.main(options)


if __name__ == "__main__":
    sys.exit(main())
