"""The real app in a real X window: Xvfb for the screen, xdotool for the mouse and keyboard.

This runs `python app.py --jsonl` as a user would, with TensorFlow loaded in the same process
as the window (the combination that crashes under Mesa's llvmpipe unless the app turns SDL's
framebuffer acceleration off). It needs Xvfb and xdotool; as root it installs them.
"""

import json
import os
import queue
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from deeplearning.reading.pen import place_strokes, render, strokes_to_mouse_path

ROOT = Path(__file__).resolve().parent.parent
TITLE = "Handwritten digit recognizer"
START_TIMEOUT = 180  # s: TensorFlow and the model load first, on a possibly busy machine
LINE_TIMEOUT = 60
POINTS_PER_PAUSE = 3  # about what a hand gives per frame at 60 frames a second


def ensure_tools():
    """Xvfb and xdotool, installed with apt-get when missing and running as root."""

    def missing():
        return [tool for tool in ("Xvfb", "xdotool") if shutil.which(tool) is None]

    if missing() and os.geteuid() == 0 and shutil.which("apt-get"):
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        for command in (["apt-get", "update"], ["apt-get", "install", "-y", "xvfb", "xdotool"]):
            subprocess.run(command, capture_output=True, timeout=900, env=env, check=False)
    if missing():
        pytest.skip(f"{' and '.join(missing())} not installed and could not be installed")


@pytest.fixture
def display():
    """A fresh Xvfb on a free display number, which Xvfb picks itself (-displayfd)."""
    ensure_tools()
    read_end, write_end = os.pipe()
    server = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write_end), "-screen", "0", "1600x900x24", "-nolisten", "tcp"],
        pass_fds=(write_end,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(write_end)
    try:
        with os.fdopen(read_end) as pipe:
            number = pipe.readline().strip()  # written once the server accepts clients
        if not number:
            pytest.fail(f"Xvfb did not start (exit status {server.poll()})")
        yield f":{number}"
    finally:
        stop(server)


def stop(process):
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@pytest.fixture(scope="module")
def seven(mnist_sample, recognizer):
    """A real MNIST 7 traced into pen strokes, 300 px tall on the canvas: the first of a few
    that the model reads right when rendered (this test is about the app, not the model)."""
    from deeplearning.pen_data.tracing import image_to_strokes

    images, labels = mnist_sample
    for index in np.flatnonzero(labels == 7)[:20]:
        strokes = place_strokes(image_to_strokes(images[index]), 300, 170, 170)
        digits = recognizer.recognize(render(strokes))
        if [digit.label for digit in digits] == [7]:
            return strokes
    pytest.fail("no MNIST 7 among 20 is read right; is the model trained?")


class RunningApp:
    """`python app.py --jsonl` on a display, its stdout read line by line as it comes."""

    def __init__(self, display, cwd):
        env = dict(os.environ, DISPLAY=display)
        # The tests' own settings (conftest) would keep SDL off the X server; the app must
        # get by with none, so this runs it as a user would.
        for name in ("SDL_VIDEODRIVER", "SDL_FRAMEBUFFER_ACCELERATION"):
            env.pop(name, None)
        self.display = display
        self.process = subprocess.Popen(
            # The shipped model: no taught one in this samples folder.
            [sys.executable, str(ROOT / "app.py"), "--jsonl", "--samples", str(cwd / "personal")],
            cwd=cwd,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines, self.stderr = queue.Queue(), []
        threading.Thread(target=self.pump, args=(self.process.stdout, self.lines.put)).start()
        threading.Thread(target=self.pump, args=(self.process.stderr, self.stderr.append)).start()

    @staticmethod
    def pump(stream, put):
        for line in stream:
            put(line)

    def xdotool(self, *args, timeout=60):
        return subprocess.run(
            ["xdotool", *map(str, args)],
            env=dict(os.environ, DISPLAY=self.display),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def window(self):
        """The app's window id, once it is mapped, after checking its title.

        Found by process id: `xdotool search --name` misses SDL's windows, whose WM_NAME is
        of type UTF8_STRING.
        """
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"app exited with {self.process.returncode}: {self.errors()}")
            found = self.xdotool("search", "--onlyvisible", "--pid", self.process.pid, timeout=10)
            if found.returncode == 0 and found.stdout.split():
                window = found.stdout.split()[0]
                assert self.xdotool("getwindowname", window).stdout.strip() == TITLE
                return window
            time.sleep(0.5)
        pytest.fail(f"no window after {START_TIMEOUT} s: {self.errors()}")

    def next_line(self):
        try:
            return json.loads(self.lines.get(timeout=LINE_TIMEOUT))
        except queue.Empty:
            pytest.fail(f"no output line within {LINE_TIMEOUT} s: {self.errors()}")

    def errors(self):
        return "".join(self.stderr)[-2000:] or "(nothing on stderr)"

    def drag(self, window, path):
        """Button down at the first point, the mouse through the rest, button up at the last."""
        command = ["mousemove", "--window", window, *path[0], "mousedown", 1]
        for index, (x, y) in enumerate(path[1:], start=1):
            command += ["mousemove", "--window", window, x, y]
            if index % POINTS_PER_PAUSE == 0:
                command += ["sleep", 0.016]
        command += ["mouseup", 1]
        result = self.xdotool(*command)
        assert result.returncode == 0, result.stderr


def test_draw_a_seven_clear_and_quit_in_a_real_window(display, seven, tmp_path):
    running = RunningApp(display, tmp_path)
    try:
        window = running.window()
        running.xdotool("windowfocus", "--sync", window, timeout=10)

        paths = strokes_to_mouse_path(seven)
        for path in paths:
            running.drag(window, path)
        lines = [running.next_line() for _ in paths]
        assert [line["event"] for line in lines] == ["stroke"] * len(paths)
        assert lines[-1]["text"] == "7", lines[-1]
        [digit] = lines[-1]["digits"]
        x, y, w, h = digit["box"]
        assert abs(y - 170) <= 3 and abs(h - 300) <= 4  # where the mouse drew it

        running.xdotool("key", "r")
        assert running.next_line() == {"event": "clear", "text": "", "digits": []}

        running.xdotool("key", "q")
        assert running.process.wait(timeout=30) == 0, running.errors()
    finally:
        stop(running.process)
