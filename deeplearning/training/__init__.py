"""The CNN in Keras: build, train, evaluate, export to ONNX, teach on your samples, run the
notebook. The only part of the project that imports TensorFlow."""
