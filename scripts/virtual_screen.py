"""A virtual screen: Xvfb on a free display, and the real app (app.py) run on it and driven
with the mouse and keyboard through xdotool, as a user would.

    with virtual_screen() as display, RealApp(display, folder) as running:
        window = running.window()
        running.drag(window, [(100, 100), (100, 200)])
        print(running.next_line())  # the app's --jsonl record of that stroke

Used by the tests that run the app in a real X window, benchmarks/startup.py and
scripts/app_picture.py. Needs Xvfb and xdotool (`apt-get install xvfb xdotool`).
"""

import contextlib
import json
import os
import queue
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

from deeplearning.core.errors import InputError

ROOT = Path(__file__).resolve().parent.parent
TOOLS = {"Xvfb": "xvfb", "xdotool": "xdotool"}  # program: its Debian package
SCREEN_SIZE = (1600, 900)  # room for the app's 1280x640 window
TITLE = "Handwritten digit recognizer"  # the app's window
START_TIMEOUT = 180  # s: the model loads before the window opens, on a possibly busy machine
LINE_TIMEOUT = 60
STOP_TIMEOUT = 10
POINTS_PER_PAUSE = 3  # mouse positions between 16 ms pauses: what a hand gives at 60 frames/s


class ScreenError(InputError):
    """The virtual screen or the app on it did not do what was expected; the message says
    what."""


def check_tools():
    """Raise ScreenError, naming what to install, unless Xvfb and xdotool are there."""
    missing = [program for program in TOOLS if shutil.which(program) is None]
    if missing:
        packages = " ".join(TOOLS[program] for program in missing)
        raise ScreenError(
            f"{' and '.join(missing)} not found: install with `apt-get install {packages}`"
        )


@contextlib.contextmanager
def virtual_screen(size=SCREEN_SIZE):
    """Start Xvfb on a free display, which Xvfb picks itself (-displayfd); yield its name,
    ':N', once it accepts clients; stop it on the way out."""
    check_tools()
    read_end, write_end = os.pipe()
    command = ["Xvfb", "-displayfd", str(write_end), "-screen", "0", "{}x{}x24".format(*size)]
    # By default the server resets whenever its last client leaves and turns away whoever
    # connects meanwhile: with xdotool polling, a few percent of connections, the app's too.
    command += ["-noreset", "-nolisten", "tcp"]
    server = subprocess.Popen(
        command,
        pass_fds=(write_end,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(write_end)
    try:
        with os.fdopen(read_end) as pipe:
            number = pipe.readline().strip()  # written once the server accepts clients
        if not number:
            raise ScreenError(f"Xvfb did not start (exit status {server.poll()})")
        yield f":{number}"
    finally:
        stop(server)


def stop(process):
    """End a process: asked first, killed if it does not end in time."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(STOP_TIMEOUT)


def display_env(display):
    """The environment of a program shown on `display`, without the settings that the
    tests use to keep SDL off any screen: programs get by with none, as for a user."""
    env = dict(os.environ, DISPLAY=display)
    for name in ("SDL_VIDEODRIVER", "SDL_FRAMEBUFFER_ACCELERATION"):
        env.pop(name, None)
    return env


def xdotool(display, *args, check=True):
    """Run xdotool on `display`: its standard output. With `check`, a failure raises
    ScreenError."""
    result = subprocess.run(
        ["xdotool", *map(str, args)],
        env=dict(os.environ, DISPLAY=display),
        capture_output=True,
        text=True,
        timeout=LINE_TIMEOUT,
    )
    if check and result.returncode != 0:
        raise ScreenError(f"xdotool {args[0]}: {result.stderr.strip() or result.returncode}")
    return result.stdout


def mapped_window(display, pid, title):
    """The id of the process's mapped window of this title, or None. Found by process id:
    `xdotool search --name` misses SDL's windows, whose WM_NAME is UTF-8."""
    found = xdotool(display, "search", "--onlyvisible", "--pid", pid, check=False)
    for window in found.split():
        if xdotool(display, "getwindowname", window, check=False).strip() == title:
            return window
    return None


class RealApp:
    """`python app.py --jsonl ARGS` on a display, run in `folder`, with its JSON lines read as
    they come. A context manager: the app is stopped on the way out if it is still running."""

    def __init__(self, display, folder, *args):
        self.display = display
        self.process = subprocess.Popen(
            [sys.executable, str(ROOT / "app.py"), "--jsonl", *map(str, args)],
            cwd=folder,
            env=display_env(display),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines, self.stderr = queue.Queue(), []
        # Both pipes are read all along, so that neither fills and stalls the app.
        threading.Thread(target=self._pump, args=(self.process.stdout, self.lines.put)).start()
        threading.Thread(target=self._pump, args=(self.process.stderr, self.stderr.append)).start()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        stop(self.process)

    @staticmethod
    def _pump(stream, put):
        for line in stream:
            put(line)

    def errors(self):
        """The end of what the app wrote on stderr, for a message."""
        return "".join(self.stderr)[-2000:].strip() or "(nothing on stderr)"

    def window(self):
        """The app's window id, once it is mapped and focused."""
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise ScreenError(f"app.py exited with {self.process.returncode}: {self.errors()}")
            window = mapped_window(self.display, self.process.pid, TITLE)
            if window is not None:
                xdotool(self.display, "windowfocus", "--sync", window)
                return window
            time.sleep(0.5)
        raise ScreenError(f"app.py: no window after {START_TIMEOUT} s: {self.errors()}")

    def next_line(self):
        """The app's next JSON line, as a dict."""
        try:
            return json.loads(self.lines.get(timeout=LINE_TIMEOUT))
        except queue.Empty:
            raise ScreenError(f"app.py: no line within {LINE_TIMEOUT} s: {self.errors()}") from None

    def drag(self, window, path):
        """Button down at the first point, the mouse through the rest at a hand's pace,
        button up at the last. Points are in window pixels."""
        command = ["mousemove", "--window", window, *path[0], "mousedown", 1]
        for index, (x, y) in enumerate(path[1:], start=1):
            command += ["mousemove", "--window", window, x, y]
            if index % POINTS_PER_PAUSE == 0:
                command += ["sleep", 0.016]
        xdotool(self.display, *command, "mouseup", 1)

    def key(self, name):
        """Press and release a key (an X keysym name: "r", "q", "Return")."""
        xdotool(self.display, "key", name)
