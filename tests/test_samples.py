"""The personal sample set: two files in step after many appends, crashes and two writers."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from deeplearning.datasets.mnist import DataError
from deeplearning.personal import samples
from deeplearning.personal.samples import HEADER, Sample, SampleError, SampleSet, digit_strokes

ROOT = Path(__file__).resolve().parent.parent


def numbered_sample(number):
    """A sample whose image, label and strokes all carry `number`, to check their pairing."""
    image = np.zeros((28, 28), np.uint8)
    image[0, 0], image[0, 1] = number % 256, number // 256
    strokes = [[(number, 1), (number, 2.5)], [(3, number)]]
    return Sample(number % 10, image, strokes)


def number_of(image):
    return int(image[0, 0]) + 256 * int(image[0, 1])


def assert_in_step(folder, count):
    """Both files hold `count` whole samples, each image paired with its own strokes."""
    images, labels, strokes = SampleSet(folder).read()
    assert len(labels) == len(strokes) == count
    for image, label, own in zip(images, labels, strokes, strict=True):
        number = number_of(image)
        assert label == number % 10
        assert own[0][0, 0] == number and own[1][0, 1] == number
    return images, labels, strokes


def test_many_appends_stay_in_step(tmp_path):
    sample_set = SampleSet(tmp_path)
    for start in range(0, 60, 3):
        sample_set.append(numbered_sample(n) for n in range(start, start + 3))
    images, labels, strokes = assert_in_step(tmp_path, 60)
    assert [number_of(image) for image in images] == list(range(60))
    lines = (tmp_path / "samples.csv").read_text().splitlines()
    assert lines[0] + "\n" == HEADER and len(lines) == 61
    record = json.loads((tmp_path / "strokes.jsonl").read_text().splitlines()[7])
    assert record == {"label": 7, "strokes": [[[7, 1], [7, 2.5]], [[3, 7]]]}
    assert sample_set.counts().tolist() == [6] * 10


def test_an_append_cut_short_is_rolled_back(tmp_path, monkeypatch):
    """A crash after samples.csv got its line and strokes.jsonl half of one: the next
    reader cuts both back, and appending goes on in step."""
    sample_set = SampleSet(tmp_path)
    sample_set.append([numbered_sample(1), numbered_sample(2)])
    real_append = samples._append

    def crash_in_strokes(path, data):
        if path.name == "strokes.jsonl":
            real_append(path, data[: len(data) // 2])
            raise KeyboardInterrupt  # the process dies here
        real_append(path, data)

    monkeypatch.setattr(samples, "_append", crash_in_strokes)
    with pytest.raises(KeyboardInterrupt):
        sample_set.append([numbered_sample(3)])
    monkeypatch.undo()
    assert (tmp_path / ".pending").exists()
    assert_in_step(tmp_path, 2)
    assert not (tmp_path / ".pending").exists()
    sample_set.append([numbered_sample(4)])
    images, _, _ = assert_in_step(tmp_path, 3)
    assert [number_of(image) for image in images] == [1, 2, 4]


def test_a_half_written_record_of_sizes_means_nothing_was_appended(tmp_path):
    sample_set = SampleSet(tmp_path)
    sample_set.append([numbered_sample(5)])
    (tmp_path / ".pending").write_text('{"samples.csv": 1')  # the crash came mid-record
    sample_set.append([numbered_sample(6)])
    assert_in_step(tmp_path, 2)


APPENDER = """
import sys
sys.path.insert(0, "tests")
from test_samples import numbered_sample
from deeplearning.personal.samples import SampleSet
folder, first, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
print("ready", flush=True)
for number in range(first, first + count):
    SampleSet(folder).append([numbered_sample(number)])
"""


def start_appender(folder, first, count):
    process = subprocess.Popen(
        [sys.executable, "-c", APPENDER, str(folder), str(first), str(count)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout.readline() == "ready\n"
    return process


def test_two_writers_at_once_never_mix_their_lines(tmp_path):
    writers = [start_appender(tmp_path, first, 150) for first in (0, 1000)]
    for process in writers:
        assert process.wait(timeout=120) == 0
    images, _, _ = assert_in_step(tmp_path, 300)
    numbers = [number_of(image) for image in images]
    assert sorted(numbers) == [*range(150), *range(1000, 1150)]
    # Each writer's own samples keep their order.
    assert [n for n in numbers if n < 1000] == list(range(150))


@pytest.mark.skipif(os.name == "nt", reason="SIGKILL")
def test_a_writer_killed_mid_append_leaves_the_files_in_step(tmp_path):
    process = start_appender(tmp_path, 0, 100_000)
    time.sleep(1.0)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    images, _, _ = SampleSet(tmp_path).read()
    count = len(images)
    assert count > 0
    assert_in_step(tmp_path, count)
    SampleSet(tmp_path).append([numbered_sample(count)])
    assert_in_step(tmp_path, count + 1)


# --- bad sample sets -------------------------------------------------------------------------


def write_set(folder, count=3):
    SampleSet(folder).append(numbered_sample(n) for n in range(count))
    return folder / "samples.csv", folder / "strokes.jsonl"


def test_missing_files_are_named(tmp_path):
    with pytest.raises(SampleError, match="samples.csv: no such file"):
        SampleSet(tmp_path).read()


def test_files_out_of_step_are_refused(tmp_path):
    _, strokes = write_set(tmp_path)
    strokes.write_text("".join(strokes.read_text().splitlines(keepends=True)[:2]))
    with pytest.raises(SampleError, match="out of step: samples.csv holds 3 samples, strokes"):
        SampleSet(tmp_path).read()


def test_labels_that_disagree_are_refused(tmp_path):
    _, strokes = write_set(tmp_path)
    lines = strokes.read_text().splitlines(keepends=True)
    lines[1] = lines[1].replace('"label": 1', '"label": 5')
    strokes.write_text("".join(lines))
    with pytest.raises(SampleError, match=r"sample 2 is a 1 in samples.csv \(line 3\)"):
        SampleSet(tmp_path).read()


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('{"label": 12, "strokes": [[[1, 2]]]}', "line 2: label 12 is out of range 0..9"),
        ('{"label": "4", "strokes": [[[1, 2]]]}', 'line 2: "label" must be a whole number'),
        ('{"label": 4, "strokes": []}', 'line 2: "strokes" must be a non-empty list'),
        ('{"label": 4, "strokes": [[[1, 2, 3]]]}', 'line 2: "strokes" must be a non-empty list'),
        ('{"label": 4, "strokes": [[[1, NaN]]]}', "line 2: a stroke point is not a finite"),
        ("[4]", "line 2: not a JSON object"),
        ("{label: 4", "line 2: not a JSON object"),
    ],
)
def test_a_corrupt_strokes_line_is_named(tmp_path, line, message):
    _, strokes = write_set(tmp_path)
    lines = strokes.read_text().splitlines(keepends=True)
    lines[1] = line + "\n"
    strokes.write_text("".join(lines))
    with pytest.raises(SampleError, match=message):
        SampleSet(tmp_path).read()


def test_a_corrupt_image_line_is_named(tmp_path):
    images, _ = write_set(tmp_path)
    lines = images.read_text().splitlines(keepends=True)
    lines[2] = lines[2].replace(",0,", ",300,", 1)
    images.write_text("".join(lines))
    with pytest.raises(DataError, match="samples.csv.*line 3"):
        SampleSet(tmp_path).read()


def test_bad_samples_are_refused_before_anything_is_written(tmp_path):
    with pytest.raises(ValueError, match="label must be 0..9"):
        SampleSet(tmp_path).append([Sample(10, np.zeros((28, 28), np.uint8), [[(1, 1)]])])
    with pytest.raises(ValueError, match=r"uint8 \(28, 28\)"):
        SampleSet(tmp_path).append([Sample(1, np.zeros((20, 20), np.uint8), [[(1, 1)]])])
    assert not (tmp_path / "samples.csv").exists()


def test_counts_of_an_unreadable_set_are_zero(tmp_path):
    (tmp_path / "strokes.jsonl").write_text("not json\n")
    assert SampleSet(tmp_path).counts().tolist() == [0] * 10


def test_each_stroke_goes_to_the_digit_holding_most_of_it():
    one = [(10, 10), (10, 90)]
    seven_bar, seven_stem = [(100, 10), (160, 10)], [(160, 10), (120, 95)]
    stray = [(400, 400)]
    boxes = [(0, 0, 20, 100), (95, 5, 70, 95)]
    assert digit_strokes([one, seven_bar, stray, seven_stem], boxes) == [
        [one],
        [seven_bar, seven_stem],
    ]
