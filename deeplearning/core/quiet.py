"""Keep C libraries' start-up chatter off stderr, where the project's one-line errors go."""

import contextlib
import importlib.abc
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


class _QuietLoader(importlib.abc.Loader):
    """Runs another loader's module code with stderr silenced."""

    def __init__(self, loader):
        self.loader = loader

    def create_module(self, spec):
        return self.loader.create_module(spec)

    def exec_module(self, module):
        with stderr_silenced():
            self.loader.exec_module(module)


class _QuietImports(importlib.abc.MetaPathFinder):
    """Finds the named top-level modules as usual, and loads them with stderr silenced."""

    def __init__(self, names):
        self.names = frozenset(names)

    def find_spec(self, name, path, target=None):
        if name not in self.names:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(name, path, target)
            if spec is not None and spec.loader is not None:
                spec.loader = _QuietLoader(spec.loader)
                return spec
        return None


def quiet_imports(*names):
    """Keep the start-up chatter of these modules' imports off stderr, whenever and wherever
    they are first imported: TensorFlow prints C++ lines there before its logging is set up.
    Only the commands that use them pay for importing them."""
    if not any(isinstance(finder, _QuietImports) for finder in sys.meta_path):
        sys.meta_path.insert(0, _QuietImports(names))
