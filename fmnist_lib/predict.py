"""Classify real image files: any size, colour or bit depth, light or dark background."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError
from skimage import io, transform
from skimage.color import rgb2gray, rgba2rgb
from skimage.util import img_as_float

from .data import CLASS_NAMES
from .inference import predict_probabilities

MAX_PIXELS = 50_000_000  # refuse decompression bombs before decoding them


class ImageError(ValueError):
    """An input file is not a usable image."""


def prepare_image(path: str | Path) -> np.ndarray:
    """Read an image file and turn it into a Fashion-MNIST-like 28x28 float array.

    Grayscale, resized with anti-aliasing, scaled to [0, 1], and inverted when
    the border is light, since Fashion-MNIST items are light on black.
    """
    path = Path(path)
    if not path.exists():
        raise ImageError(f"{path}: no such file")
    if not path.is_file():
        raise ImageError(f"{path}: is a directory, not an image file")
    if path.stat().st_size == 0:
        raise ImageError(f"{path}: empty file (0 bytes)")
    try:
        with Image.open(path) as probe:
            width, height = probe.size
    except (UnidentifiedImageError, OSError) as err:
        raise ImageError(f"{path}: not a readable image ({err})") from None
    except Image.DecompressionBombError:
        raise ImageError(f"{path}: image too large to decode safely") from None
    if width * height > MAX_PIXELS:
        raise ImageError(f"{path}: {width}x{height} pixels is over the {MAX_PIXELS:,}-pixel limit")
    try:
        image = io.imread(path)
    except Exception as err:  # decoders raise many types for truncated data
        detail = f"{type(err).__name__}: {err}"
        raise ImageError(f"{path}: corrupt or truncated image ({detail})") from None
    if image.ndim == 3 and image.shape[-1] == 4:
        image = rgba2rgb(image)  # composite transparency onto white
    if image.ndim == 3 and image.shape[-1] == 3:
        image = rgb2gray(image)
    elif image.ndim == 3 and image.shape[-1] == 2:  # grayscale + alpha
        image = image[..., 0]
    if image.ndim != 2:
        raise ImageError(f"{path}: unsupported image layout {image.shape}")
    image = img_as_float(image)
    low, high = float(image.min()), float(image.max())
    image = (image - low) / (high - low) if high > low else np.zeros_like(image)
    border = np.concatenate([image[0], image[-1], image[:, 0], image[:, -1]])
    if border.mean() > 0.5:
        image = 1.0 - image
    small = transform.resize(image, (28, 28), anti_aliasing=True)
    return small.astype(np.float32)


@dataclass
class Prediction:
    path: str
    top: list[tuple[str, float]] | None = None
    error: str | None = None


def predict_files(model, paths, top: int = 3, tta_flip: bool = False) -> list[Prediction]:
    """Top-k classes per file; a bad file gets an error and the others go on.

    ``tta_flip`` averages each image with its mirror, as the run that trained
    the model scored its test set.
    """
    results, batch, where = [], [], []
    for path in paths:
        try:
            batch.append(prepare_image(path))
            where.append(len(results))
            results.append(Prediction(str(path)))
        except ImageError as err:
            results.append(Prediction(str(path), error=str(err)))
    if batch:
        probs = predict_probabilities(model, np.stack(batch)[..., None], tta_flip=tta_flip)
        for index, row in zip(where, probs, strict=True):
            best = np.argsort(row)[::-1][:top]
            results[index].top = [(CLASS_NAMES[i], float(row[i])) for i in best]
    return results
