"""The project's error for bad input, and how a path is shown in a message.

Every library error (a bad data file, model, samples folder or output path) is an InputError:
its message names the file or option and says what is wrong, on one line however it is
printed. Commands print it as one `error:` line (deeplearning.core.cli); the app shows it
on its panel.
"""

import os


class InputError(Exception):
    """Bad input; the message names the file or option and says what is wrong."""

    def __str__(self):
        # Escaped here, once for every place that prints one: a warning, the app's panel.
        return shown(super().__str__())


def os_reason(error):
    """What went wrong, without the file name: "Permission denied" for an OSError."""
    return getattr(error, "strerror", None) or str(error) or type(error).__name__


def shown(path):
    """A path as a message shows it: control characters escaped, so that a name holding a
    newline cannot split one error over two lines (or forge a second `error:` line)."""
    text = os.fspath(path) if isinstance(path, os.PathLike) else str(path)
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)
