"""Training batches in a fixed (seed, epoch) order, on any Keras backend.

The order of every epoch is a function of (seed, epoch) only, so a resumed run
sees the same batches as an uninterrupted one.
"""

from __future__ import annotations

import math

import keras
import numpy as np


def epoch_order(seed: int, epoch: int, n: int) -> np.ndarray:
    """The training order of one epoch, a function of (seed, epoch) only.

    Keying the order on the epoch number (not on how many epochs this process
    has run) makes a resumed run see the same batches as an uninterrupted one.
    """
    return np.random.default_rng([seed, epoch]).permutation(n)


class ShuffledBatches(keras.utils.PyDataset):
    """Backend-neutral training batches (used where tf.data is not available)."""

    def __init__(self, x, y, batch_size, seed):
        super().__init__()
        self.x, self.y, self.batch_size, self.seed = x, y, batch_size, seed
        self.set_epoch(0)

    def set_epoch(self, epoch: int) -> None:
        self.order = epoch_order(self.seed, epoch, len(self.x))

    def __len__(self):
        return math.ceil(len(self.x) / self.batch_size)

    def __getitem__(self, index):
        rows = self.order[index * self.batch_size : (index + 1) * self.batch_size]
        return self.x[rows], self.y[rows]


def training_batches(x, y, batch_size: int, seed: int, first_epoch: int, epochs: int):
    """Shuffled training batches for epochs [first_epoch, epochs) and steps per epoch.

    On TensorFlow a tf.data pipeline gathers each batch in C++ (a Python
    generator halved the throughput here); elsewhere a PyDataset does the same.
    """
    steps = math.ceil(len(x) / batch_size)
    if keras.backend.backend() != "tensorflow":
        return ShuffledBatches(x, y, batch_size, seed), steps
    import tensorflow as tf

    # A run killed after its last epoch resumes with nothing left to train; fit
    # still wants a dataset, so keep at least the last epoch's order.
    first_epoch = min(first_epoch, epochs - 1)
    orders = np.stack([epoch_order(seed, e, len(x)) for e in range(first_epoch, epochs)])
    images, labels = tf.constant(x), tf.constant(y)
    batches = (
        tf.data.Dataset.from_tensor_slices(orders)
        .flat_map(lambda order: tf.data.Dataset.from_tensor_slices(order).batch(batch_size))
        .map(lambda rows: (tf.gather(images, rows), tf.gather(labels, rows)))
        .prefetch(tf.data.AUTOTUNE)
    )
    return batches, steps
