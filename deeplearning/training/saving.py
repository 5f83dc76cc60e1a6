"""Saving a trained model: the `.keras` file, a JSON record of how it was made, and its ONNX
export for the app, put in place together; saved elsewhere when that fails at the end."""

import json
import tempfile
from pathlib import Path

from deeplearning.core import cli
from deeplearning.core.atomic import OutputError, atomic_paths
from deeplearning.core.errors import InputError, shown
from deeplearning.reading.runtime import (
    DEFAULT_MODEL_PATH,
    DEFAULT_PATH_MODEL_PATH,
    exported_path,
    file_sha256,
)
from deeplearning.training.export import export_model
from deeplearning.training.model import build_model


def model_files(path):
    """What saving a model at `path` writes: the model, its JSON and its ONNX export."""
    path = Path(path)
    return [path, path.with_suffix(".json"), exported_path(path)]


def check_not_shipped(out, base=None):
    """Refuse, even with --force, an `out` that is a shipped model (the CNN or the path model)
    or `base` (the model a run starts from), through a link too, or whose JSON or export would
    replace one of theirs."""
    shipped = [
        (DEFAULT_MODEL_PATH, "the shipped model"),
        (DEFAULT_PATH_MODEL_PATH, "the shipped path model"),
    ]
    for model, what in [*shipped, (base, "the base model")]:
        if model is None:
            continue
        kept = {path.resolve() for path in model_files(model)}
        if Path(out).resolve() == Path(model).resolve():
            raise InputError(f"{out}: is {what}; a new model goes to another file (--out)")
        for written in model_files(out):
            if written.resolve() in kept:
                raise InputError(
                    f"{out}: its {written.name} would replace {what}'s; "
                    "a new model goes to another file (--out)"
                )


def save_model(model, path, info, overwrite=True, export=False):
    """Save the model without optimizer state, plus a JSON beside it saying how it was made,
    and, with `export`, its ONNX export for the app (deeplearning.training.export) beside them too.

    All files are written under temporary names and put in place together, so an
    interrupted save leaves the previous model intact. Without `overwrite`, an existing
    file (even one made during training) raises OverwriteError and nothing is replaced.
    """
    path = Path(path)
    bare = build_model()  # a fresh, uncompiled copy: the weights without Adam's state
    bare.set_weights(model.get_weights())
    paths = [path, path.with_suffix(".json")] + [exported_path(path)] * export
    with atomic_paths(paths, overwrite) as (tmp, tmp_json, *tmp_exported):
        bare.save(tmp)
        info = {**info, "model_file": path.name, "sha256": file_sha256(tmp)}
        tmp_json.write_text(json.dumps(info, indent=2) + "\n")
        if export:
            export_model(bare, tmp_exported[0], info["sha256"], path.name)
    return info


def save_or_rescue(model, path, info, overwrite, export=False):
    """save_model; if that fails after all (the disk filled, the file appeared meanwhile,
    any error of the file system), save to a new temporary folder instead, so that the
    training is not lost. Returns 0, or 1 after one line saying what failed and where the
    model went."""
    exporting = {"export": True} if export else {}  # training's saves stay as they were
    try:
        save_model(model, path, info, overwrite, **exporting)
    except (OutputError, OSError) as error:
        failure = cli.describe_os_error(error) if isinstance(error, OSError) else error
        cli.print_error(f"{failure}; {_rescue(model, path.name, info, exporting)}")
        return 1
    written = [path, path.with_suffix(".json")] + [exported_path(path)] * export
    print(f"saved {', '.join(map(shown, written[:-1]))} and {shown(written[-1])}")
    return 0


def _rescue(model, name, info, exporting):
    """Save the model as `name` in a new temporary folder; say where, or that it failed."""
    try:
        rescue = Path(tempfile.mkdtemp(prefix="mnist_cnn-")) / name
        save_model(model, rescue, info, **exporting)
    except (OutputError, OSError):
        return "the trained model could not be saved"
    return f"the trained model is saved as {rescue}"
