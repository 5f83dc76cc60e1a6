"""A finished training is never lost: when its model cannot be saved where asked, it is
saved in a new temporary folder, and one line says why and where."""

import errno
import json

import pytest
from conftest import one_error_line

from deeplearning.reading.runtime import exported_path
from deeplearning.training import saving
from deeplearning.training.model import build_model, load_model

INFO = {"epochs_run": 1}


@pytest.fixture(scope="module")
def model():
    return build_model()


def rescued_path(line):
    return line.rsplit("the trained model is saved as ", 1)[1]


def test_a_long_name_that_fits_is_saved(tmp_path, model, capsys):
    out = tmp_path / ("m" * 244 + ".keras")
    assert saving.save_or_rescue(model, out, INFO, overwrite=False, export=True) == 0
    assert load_model(out).count_params() == model.count_params()
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == sorted([out.name, out.with_suffix(".json").name, exported_path(out).name])
    assert capsys.readouterr().out.startswith(f"saved {out}, ")


def test_any_os_error_at_save_time_saves_the_model_elsewhere(tmp_path, model, capsys, monkeypatch):
    out = tmp_path / "m.keras"
    real_save = saving.save_model

    def failing(model, path, info, overwrite=True, **options):
        if path == out:  # what no check foresaw: a name the file system refuses after all
            raise OSError(errno.ENAMETOOLONG, "File name too long", str(path))
        return real_save(model, path, info, overwrite, **options)

    monkeypatch.setattr(saving, "save_model", failing)
    assert saving.save_or_rescue(model, out, INFO, overwrite=False, export=True) == 1
    line = one_error_line(capsys.readouterr().err, out, "File name too long")
    rescued = rescued_path(line)
    assert load_model(rescued).count_params() == model.count_params()
    record = json.loads(open(rescued.replace(".keras", ".json")).read())
    assert record["epochs_run"] == 1 and record["model_file"] == "m.keras"
    assert exported_path(rescued).is_file()


def test_the_rescue_message_is_one_line_whatever_the_path(tmp_path, model, capsys):
    """A folder name holding a newline cannot split the message or forge an `error:` line."""
    folder = tmp_path / "a\nerror: fake"
    out = folder / "m.keras"
    folder.write_text("a file where the folder should be")  # the save fails
    assert saving.save_or_rescue(model, out, INFO, overwrite=False) == 1
    line = one_error_line(capsys.readouterr().err, "a\\nerror: fake")
    assert load_model(rescued_path(line)).count_params() == model.count_params()
