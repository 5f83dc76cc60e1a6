"""Deep-learning half of the digit recognizer: data, model, training, evaluation and recognition."""
