"""A handwritten digit recognizer: a CNN trained on MNIST, and an app that reads your pen.

The subpackages, lowest first; each imports only from those above it in this list:

    core/       plumbing: the error type, atomic files, the command line, quiet imports
    reading/    a canvas to digits, with the model's ONNX export: never TensorFlow
    paper/      photos and scans of paper to digits, the read command
    datasets/   MNIST's IDX files, Kaggle's CSV files and submissions
    personal/   your samples folder, and what the teach command reports as it runs
    pen_data/   real pen trajectories (UNIPEN), MNIST traced into strokes, the replay
    training/   the CNN in Keras: train, evaluate, export, teach, the notebook's runner
    ui/         the app's window (app.py starts it): reading/, paper/ and personal/ only

`python -m deeplearning COMMAND` runs a command (deeplearning/__main__.py lists them).
"""
