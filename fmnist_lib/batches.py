"""Training batches in a fixed (seed, epoch) order, on any Keras backend.

The order of every epoch is a function of (seed, epoch) only, so a resumed run
sees the same batches as an uninterrupted one.
"""

from __future__ import annotations

import math

import keras
import numpy as np

from . import mixing


def epoch_order(seed: int, epoch: int, n: int) -> np.ndarray:
    """The training order of one epoch, a function of (seed, epoch) only.

    Keying the order on the epoch number (not on how many epochs this process
    has run) makes a resumed run see the same batches as an uninterrupted one.
    """
    return np.random.default_rng([seed, epoch]).permutation(n)


class ShuffledBatches(keras.utils.PyDataset):
    """Backend-neutral training batches (used where tf.data is not available)."""

    def __init__(self, x, y, batch_size, seed, cutmix: float = 0.0):
        super().__init__()
        self.x, self.y, self.batch_size, self.seed = x, y, batch_size, seed
        self.cutmix = cutmix
        self.set_epoch(0)

    def set_epoch(self, epoch: int) -> None:
        self.order = epoch_order(self.seed, epoch, len(self.x))
        if self.cutmix:
            self.partners, self.boxes = mixing.cutmix_plan(
                self.seed, epoch, self.order, self.batch_size, self.cutmix
            )

    def __len__(self):
        return math.ceil(len(self.x) / self.batch_size)

    def __getitem__(self, index):
        batch = slice(index * self.batch_size, (index + 1) * self.batch_size)
        rows = self.order[batch]
        if not self.cutmix:
            return self.x[rows], self.y[rows]
        partners = self.partners[batch]
        return mixing.cutmix(
            self.x[rows], self.y[rows], self.x[partners], self.y[partners], self.boxes[batch]
        )


def training_batches(
    x, y, batch_size: int, seed: int, first_epoch: int, epochs: int, cutmix: float = 0.0
):
    """Shuffled training batches for epochs [first_epoch, epochs) and steps per epoch.

    ``cutmix`` is the share of training images that get a patch of another image of
    their batch (``fmnist_lib.mixing``; 0: none), planned from (seed, epoch) like the order.
    On TensorFlow a tf.data pipeline gathers each batch in C++ (a Python
    generator halved the throughput here); elsewhere a PyDataset does the same.
    """
    steps = math.ceil(len(x) / batch_size)
    if keras.backend.backend() != "tensorflow":
        return ShuffledBatches(x, y, batch_size, seed, cutmix), steps
    import tensorflow as tf  # TensorFlow: only on the TensorFlow backend

    # A run killed after its last epoch resumes with nothing left to train; fit
    # still wants a dataset, so keep at least the last epoch's order.
    first_epoch = min(first_epoch, epochs - 1)
    epoch_range = range(first_epoch, epochs)
    orders = np.stack([epoch_order(seed, e, len(x)) for e in epoch_range])
    images, labels = tf.constant(x), tf.constant(y)

    def plain(rows):
        return tf.gather(images, rows), tf.gather(labels, rows)

    def mixed(rows, partner_rows, boxes):
        return mixing.cutmix(*plain(rows), *plain(partner_rows), boxes)

    columns = (orders,)  # per epoch: the order, and with CutMix each position's partner and box
    if cutmix:
        plans = [
            mixing.cutmix_plan(seed, e, order, batch_size, cutmix)
            for e, order in zip(epoch_range, orders, strict=True)
        ]
        columns += (np.stack([p for p, _ in plans]), np.stack([b for _, b in plans]))
    batches = (
        tf.data.Dataset.from_tensor_slices(columns)
        .flat_map(lambda *epoch: tf.data.Dataset.from_tensor_slices(epoch).batch(batch_size))
        .map(mixed if cutmix else plain)
    )
    return batches.prefetch(tf.data.AUTOTUNE), steps
