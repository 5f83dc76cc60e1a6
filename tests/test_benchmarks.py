"""The benchmarks' options: each bad one is one line and exit status 1, before any work."""

import importlib

import pytest
from conftest import ROOT, one_error_line


@pytest.fixture
def benchmark(monkeypatch):
    """benchmark(name): the script benchmarks/<name>.py as a module."""
    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))
    return importlib.import_module


@pytest.mark.parametrize(
    ("name", "argv", "message"),
    [
        ("recognition_latency", ["--updates", "0"], "--updates: 0 is out of range"),
        ("recognition_latency", ["--seed-updates", "-3"], "--seed-updates: -3 is out of range"),
        ("app_frame_time", ["--frames", "-1"], "--frames: -1 is out of range"),
        ("inference_throughput", ["--count", "0"], "--count: 0 is out of range"),
        ("training_throughput", ["--steps", "zero"], "--steps: 'zero' is not a whole number"),
        ("time_to_accuracy", ["--target", "2", "--from-log", "x"], "--target: 2 is out of range"),
        ("time_to_accuracy", ["--target", "nan", "--from-log", "x"], "--target: nan is out of"),
        ("time_to_accuracy", ["--recipe", "seed", "--max-epochs", "0"], "--max-epochs: 0 is out"),
        ("time_to_accuracy", ["--recipe", "seed"], "--recipe needs --log"),
        ("time_to_accuracy", [], "give --recipe (with --log) or --from-log"),
    ],
)
def test_bad_options_are_one_line(benchmark, capsys, name, argv, message):
    assert benchmark(name).main(argv) == 1
    one_error_line(capsys.readouterr().err, message)


@pytest.mark.parametrize("name", ["recognition_latency", "app_frame_time", "inference_throughput"])
def test_a_missing_model_is_one_line(benchmark, capsys, tmp_path, name):
    missing = tmp_path / "none.keras"
    assert benchmark(name).main(["--model", str(missing)]) == 1
    one_error_line(capsys.readouterr().err, missing, "model file not found")


def test_an_existing_log_is_kept_before_any_training(benchmark, capsys, tmp_path):
    log = tmp_path / "seed.csv"
    log.write_text("my log")
    argv = ["--recipe", "seed", "--log", str(log), "--mnist", str(tmp_path / "nowhere")]
    assert benchmark("time_to_accuracy").main(argv) == 1
    one_error_line(capsys.readouterr().err, log, "already exists (pass --force")
    assert log.read_text() == "my log"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (None, "cannot be read"),
        ("epoch,seconds\n1,2.5\n", "line 1: no column test_accuracy"),
        ("epoch,seconds,test_accuracy\n1,2.5,0.99\n2,5.0,high\n", "line 3: column 'test_accuracy'"),
    ],
)
def test_a_bad_log_to_report_on_is_one_line(benchmark, capsys, tmp_path, text, message):
    log = tmp_path / "log.csv"
    if text is not None:
        log.write_text(text)
    assert benchmark("time_to_accuracy").main(["--from-log", str(log)]) == 1
    one_error_line(capsys.readouterr().err, log, message)
