"""Machine learning for Numberfigure: the mnist_deep network, MNIST data, training and serving.

`runtime` is the serving path and imports only numpy and LiteRT; the other modules need
TensorFlow/Keras (requirements-train.txt) and are used by management commands only.
"""
