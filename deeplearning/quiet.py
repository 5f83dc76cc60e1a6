"""Keep C libraries' start-up chatter off stderr, where the project's one-line errors go."""

import contextlib
import os
import sys


@contextlib.contextmanager
def stderr_silenced():
    """Send file descriptor 2 to /dev/null for a while, C libraries' writes included.

    Python exceptions still surface: they are printed after the block, once stderr is back.
    """
    sys.stderr.flush()
    saved, devnull = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)
