"""The pygame app, headless: real pygame events in, printed JSON lines and drawn pixels out.

Digits are drawn along pen strokes traced from real MNIST images (deeplearning.pen_data.replay), the
way a person would move the mouse. These tests need the shipped model, model/mnist_cnn.keras.
"""

import io
import itertools
import json
import signal
import subprocess
import sys
import threading
import time

import numpy as np
import onnx
import pygame as pg
import pytest
from app_driver import (
    HEADLESS,
    ROOT,
    Driver,
    preview_point,
    run_app,
)
from conftest import sigint_as_in_a_terminal

import app
from deeplearning.reading import recognize
from deeplearning.reading.pen import place_strokes, render, strokes_to_mouse_path
from deeplearning.ui import panel
from deeplearning.ui.canvas import Canvas
from deeplearning.ui.colours import DIVIDER, GREEN, ORANGE, WHITE
from deeplearning.ui.snapshot import save_names


@pytest.fixture
def driver(recognizer, screen, tmp_path):
    out = io.StringIO()
    samples = tmp_path / "samples"
    application = app.App(recognizer, jsonl=True, out=out, save_dir=tmp_path, samples_dir=samples)
    yield Driver(application, screen, out)
    application.close()


def test_a_drawn_seven_is_read_boxed_and_shown(driver, digit_strokes):
    strokes = place_strokes(digit_strokes(7), 300, 170, 170)
    driver.draw(strokes)
    driver.settle()

    [line] = driver.lines()
    assert line["event"] == "stroke" and line["text"] == "7"
    [digit] = line["digits"]
    assert digit["label"] == 7 and 0.5 < digit["confidence"] <= 1.0
    # The box is the ink's: 300 px tall from y = 170, within a pixel or two.
    x, y, w, h = digit["box"]
    assert abs(y - 170) <= 2 and abs(h - 300) <= 3
    assert 150 <= x and x + w <= 640

    # The app's pen leaves the ink of replay's render of those strokes (whose cv2 lines come
    # out a pixel or two wider than the 15 px pen).
    canvas, expected = driver.canvas() == 0, render(strokes) == 0
    assert (canvas & expected).sum() / canvas.sum() > 0.9
    assert (canvas & expected).sum() / (canvas | expected).sum() > 0.75
    for px, py in np.rint(np.concatenate(strokes)).astype(int):
        assert driver.pixel((px, py)) == (0, 0, 0)

    # Right half: a green box at the digit, the number, the 28x28 image the model saw.
    left_edge = preview_point(x, y + h // 2)
    assert driver.pixel(left_edge) == GREEN
    assert driver.pixel(preview_point(x + w // 2, y + h + 40)) == WHITE
    number = driver.screen.subsurface((640 + panel.NUMBER_POS[0], panel.NUMBER_POS[1], 300, 80))
    assert (pg.surfarray.array_red(number) < 100).sum() > 500
    tile = driver.screen.subsurface((640 + panel.TILES_POS[0], panel.TILES_POS[1], 56, 56))
    assert (pg.surfarray.array_red(tile) > 128).sum() > 50


class StrokesSeen:
    """The shipped recognizer, noting the strokes each reading is given."""

    def __init__(self, recognizer):
        self.recognizer, self.strokes = recognizer, []

    def recognize(self, canvas, strokes=None):
        self.strokes.append(strokes)
        return self.recognizer.recognize(canvas, strokes)


def test_the_recognizer_is_given_the_strokes_as_drawn(recognizer, screen, digit_strokes):
    seen, out = StrokesSeen(recognizer), io.StringIO()
    application = app.App(seen, jsonl=True, out=out)
    driver = Driver(application, screen, out)
    try:
        four = place_strokes(digit_strokes(4), 300, 170, 170)
        [path] = strokes_to_mouse_path(place_strokes(digit_strokes(1), 300, 480, 170))
        driver.draw(four)
        driver.settle()
        driver.stroke(path[:-1], finish=False)
        time.sleep(app.LIVE_INTERVAL_MS / 1000 + 0.05)
        driver.move(path[-1])  # read while the button is still down
        driver.settle()
        drawn = application.canvas.strokes + [application.canvas.stroke]
        assert [list(map(tuple, s)) for s in seen.strokes[-1]] == drawn
        assert len(drawn) == len(four) + 1 and len(seen.strokes[-1][-1]) > 1
    finally:
        application.close()


def test_a_two_digit_number_is_read_left_to_right(driver, digit_strokes):
    driver.draw(place_strokes(digit_strokes(4), 220, 60, 200))
    driver.draw(place_strokes(digit_strokes(2), 220, 360, 200))
    driver.settle()

    lines = driver.lines()
    assert {line["event"] for line in lines} == {"stroke"}
    assert lines[-1]["text"] == "42"
    boxes = [digit["box"] for digit in lines[-1]["digits"]]
    assert boxes[0][0] + boxes[0][2] <= 360 <= boxes[1][0]
    # Two green boxes on the right half, one per digit.
    for x, y, _, h in boxes:
        assert driver.pixel(preview_point(x, y + h // 2)) == GREEN


def test_every_stroke_of_a_digit_is_reported(driver, digit_strokes):
    strokes = place_strokes(digit_strokes(4), 300, 170, 170)
    driver.draw(strokes)
    driver.settle()
    lines = driver.lines()
    assert [line["event"] for line in lines] == ["stroke"] * len(strokes)
    assert lines[-1]["text"] == "4"


def test_the_reading_updates_while_the_button_is_down(driver, digit_strokes):
    [path] = strokes_to_mouse_path(place_strokes(digit_strokes(1), 300, 300, 170))
    driver.stroke(path[: len(path) // 2], finish=False)
    time.sleep(app.LIVE_INTERVAL_MS / 1000 + 0.05)
    driver.move(path[len(path) // 2])
    driver.settle()
    assert driver.app.canvas.stroke is not None  # still drawing
    assert driver.app.digits, "nothing read while drawing"
    assert driver.lines() == []  # only finished strokes are reported


def test_undo_takes_back_the_last_stroke(driver, digit_strokes):
    seven = place_strokes(digit_strokes(7), 250, 40, 200)
    one = place_strokes(digit_strokes(1), 250, 400, 200)
    driver.draw(seven)
    driver.draw(one)
    driver.settle()
    assert driver.lines()[-1]["text"] == "71"

    driver.key(pg.K_u)
    driver.settle()
    line = driver.lines()[-1]
    assert line["event"] == "undo" and line["text"] == "7"
    canvas = driver.canvas()
    assert (canvas[:, 380:] == 255).all()  # the 1 is gone
    assert (canvas[:, :380] == 0).sum() > 1000  # the 7 is still there

    # Ctrl+Z undoes too; undoing past the first stroke leaves a blank canvas.
    for _ in range(len(seven) + 1):
        driver.key(pg.K_z, mod=pg.KMOD_LCTRL)
    driver.settle()
    events = [line["event"] for line in driver.lines()]
    assert events[-len(seven) - 1 :] == ["undo"] * (len(seven) + 1)
    assert driver.lines()[-1]["text"] == "" and driver.lines()[-1]["digits"] == []
    assert (driver.canvas() == 255).all()


def green_pixels(driver):
    right = pg.surfarray.pixels3d(driver.screen)[640:]
    green = (right[..., 0] == GREEN[0]) & (right[..., 1] == GREEN[1])
    return int((green & (right[..., 2] == GREEN[2])).sum())


@pytest.mark.parametrize("how", ["R", "right click"])
def test_clear_wipes_canvas_and_reading(driver, digit_strokes, how):
    driver.draw(place_strokes(digit_strokes(7), 300, 170, 170))
    driver.settle()
    assert green_pixels(driver) > 0

    if how == "R":
        driver.key(pg.K_r)
    else:
        driver.down((320, 320), button=3)
        driver.up((320, 320), button=3)
    driver.settle()
    line = driver.lines()[-1]
    assert line == {"event": "clear", "text": "", "digits": []}
    assert (driver.canvas() == 255).all()
    assert green_pixels(driver) == 0
    left = pg.surfarray.array_red(driver.screen.subsurface((0, 0, 640, 640)))
    assert (left == 255).all()


def test_clear_in_the_middle_of_a_stroke_ends_it(driver):
    driver.down((100, 100))
    driver.move((300, 300))
    driver.frame()
    driver.key(pg.K_r)
    driver.move((500, 100))  # the button is still down: this must not draw
    driver.up((500, 100))
    driver.settle()
    assert [line["event"] for line in driver.lines()] == ["clear"]
    assert (driver.canvas() == 255).all()

    # The next stroke draws as usual.
    driver.stroke([(100, 500), (300, 500)])
    driver.settle()
    assert driver.lines()[-1]["event"] == "stroke"
    assert driver.canvas()[500, 100:301].max() == 0


def test_a_press_with_no_release_before_it_finishes_the_stroke(driver):
    driver.down((100, 100))
    driver.move((100, 300))
    driver.down((300, 100))  # the release was lost, e.g. outside the window
    driver.move((300, 300))
    driver.up((300, 300))
    driver.settle()
    assert [line["event"] for line in driver.lines()] == ["stroke", "stroke"]
    assert len(driver.app.canvas.strokes) == 2
    driver.key(pg.K_u)
    driver.settle()
    canvas = driver.canvas()
    assert canvas[200, 100] == 0 and canvas[200, 300] == 255


def test_q_quits(driver):
    driver.key(pg.K_q)
    started = time.monotonic()
    driver.app.run(driver.screen, max_frames=600)
    assert not driver.app.running
    assert time.monotonic() - started < 5


def test_closing_the_window_mid_stroke_quits_and_still_reports_earlier_strokes(
    driver, digit_strokes
):
    driver.draw(place_strokes(digit_strokes(1), 300, 300, 170))  # reported on the way out
    driver.down((100, 100))
    driver.move((200, 200))
    driver.post(pg.QUIT)
    driver.move((300, 300))
    driver.app.run(driver.screen, max_frames=600)
    assert not driver.app.running
    assert [(line["event"], line["text"]) for line in driver.lines()] == [("stroke", "1")]


def test_strokes_are_clipped_to_the_canvas(driver):
    # Out through the divider into the right half, back in lower down, out of the top-left.
    path = [(560, 200), (900, 200), (1200, 400), (560, 400), (-50, 100), (200, -80)]
    driver.stroke(path)
    driver.settle()
    canvas = driver.canvas()
    assert canvas[200, 560:640].max() == 0 and canvas[400, 560:640].max() == 0
    # Clipped at the left edge (near y = 125 and 64) and at the top (near x = 89).
    assert canvas[118:132, 0].max() == 0 and canvas[58:70, 0].max() == 0
    assert canvas[0, 83:95].max() == 0
    # The right half shows only the panel: no ink from the stroke over it.
    right = pg.surfarray.array3d(driver.screen)[640 + app.DIVIDER_WIDTH :]
    assert np.array_equal(right, pg.surfarray.array3d(driver.app.panel)[app.DIVIDER_WIDTH :])
    assert driver.lines()[-1]["event"] == "stroke"

    # A press on the right half starts no stroke.
    driver.stroke([(900, 500), (1000, 500), (300, 500)])
    driver.settle()
    assert len(driver.lines()) == 1
    assert canvas[500].min() == 255 and driver.canvas()[500].min() == 255


def test_a_fast_move_leaves_a_continuous_line(driver):
    driver.stroke([(40, 40), (600, 600), (40, 600)])  # two far-apart motion events
    driver.settle()
    canvas = driver.canvas()
    for t in range(40, 601):
        assert canvas[t, t] == 0, f"gap at ({t}, {t})"
        assert canvas[600, t] == 0, f"gap at ({t}, 600)"
    # The line is the pen's width: 7 px either side of the centre, measured across it.
    for t in range(100, 540, 20):
        across = [canvas[t - k, t + k] for k in range(-8, 9)]  # 1.41 px a step
        assert across[4:13] == [0] * 9  # up to 5.7 px from the centre
        assert across[:2] == [255] * 2 and across[-2:] == [255] * 2  # 9.9 px and beyond


def frame_ms(driver):
    started = time.perf_counter()
    driver.frame()
    return (time.perf_counter() - started) * 1000


@pytest.mark.parametrize("far", [10**8, 2**31])
def test_a_move_far_outside_the_window_is_clipped_before_it_is_drawn(driver, far):
    driver.down((320, 320))
    driver.move((far, far))  # out through the bottom-right corner
    assert frame_ms(driver) < 100
    driver.move((-far, 300))  # round outside to the left ...
    driver.move((300, -far))  # ... and the top ...
    for turn in range(1000):  # ... round and round: the stroke kept does not grow
        driver.move([(far, 300), (300, far), (-far, 300), (300, -far)][turn % 4])
    driver.frame()
    assert len(driver.app.canvas.stroke) < 10
    driver.move((320, 100))  # ... and back in at the top
    driver.up((320, 100))
    assert frame_ms(driver) < 100
    driver.settle()
    canvas = driver.canvas()
    assert all(canvas[t, t] == 0 for t in range(320, 640))
    assert canvas[0:100, 320].max() == 0  # the way back in
    # Nothing drawn where the pen went round outside: not across the top-left corner.
    assert canvas[:280, :280].min() == 255 and canvas[340:, :300].min() == 255
    # What is kept of the stroke lies by the canvas (a labelled digit's strokes are saved).
    assert all(-20 <= value <= 660 for point in driver.app.canvas.strokes[0] for value in point)

    driver.stroke([(500, 100), (550, 100)])
    driver.key(pg.K_u)  # the canvas is drawn again from the strokes kept
    assert frame_ms(driver) < 100
    driver.settle()
    assert np.array_equal(driver.canvas(), canvas)
    assert [line["event"] for line in driver.lines()] == ["stroke", "stroke", "undo"]


def test_strokes_that_wander_off_the_canvas_are_drawn_again_as_they_were():
    """Undo draws the canvas again from the strokes kept: those that went out and came back
    in give the ink they gave while drawn."""
    rng = np.random.default_rng(0)
    for _ in range(50):
        canvas = Canvas()
        canvas.begin(tuple(int(v) for v in rng.integers(0, 640, 2)))
        for point in rng.integers(-900, 1540, (8, 2)):
            canvas.extend(tuple(int(v) for v in point))
        canvas.end()
        drawn = canvas.array()
        canvas.begin((320, 320))
        canvas.end()
        canvas.undo()
        assert np.array_equal(canvas.array(), drawn)


class HeldRecognizer:
    """Reads nothing until let go, and counts its readings."""

    def __init__(self):
        self.go = threading.Event()
        self.readings = 0

    def recognize(self, canvas, strokes=None):
        self.readings += 1
        self.go.wait(60)
        return []


def test_a_flood_of_strokes_reads_only_the_newest_canvas_and_reports_every_event(screen):
    recognizer, out = HeldRecognizer(), io.StringIO()
    application = app.App(recognizer, jsonl=True, out=out)
    driver = Driver(application, screen, out)
    posted = []
    try:
        for index in range(3000):  # 10 short strokes a frame: 3,000 in 5 seconds
            x, y = 20 + index * 37 % 600, 20 + index * 53 % 600
            driver.down((x, y))
            driver.move((x + 5, y + 5))
            driver.up((x + 5, y + 5))
            posted.append("stroke")
            if index % 100 == 99:
                driver.key(pg.K_u)
                posted.append("undo")
            if index % 10 == 9:
                driver.frame()
        recognizer.go.set()
        driver.settle()
    finally:
        application.close()
    # Every event reported, in order; the canvas read once while held and once after.
    assert [line["event"] for line in driver.lines()] == posted
    assert recognizer.readings <= 2
    reading = application.labeller.reading
    assert reading.version == application.canvas.version
    assert np.array_equal(reading.seen, application.canvas.array())


# The same flood in the app as `python app.py` runs it, with the shipped model: its peak memory
# (MB) and the lines it printed. It stops as soon as the peak passes LIMIT_MB. The peak is the
# process's own since it started (VmHWM): getrusage's would count its parent's memory too, which
# the child shares until it starts.
FLOOD = """
import io, re, sys
import pygame as pg
import app
from deeplearning.reading.recognize import Recognizer

LIMIT_MB = float(sys.argv[1])

def peak_mb():
    with open("/proc/self/status") as status:
        return int(re.search(r"VmHWM:\\s*(\\d+) kB", status.read())[1]) / 1024

def post(kind, **attributes):
    pg.event.post(pg.event.Event(kind, **attributes))

pg.display.init()
pg.font.init()
screen = pg.display.set_mode(app.WINDOW_SIZE)
out = io.StringIO()
application = app.App(Recognizer(), jsonl=True, out=out)
for index in range(3000):
    x, y = 20 + index * 37 % 600, 20 + index * 53 % 600
    post(pg.MOUSEBUTTONDOWN, pos=(x, y), button=1)
    post(pg.MOUSEMOTION, pos=(x + 5, y + 5), rel=(0, 0), buttons=(1, 0, 0))
    post(pg.MOUSEBUTTONUP, pos=(x + 5, y + 5), button=1)
    if index % 10 == 9:
        application.step(screen)
        if peak_mb() > LIMIT_MB:
            break
application.close()
print(round(peak_mb()), len(out.getvalue().splitlines()))
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads Linux's /proc")
def test_a_flood_of_strokes_keeps_the_app_small():
    result = subprocess.run(
        [sys.executable, "-c", FLOOD, "300"],
        cwd=ROOT,
        env=HEADLESS,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    peak_mb, lines = map(int, result.stdout.split())
    assert peak_mb <= 300 and lines == 3000, result.stdout


def test_s_saves_the_window_without_overwriting(driver, tmp_path, capsys):
    driver.stroke([(100, 100), (500, 500)])
    driver.settle()
    # Files already there under this second's name and the next one's are left alone.
    now = time.time()
    taken = [next(save_names(tmp_path, now + k)) for k in (0, 1)]
    for path in taken:
        path.write_bytes(b"keep")

    driver.key(pg.K_s)
    driver.frame()
    saved = sorted(set(tmp_path.glob("drawing-*.png")) - set(taken))
    assert len(saved) == 1 and saved[0].name.startswith("drawing-")
    assert all(path.read_bytes() == b"keep" for path in taken)
    assert not list(tmp_path.glob(".*"))  # no temporary file left behind
    image = pg.image.load(str(saved[0]))
    assert image.get_size() == app.WINDOW_SIZE
    assert tuple(image.get_at((300, 300)))[:3] == (0, 0, 0)  # the canvas
    assert tuple(image.get_at((640, 320)))[:3] == DIVIDER  # and the right half
    # With --jsonl stdout holds only JSON; where it was saved goes to stderr.
    assert f"saved: {saved[0]}" in capsys.readouterr().err
    assert all(line["event"] == "stroke" for line in driver.lines())


def test_s_saves_into_a_folder_made_when_needed_and_the_panel_says_where(
    recognizer, screen, tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    out, folder = io.StringIO(), tmp_path / "drawings" / "new"
    application = app.App(recognizer, out=out, save_dir=folder, samples_dir=tmp_path / "samples")
    driver = Driver(application, screen, out)
    try:
        driver.key(pg.K_s)
        driver.frame()
        [saved] = folder.glob("drawing-*.png")
        assert out.getvalue() == f"saved: {saved}\n"
        # Said on the panel, as a path from the current folder, for a few seconds.
        assert application.view().message == f"Saved drawings/new/{saved.name}"
        application.update(pg.time.get_ticks() + 1000 * app.NOTICE_SECONDS)
        assert application.view().message == "" and application.panel is None
    finally:
        application.close()


def test_a_picture_that_cannot_be_saved_is_said_so_on_the_panel(
    recognizer, screen, tmp_path, capsys
):
    folder = tmp_path / "a file"
    folder.write_text("")
    application = app.App(recognizer, save_dir=folder, samples_dir=tmp_path / "samples")
    driver = Driver(application, screen, io.StringIO())
    try:
        driver.key(pg.K_s)
        driver.frame()
    finally:
        application.close()
    [line] = capsys.readouterr().err.splitlines()
    assert line.startswith(f"error: could not save the window: {folder}")
    assert application.view().message == f"C{line.removeprefix('error: c')}"
    assert application.view().message_colour == ORANGE


def test_drawings_go_to_a_folder_of_the_project_that_git_ignores(recognizer, screen, tmp_path):
    application = app.App(recognizer, samples_dir=tmp_path)
    application.close()
    assert application.save_dir == ROOT / "data" / "drawings"
    if not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    drawing = "data/drawings/drawing-20240506-070809.png"
    assert subprocess.run(["git", "check-ignore", "-q", drawing], cwd=ROOT).returncode == 0


def test_save_names_add_a_number(tmp_path):
    now = time.mktime((2024, 5, 6, 7, 8, 9, 0, 0, -1))
    names = [path.name for path in itertools.islice(save_names(tmp_path, now), 3)]
    assert names == [
        "drawing-20240506-070809.png",
        "drawing-20240506-070809-1.png",
        "drawing-20240506-070809-2.png",
    ]


SAVE_MANY = """
import sys, time
import pygame as pg
import app

class ReadsNothing:
    def recognize(self, canvas, strokes=None):
        return []

folder, start, count, red = sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
pg.font.init()
application = app.App(ReadsNothing(), save_dir=folder)
screen = pg.Surface(app.WINDOW_SIZE)
screen.fill((red, 0, 0))  # each app's pictures are its own
while time.time() < start:
    time.sleep(0.001)
for _ in range(count):
    application.save(screen)
application.close()
"""


def test_two_apps_saving_at_once_keep_every_picture(tmp_path):
    """Two app windows in one folder pressing S in the same second: every "saved:" line
    names a file of its own, holding that app's picture."""
    start, count, reds = time.time() + 10, 40, (60, 160)
    command = [sys.executable, "-c", SAVE_MANY, str(tmp_path), str(start), str(count)]
    apps = [
        subprocess.Popen(
            [*command, str(red)], cwd=ROOT, env=HEADLESS, stdout=subprocess.PIPE, text=True
        )
        for red in reds
    ]
    outputs = [process.communicate(timeout=120)[0] for process in apps]
    saved = [[line.removeprefix("saved: ") for line in out.splitlines()] for out in outputs]
    assert [len(names) for names in saved] == [count, count]
    assert len(set(saved[0] + saved[1])) == 2 * count
    assert len(list(tmp_path.iterdir())) == 2 * count  # no temporary file left either
    for red, names in zip(reds, saved, strict=True):
        assert all(pg.image.load(name).get_at((5, 5))[0] == red for name in names)


# The app as `python app.py ARGS` runs it, its window on SDL's dummy driver; with --draw the
# mouse draws three strokes a second apart, then closes the window.
DRIVEN_APP = """
import sys, threading, time
import pygame as pg
import app

def draw():
    time.sleep(0.5)
    for x in (200, 400, 300):
        pg.event.post(pg.event.Event(pg.MOUSEBUTTONDOWN, pos=(x, 150), button=1))
        for y in range(150, 450, 20):
            motion = {"pos": (x, y), "rel": (0, 0), "buttons": (1, 0, 0)}
            pg.event.post(pg.event.Event(pg.MOUSEMOTION, **motion))
        pg.event.post(pg.event.Event(pg.MOUSEBUTTONUP, pos=(x, 450), button=1))
        time.sleep(1.0)
    time.sleep(2.0)
    pg.event.post(pg.event.Event(pg.QUIT))

set_mode = pg.display.set_mode

def set_mode_and_say(*args, **kwargs):
    screen = set_mode(*args, **kwargs)
    print("window up", file=sys.stderr, flush=True)
    if "--draw" in sys.argv:
        threading.Thread(target=draw, daemon=True).start()
    return screen

pg.display.set_mode = set_mode_and_say
sys.exit(app.main([arg for arg in sys.argv[1:] if arg != "--draw"]))
"""


def start_app(*args):
    with sigint_as_in_a_terminal():  # Ctrl-C reaches the app however the tests were started
        return subprocess.Popen(
            [sys.executable, "-c", DRIVEN_APP, *args],
            cwd=ROOT,
            env=HEADLESS,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )


def wait_for_window(process):
    for line in process.stderr:
        if line.strip() == "window up":
            return
    pytest.fail(f"the app did not open its window (exit status {process.wait()})")


def test_jsonl_into_a_closed_pipe_ends_quietly():
    """`app.py --jsonl | head -n 1`, then two more strokes."""
    process = start_app("--jsonl", "--draw")
    try:
        wait_for_window(process)
        assert json.loads(process.stdout.readline())["event"] == "stroke"
        process.stdout.close()  # head has its line and is gone
        err = process.stderr.read()
        assert process.wait(timeout=60) == 141
    finally:
        process.kill()
    assert "Traceback" not in err and "Error" not in err, err


@pytest.mark.parametrize(
    ("signal_number", "status", "word"),
    [(signal.SIGINT, 130, "interrupted"), (signal.SIGTERM, 143, "terminated")],
)
def test_ctrl_c_and_sigterm_end_the_app_in_one_word(signal_number, status, word):
    process = start_app("--jsonl")
    try:
        wait_for_window(process)
        process.send_signal(signal_number)
        out, err = process.communicate(timeout=60)
    finally:
        process.kill()
    assert process.returncode == status
    assert err.strip() == word and out == ""


class TooManyMarksEverywhere:
    def recognize(self, canvas, strokes=None):
        from deeplearning.reading.recognize import TooManyMarks

        raise TooManyMarks("the canvas holds 999 separate marks, more than the 200 that are read")


def test_a_canvas_of_too_many_marks_is_said_to_be_unread(screen):
    out = io.StringIO()
    application = app.App(TooManyMarksEverywhere(), jsonl=True, out=out)
    driver = Driver(application, screen, out)
    try:
        driver.stroke([(100, 100), (300, 300)])
        driver.settle()
    finally:
        application.close()
    [line] = driver.lines()
    assert line["text"] == "" and line["digits"] == []
    assert "999 separate marks" in line["unread"]
    message = pg.surfarray.pixels3d(screen)[640 + panel.NUMBER_POS[0] :, panel.NUMBER_POS[1] :][
        :600, :30
    ]
    assert (np.abs(message.astype(int) - ORANGE).sum(axis=2) < 60).sum() > 50


def orange_pixels_under_the_number(screen):
    x, y = 640 + panel.NUMBER_POS[0], panel.NUMBER_POS[1]
    message = pg.surfarray.pixels3d(screen)[x : x + 600, y : y + 30]
    return int((np.abs(message.astype(int) - ORANGE).sum(axis=2) < 60).sum())


def test_a_digit_too_small_to_read_is_said_so(driver, digit_strokes):
    driver.draw(place_strokes(digit_strokes(3), 30, 300, 300))
    driver.settle()
    assert driver.lines()[-1]["text"] == ""
    assert orange_pixels_under_the_number(driver.screen) > 50
    words, colour = panel.nothing_read(driver.app.view())
    assert words.endswith(f"at least {recognize.READ_HEIGHT} px tall.") and colour == ORANGE

    driver.key(pg.K_r)  # a blank canvas asks for digits, in grey
    driver.settle()
    assert orange_pixels_under_the_number(driver.screen) == 0


def test_without_jsonl_the_reading_is_printed(recognizer, screen, digit_strokes):
    out = io.StringIO()
    application = app.App(recognizer, out=out)
    driver = Driver(application, screen, out)
    try:
        driver.draw(place_strokes(digit_strokes(7), 300, 170, 170))
        driver.settle()  # read before the clear overtakes its reading
        driver.key(pg.K_r)
        driver.settle()
    finally:
        application.close()
    assert out.getvalue().splitlines() == ["read: 7", "cleared"]


@pytest.mark.parametrize("problem", ["missing", "no export", "another shape"])
def test_a_bad_model_file_is_one_clear_line_and_exit_1(tmp_path, problem):
    path = tmp_path / "mnist_cnn.keras"
    if problem == "no export":
        path.write_bytes(b"not a model")
    elif problem == "another shape":  # the image back, not ten probabilities
        path = tmp_path / "identity.onnx"
        image = onnx.helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, [None, 28, 28, 1])
        same = onnx.helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, [None, 28, 28, 1])
        graph = onnx.helper.make_graph(
            [onnx.helper.make_node("Identity", ["x"], ["y"])], "identity", [image], [same]
        )
        onnx.save(onnx.helper.make_model(graph), path)
    result = run_app("--model", str(path), "--jsonl")
    assert result.returncode == 1
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"error: {path}")
    expected = {
        "missing": "train one with",
        "no export": "has no export mnist_cnn.onnx beside it; run: python -m deeplearning export",
        "another shape": "expected float32 (N, 28, 28, 1) -> float32 (N, 10)",
    }
    assert expected[problem] in lines[0]


def test_help_describes_the_app_in_whole_sentences():
    result = run_app("--help")
    assert result.returncode == 0
    words = " ".join(result.stdout.split())
    summary = " ".join(app.__doc__.split("\n\n")[0].split())
    assert summary.endswith(".") and summary in words
