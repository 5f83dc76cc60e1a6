"""Write files so that an interrupted run never leaves a half-written one behind."""

import contextlib
import os
from pathlib import Path


class OverwriteError(Exception):
    """Raised when a file exists and overwriting it was not asked for."""


def refuse_overwrite(paths, force):
    """Raise OverwriteError naming the first existing path, unless force is set."""
    if force:
        return
    for path in paths:
        if Path(path).exists():
            raise OverwriteError(f"{path}: already exists (pass --force to overwrite it)")


@contextlib.contextmanager
def atomic_path(path):
    """Yield a temporary path beside `path`; rename it onto `path` only if the block succeeds.

    The temporary name keeps the suffix, so writers that pick a format by extension
    (Keras, matplotlib, OpenCV) still work.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.tmp-{os.getpid()}{path.suffix}")
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
