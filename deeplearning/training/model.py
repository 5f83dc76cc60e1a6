"""The CNN: two 5x5 conv blocks, two 3x3 conv blocks, a dense layer and a softmax.

Keras is imported inside the functions: the commands import this module to check their
arguments, before they pay seconds for TensorFlow.
"""

from pathlib import Path

from deeplearning.reading.images import IMAGE_SIZE, NUM_CLASSES
from deeplearning.reading.runtime import DEFAULT_MODEL_PATH, TRAIN_COMMAND, ModelError

INPUT_SHAPE = (IMAGE_SIZE, IMAGE_SIZE, 1)


def build_model():
    """The 5-layer CNN (887,530 parameters). Input: (N, 28, 28, 1) floats in [0, 1], ink bright."""
    import keras
    from keras import layers

    return keras.Sequential(
        [
            keras.Input(shape=INPUT_SHAPE),
            layers.Conv2D(32, 5, padding="same", activation="relu"),
            layers.Conv2D(32, 5, padding="same", activation="relu"),
            layers.MaxPool2D(2),
            layers.Dropout(0.25),
            layers.Conv2D(64, 3, padding="same", activation="relu"),
            layers.Conv2D(64, 3, padding="same", activation="relu"),
            layers.MaxPool2D(2),
            layers.Dropout(0.25),
            layers.Flatten(),
            layers.Dense(256, activation="relu"),
            layers.Dropout(0.5),
            layers.Dense(NUM_CLASSES, activation="softmax"),
        ],
        name="mnist_cnn",
    )


def compile_model(model, steps_per_execution=1, learning_rate=0.001):
    """Adam (its default learning rate unless told), categorical cross-entropy, accuracy.

    `steps_per_execution` runs several batches per call into TensorFlow; it changes nothing
    the model computes, only how often Python is involved.
    """
    import keras

    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate),
        loss="categorical_crossentropy",
        metrics=["accuracy"],
        steps_per_execution=steps_per_execution,
    )
    return model


def inference_function(model):
    """The model as one compiled TensorFlow function: float32 (N, 28, 28, 1) -> (N, 10).

    A fixed input signature traces one graph for any batch size. Calls cost about 2 ms for
    one image here, where `model.predict` costs about 50-70 ms: it rebuilds its machinery on
    every call.
    """
    import tensorflow as tf

    return tf.function(
        lambda x: model(x, training=False),
        input_signature=[tf.TensorSpec([None, *INPUT_SHAPE], tf.float32)],
    )


def check_model_file(path):
    """The path of a model file that is there, or ModelError: a check before any work."""
    path = Path(path)
    if path.is_dir():
        raise ModelError(f"{path}: is a folder, not a model file")
    if not path.is_file():
        raise ModelError(f"{path}: model file not found; train one with: {TRAIN_COMMAND}")
    return path


def load_model(path=None):
    """Load a saved `.keras` model with Keras's safe mode on; raise ModelError if that fails
    or if it does not take (None, 28, 28, 1) images to (None, 10) probabilities."""
    path = check_model_file(DEFAULT_MODEL_PATH if path is None else path)
    import keras

    try:
        model = keras.saving.load_model(path, compile=False, safe_mode=True)
    except Exception as error:  # Keras raises many types for a damaged file.
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise ModelError(
            f"{path}: not a readable Keras model ({reason}); train one with: {TRAIN_COMMAND}"
        ) from None
    shapes = _shapes(model)
    if shapes != ((None, *INPUT_SHAPE), (None, NUM_CLASSES)):
        taken, given = shapes or ("?", "?")
        raise ModelError(
            f"{path}: model takes {taken} and gives {given}, "
            f"expected (None, 28, 28, 1) -> (None, 10)"
        )
    return model


def _shapes(model):
    """(input shape, output shape) as tuples, or None for a model with several or none."""
    try:
        taken, given = model.input_shape, model.output_shape
    except (AttributeError, ValueError):  # a model that was never built or called
        return None
    if not all(isinstance(shape, tuple) for shape in (taken, given)):
        return None  # several inputs or outputs: a list of shapes
    return tuple(taken), tuple(given)
