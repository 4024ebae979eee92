"""A small CNN to benchmark beside the reference models: the contract, by example.

A builder takes no arguments and returns either a ``keras.Model`` for 28x28x1
inputs in [0, 1], a list of Keras layers (stacked after the input), or a function
from the input tensor to the output. The output is 10 class probabilities: end
with a softmax, computed in float32 so that mixed precision never rounds it.

    fmnist train --arch examples/small_cnn.py:small_cnn --seeds 0 1 2 --record
"""

import keras
from keras import layers


def small_cnn() -> list[keras.layers.Layer]:
    """Two conv blocks of 32 and 64 filters with batch norm, global pooling, softmax."""
    return [
        layers.Conv2D(32, 3, padding="same", use_bias=False),
        layers.BatchNormalization(),
        layers.ReLU(),
        layers.MaxPooling2D(2),
        layers.Conv2D(64, 3, padding="same", use_bias=False),
        layers.BatchNormalization(),
        layers.ReLU(),
        layers.MaxPooling2D(2),
        layers.Conv2D(128, 3, padding="same", use_bias=False),
        layers.BatchNormalization(),
        layers.ReLU(),
        layers.GlobalAveragePooling2D(),
        layers.Dropout(0.3),
        layers.Dense(10, activation="softmax", dtype="float32"),
    ]
