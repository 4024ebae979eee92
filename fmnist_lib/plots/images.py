"""What the image figures share: the grey scale they draw with and their input checks."""

from __future__ import annotations

import numpy as np

IMAGE_CMAP = "binary"  # dark garments on white paper, as handson-ml3 draws MNIST


def check_images(images, labels) -> tuple[np.ndarray, np.ndarray]:
    """``images`` as (N, H, W) (a trailing channel of 1 dropped) and ``labels`` as (N,)."""
    images, labels = np.asarray(images), np.asarray(labels)
    if images.ndim == 4 and images.shape[-1] == 1:
        images = images[..., 0]
    if images.ndim != 3:
        raise ValueError(f"expected images of shape (N, H, W), got {images.shape}")
    if labels.shape != (len(images),):
        raise ValueError(f"expected {len(images)} labels, got an array of shape {labels.shape}")
    return images, labels


def class_indices(classes, class_names) -> list[int]:
    """Class names or indices as indices into ``class_names``; None: every class."""
    if classes is None:
        return list(range(len(class_names)))
    indices = []
    for c in classes:
        if isinstance(c, str):
            if c not in class_names:
                raise ValueError(f"unknown class {c!r}; valid names are {list(class_names)}")
            indices.append(list(class_names).index(c))
        elif 0 <= int(c) < len(class_names):
            indices.append(int(c))
        else:
            raise ValueError(f"class index {c} is out of range 0..{len(class_names) - 1}")
    return indices
