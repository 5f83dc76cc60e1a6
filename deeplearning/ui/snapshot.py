"""S: the window saved as a PNG, drawing-YYYYmmdd-HHMMSS.png, or that name numbered when it is
taken: never over another file, even with two apps saving in one folder in the same second."""

import itertools
import time
from pathlib import Path

import pygame as pg

from deeplearning.core.atomic import write_new


def save_names(directory, now=None):
    """drawing-YYYYmmdd-HHMMSS.png in `directory`, then the same name with -1, -2... added."""
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(now))
    yield Path(directory) / f"drawing-{stamp}.png"
    for count in itertools.count(1):
        yield Path(directory) / f"drawing-{stamp}-{count}.png"


def save_window(screen, directory):
    """Save `screen` under the first free name; its path. Raises OutputError or pygame.error
    when it cannot be saved."""
    return write_new(save_names(directory), lambda tmp: pg.image.save(screen, str(tmp)))
