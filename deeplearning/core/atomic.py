"""Write files so that an interrupted or failed run never leaves a half-written one behind,
and never replaces a file nobody asked to replace.

Every command checks its output paths with `check_outputs` before any long work, writes each
file under a temporary name beside it, and puts it in place only once it is complete. A run
killed outright (SIGKILL, a power cut) leaves its temporary files behind: the next write of
the same file removes them.
"""

import contextlib
import errno
import os
import re
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


def _nearest_existing(folder):
    """`folder`, or its nearest ancestor that exists: where the folders for a file begin."""
    existing = folder
    while not existing.exists():
        if existing.is_symlink():  # a link to nowhere: mkdir would fail on it
            raise OutputError(f"{existing}: a link to a folder that does not exist")
        existing = existing.parent
    return existing


def _name_limit(folder):
    """The most bytes a file name may have in `folder` (255 on most file systems)."""
    return os.pathconf(_nearest_existing(folder), "PC_NAME_MAX")


def _name_bytes(name):
    return len(os.fsencode(name))


def _writable_folder(folder):
    """Raise OutputError unless a file can be created in `folder` or in the folders that
    would be made for it: the nearest existing ancestor must be a writable folder."""
    existing = _nearest_existing(folder)
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
    when given), in a folder that exists or can be made and that may be written to, a name
    that fits there, not a folder, and not an existing file unless `force`. Raises
    OutputError (OverwriteError for an existing file) naming the path."""
    path = Path(path)
    if suffixes and path.suffix.lower() not in suffixes:
        raise OutputError(f"{path}: the name of the {what} must end in {_one_of(suffixes)}")
    _writable_folder(path.parent)
    limit = _name_limit(path.parent)
    if _name_bytes(path.name) > limit:
        raise OutputError(
            f"{path}: the file name is too long ({_name_bytes(path.name)} bytes; at most {limit})"
        )
    if path.is_dir():
        raise OutputError(f"{path}: is a folder; give a file name")
    if path.exists() and not path.is_file():
        raise OutputError(f"{path}: is not a regular file")
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


# A temporary name is `.STEM.tmp-PID-HEX.SUFFIX`: hidden, the suffix kept so that writers
# picking a format by extension (Keras, matplotlib, OpenCV, pygame) still work, and the PID
# telling whether the process writing it still runs.
_PID_DIGITS = 10  # room kept in a name for any process ID
_HEX_DIGITS = 8


def _temporary_stem(path):
    """`path`'s stem, cut short where the temporary name would not fit in its folder."""
    room = _name_limit(path.parent) - _name_bytes(f"..tmp-{'0' * _PID_DIGITS}-{path.suffix}")
    stem = path.stem
    while _name_bytes(stem) > room - _HEX_DIGITS:
        stem = stem[:-1]
    return stem


def _temporary(path):
    """A fresh temporary name beside `path`."""
    token = f"{os.getpid()}-{secrets.token_hex(_HEX_DIGITS // 2)}"
    return path.with_name(f".{_temporary_stem(path)}.tmp-{token}{path.suffix}")


def _running(pid):
    """Whether process `pid` runs, another user's too. A number that no process can have
    counts as running: what wrote that file is unknown, so it stays."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        pass
    return True


def _remove_leftovers(path):
    """Remove the temporary files of `path` that processes no longer running left behind
    (killed while writing). Those of running processes are theirs to finish."""
    pattern = re.compile(
        re.escape(f".{_temporary_stem(path)}.tmp-")
        + rf"(\d+)-[0-9a-f]{{{_HEX_DIGITS}}}"
        + re.escape(path.suffix)
    )
    for entry in os.scandir(path.parent):
        match = pattern.fullmatch(entry.name)
        if match and not _running(int(match.group(1))):
            # Another user's leftover in a shared folder may not be ours to remove.
            with contextlib.suppress(OSError):
                os.unlink(entry.path)


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
            _remove_leftovers(path)
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
        _remove(temporaries)


def _remove(temporaries):
    """Remove temporary files. One that cannot be removed (its folder gone or made
    read-only) is left: raising here would hide why the write failed."""
    for tmp in temporaries:
        with contextlib.suppress(OSError):
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
        _remove_leftovers(path)
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
        _remove([tmp])
