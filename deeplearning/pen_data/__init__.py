"""Handwriting as strokes: real pen trajectories (UNIPEN), MNIST images traced into strokes,
drawing them with the app's pen, and the replay that reads them as the app would."""
