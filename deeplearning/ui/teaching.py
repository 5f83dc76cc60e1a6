"""Teaching in the background: the teach command in a child process at a lower priority, its
output read line by line on a thread, so that the window never waits for it."""

import os
import shutil
import signal
import subprocess
import sys
import threading
from dataclasses import dataclass, replace
from pathlib import Path

from deeplearning.personal.progress import parse_line

ROOT = Path(__file__).resolve().parent.parent.parent  # where `-m deeplearning teach` is found
NICENESS = 10  # below the app, so that drawing stays smooth while the model learns
STOP_TIMEOUT_S = 5  # after SIGTERM, how long the command may take to clean up before a kill


def teach_command(samples_dir, out, base_model, extra=()):
    """The teach command: fine-tune `base_model` on the samples, into `out` (replaced)."""
    options = ["--samples", samples_dir, "--out", out, "--model", base_model, "--force", *extra]
    return [sys.executable, "-m", "deeplearning", "teach", *map(str, options)]


@dataclass(frozen=True)
class Progress:
    """What the command has said so far; `status` is its exit status once it has ended."""

    fraction: float = 0.0  # from its last `progress: 0.40` line
    line: str = ""  # its last other line
    error: str = ""  # its last `error: ...` line
    status: int | None = None

    @property
    def failure(self):
        """Why it failed, in one line, or "" while it runs or when it succeeded."""
        if self.status in (None, 0):
            return ""
        return self.error or self.line or f"teaching ended with exit status {self.status}"


class Teaching:
    """One run of a command, started at once. Raises OSError if it cannot be started."""

    def __init__(self, command, cwd=ROOT):
        # `nice` rather than a preexec_fn: running Python code between fork and exec is
        # unsafe in a process with threads (the reader's, TensorFlow's).
        nice = ["nice", "-n", str(NICENESS)] if shutil.which("nice") else []
        self.process = subprocess.Popen(
            [*nice, *command],
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
            env={**os.environ, "PYTHONUNBUFFERED": "1"},  # each line as soon as it is printed
            # Its own session: Ctrl-C in the terminal reaches the app alone, which then
            # stops the command the same way as Q does.
            start_new_session=os.name == "posix",
        )
        self.lock = threading.Lock()
        self.progress = Progress()
        self.thread = threading.Thread(target=self._pump, name="teaching", daemon=True)
        self.thread.start()

    def _pump(self):
        # Text mode splits at "\r" too: each redraw of a progress bar is a line of its own.
        for raw in self.process.stdout:
            fraction, line = parse_line(raw)
            if fraction is None and not line:
                continue
            with self.lock:
                if fraction is not None:
                    self.progress = replace(self.progress, fraction=fraction)
                elif line.startswith("error:"):
                    self.progress = replace(self.progress, error=line, line=line)
                else:
                    self.progress = replace(self.progress, line=line)
        status = self.process.wait()
        with self.lock:
            self.progress = replace(self.progress, status=status)

    def state(self):
        """The progress so far: a snapshot, equal to the last one until something changes."""
        with self.lock:
            return self.progress

    @property
    def running(self):
        return self.state().status is None

    def stop(self):
        """End the command: SIGTERM lets it remove its temporary files; a kill if it hangs."""
        if self.process.poll() is None:
            self._signal(signal.SIGTERM)
            try:
                self.process.wait(STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self._signal(signal.SIGKILL if os.name == "posix" else signal.SIGTERM)
                self.process.wait()
        self.thread.join(STOP_TIMEOUT_S)

    def _signal(self, number):
        """Signal the command and any process it started: they share its session's group."""
        try:
            if os.name == "posix":
                os.killpg(self.process.pid, number)
            else:  # pragma: no cover - SIGTERM is TerminateProcess on Windows
                self.process.send_signal(number)
        except ProcessLookupError:  # it has just ended
            pass
