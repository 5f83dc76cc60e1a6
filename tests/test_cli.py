"""How every command ends: one line for bad input, one word for Ctrl-C and SIGTERM."""

import argparse
import signal

import pytest
from conftest import one_error_line, run_python

from deeplearning.core import cli
from deeplearning.core.errors import InputError


def raising(error):
    def body():
        raise error

    return body


@pytest.mark.parametrize(
    ("error", "status", "stderr"),
    [
        (InputError("data/train.csv: line 3: column 'label' holds 10"), 1, None),
        (PermissionError(13, "Permission denied", "data/train.csv"), 1, None),
        (KeyboardInterrupt(), 130, "interrupted\n"),
        (cli.Terminated(), 143, "terminated\n"),
        (BrokenPipeError(32, "Broken pipe"), 141, ""),
    ],
)
def test_how_a_command_ends(capsys, error, status, stderr):
    assert cli.run(raising(error)) == status
    err = capsys.readouterr().err
    if stderr is None:
        one_error_line(err, "data/train.csv: ")
    else:
        assert err == stderr


def test_sigterm_unwinds_like_ctrl_c(capsys):
    cleaned = []

    def body():
        try:
            signal.raise_signal(signal.SIGTERM)
        finally:
            cleaned.append(True)

    assert cli.run(body) == 143
    assert cleaned == [True] and capsys.readouterr().err == "terminated\n"
    assert signal.getsignal(signal.SIGTERM) == signal.SIG_DFL  # put back afterwards


def test_bad_arguments_are_one_line(capsys):
    parser = cli.ArgumentParser(prog="x")
    parser.add_argument("--seed", type=cli.seed)
    parser.add_argument("--count", type=cli.whole_number(1, 10))
    parser.add_argument("--target", type=cli.fraction)
    for argv, message in (
        (["--seed", "-1"], "argument --seed: -1 is out of range: it must be 0..4294967295"),
        (["--count", "11"], "argument --count: 11 is out of range: it must be 1..10"),
        (["--count", "1.5"], "argument --count: '1.5' is not a whole number"),
        (["--target", "inf"], "argument --target: inf is out of range: it must be 0..1"),
        (["--unknown"], "unrecognized arguments: --unknown"),
    ):
        assert cli.run(lambda argv=argv: parser.parse_args(argv) and 0) == 1
        one_error_line(capsys.readouterr().err, message)
    assert parser.parse_args(["--seed", str(2**32 - 1)]).seed == 2**32 - 1
    with pytest.raises(argparse.ArgumentTypeError):
        cli.whole_number(0)("-1")


def test_ctrl_c_before_a_command_starts_is_one_word():
    """Importing a training command imports TensorFlow (seconds): Ctrl-C then says
    `interrupted` too. Here the command's import itself is interrupted."""
    code = (
        "import sys, types\n"
        "from deeplearning import __main__ as entry\n"
        "entry.COMMANDS['train'] = 'interrupted_on_import'\n"
        "sys.modules['interrupted_on_import'] = None  # importing it raises ImportError ...\n"
        "import importlib\n"
        "def interrupted(name):\n"
        "    raise KeyboardInterrupt  # ... so it is replaced by Ctrl-C in mid-import\n"
        "importlib.import_module = interrupted\n"
        "sys.exit(entry.main(['train']))\n"
    )
    result = run_python("-c", code)
    assert result.stderr == "interrupted\n"
    assert result.returncode in (130, -signal.SIGINT)  # Python ends as killed by SIGINT


def test_the_command_entry_lists_and_checks_commands():
    listed = run_python("-m", "deeplearning", "--help")
    assert listed.returncode == 0 and "teach" in listed.stdout and "replay" in listed.stdout
    wrong = run_python("-m", "deeplearning", "trian")
    assert wrong.returncode == 2
    assert wrong.stderr.splitlines()[-1] == "error: trian: no such command"


@pytest.mark.parametrize(
    ("argv", "shown"),
    [
        (["data", "check", "/nonexistent/a\nb.csv"], "/nonexistent/a\\nb.csv: file not found"),
        (["teach", "--samples", "/nonexistent\nerror: fake"], "/nonexistent\\nerror: fake"),
    ],
)
def test_a_path_cannot_split_an_error_or_forge_another(argv, shown):
    """A control character in a path is written as an escape: a newline neither splits the
    message over two lines nor starts a forged `error:` line of its own."""
    result = run_python("-m", "deeplearning", *argv)
    assert result.returncode == 1
    one_error_line(result.stderr, shown)
