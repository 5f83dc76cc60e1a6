"""The fusion of the picture's and the path's readings: a sure path settles what the picture
is unsure of, and is not heard where the picture is sure, where the path is unsure, or where
it sees a digit the picture does not."""

import numpy as np

from deeplearning.reading.fusion import combine


def reading(**probabilities):
    """(1, 10) probabilities: the given digits (d0..d9) and the rest spread evenly."""
    given = {int(name[1:]): p for name, p in probabilities.items()}
    rest = (1.0 - sum(given.values())) / (10 - len(given))
    return np.array([[given.get(d, rest) for d in range(10)]], np.float32)


def test_the_path_decides_between_the_pictures_top_two():
    combined = combine(reading(d1=0.6, d7=0.38), reading(d7=0.95))
    assert combined.argmax() == 7


def test_a_sure_picture_is_not_overruled():
    assert combine(reading(d1=0.8, d7=0.19), reading(d7=0.999)).argmax() == 1


def test_an_unsure_path_is_not_heard():
    assert combine(reading(d1=0.6, d7=0.38), reading(d7=0.6, d1=0.01)).argmax() == 1


def test_the_picture_decides_where_the_path_sees_another_digit():
    combined = combine(reading(d1=0.6, d7=0.38), reading(d3=0.999))
    assert combined.argmax() == 1


def test_agreement_makes_the_reading_surer():
    picture = reading(d4=0.65, d9=0.3)
    combined = combine(picture, reading(d4=0.95))
    assert combined.argmax() == 4 and combined.max() > picture.max()


def test_combined_readings_are_probabilities_for_each_digit():
    rng = np.random.default_rng(0)
    picture, path = rng.dirichlet(np.ones(10), 5), rng.dirichlet(np.ones(10), 5)
    path[0] = np.eye(10)[picture[0].argmax()]  # zeros elsewhere: no veto, no NaN
    combined = combine(picture, path)
    assert combined.shape == (5, 10) and combined.dtype == np.float32
    np.testing.assert_allclose(combined.sum(axis=1), 1.0, rtol=1e-5)
