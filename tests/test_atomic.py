"""Files are written under a temporary name and renamed: an interrupted write leaves nothing."""

import pytest

from deeplearning.atomic import OverwriteError, atomic_path, refuse_overwrite


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


def test_refuse_overwrite(tmp_path):
    (tmp_path / "a").write_text("x")
    refuse_overwrite([tmp_path / "b"], force=False)
    refuse_overwrite([tmp_path / "a"], force=True)
    with pytest.raises(OverwriteError, match="a: already exists"):
        refuse_overwrite([tmp_path / "b", tmp_path / "a"], force=False)
