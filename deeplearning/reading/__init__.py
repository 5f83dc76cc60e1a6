"""Reading a canvas: find the digits, prepare them as MNIST's, read them with the model's ONNX
export. NumPy, OpenCV and ONNX Runtime only, never TensorFlow: the app starts from here."""
