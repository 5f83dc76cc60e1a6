"""The personal sample set: one file of samples that stays whole through many changes,
crashes, two writers and hostile folders, and the Kaggle CSV made from it."""

import json
import os
import signal
import time
from pathlib import Path

import numpy as np
import pytest
from conftest import start_python

from deeplearning.datasets.mnist import TRAIN_COLUMNS, load_train_csv
from deeplearning.personal.samples import (
    Sample,
    SampleError,
    SampleSet,
    how_many,
)
from deeplearning.reading.strokes import digit_strokes

ROOT = Path(__file__).resolve().parent.parent


def numbered_sample(number):
    """A sample whose image, label and strokes all carry `number`, to check their pairing."""
    image = np.zeros((28, 28), np.uint8)
    image[0, 0], image[0, 1] = number % 256, number // 256
    strokes = [[(number, 1), (number, 2.5)], [(3, number)]]
    return Sample(number % 10, image, strokes)


def number_of(image):
    return int(image[0, 0]) + 256 * int(image[0, 1])


def numbers(folder):
    """The numbers of the samples in the folder, checking each one's pairing, and that the
    CSV holds the same images and labels."""
    samples = SampleSet(folder).samples()
    for sample in samples:
        number = number_of(sample.image)
        assert sample.label == number % 10
        assert sample.strokes[0][0, 0] == number and sample.strokes[1][0, 1] == number
    images, labels = load_train_csv(folder / "samples.csv")
    assert np.array_equal(images, [s.image for s in samples])
    assert labels.tolist() == [s.label for s in samples]
    return [number_of(sample.image) for sample in samples]


def lines(folder):
    return [json.loads(line) for line in (folder / "samples.jsonl").read_text().splitlines()]


def test_many_appends_keep_every_sample(tmp_path):
    sample_set = SampleSet(tmp_path)
    ids = []
    for start in range(0, 30, 3):
        ids += sample_set.append(numbered_sample(n) for n in range(start, start + 3))
    assert numbers(tmp_path) == list(range(30))
    assert [sample.id for sample in sample_set.samples()] == ids and len(set(ids)) == 30
    record = lines(tmp_path)[7]
    assert record["id"] == ids[7] and record["label"] == 7
    assert record["strokes"] == [[[7, 1], [7, 2.5]], [[3, 7]]]
    assert record["image"] == [row.tobytes().hex() for row in numbered_sample(7).image]
    assert record["image"][0] == "0700" + "00" * 26
    header = (tmp_path / "samples.csv").read_text().splitlines()[0]
    assert header == ",".join(TRAIN_COLUMNS)
    assert sample_set.counts().tolist() == [3] * 10
    images, labels, strokes = sample_set.read()
    assert images.shape == (30, 28, 28) and images.dtype == np.uint8
    assert labels.tolist() == [n % 10 for n in range(30)] and len(strokes) == 30


def test_a_sample_is_relabelled_and_removed_by_its_id(tmp_path):
    sample_set = SampleSet(tmp_path)
    ids = sample_set.append(numbered_sample(n) for n in range(4))
    before = lines(tmp_path)
    sample_set.relabel(ids[1], 8)
    assert lines(tmp_path) == [before[0], {**before[1], "label": 8}, *before[2:]]
    assert load_train_csv(tmp_path / "samples.csv")[1].tolist() == [0, 8, 2, 3]
    sample_set.remove(ids[2])
    assert [record["id"] for record in lines(tmp_path)] == [ids[0], ids[1], ids[3]]
    assert load_train_csv(tmp_path / "samples.csv")[1].tolist() == [0, 8, 3]
    with pytest.raises(SampleError, match=f"no sample {ids[2]}"):
        sample_set.relabel(ids[2], 1)
    with pytest.raises(SampleError, match=f"no sample {ids[2]}"):
        sample_set.remove(ids[2])
    with pytest.raises(ValueError, match="label must be 0..9"):
        sample_set.relabel(ids[0], 10)
    assert sample_set.counts().tolist() == [1, 0, 0, 1, 0, 0, 0, 0, 1, 0]


def test_a_crash_while_writing_leaves_the_set_as_it_was(tmp_path, monkeypatch):
    from deeplearning.personal import samples

    sample_set = SampleSet(tmp_path)
    sample_set.append([numbered_sample(1), numbered_sample(2)])
    real_write = samples._write_synced

    def crash_in_the_csv(path, text):
        if path.suffix == ".csv":
            real_write(path, text[: len(text) // 2])
            raise KeyboardInterrupt  # the process dies here
        real_write(path, text)

    monkeypatch.setattr(samples, "_write_synced", crash_in_the_csv)
    with pytest.raises(KeyboardInterrupt):
        sample_set.append([numbered_sample(3)])
    monkeypatch.undo()
    assert numbers(tmp_path) == [1, 2]
    sample_set.append([numbered_sample(4)])
    assert numbers(tmp_path) == [1, 2, 4]


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
    return start_python(APPENDER, folder, first, count, ready="ready")


def test_two_writers_at_once_never_lose_samples(tmp_path):
    writers = [start_appender(tmp_path, first, 60) for first in (0, 1000)]
    for process in writers:
        assert process.wait(timeout=120) == 0
    saved = numbers(tmp_path)
    assert sorted(saved) == [*range(60), *range(1000, 1060)]
    # Each writer's own samples keep their order.
    assert [n for n in saved if n < 1000] == list(range(60))


@pytest.mark.skipif(os.name == "nt", reason="SIGKILL")
def test_a_writer_killed_mid_change_leaves_a_whole_set(tmp_path):
    process = start_appender(tmp_path, 0, 100_000)
    time.sleep(1.0)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    count = len(numbers(tmp_path))
    assert count > 0
    SampleSet(tmp_path).append([numbered_sample(count)])
    assert numbers(tmp_path) == list(range(count + 1))
    # The killed writer's temporary files are gone too.
    assert sorted(path.name for path in tmp_path.iterdir()) == [
        ".lock",
        "samples.csv",
        "samples.jsonl",
    ]


# --- the earlier format ----------------------------------------------------------------------


def write_old_format(folder, count=3):
    """A folder as the earlier app left it: samples.csv and strokes.jsonl line for line."""
    folder.mkdir(exist_ok=True)
    samples = [numbered_sample(n) for n in range(count)]
    rows = [",".join(TRAIN_COLUMNS)]
    rows += [",".join(map(str, [s.label, *s.image.ravel().tolist()])) for s in samples]
    (folder / "samples.csv").write_text("\n".join(rows) + "\n")
    strokes = [json.dumps({"label": s.label, "strokes": s.strokes}) + "\n" for s in samples]
    (folder / "strokes.jsonl").write_text("".join(strokes))
    (folder / ".lock").write_text("")
    return folder / "samples.csv", folder / "strokes.jsonl"


def test_a_folder_in_the_earlier_format_is_read_and_converted_at_its_next_change(tmp_path):
    write_old_format(tmp_path)
    before = sorted(path.name for path in tmp_path.iterdir())
    assert numbers(tmp_path) == [0, 1, 2]
    assert SampleSet(tmp_path).counts().tolist() == [1, 1, 1, 0, 0, 0, 0, 0, 0, 0]
    assert sorted(path.name for path in tmp_path.iterdir()) == before  # reading changes nothing
    [new_id] = SampleSet(tmp_path).append([numbered_sample(3)])
    assert numbers(tmp_path) == [0, 1, 2, 3]
    assert not (tmp_path / "strokes.jsonl").exists()
    assert lines(tmp_path)[1]["strokes"] == [[[1, 1], [1, 2.5]], [[3, 1]]]
    assert lines(tmp_path)[3]["id"] == new_id
    assert len({record["id"] for record in lines(tmp_path)}) == 4


def test_an_earlier_folder_out_of_step_is_refused_and_left_alone(tmp_path):
    _, strokes = write_old_format(tmp_path)
    strokes.write_text("".join(strokes.read_text().splitlines(keepends=True)[:2]))
    with pytest.raises(SampleError, match="out of step: samples.csv holds 3 samples, strokes"):
        SampleSet(tmp_path).read()
    with pytest.raises(SampleError, match="out of step"):
        SampleSet(tmp_path).append([numbered_sample(5)])
    assert not (tmp_path / "samples.jsonl").exists()


def test_labels_of_an_earlier_folder_that_disagree_are_refused(tmp_path):
    _, strokes = write_old_format(tmp_path)
    lines_ = strokes.read_text().splitlines(keepends=True)
    lines_[1] = lines_[1].replace('"label": 1', '"label": 5')
    strokes.write_text("".join(lines_))
    with pytest.raises(SampleError, match=r"sample 2 is a 1 in samples.csv \(line 3\)"):
        SampleSet(tmp_path).read()


# --- bad sample sets -------------------------------------------------------------------------


def test_a_missing_file_is_named(tmp_path):
    with pytest.raises(SampleError, match="samples.jsonl: no such file"):
        SampleSet(tmp_path).read()


def write_set(folder, count=3):
    SampleSet(folder).append(numbered_sample(n) for n in range(count))
    return folder / "samples.jsonl"


def good_line():
    image = ["00" * 28] * 28
    return {"id": "0123456789ab", "label": 1, "image": image, "strokes": [[[1, 2]]]}


def replace_line(path, line, index=1):
    lines_ = path.read_text().splitlines(keepends=True)
    lines_[index] = line + "\n"
    path.write_text("".join(lines_))


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"label": 12}, "line 2: label 12 is out of range 0..9"),
        ({"label": "4"}, 'line 2: "label" must be a whole number'),
        ({"label": True}, 'line 2: "label" must be a whole number'),
        ({"strokes": []}, 'line 2: "strokes" must be a non-empty list'),
        ({"strokes": [[]]}, 'line 2: "strokes" must be a non-empty list'),
        ({"strokes": [[[1, 2, 3]]]}, 'line 2: "strokes" must be a non-empty list'),
        ({"strokes": [[[1, float("nan")]]]}, "line 2: a stroke point is not a finite"),
        ({"strokes": [[[1, float("inf")]]]}, "line 2: a stroke point is not a finite"),
        ({"image": ["00" * 28] * 27}, 'line 2: "image" must be 28 rows of 56 hex'),
        ({"image": ["00" * 28] * 27 + ["00" * 27]}, 'line 2: "image" must be 28 rows of 56'),
        ({"image": ["0g" * 28] * 28}, 'line 2: "image" must be 28 rows of 56 hex'),
        ({"image": [[0] * 28] * 28}, 'line 2: "image" must be 28 rows of 56 hex'),
        ({"image": "00" * 784}, 'line 2: "image" must be 28 rows of 56 hex'),
        ({"image": None}, 'line 2: "image" must be 28 rows of 56 hex'),
        ({"id": "x"}, 'line 2: "id" must be 12 hex digits'),
        ({"id": None}, 'line 2: "id" must be 12 hex digits'),
    ],
)
def test_a_damaged_line_is_named(tmp_path, changes, message):
    path = write_set(tmp_path)
    replace_line(path, json.dumps({**good_line(), **changes}))
    with pytest.raises(SampleError, match=message):
        SampleSet(tmp_path).read()
    with pytest.raises(SampleError, match=message):  # nothing is saved over it
        SampleSet(tmp_path).append([numbered_sample(9)])
    with pytest.raises(SampleError, match=message):
        SampleSet(tmp_path).counts()


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("[4]", "line 2: not a JSON object"),
        ("{label: 4", "line 2: not a JSON object"),
        ("[" * 100_000, "line 2: not a JSON object"),
        ("\udcff", "line 2: not UTF-8 text"),
    ],
)
def test_a_line_that_is_no_json_object_is_named(tmp_path, line, message):
    path = write_set(tmp_path)
    lines_ = path.read_bytes().split(b"\n")
    lines_[1] = line.encode("utf-8", "surrogateescape")
    path.write_bytes(b"\n".join(lines_))
    with pytest.raises(SampleError, match=message):
        SampleSet(tmp_path).read()


def test_a_last_line_cut_short_is_named(tmp_path):
    path = write_set(tmp_path)
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(SampleError, match="line 3: the last line is cut short"):
        SampleSet(tmp_path).read()


def test_a_line_edited_by_hand_may_lack_its_newline_and_leave_blank_lines(tmp_path):
    path = write_set(tmp_path)
    path.write_text("\n" + path.read_text().rstrip("\n") + "\n\n")
    path.write_text(path.read_text().rstrip("\n"))
    assert SampleSet(tmp_path).counts().tolist() == [1, 1, 1, 0, 0, 0, 0, 0, 0, 0]


def test_two_samples_with_one_id_are_refused(tmp_path):
    path = write_set(tmp_path)
    first = lines(tmp_path)[0]
    replace_line(path, json.dumps({**good_line(), "id": first["id"]}), index=2)
    with pytest.raises(SampleError, match=f"line 3: the id {first['id']} is on line 1 too"):
        SampleSet(tmp_path).read()


def test_a_huge_line_is_read(tmp_path):
    path = write_set(tmp_path)
    stroke = [[x % 640, x % 7] for x in range(500_000)]
    replace_line(path, json.dumps({**good_line(), "strokes": [stroke]}))
    assert len(path.read_bytes()) > 4_000_000
    assert len(SampleSet(tmp_path).read()[2][1][0]) == 500_000


def test_bad_samples_are_refused_before_anything_is_written(tmp_path):
    with pytest.raises(ValueError, match="label must be 0..9"):
        SampleSet(tmp_path).append([Sample(10, np.zeros((28, 28), np.uint8), [[(1, 1)]])])
    with pytest.raises(ValueError, match=r"uint8 \(28, 28\)"):
        SampleSet(tmp_path).append([Sample(1, np.zeros((20, 20), np.uint8), [[(1, 1)]])])
    assert list(tmp_path.iterdir()) == []


def test_counts_before_the_first_sample_are_zero(tmp_path):
    assert SampleSet(tmp_path / "none").counts().tolist() == [0] * 10
    assert SampleSet(tmp_path).counts().tolist() == [0] * 10
    (tmp_path / "samples.jsonl").mkdir()
    with pytest.raises(IsADirectoryError):
        SampleSet(tmp_path).counts()


def test_how_many():
    assert [how_many(n) for n in (0, 1, 2)] == ["0 samples", "1 sample", "2 samples"]


def test_each_stroke_goes_to_the_digit_holding_most_of_it():
    one = [(10, 10), (10, 90)]
    seven_bar, seven_stem = [(100, 10), (160, 10)], [(160, 10), (120, 95)]
    stray = [(400, 400)]
    boxes = [(0, 0, 20, 100), (95, 5, 70, 95)]
    assert digit_strokes([one, seven_bar, stray, seven_stem], boxes) == [
        [one],
        [seven_bar, seven_stem],
    ]


# --- hostile folders ---------------------------------------------------------------------------


def test_a_stale_pending_file_never_touches_other_files(tmp_path):
    folder = tmp_path / "personal"
    SampleSet(folder).append([numbered_sample(1)])
    outside, victim = tmp_path / "outside.txt", tmp_path / "victim.txt"
    for path in (outside, victim):
        path.write_text("keep me\n")
    (folder / ".pending").write_text(json.dumps({str(outside): 0, "../victim.txt": 0}))
    SampleSet(folder).append([numbered_sample(2)])
    assert [number_of(image) for image in SampleSet(folder).read()[0]] == [1, 2]
    assert outside.read_text() == victim.read_text() == "keep me\n"


@pytest.mark.parametrize("pending", ["[1, 2]", '{"samples.csv": 10.5}', '{"samples.csv": "10"}'])
def test_a_damaged_pending_file_is_no_matter(tmp_path, pending):
    SampleSet(tmp_path).append([numbered_sample(1)])
    (tmp_path / ".pending").write_text(pending)
    SampleSet(tmp_path).append([numbered_sample(2)])
    assert [number_of(image) for image in SampleSet(tmp_path).read()[0]] == [1, 2]


def test_reading_writes_nothing(tmp_path):
    SampleSet(tmp_path).append([numbered_sample(1)])
    before = {path.name: path.read_bytes() for path in tmp_path.iterdir() if path.is_file()}
    (tmp_path / ".lock").unlink(missing_ok=True)
    del before[".lock"]
    SampleSet(tmp_path).read()
    SampleSet(tmp_path).counts()
    assert {path.name: path.read_bytes() for path in tmp_path.iterdir()} == before


def test_links_in_the_folder_never_lead_a_write_outside_it(tmp_path):
    folder, elsewhere = tmp_path / "personal", tmp_path / "elsewhere"
    write_set(elsewhere)
    theirs = (elsewhere / "samples.jsonl").read_bytes()
    folder.mkdir()
    (folder / ".lock").symlink_to(tmp_path / "made-outside")
    with pytest.raises(OSError):
        SampleSet(folder).append([numbered_sample(5)])
    assert not (tmp_path / "made-outside").exists()
    (folder / ".lock").unlink()
    (folder / "samples.jsonl").symlink_to(elsewhere / "samples.jsonl")
    SampleSet(folder).append([numbered_sample(5)])
    assert numbers(folder) == [0, 1, 2, 5]
    assert (elsewhere / "samples.jsonl").read_bytes() == theirs
    assert not (folder / "samples.jsonl").is_symlink()


def test_a_lock_that_is_a_folder_stops_changes_not_reading(tmp_path):
    write_set(tmp_path)
    (tmp_path / ".lock").unlink()
    (tmp_path / ".lock").mkdir()
    (tmp_path / ".pending").mkdir()
    with pytest.raises(IsADirectoryError):
        SampleSet(tmp_path).append([numbered_sample(5)])
    assert numbers(tmp_path) == [0, 1, 2]


def test_a_name_too_long_is_an_os_error(tmp_path):
    sample_set = SampleSet(tmp_path / ("x" * 300))
    with pytest.raises(OSError, match="File name too long"):
        sample_set.append([numbered_sample(1)])
    with pytest.raises(OSError, match="File name too long"):
        sample_set.counts()
