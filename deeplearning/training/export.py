"""Export a `.keras` model to ONNX, so that the app reads with it without TensorFlow.

    python -m deeplearning export model/mnist_cnn.keras [--out PATH] [--force]

The export (default: beside the model, with the suffix `.onnx`) records the SHA-256 and the
name of the `.keras` file it came from in its metadata (`source_sha256`, `source_file`):
the Recognizer reads a `.keras` file through its export only while they match. Run this
after training a model; teaching exports its model itself.
"""

import sys
import tempfile
import warnings
from pathlib import Path

import numpy as np

from deeplearning.core import cli
from deeplearning.core.atomic import atomic_path, check_outputs
from deeplearning.core.quiet import stderr_silenced
from deeplearning.reading.runtime import (
    EXPORTED_SUFFIX,
    IMAGE_SHAPE,
    SOURCE_FILE,
    SOURCE_SHA256,
    ModelError,
    exported_path,
    file_sha256,
)
from deeplearning.training.quantize import QUANTIZED, QUANTIZED_AS, quantize_cnn


def export_model(model, out, source_sha256, source_name):
    """Write a Keras model as ONNX to `out`, recording the `.keras` file it came from. The
    CNN is written in 8-bit integers (deeplearning/training/quantize.py); the path model,
    a fifth of the arithmetic, in 32-bit floats."""
    import onnx

    metadata = {SOURCE_SHA256: source_sha256, SOURCE_FILE: source_name}
    with tempfile.TemporaryDirectory(prefix="export-") as folder:
        plain = Path(folder) / "model.onnx"
        # TensorFlow's first run and the converter talk on stderr: its errors still raise.
        with stderr_silenced(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model(np.zeros((1, *model.input_shape[1:]), np.float32))  # exports need a call
            model.export(str(plain), format="onnx", verbose=False)
        if tuple(model.input_shape[1:]) == IMAGE_SHAPE:
            quantized = Path(folder) / "quantized.onnx"
            quantize_cnn(plain, quantized)
            plain = quantized
            metadata[QUANTIZED] = QUANTIZED_AS
        proto = onnx.load(str(plain))
    del proto.metadata_props[:]
    for key, value in metadata.items():
        entry = proto.metadata_props.add()
        entry.key, entry.value = key, value
    Path(out).write_bytes(proto.SerializeToString())


def load_either_model(model_path):
    """The CNN saved in `model_path`, or else the path model; ModelError naming the file,
    as the CNN's loader words it, when it is neither."""
    from deeplearning.training.model import load_model
    from deeplearning.training.path_model import load_path_model

    try:
        return load_model(model_path)
    except ModelError as error:
        try:
            return load_path_model(model_path)
        except ModelError:
            raise error from None


def export_file(model_path, out, overwrite=False):
    """Export the `.keras` file `model_path` (the CNN or the path model) to `out`, put in
    place only once complete."""
    model = load_either_model(model_path)  # ModelError, naming the file, if it cannot be read
    sha256 = file_sha256(model_path)
    with atomic_path(out, overwrite) as tmp:
        export_model(model, tmp, sha256, Path(model_path).name)
    return sha256


def parse_args(argv=None):
    parser = cli.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", type=Path, help="the .keras model to export")
    parser.add_argument(
        "--out", type=Path, help="the ONNX file to write (default: beside the model, .onnx)"
    )
    parser.add_argument("--force", action="store_true", help="overwrite an existing --out")
    return parser.parse_args(argv)


def run(args):
    out = args.out or exported_path(args.model)
    if args.model.suffix.lower() != ".keras":
        raise ModelError(f"{args.model}: not a .keras model file")
    if not args.model.is_file():
        raise ModelError(f"{args.model}: model file not found")
    check_outputs([(out, [EXPORTED_SUFFIX], "exported model")], force=args.force)
    sha256 = export_file(args.model, out, overwrite=args.force)
    print(f"exported {args.model} to {out} (source sha256 {sha256})")
    return 0


def main(argv=None):
    return cli.run(lambda: run(parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
