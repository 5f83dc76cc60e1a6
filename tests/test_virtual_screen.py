"""The virtual screen (scripts/virtual_screen.py) and the tools that use it: the start-up
benchmark and the script that makes the README's picture of the app."""

import contextlib
import importlib

import pytest
from conftest import ROOT, one_error_line


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
