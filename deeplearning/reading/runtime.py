"""Read with a model without TensorFlow: its ONNX export, run by ONNX Runtime.

Reading a canvas takes one forward pass of the CNN; ONNX Runtime imports in about a tenth
of a second, where TensorFlow takes seconds. `python -m deeplearning export MODEL.keras`
writes MODEL.onnx beside the model, recording the SHA-256 of the `.keras` file it came from
(the ONNX metadata `source_sha256`). A `.keras` file is read through its `.onnx` only while
that record matches the file; a missing or stale export is an error saying how to mend it.

Nothing here imports TensorFlow or Keras: the app and the Recognizer start from this module.
"""

import hashlib
import os
from pathlib import Path

from deeplearning.core.errors import InputError
from deeplearning.reading.images import IMAGE_SIZE, NUM_CLASSES

DEFAULT_MODEL_PATH = Path(__file__).resolve().parents[2] / "model" / "mnist_cnn.keras"
# The model of the pen's path (deeplearning/reading/path.py's features), read beside the CNN
DEFAULT_PATH_MODEL_PATH = DEFAULT_MODEL_PATH.with_name("path_cnn.keras")
TRAIN_COMMAND = "python -m deeplearning train --data data/"
EXPORT_COMMAND = "python -m deeplearning export"
EXPORTED_SUFFIX = ".onnx"
SOURCE_SHA256 = "source_sha256"  # ONNX metadata: the SHA-256 of the .keras file exported
SOURCE_FILE = "source_file"  # ... and its name
# Two threads: on two cores a batch of ten digits took 3.1 ms instead of 6.0 ms with one
# (0.56 against 1.0 ms for one digit). Idle threads sleep rather than spin, leaving the
# cores to the app's drawing between readings.
THREADS = min(2, os.cpu_count() or 1)
IMAGE_SHAPE = (IMAGE_SIZE, IMAGE_SIZE, 1)  # one digit as the CNN takes it
# What the app takes from a model, as _described writes it: N for a size left open, so
# that one reading takes any number of digits.
EXPECTED_OUTPUT = f"float32 (N, {NUM_CLASSES})"
_TYPE_NAMES = {"tensor(float)": "float32", "tensor(double)": "float64"}


class ModelError(InputError):
    """A model file that is missing or cannot be read; the message says what to do."""


def file_sha256(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def path_model_beside(model_path):
    """Where a model's own path model lies: beside it, named NAME_path.keras (teaching writes
    one beside the model it taught)."""
    model_path = Path(model_path)
    return model_path.with_name(f"{model_path.stem}_path.keras")


def exported_path(model_path):
    """Where the export of a `.keras` model lies: beside it, with the suffix `.onnx`."""
    return Path(model_path).with_suffix(EXPORTED_SUFFIX)


def expected_input(shape):
    """What a model reading digits of `shape` takes, as _described writes it."""
    return f"float32 (N, {', '.join(str(size) for size in shape)})"


def session(model, threads=THREADS):
    """An ONNX Runtime session on the CPU for `model` (a path or the model's bytes), on
    `threads` threads that sleep when idle, speaking only of errors."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.log_severity_level = 3  # errors only
    return onnxruntime.InferenceSession(model, options, providers=["CPUExecutionProvider"])


class ExportedModel:
    """An exported model in ONNX Runtime: float32 (N, *input_shape) -> (N, 10) probabilities;
    the CNN's input is (28, 28, 1) images in [0, 1]."""

    def __init__(self, path, input_shape=IMAGE_SHAPE):
        self.path = Path(path)
        self.expected_input = expected_input(input_shape)
        try:
            self.session = session(str(self.path))
        except Exception as error:  # ONNX Runtime raises its own types for a damaged file
            raise ModelError(
                f"{self.path}: not a readable ONNX model ({_first_line(error)}); "
                f"export one with: {EXPORT_COMMAND} MODEL.keras"
            ) from None
        self._check_signature()
        self.input_name = self.session.get_inputs()[0].name
        self.metadata = dict(self.session.get_modelmeta().custom_metadata_map)

    def _check_signature(self):
        """ModelError unless the model takes and gives what the app does: float32 digits of
        the expected shape, float32 probabilities, as many as there are digits drawn."""
        taken = [_described(i) for i in self.session.get_inputs()]
        given = [_described(o) for o in self.session.get_outputs()]
        if taken != [self.expected_input] or given != [EXPECTED_OUTPUT]:
            raise ModelError(
                f"{self.path}: model takes {', '.join(taken) or 'nothing'} and gives "
                f"{', '.join(given) or 'nothing'}, expected {self.expected_input} -> "
                f"{EXPECTED_OUTPUT}, N the number of digits"
            )

    @property
    def source_sha256(self):
        """The SHA-256 of the `.keras` file this was exported from, or None if not recorded."""
        return self.metadata.get(SOURCE_SHA256)

    def predict(self, batch):
        """float32 (N, *input_shape) -> probabilities (N, 10) as float32."""
        return self.session.run(None, {self.input_name: batch})[0]


def _described(node):
    """A model input's or output's type and shape as EXPECTED_OUTPUT writes them."""
    sizes = ", ".join(str(size) if isinstance(size, int) else "N" for size in node.shape)
    return f"{_TYPE_NAMES.get(node.type, node.type)} ({sizes})"


def _first_line(error):
    return str(error).splitlines()[0] if str(error) else type(error).__name__


def load_exported(model_path, input_shape=IMAGE_SHAPE):
    """The ExportedModel to read `model_path` with: a `.onnx` file as it is, a `.keras` file
    through the export beside it, which must record the file's SHA-256. ModelError, naming
    the file and the command that mends it, for anything else."""
    path = Path(model_path)
    if path.is_dir():
        raise ModelError(f"{path}: is a folder, not a model file")
    if path.suffix.lower() == EXPORTED_SUFFIX:
        if not path.is_file():
            raise ModelError(
                f"{path}: model file not found; export one with: {EXPORT_COMMAND} MODEL.keras"
            )
        return ExportedModel(path, input_shape)
    if not path.is_file():
        raise ModelError(f"{path}: model file not found; train one with: {TRAIN_COMMAND}")
    exported = exported_path(path)
    mend = f"{EXPORT_COMMAND} {path} --force"
    if not exported.is_file():
        raise ModelError(f"{path}: has no export {exported.name} beside it; run: {mend}")
    model = ExportedModel(exported, input_shape)
    if model.source_sha256 != file_sha256(path):
        raise ModelError(f"{exported}: is not the export of {path.name} (out of date); run: {mend}")
    return model
