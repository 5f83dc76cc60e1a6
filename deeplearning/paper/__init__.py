"""Reading digits from paper: photos and scans prepared into canvases the Recognizer reads, and
the `read` command. NumPy, OpenCV, Pillow and ONNX Runtime, never TensorFlow."""
