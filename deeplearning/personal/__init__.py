"""Your own handwriting: the samples folder the app fills, and the lines the teach command
(deeplearning/training/teach.py) prints as it runs. No TensorFlow: the app uses both."""
