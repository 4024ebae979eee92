"""Prediction with a trained model: load it as its run scored it, and class probabilities.

Loading a model needs Keras; predicting with one needs only NumPy and the model.
This module imports Keras when a model is loaded, so the modules that score
models (``robustness``, ``predict``, ``embedding``) can also serve the README's
tables and the command line's help without it.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from .errors import RunError
from .runs import read_json


def predict_probabilities(model, images, tta_flip: bool = False, batch_size: int = 1000):
    """Class probabilities; with ``tta_flip``, the mean over each image and its mirror.

    Fashion-MNIST items are left-right symmetric in meaning (the training
    augmentation flips them too), so the mirror is a second look at the same item.
    """
    probs = model.predict(images, batch_size=batch_size, verbose=0)
    if tta_flip:
        mirrored = np.flip(np.asarray(images), axis=2)  # axis 2 = width of (N, H, W, C)
        probs = (probs + model.predict(mirrored, batch_size=batch_size, verbose=0)) / 2
    return probs


def load_trained_model(path: str | os.PathLike):
    """(model, tta_flip) from a run directory or a ``.keras`` file.

    A run's model is scored as its run scored it: with the fused batch-norm
    layers it was saved without (``portable``), and with flip test-time
    augmentation when the run's config.json asks for it (a bare .keras file
    beside no config.json has none).
    """
    # heavy: Keras loads only when a model is; `layers` subclasses Keras' layers and
    # registers FusedBatchNormalization, which older saved models name, for load_model
    import keras

    from .layers import FusedBatchNormalization
    from .portable import fused_copy

    path = Path(path)
    run_dir = path if path.is_dir() else path.parent
    model_file = path / "model.keras" if path.is_dir() else path
    if not model_file.is_file():
        raise FileNotFoundError(
            f"{model_file}: no such model file (expected a .keras file or a run directory)"
        )
    try:
        model = fused_copy(keras.saving.load_model(model_file), FusedBatchNormalization)
    except Exception as err:
        raise RunError(f"{model_file}: could not load the model ({err})") from None
    config_path = run_dir / "config.json"
    tta_flip = config_path.is_file() and bool(read_json(config_path).get("tta_flip"))
    return model, tta_flip
