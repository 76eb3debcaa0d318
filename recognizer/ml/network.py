"""The classic TensorFlow `mnist_deep` network, in Keras 3."""

import keras
from keras import layers

from recognizer.ml.mnist import NUM_CLASSES

INPUT_SHAPE = (28, 28, 1)


def build_model(dropout: float = 0.5, *, dtype_policy: str = "float32") -> keras.Model:
    """mnist_deep: two 5x5 conv + 2x2 max-pool stages (32, 64 filters), dense 1024, dropout, dense 10.

    Input: 28x28x1 float32 in [0, 1], white ink on black (as MNIST). Output: softmax probabilities,
    always float32. Training uses ``dtype_policy="mixed_bfloat16"`` (bfloat16 arithmetic, float32
    weights: twice as fast on CPUs with bfloat16 units); saved and served models are float32.
    """
    return keras.Sequential(
        [
            keras.Input(shape=INPUT_SHAPE),
            layers.Conv2D(32, 5, padding="same", activation="relu", dtype=dtype_policy),
            layers.MaxPooling2D(2, dtype=dtype_policy),
            layers.Conv2D(64, 5, padding="same", activation="relu", dtype=dtype_policy),
            layers.MaxPooling2D(2, dtype=dtype_policy),
            layers.Flatten(dtype=dtype_policy),
            layers.Dense(1024, activation="relu", dtype=dtype_policy),
            layers.Dropout(dropout, dtype=dtype_policy),
            layers.Dense(NUM_CLASSES, activation="softmax", dtype="float32"),
        ],
        name="mnist_deep",
    )

