"""The virtual screen (scripts/virtual_screen.py) and the tools that use it: the start-up
benchmark and the script that makes the README's picture of the app."""

import contextlib
import importlib

import numpy as np
import pytest
from conftest import ROOT, one_error_line, run_python

from scripts.virtual_screen import ScreenError, virtual_screen, xdotool


@pytest.fixture
def startup(monkeypatch):
    """benchmarks/startup.py as a module."""
    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))
    return importlib.import_module("startup")


@pytest.fixture
def no_tools(monkeypatch, tmp_path):
    """A PATH on which neither Xvfb nor xdotool is found."""
    monkeypatch.setenv("PATH", str(tmp_path))


@pytest.mark.parametrize("launches", ["0", "-2", "x"])
def test_startup_takes_one_launch_or_more(startup, capsys, launches):
    assert startup.main(["--launches", launches]) == 1
    one_error_line(capsys.readouterr().err, "--launches")


def test_startup_without_xvfb_is_one_line(startup, capsys, no_tools):
    assert startup.main(["--launches", "1"]) == 1
    one_error_line(capsys.readouterr().err, "Xvfb", "apt-get install")


def test_startup_reports_a_bare_window_that_never_came_up(startup, capsys, monkeypatch):
    """Every launch's outcome is in the table, whichever fails: the bare window too."""

    @contextlib.contextmanager
    def screen():
        yield ":99"

    def launched(command, title, env):
        return (None, "exit status 1: no display") if title == startup.BARE_TITLE else (2.0, None)

    monkeypatch.setattr(startup, "virtual_screen", screen)
    monkeypatch.setattr(startup, "time_to_window", launched)
    assert startup.main(["--launches", "1"]) == 1
    out = capsys.readouterr().out
    assert "bare pygame window: exit status 1: no display" in out
    assert "| app.py " in out and "2.00" in out


def test_a_virtual_screen_is_a_display_until_it_is_closed(screen_tools):
    with virtual_screen((640, 480)) as display:
        assert xdotool(display, "getdisplaygeometry").split() == ["640", "480"]
    with pytest.raises(ScreenError, match="getdisplaygeometry"):
        xdotool(display, "getdisplaygeometry")


def test_a_virtual_screen_takes_every_client(screen_tools):
    """Clients that come and go one after another all get in: an X server that reset itself
    whenever its last client left would turn some away while it did (an app among them, which
    SDL would then quietly run without a window)."""
    with virtual_screen((640, 480)) as display:
        for _ in range(200):
            xdotool(display, "getdisplaygeometry")


def test_no_virtual_screen_without_xvfb(no_tools):
    with pytest.raises(ScreenError, match="apt-get install xvfb xdotool"):
        with virtual_screen():
            pass


@pytest.fixture
def picture():
    """scripts/app_picture.py as a module."""
    return importlib.import_module("scripts.app_picture")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--width", "100"], "--width: 100 is out of range"),
        (["--out", "app.jpg"], "app.jpg: the name of the picture must end in .png"),
        (["--out", "."], ".: the name of the picture must end in .png"),
    ],
)
def test_the_picture_script_checks_its_options(picture, capsys, argv, message):
    assert picture.main(argv) == 1
    one_error_line(capsys.readouterr().err, message)


def test_the_picture_script_overwrites_only_when_asked(picture, capsys, tmp_path):
    out = tmp_path / "app.png"
    out.write_bytes(b"an older picture")
    assert picture.main(["--out", str(out)]) == 1
    one_error_line(capsys.readouterr().err, out, "already exists (pass --force")
    assert out.read_bytes() == b"an older picture"


def test_the_picture_shows_the_real_app_reading_the_number(screen_tools, tmp_path):
    """The app is run as a user runs it; the script stops unless it reads the number."""
    import cv2

    out = tmp_path / "docs" / "app.png"
    done = run_python("scripts/app_picture.py", "--out", out, "--width", 640)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"saved: {out} (640x320 px, ")
    picture = cv2.imread(str(out))
    assert picture.shape == (320, 640, 3)
    assert out.stat().st_size < 150_000
    # The canvas (the left half) holds ink, the panel (the right half) the boxes' green.
    assert (picture[:, :320] < 64).all(axis=2).any()
    blue, green, red = np.moveaxis(picture[:, 320:].astype(int), 2, 0)
    assert ((green > 120) & (blue < 80) & (red < 80)).any()
