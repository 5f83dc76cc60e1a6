"""S: the window saved as a PNG, drawing-YYYYmmdd-HHMMSS.png, or that name numbered when it is
taken: never over another file, even with two apps saving in one folder in the same second.
The pictures go to data/drawings/ in the project, which git ignores."""

import itertools
import time
from pathlib import Path

import pygame as pg

from deeplearning.core.atomic import OutputError, write_new
from deeplearning.core.errors import os_reason

DRAWINGS_DIR = Path(__file__).resolve().parents[2] / "data" / "drawings"


def save_names(directory, now=None):
    """drawing-YYYYmmdd-HHMMSS.png in `directory`, then the same name with -1, -2... added."""
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(now))
    yield Path(directory) / f"drawing-{stamp}.png"
    for count in itertools.count(1):
        yield Path(directory) / f"drawing-{stamp}-{count}.png"


def save_window(screen, directory):
    """Save `screen` under the first free name in `directory`, made if need be; its path.
    Raises OutputError or pygame.error when it cannot be saved."""
    try:
        Path(directory).mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise OutputError(f"{directory}: cannot make the folder ({os_reason(error)})") from None
    return write_new(save_names(directory), lambda tmp: pg.image.save(screen, str(tmp)))


def from_here(path):
    """`path` from the current folder when it lies in it (data/drawings/...), else whole."""
    try:
        return path.absolute().relative_to(Path.cwd())
    except ValueError:
        return path
