"""Files are written under a temporary name and renamed: an interrupted write leaves nothing."""

import re
import signal
import textwrap

import pytest
from conftest import sigint_as_in_a_terminal, start_python

from deeplearning.core.atomic import (
    OutputError,
    OverwriteError,
    _signals_held,
    atomic_path,
    atomic_paths,
    check_output,
    check_outputs,
    write_new,
)


def test_interrupted_write_leaves_old_file_and_no_temporary(tmp_path):
    target = tmp_path / "train.csv"
    target.write_text("old")
    with pytest.raises(KeyboardInterrupt), atomic_path(target) as tmp:
        tmp.write_text("half-writ")
        raise KeyboardInterrupt
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["train.csv"]


def test_finished_write_replaces_file(tmp_path):
    target = tmp_path / "sub" / "model.keras"
    with atomic_path(target) as tmp:
        assert tmp.suffix == ".keras" and tmp.parent == target.parent
        tmp.write_text("new")
    assert target.read_text() == "new"
    assert [p.name for p in target.parent.iterdir()] == ["model.keras"]


# --- checking output paths before any work ---------------------------------------------------


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("model", "must end in .keras or .h5"),
        ("folder", "is a folder"),
        ("afile/model.keras", "afile: is a file, not a folder"),
        ("taken.keras", "already exists (pass --force"),
    ],
)
def test_check_output_refuses(tmp_path, name, message):
    (tmp_path / "folder").mkdir()
    (tmp_path / "afile").write_text("x")
    (tmp_path / "taken.keras").write_text("x")
    suffixes = None if name == "folder" else (".keras", ".h5")
    with pytest.raises(OutputError, match=re.escape(message)):
        check_output(tmp_path / name, suffixes=suffixes, what="model file")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["afile", "folder", "taken.keras"]


def test_an_output_error_is_one_line_wherever_it_is_printed(tmp_path):
    """Commands print some errors themselves (a warning that training goes on): a newline
    in a path is written as an escape in the error itself."""
    (tmp_path / "a\nwarning: fake").write_text("a file, not a folder")
    with pytest.raises(OutputError) as error:
        check_output(tmp_path / "a\nwarning: fake" / "log.csv")
    assert f"{error.value}" == f"{tmp_path}/a\\nwarning: fake: is a file, not a folder"


def test_check_output_accepts_a_new_folder_and_force(tmp_path):
    check_output(tmp_path / "new" / "deeper" / "m.keras", suffixes=(".keras",))
    assert not (tmp_path / "new").exists()  # checking makes nothing
    (tmp_path / "m.keras").write_text("x")
    check_output(tmp_path / "m.keras", force=True)


def test_check_outputs_refuses_one_file_named_twice(tmp_path):
    with pytest.raises(OutputError, match="named twice"):
        check_outputs([tmp_path / "a.csv", (tmp_path / "b" / ".." / "a.csv", None, "log")])


# --- saving without overwriting ----------------------------------------------------------------


def test_a_file_made_meanwhile_is_never_replaced(tmp_path):
    target = tmp_path / "m.keras"
    with pytest.raises(OverwriteError), atomic_path(target, overwrite=False) as tmp:
        tmp.write_text("mine")
        target.write_text("theirs")  # another process, between the check and the rename
    assert target.read_text() == "theirs"
    assert [p.name for p in tmp_path.iterdir()] == ["m.keras"]


def test_all_files_or_none(tmp_path):
    paths = [tmp_path / "a.csv", tmp_path / "b.csv"]
    paths[0].write_text("old a")
    with pytest.raises(OutputError, match="No space"), atomic_paths(paths) as (a, b):
        a.write_text("new a")
        raise OSError(28, "No space left on device")  # writing b fails
    assert paths[0].read_text() == "old a" and not paths[1].exists()
    assert [p.name for p in tmp_path.iterdir()] == ["a.csv"]


def test_a_failed_write_names_the_file(tmp_path):
    with pytest.raises(OutputError, match=r"m.keras: cannot write \(No space left on device\)"):
        with atomic_path(tmp_path / "m.keras") as tmp:
            raise OSError(28, "No space left on device", str(tmp))


def test_write_new_takes_the_first_free_name(tmp_path):
    names = [tmp_path / f"d{k}.png" for k in range(3)]
    names[0].write_text("taken")
    assert write_new(names, lambda tmp: tmp.write_text("new")) == names[1]
    assert names[0].read_text() == "taken" and names[1].read_text() == "new"
    names[2].write_text("taken")
    with pytest.raises(OverwriteError):
        write_new(names, lambda tmp: tmp.write_text("new"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d0.png", "d1.png", "d2.png"]


def test_renames_wait_for_ctrl_c():
    finished = False
    with sigint_as_in_a_terminal(), pytest.raises(KeyboardInterrupt):
        with _signals_held():
            signal.raise_signal(signal.SIGINT)  # handled before raise_signal returns
            finished = True  # Ctrl-C waited until here
    assert finished


# --- long names ------------------------------------------------------------------------------


def test_a_long_name_that_fits_is_written(tmp_path):
    """A name of 250 characters fits a folder (255 bytes), its temporary name too."""
    target = tmp_path / ("m" * 244 + ".keras")
    with atomic_paths([target, target.with_suffix(".json")]) as (tmp, tmp_json):
        tmp.write_text("model")
        tmp_json.write_text("{}")
    assert target.read_text() == "model" and target.with_suffix(".json").read_text() == "{}"
    assert len(list(tmp_path.iterdir())) == 2


def test_a_name_too_long_for_its_folder_is_refused_before_any_work(tmp_path):
    name = "m" * 250 + ".keras"
    with pytest.raises(OutputError, match=r"file name is too long \(256 bytes; at most 255\)"):
        check_output(tmp_path / "new" / name, suffixes=(".keras",))
    with pytest.raises(OutputError, match="file name is too long"):  # bytes, not characters
        check_output(tmp_path / ("é" * 125 + ".keras"))
    check_output(tmp_path / ("é" * 124 + ".keras"))
    assert list(tmp_path.iterdir()) == []


# --- what a killed run leaves ------------------------------------------------------------------

WRITER = """
    import sys, time
    from deeplearning.core.atomic import atomic_paths
    with atomic_paths(sys.argv[1:]) as temporaries:
        for tmp in temporaries:
            tmp.write_text("half")
        print("written", flush=True)
        time.sleep(600)
"""


def start_writer(*paths):
    """A process in the middle of writing `paths`: it has written their temporaries."""
    return start_python(textwrap.dedent(WRITER), *paths, ready="written")


def test_a_killed_runs_temporaries_are_removed_by_the_next_write(tmp_path):
    model, record = tmp_path / "taught.keras", tmp_path / "taught.json"
    killed = start_writer(model, record)
    killed.kill()
    killed.wait()
    left = sorted(p.name for p in tmp_path.iterdir())
    assert len(left) == 2 and all(name.startswith(".taught.tmp-") for name in left)
    running = start_writer(model, record)  # a run still writing: its files are its own
    try:
        theirs = sorted(set(p.name for p in tmp_path.iterdir()) - set(left))
        other = tmp_path / ".other.tmp-1-00000000.keras"  # another output's
        other.write_text("x")
        no_pid = tmp_path / f".taught.tmp-{'9' * 20}-00000000.keras"  # no process has it
        no_pid.write_text("x")
        with atomic_paths([model, record]) as (tmp, tmp_json):
            tmp.write_text("model")
            tmp_json.write_text("{}")
        names = sorted(p.name for p in tmp_path.iterdir())
        assert names == sorted([*theirs, other.name, no_pid.name, model.name, record.name])
    finally:
        running.kill()
        running.wait()


def test_a_killed_runs_long_named_temporary_is_removed_too(tmp_path):
    model = tmp_path / ("m" * 244 + ".keras")
    killed = start_writer(model)
    killed.kill()
    killed.wait()
    assert len(list(tmp_path.iterdir())) == 1
    with atomic_path(model) as tmp:
        tmp.write_text("model")
    assert list(tmp_path.iterdir()) == [model]
