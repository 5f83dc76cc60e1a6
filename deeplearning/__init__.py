"""Deep-learning half of the digit recognizer: data, model, training, evaluation and recognition."""

import os

from deeplearning.cli import quiet_interrupts
from deeplearning.quiet import quiet_imports

quiet_interrupts()

# TensorFlow prints its C++ start-up lines to stderr before its logging is set up, whatever
# TF_CPP_MIN_LOG_LEVEL says; they would bury the one-line errors of the project's commands.
# Its import is silenced wherever it happens: only training, evaluating, teaching and
# exporting import it, never the app. Later messages obey TF_CPP_MIN_LOG_LEVEL, set here
# unless the user chose a level.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
quiet_imports("tensorflow")
