"""CutMix: a patch of another training image pasted in, the labels mixed by area.

Yun et al. (2019), "CutMix: Regularization Strategy to Train Strong Classifiers with
Localizable Features". Each training image, with probability ``probability``, gets a
rectangle from another image of its batch: the rectangle's area share is
``1 - lam`` with ``lam ~ Uniform(0, 1)`` (the paper's Beta(1, 1)), its centre uniform
over the image, clipped at the border; the one-hot labels mix in proportion to the
pixels each image keeps.

Keras has a ``CutMix`` layer, but it draws from a seed generator whose state Keras
does not save, and in a tf.data pipeline nothing can reseed it per epoch: a resumed
run would mix differently from an uninterrupted one. Here the draws are planned
per epoch from ``(seed, epoch)`` alone, like the batch order (``batches.epoch_order``),
and applied with ``keras.ops`` inside the pipeline.
"""

from __future__ import annotations

import keras
import numpy as np

# Keeps the mixing draws apart from the batch order's, which use (seed, epoch).
_STREAM = 1


def cutmix_plan(
    seed: int, epoch: int, order: np.ndarray, batch_size: int, probability: float, size=(28, 28)
) -> tuple[np.ndarray, np.ndarray]:
    """The partner and the pasted box of every position of one epoch's ``order``.

    Returns ``partners`` (a row index into the training images, drawn from the same
    batch; the image itself where nothing is pasted) and ``boxes`` (top, bottom, left,
    right per position, in pixels, half-open; an empty box where nothing is pasted).
    """
    if not 0.0 <= probability <= 1.0:
        raise ValueError(f"cutmix: probability {probability!r} is not in [0, 1]")
    rng = np.random.default_rng([seed, epoch, _STREAM])
    n = len(order)
    partners = np.array(order, copy=True)
    for start in range(0, n, batch_size):
        rows = order[start : start + batch_size]
        partners[start : start + batch_size] = rows[rng.permutation(len(rows))]
    pasted = rng.random(n) < probability
    side = np.sqrt(1.0 - rng.random(n))  # the box's side as a share of the image's
    boxes = np.zeros((n, 4), dtype=np.int16)
    for axis, length in enumerate(size):
        centre = rng.integers(0, length, n)
        half = np.round(side * length / 2).astype(int)
        boxes[:, 2 * axis] = np.clip(centre - half, 0, length)
        boxes[:, 2 * axis + 1] = np.clip(centre + half, 0, length)
    # a box that rounds to no pixels pastes nothing: count it with the unmixed images
    pasted &= (boxes[:, 1] > boxes[:, 0]) & (boxes[:, 3] > boxes[:, 2])
    boxes[~pasted] = 0
    partners[~pasted] = order[~pasted]
    return partners, boxes


def cutmix(images, labels, partner_images, partner_labels, boxes):
    """Paste each partner's box into its image; mix the labels by the pixels kept.

    ``images`` are (N, H, W, C), ``labels`` one-hot (N, K), ``boxes`` (N, 4) from
    ``cutmix_plan``. Backend-neutral (``keras.ops``), so it runs in a tf.data map too.
    """
    ops = keras.ops
    height, width = images.shape[1], images.shape[2]
    boxes = ops.cast(boxes, "int32")
    top, bottom, left, right = (boxes[:, i, None] for i in range(4))
    rows = ops.arange(height)[None, :]
    columns = ops.arange(width)[None, :]
    in_rows = ops.logical_and(rows >= top, rows < bottom)  # (N, H)
    in_columns = ops.logical_and(columns >= left, columns < right)  # (N, W)
    inside = ops.logical_and(in_rows[:, :, None], in_columns[:, None, :])[..., None]
    mixed = ops.where(inside, partner_images, images)
    pasted_share = ops.mean(ops.cast(inside, labels.dtype), axis=(1, 2, 3))[:, None]
    return mixed, (1.0 - pasted_share) * labels + pasted_share * partner_labels
