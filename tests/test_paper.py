"""Reading digits from paper: pages made here from real MNIST handwriting, printed dark on
light paper as a phone or a scanner would see it (uneven light, a shadow, grey pencil, ruled
lines, a printed grid, a slight turn, noise, JPEG), read by the read command with known
answers; its output formats and its refusals."""

import json
import time
import zlib

import cv2
import numpy as np
import pytest
from conftest import one_error_line, run_python

from deeplearning.paper import page, read
from deeplearning.paper.image_file import MAX_PIXELS

DIGIT_HEIGHT = 80  # px of each digit's 28x28 image on the page
CELL = 110  # px between digits in a row, and between rows


@pytest.fixture(scope="session")
def clear_digits(mnist_sample, recognizer):
    """label -> MNIST images (28x28, ink bright) that the Recognizer reads surely when drawn
    alone on a clean canvas: a page of them must read the same however it is photographed."""
    images, labels = mnist_sample
    chosen = {label: [] for label in range(10)}
    for image, label in zip(images[:600], labels[:600], strict=True):
        if len(chosen[label]) == 3:
            continue
        canvas = 255 - cv2.resize(image, (DIGIT_HEIGHT, DIGIT_HEIGHT))
        digits = recognizer.recognize(canvas)
        if len(digits) == 1 and digits[0].label == label and digits[0].confidence > 0.95:
            chosen[int(label)].append(image)
    assert all(len(found) == 3 for found in chosen.values())
    return chosen


def paper(height, width, rng, shadow=True):
    """float32 paper: light, brighter to one side, with a soft shadow over its lower left."""
    light = np.linspace(235, 185, width, dtype=np.float32)[None, :].repeat(height, axis=0)
    light += np.linspace(-10, 10, height, dtype=np.float32)[:, None]
    if shadow:
        shade = np.ones((height, width), np.float32)
        shade[height // 2 :, : width // 2] = 0.6
        light *= cv2.GaussianBlur(shade, (0, 0), 15)
    return light


def write_on(sheet, rows, clear_digits, rng, darkness=0.85, top=60, left=60, size=DIGIT_HEIGHT):
    """Write rows of digit strings on the sheet (in place), each digit's ink `darkness` of
    the paper's brightness (0.85 a dark pen, 0.45 grey pencil), its image `size` px square;
    their boxes (x, y, w, h)."""
    boxes, cell = [], size * CELL // DIGIT_HEIGHT
    for r, text in enumerate(rows):
        for c, char in enumerate(text):
            choices = clear_digits[int(char)]
            image = choices[rng.integers(len(choices))]
            ink = cv2.resize(image, (size, size), interpolation=cv2.INTER_CUBIC)
            y, x = top + r * cell, left + c * cell
            patch = sheet[y : y + size, x : x + size]
            patch *= 1.0 - darkness * (ink.astype(np.float32) / 255.0)
            boxes.append((x, y, size, size))
    return boxes


def ruled(sheet, first, spacing, darkness=0.35):
    """Horizontal ruled lines, 2 px thick, every `spacing` px from `first`."""
    for y in range(first, sheet.shape[0], spacing):
        sheet[y : y + 2] *= 1.0 - darkness


def grid(sheet, left, top, cells_across, cells_down, darkness=0.6):
    """A printed grid of CELL-px boxes, its lines 2 px thick, the digits' places inside."""
    right, bottom = left + cells_across * CELL, top + cells_down * CELL
    for x in range(left, right + 1, CELL):
        sheet[top:bottom, x : x + 2] *= 1.0 - darkness
    for y in range(top, bottom + 1, CELL):
        sheet[y : y + 2, left:right] *= 1.0 - darkness


def photographed(sheet, rng, path, turn=0.0, quality=75):
    """Save the sheet as a phone would: turned slightly, noisy, as a JPEG in colour."""
    h, w = sheet.shape
    if turn:
        matrix = cv2.getRotationMatrix2D((w / 2, h / 2), turn, 1.0)
        sheet = cv2.warpAffine(sheet, matrix, (w, h), borderMode=cv2.BORDER_REPLICATE)
    noisy = sheet + rng.normal(0, 4, sheet.shape).astype(np.float32)
    grey = np.clip(noisy, 0, 255).astype(np.uint8)
    colour = cv2.merge([grey, grey, np.clip(grey.astype(int) + 8, 0, 255).astype(np.uint8)])
    assert cv2.imwrite(str(path), colour, [cv2.IMWRITE_JPEG_QUALITY, quality])
    return path


def read_lines(recognizer, path):
    return read.read_image(recognizer, path).lines


def test_reads_rows_of_pen_digits_in_uneven_light_and_shadow(recognizer, clear_digits, tmp_path):
    rng = np.random.default_rng(1)
    sheet = paper(500, 1300, rng)
    write_on(sheet, ["0123456789", "4072", "98765"], clear_digits, rng)
    path = photographed(sheet, rng, tmp_path / "page.jpg")
    assert read_lines(recognizer, path) == ["0123456789", "4072", "98765"]


def test_reads_grey_pencil_on_ruled_paper(recognizer, clear_digits, tmp_path):
    rng = np.random.default_rng(2)
    sheet = paper(400, 1300, rng)
    write_on(sheet, ["5038261497", "613"], clear_digits, rng, darkness=0.45)
    # Lines through each row's lower part and just under it, as digits sit on ruled paper.
    ruled(sheet, 60 + DIGIT_HEIGHT - 25, CELL // 2)
    path = photographed(sheet, rng, tmp_path / "pencil.jpg", turn=1.5)
    assert read_lines(recognizer, path) == ["5038261497", "613"]


def test_reads_digits_in_a_printed_grid(recognizer, clear_digits, tmp_path):
    rng = np.random.default_rng(3)
    sheet = paper(420, 1240, rng, shadow=False)
    write_on(sheet, ["7295", "3804"], clear_digits, rng, top=75, left=75)
    grid(sheet, 60, 60, 10, 3)  # empty boxes beside and under the digits stay empty
    path = photographed(sheet, rng, tmp_path / "grid.jpg", turn=-1.0)
    assert read_lines(recognizer, path) == ["7295", "3804"]


def test_faint_strokes_stay_one_mark():
    """A grey stroke with pale gaps (a pencil's grain) is one mark, not fragments."""
    sheet = np.full((200, 200), 220, np.float32)
    cv2.ellipse(sheet, (100, 100), (70, 60), 0, 0, 300, 130, 5)  # an open 0, in grey
    stroke = sheet < 220
    sheet[:, 60:64][stroke[:, 60:64]] = 200  # two pale breaks across the stroke, a little
    sheet[120:124][stroke[120:124]] = 200  # darker than the paper
    ink = page.prepare(sheet.astype(np.uint8))
    count, _ = cv2.connectedComponents(ink)
    assert count - 1 == 1


def test_a_line_through_a_digit_is_removed_and_the_digit_kept():
    ink = np.zeros((600, 900), np.uint8)
    ink[150:153, :] = 1  # a ruled line across the page
    ink[100:180, 300:305] = 1  # a digit's stroke crossing it
    cleaned = page.remove_lines(ink)
    assert cleaned[150:153, :250].sum() == 0 and cleaned[150:153, 350:].sum() == 0
    assert cleaned[100:180, 300:305].all()  # the stroke whole, where it crosses too


def test_a_straight_pen_stroke_is_not_a_line():
    """A 1 written straight down is as long as a line of a small page, but thick for it."""
    ink = np.zeros((100, 100), np.uint8)
    ink[10:90, 45:52] = 1
    assert (page.remove_lines(ink) == ink).all()


def test_twelve_megapixel_photo_is_read_within_a_second(recognizer, clear_digits, tmp_path):
    rng = np.random.default_rng(4)
    sheet = paper(3000, 4000, rng)
    write_on(sheet, ["2024", "1789"], clear_digits, rng, top=500, left=600, size=400)
    path = photographed(sheet, rng, tmp_path / "big.jpg", quality=90)
    read_lines(recognizer, path)  # the first reading warms the caches
    start = time.perf_counter()
    lines = read_lines(recognizer, path)
    elapsed = time.perf_counter() - start
    assert lines == ["2024", "1789"]
    assert elapsed < 1.5, f"{elapsed:.2f} s"  # a margin for a busy machine: about 0.5 s alone


def test_an_empty_page_reads_nothing(recognizer, tmp_path):
    rng = np.random.default_rng(5)
    sheet = paper(600, 800, rng)
    ruled(sheet, 40, 50)
    path = photographed(sheet, rng, tmp_path / "empty.jpg")
    assert read_lines(recognizer, path) == []


# --- the command ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def two_pages(tmp_path_factory, clear_digits):
    folder = tmp_path_factory.mktemp("pages")
    rng = np.random.default_rng(6)
    first = paper(300, 700, rng)
    boxes = write_on(first, ["314", "27"], clear_digits, rng)
    second = paper(200, 500, rng)
    write_on(second, ["90"], clear_digits, rng)
    return (
        photographed(first, rng, folder / "first.jpg"),
        photographed(second, rng, folder / "second.png"),
        boxes,
    )


def test_command_prints_each_image_rows(two_pages):
    first, second, _ = two_pages
    result = run_python("-m", "deeplearning", "read", first, second)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [f"{first}: 314", f"{first}: 27", f"{second}: 90"]
    assert result.stderr == ""


def test_command_json(two_pages):
    first, second, boxes = two_pages
    result = run_python("-m", "deeplearning", "read", first, second, "--json")
    assert result.returncode == 0, result.stderr
    one, two = (json.loads(line) for line in result.stdout.splitlines())
    assert one["file"] == str(first) and one["lines"] == ["314", "27"]
    assert one["text"] == "314\n27" and two["text"] == "90"
    assert [d["label"] for d in one["digits"]] == [3, 1, 4, 2, 7]
    for digit, (x, y, w, h) in zip(one["digits"], boxes, strict=True):
        assert 0 < digit["confidence"] <= 1
        bx, by, bw, bh = digit["box"]  # the ink's box, inside the 28x28 image's square
        assert x - 2 <= bx and bx + bw <= x + w + 2 and y - 2 <= by and by + bh <= y + h + 2


def test_command_writes_annotated_images_and_never_overwrites(two_pages, tmp_path):
    first, second, _ = two_pages
    out = tmp_path / "out"
    result = run_python("-m", "deeplearning", "read", first, second, "--out", out)
    assert result.returncode == 0, result.stderr
    written = cv2.imread(str(out / "first.png"))
    assert written.shape == cv2.imread(str(first)).shape
    assert (written != cv2.imread(str(first))).any()  # the boxes drawn
    assert sorted(p.name for p in out.iterdir()) == ["first.png", "second.png"]
    before = (out / "first.png").read_bytes()
    (out / "second.png").unlink()
    again = run_python("-m", "deeplearning", "read", first, second, "--out", out)
    assert again.returncode == 1 and again.stdout == ""
    one_error_line(again.stderr, out / "first.png", "--force")
    assert not (out / "second.png").exists() and (out / "first.png").read_bytes() == before
    forced = run_python("-m", "deeplearning", "read", first, "--out", out, "--force")
    assert forced.returncode == 0, forced.stderr


def test_command_checks_every_path_before_reading(two_pages, tmp_path):
    first, _, _ = two_pages
    result = run_python("-m", "deeplearning", "read", first, tmp_path / "missing.jpg")
    assert result.returncode == 1 and result.stdout == ""
    one_error_line(result.stderr, "missing.jpg", "not found")
    folder = run_python("-m", "deeplearning", "read", tmp_path)
    one_error_line(folder.stderr, tmp_path, "folder")


def bomb(path):
    """A PNG whose header claims 100,000 x 100,000 pixels: a decompression bomb's size."""
    ok, data = cv2.imencode(".png", np.zeros((8, 8), np.uint8))
    data = bytearray(data.tobytes())
    data[16:24] = (100_000).to_bytes(4, "big") * 2  # IHDR's width and height
    data[29:33] = zlib.crc32(bytes(data[12:29])).to_bytes(4, "big")
    path.write_bytes(bytes(data))
    return path


def bad_files(folder, first):
    text = folder / "notes.png"
    text.write_text("not an image\n")
    truncated = folder / "cut.jpg"
    truncated.write_bytes(first.read_bytes()[:3000])
    return [
        (text, "not an image"),
        (truncated, "cannot be read"),
        (bomb(folder / "bomb.png"), f"more than the {MAX_PIXELS // 1_000_000} megapixels"),
    ]


def test_bad_images_are_one_line_each_and_the_others_still_read(two_pages, tmp_path):
    first, _, _ = two_pages
    for bad, fragment in bad_files(tmp_path, first):
        start = time.perf_counter()
        result = run_python("-m", "deeplearning", "read", bad, first)
        assert time.perf_counter() - start < 30
        assert result.returncode == 1
        one_error_line(result.stderr, bad, fragment)
        assert result.stdout.splitlines() == [f"{first}: 314", f"{first}: 27"]


def test_a_photo_of_something_else_reads_no_digits_or_says_so(recognizer, tmp_path):
    from skimage import data

    for name, image in [("astronaut", data.astronaut()), ("coffee", data.coffee())]:
        path = tmp_path / f"{name}.jpg"
        cv2.imwrite(str(path), cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
        try:
            lines = read_lines(recognizer, path)
        except page.NotHandwriting:
            continue
        assert lines == [], name


def test_transparent_png_is_read_on_white(recognizer, clear_digits, tmp_path):
    """A transparent background is paper, not black."""
    rng = np.random.default_rng(7)
    sheet = np.full((200, 400), 255, np.float32)
    write_on(sheet, ["58"], clear_digits, rng)
    alpha = (255 - sheet).astype(np.uint8)
    rgba = cv2.merge([np.zeros_like(alpha)] * 3 + [alpha])  # black ink, clear paper
    path = tmp_path / "clear.png"
    cv2.imwrite(str(path), rgba)
    assert read_lines(recognizer, path) == ["58"]
