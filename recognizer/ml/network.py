"""The classic TensorFlow `mnist_deep` network, in Keras 3."""

import keras
from keras import layers

INPUT_SHAPE = (28, 28, 1)
NUM_CLASSES = 10


def build_model(dropout: float = 0.5) -> keras.Model:
    """mnist_deep: two 5x5 conv + 2x2 max-pool stages (32, 64 filters), dense 1024, dropout, dense 10.

    Input: 28x28x1 float32 in [0, 1], white ink on black (as MNIST). Output: softmax probabilities.
    """
    return keras.Sequential(
        [
            keras.Input(shape=INPUT_SHAPE),
            layers.Conv2D(32, 5, padding="same", activation="relu"),
            layers.MaxPooling2D(2),
            layers.Conv2D(64, 5, padding="same", activation="relu"),
            layers.MaxPooling2D(2),
            layers.Flatten(),
            layers.Dense(1024, activation="relu"),
            layers.Dropout(dropout),
            layers.Dense(NUM_CLASSES, activation="softmax"),
        ],
        name="mnist_deep",
    )
