"""Write files so that an interrupted or failed run never leaves a half-written one behind,
and never replaces a file nobody asked to replace.

Every command checks its output paths with `check_outputs` before any long work, writes each
file under a temporary name beside it, and puts it in place only once it is complete.
"""

import contextlib
import errno
import os
import secrets
import signal
import threading
from pathlib import Path

from deeplearning.core.errors import InputError, os_reason


class OutputError(InputError):
    """An output path that cannot be written; the message names it and says why."""


class OverwriteError(OutputError):
    """Raised when a file exists and overwriting it was not asked for."""


def _exists_message(path):
    return f"{path}: already exists (pass --force to overwrite it)"


def _writable_folder(folder):
    """Raise OutputError unless a file can be created in `folder` or in the folders that
    would be made for it: the nearest existing ancestor must be a writable folder."""
    existing = folder
    while not existing.exists():
        if existing.is_symlink():  # a link to nowhere: mkdir would fail on it
            raise OutputError(f"{existing}: a link to a folder that does not exist")
        existing = existing.parent
    if not existing.is_dir():
        raise OutputError(f"{existing}: is a file, not a folder")
    # Only trying tells: permissions, a read-only file system, ACLs and root all play a part.
    probe = existing / f".write-test.tmp-{os.getpid()}-{secrets.token_hex(4)}"
    try:
        probe.touch(exist_ok=False)
    except OSError as error:
        raise OutputError(f"{existing}: {_reason(error)}") from None
    probe.unlink(missing_ok=True)


def check_output(path, force=False, suffixes=None, what="output file"):
    """Check before any work that `path` can be written: the right suffix (one of `suffixes`,
    when given), not a folder, in a folder that exists or can be made and that may be
    written to, and not an existing file unless `force`. Raises OutputError (OverwriteError
    for an existing file) naming the path."""
    path = Path(path)
    if suffixes and path.suffix.lower() not in suffixes:
        raise OutputError(f"{path}: the name of the {what} must end in {_one_of(suffixes)}")
    if path.is_dir():
        raise OutputError(f"{path}: is a folder; give a file name")
    if path.exists() and not path.is_file():
        raise OutputError(f"{path}: is not a regular file")
    _writable_folder(path.parent)
    if path.exists() and not force:
        raise OverwriteError(_exists_message(path))


def _one_of(names):
    """'a', 'a or b', 'a, b or c'."""
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"


def check_outputs(paths, force=False):
    """check_output for each path (a path or a (path, suffixes, what) tuple), and that no
    two of them are the same file."""
    seen = {}
    for entry in paths:
        path, suffixes, what = entry if isinstance(entry, tuple) else (entry, None, "output file")
        check_output(path, force, suffixes, what)
        key = Path(os.path.abspath(path))
        if key in seen:
            raise OutputError(f"{path}: named twice, as the {seen[key]} and as the {what}")
        seen[key] = what


def _temporary(path):
    """A fresh hidden name beside `path` that keeps its suffix, so that writers picking a
    format by extension (Keras, matplotlib, OpenCV, pygame) still work."""
    token = f"{os.getpid()}-{secrets.token_hex(4)}"
    return path.with_name(f".{path.stem}.tmp-{token}{path.suffix}")


def _place(tmp, path, overwrite):
    """Give the finished file `tmp` the name `path`. Without `overwrite` the name is claimed
    atomically: two processes saving at once never replace each other's file."""
    if overwrite:
        os.replace(tmp, path)
        return
    try:
        os.link(tmp, path)  # fails if the name is taken, however close the race
    except FileExistsError:
        raise OverwriteError(_exists_message(path)) from None
    except OSError as error:  # a file system without hard links: claim the name, then fill it
        if error.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV):
            raise
        try:
            os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
        except FileExistsError:
            raise OverwriteError(_exists_message(path)) from None
        os.replace(tmp, path)
    else:
        tmp.unlink()


@contextlib.contextmanager
def _signals_held():
    """Hold Ctrl-C and SIGTERM back for a few renames, so that they happen all or not at all.

    The signals are noted and raised again afterwards. Python runs signal handlers in the
    main thread only; elsewhere the renames simply go ahead.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    noted = []
    held = (signal.SIGINT, signal.SIGTERM)
    previous = {number: signal.signal(number, lambda n, _: noted.append(n)) for number in held}
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, signal.SIG_DFL if handler is None else handler)
        if noted:
            signal.raise_signal(noted[0])


@contextlib.contextmanager
def atomic_paths(paths, overwrite=True):
    """Yield a temporary path beside each of `paths`; once the block has written them all,
    put them all in place. If the block fails, or a name is taken (without `overwrite`),
    none of them is put in place and the temporary files are removed. A file-system error
    (a full disk, a read-only folder) becomes an OutputError naming the file."""
    paths = [Path(path) for path in paths]
    temporaries = [_temporary(path) for path in paths]
    placed = []
    try:
        for path in paths:
            path.parent.mkdir(parents=True, exist_ok=True)
        yield temporaries
        with _signals_held():
            try:
                for tmp, path in zip(temporaries, paths, strict=True):
                    _place(tmp, path, overwrite)
                    placed.append(path)
            except BaseException:
                if not overwrite:  # the names this call claimed hold only its own files
                    for path in placed:
                        path.unlink(missing_ok=True)
                raise
    except OSError as error:
        raise OutputError(f"{_named(error, paths, temporaries)}: {_reason(error)}") from None
    finally:
        for tmp in temporaries:
            tmp.unlink(missing_ok=True)


def _named(error, paths, temporaries):
    """The output path an OSError is about (its temporary file stands for it), or else the
    folder of them all: a write that fails (a full disk) names no file."""
    for path, tmp in zip(paths, temporaries, strict=True):
        if error.filename in (str(path), str(tmp)):
            return path
    return paths[0] if len(paths) == 1 else paths[0].parent


def _reason(error):
    return f"cannot write ({os_reason(error)})"


@contextlib.contextmanager
def atomic_path(path, overwrite=True):
    """Yield a temporary path beside `path`; put it in place only if the block succeeds.
    Without `overwrite`, an existing `path` (even one made meanwhile) raises OverwriteError."""
    with atomic_paths([path], overwrite) as (tmp,):
        yield tmp


def write_new(names, write):
    """Call write(tmp) once, then give the file the first of `names` that is free; return
    that name. Each name is claimed atomically, so that two processes never take the same."""
    names = iter(names)
    path = Path(next(names))
    tmp = _temporary(path)
    try:
        write(tmp)
        while True:
            try:
                _place(tmp, path, overwrite=False)
                return path
            except OverwriteError:
                following = next(names, None)
                if following is None:  # every name is taken
                    raise
                path = Path(following)
    except OSError as error:
        raise OutputError(f"{path}: {_reason(error)}") from None
    finally:
        tmp.unlink(missing_ok=True)
