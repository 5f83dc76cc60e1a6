"""The model's input: 28x28 greyscale images, ink bright, as MNIST draws its digits."""

import numpy as np

IMAGE_SIZE = 28
NUM_PIXELS = IMAGE_SIZE * IMAGE_SIZE
NUM_CLASSES = 10


def to_model_input(images):
    """uint8 images (N, 28, 28) -> float32 (N, 28, 28, 1) in [0, 1], as the model expects."""
    images = np.asarray(images, dtype=np.float32) / 255.0
    return images.reshape(-1, IMAGE_SIZE, IMAGE_SIZE, 1)
