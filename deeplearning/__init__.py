"""Deep-learning half of the digit recognizer: data, model, training, evaluation and recognition."""

import os
import sys


def _import_tensorflow_quietly():
    """Import TensorFlow with its C++ start-up lines silenced.

    TensorFlow prints them to stderr before its logging is set up, whatever
    TF_CPP_MIN_LOG_LEVEL says; they would bury the one-line errors of the project's commands.
    Later messages obey TF_CPP_MIN_LOG_LEVEL, set here unless the user chose a level.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if "tensorflow" in sys.modules:
        return
    saved, devnull = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    sys.stderr.flush()
    os.dup2(devnull, 2)
    try:
        import tensorflow  # noqa: F401
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


_import_tensorflow_quietly()
