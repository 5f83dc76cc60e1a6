"""What every command shares: its argument parser, checked numbers, and how it ends.

Bad input is one line on stderr, `error: <where>: <what>`, and exit status 1, never a
traceback. Ctrl-C prints `interrupted` (status 130), SIGTERM `terminated` (143); both unwind
through the `finally` blocks, so that no temporary file is left behind. A reader that goes
away (`| head`) ends the command quietly.
"""

import argparse
import os
import signal
import sys
import threading

from deeplearning.core.errors import InputError, os_reason, shown

INTERRUPTED = 130  # 128 + SIGINT, as a shell reports a command stopped by Ctrl-C
TERMINATED = 143  # 128 + SIGTERM
PIPE_CLOSED = 141  # 128 + SIGPIPE
MAX_SEED = 2**32 - 1  # NumPy, TensorFlow and Keras take seeds 0..2**32 - 1


class Terminated(BaseException):
    """SIGTERM, raised like Ctrl-C's KeyboardInterrupt so that clean-up code runs."""


class ArgumentParser(argparse.ArgumentParser):
    """argparse, with a bad argument reported as one `error:` line like any other input."""

    def error(self, message):
        raise InputError(message)


def whole_number(low=None, high=None):
    """An argparse type: a whole number within low..high (either end may be open)."""

    def parse(text):
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"'{text}' is not a whole number") from None
        if (low is not None and value < low) or (high is not None and value > high):
            raise argparse.ArgumentTypeError(f"{value} is out of range: {_range(low, high)}")
        return value

    return parse


seed = whole_number(0, MAX_SEED)  # the argparse type of a random seed


def fraction(text):
    """An argparse type: a number from 0 to 1."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a number") from None
    if not 0.0 <= value <= 1.0:  # NaN fails this too
        raise argparse.ArgumentTypeError(f"{text} is out of range: it must be 0..1")
    return value


def _range(low, high):
    if high is None:
        return f"it must be {low} or more"
    if low is None:
        return f"it must be {high} or less"
    return f"it must be {low}..{high}"


def quiet_interrupts():
    """Make Ctrl-C print `interrupted` rather than a traceback, even before a command's own
    handling starts: importing TensorFlow takes seconds. Other errors print as before."""
    default = sys.excepthook

    def report(kind, value, traceback):
        if issubclass(kind, KeyboardInterrupt):
            print("interrupted", file=sys.stderr)  # Python then exits as killed by SIGINT
        else:
            default(kind, value, traceback)

    sys.excepthook = report


def _terminate(signum, frame):
    raise Terminated


def _stdout_to_devnull():
    """After a closed pipe, send what is left for stdout nowhere: Python's flush at exit
    would otherwise complain about the pipe."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # stdout is no file (a test's capture)
        pass


def run(body):
    """Run a command's body (a function returning an exit status) and end it as promised:
    one line for bad input, `interrupted` for Ctrl-C, `terminated` for SIGTERM."""
    in_main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _terminate) if in_main_thread else None
    try:
        return body()
    except InputError as error:
        print_error(error)
        return 1
    except BrokenPipeError:
        _stdout_to_devnull()
        return PIPE_CLOSED
    except OSError as error:  # a file or folder the checks could not foresee
        print_error(describe_os_error(error))
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return INTERRUPTED
    except Terminated:
        print("terminated", file=sys.stderr)
        return TERMINATED
    finally:
        if in_main_thread:
            signal.signal(signal.SIGTERM, signal.SIG_DFL if previous is None else previous)


def describe_os_error(error):
    """'<file>: <reason>' for an OSError, or just the reason when it names no file."""
    reason = os_reason(error)
    return f"{shown(error.filename)}: {reason}" if error.filename else reason


def print_error(message, kind="error"):
    """Print `error: MESSAGE` (or another kind of line) on stderr: one line whatever the
    paths in it hold, so that a name with a newline cannot forge a second line."""
    print(f"{kind}: {shown(str(message))}", file=sys.stderr)
