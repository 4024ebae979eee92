"""Corrupted copies of test images: the shifts a model meets on real photos, by severity.

Each family is defined once, in :data:`CORRUPTIONS`: a function of
``(images, parameter, rng)`` and its parameter at severities 1 to 5; severity 0
is the identity for every family. :func:`corrupt` is the one entry point, and
the CLI, the tests and ``docs/robustness.md`` (:func:`ladder_markdown`) all read
the same table. The ladders follow Hendrycks & Dietterich's ImageNet-C in
spirit, scaled to 28x28 images with a black background.

Two families have a single level: the mirror image (``flip``) and inverted
contrast (``invert``, dark garments on a light background, as a photo of an item
on paper looks). Severities 1 to 5 all give that one image, so each family
weighs the same in a mean over families and severities and a table of them has
no holes.

Everything is deterministic: the random families (noise, rotation, translation,
occlusion) draw from ``numpy.random.default_rng(seed)``, the same stream at every
severity, so a higher severity changes the same pixels more rather than others.
"""

from __future__ import annotations

import functools
import io
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from PIL import Image
from scipy import sparse
from skimage.filters import gaussian
from skimage.transform import AffineTransform, rotate, warp
from skimage.util import random_noise

from .data import IMAGE_SHAPE

MAX_SEVERITY = 5
SEVERITIES = tuple(range(MAX_SEVERITY + 1))


def _to_float(images: np.ndarray) -> np.ndarray:
    return images.astype(np.float32) / 255.0


def _to_uint8(images: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(np.asarray(images) * 255.0), 0, 255).astype(np.uint8)


def _gaussian_noise(images, std, rng):
    noisy = random_noise(_to_float(images), mode="gaussian", var=std**2, rng=rng, clip=True)
    return _to_uint8(noisy)


def _gaussian_blur(images, sigma, rng):
    # sigma 0 on the first axis: blur each image, never across the stack.
    return _to_uint8(gaussian(_to_float(images), sigma=(0, sigma, sigma), mode="constant"))


def _contrast(images, factor, rng):
    # ImageNet-C's contrast: pull every pixel towards its image's mean.
    pixels = _to_float(images)
    means = pixels.mean(axis=(1, 2), keepdims=True)
    return _to_uint8((pixels - means) * factor + means)


def _brightness(images, shift, rng):
    # Added light lifts the black background too, as a grey photo background does.
    return _to_uint8(_to_float(images) + shift)


# JPEG codes 8x8 blocks independently; a 28x28 image fills 4x4 blocks, its last
# column and row replicated by the encoder. Padding each image to 32x32 the same
# way and tiling them into one large picture gives the same bytes as one
# encode/decode per image (tests check it), in one call instead of 10,000.
_JPEG_TILE = 32
_JPEG_COLUMNS = 100


def _jpeg(images, quality, rng):
    count, height, width = images.shape
    tiles = np.zeros((-(-count // _JPEG_COLUMNS) * _JPEG_COLUMNS, _JPEG_TILE, _JPEG_TILE), np.uint8)
    tiles[:count] = np.pad(
        images, ((0, 0), (0, _JPEG_TILE - height), (0, _JPEG_TILE - width)), mode="edge"
    )
    rows = len(tiles) // _JPEG_COLUMNS
    sheet = tiles.reshape(rows, _JPEG_COLUMNS, _JPEG_TILE, _JPEG_TILE).swapaxes(1, 2)
    buffer = io.BytesIO()
    Image.fromarray(sheet.reshape(rows * _JPEG_TILE, -1)).save(
        buffer, format="JPEG", quality=quality
    )
    with Image.open(buffer) as decoded:
        sheet = np.asarray(decoded.convert("L"))
    tiles = sheet.reshape(rows, _JPEG_TILE, _JPEG_COLUMNS, _JPEG_TILE).swapaxes(1, 2)
    return tiles.reshape(-1, _JPEG_TILE, _JPEG_TILE)[:count, :height, :width].copy()


@functools.lru_cache(maxsize=2 * MAX_SEVERITY)
def _rotation_operator(degrees: float) -> sparse.csr_matrix:
    """skimage's bilinear rotation of a 28x28 image as a sparse 784x784 matrix.

    Rotation is linear in the pixels, so rotating the 784 one-pixel images once
    gives the matrix; applying it to 10,000 images is then one sparse product,
    ten times faster than 10,000 calls of ``rotate``.
    """
    size = IMAGE_SHAPE[0] * IMAGE_SHAPE[1]
    basis = np.eye(size, dtype=np.float32).reshape(size, *IMAGE_SHAPE)
    turned = [
        rotate(pixel, degrees, order=1, mode="constant", cval=0.0, preserve_range=True)
        for pixel in basis
    ]
    return sparse.csr_matrix(np.stack(turned).reshape(size, size).T)


def _rotate(images, degrees, rng):
    # A fixed angle with a random sign, so that the severity is the angle itself.
    signs = rng.choice([-1, 1], size=len(images))
    pixels = _to_float(images).reshape(len(images), -1)
    turned = np.empty_like(pixels)
    for sign in (-1, 1):
        chosen = signs == sign
        turned[chosen] = (_rotation_operator(sign * degrees) @ pixels[chosen].T).T
    return _to_uint8(turned.reshape(images.shape))


def _translate(images, pixels, rng):
    # A fixed distance in a random direction, bilinear: a camera is not pixel-aligned.
    angles = rng.uniform(0.0, 2 * np.pi, size=len(images))
    shifts = np.stack([np.cos(angles), np.sin(angles)], axis=1) * pixels  # (x, y)
    moved = [
        warp(
            image,
            AffineTransform(translation=shift).inverse,
            order=1,
            mode="constant",
            cval=0.0,
            preserve_range=True,
        )
        for image, shift in zip(_to_float(images), shifts, strict=True)
    ]
    return _to_uint8(np.stack(moved))


def _occlude(images, side, rng):
    # Random erasing (Zhong et al., 2020): a square of uniform noise, placed at the
    # same relative position at every severity, so a larger patch covers the smaller.
    count, height, width = images.shape
    noise = rng.integers(0, 256, size=images.shape, dtype=np.uint8)
    where = rng.uniform(size=(count, 2))
    top = np.floor(where[:, 0] * (height - side + 1)).astype(int)
    left = np.floor(where[:, 1] * (width - side + 1)).astype(int)
    rows, cols = np.arange(height), np.arange(width)
    inside_rows = (rows >= top[:, None]) & (rows < top[:, None] + side)
    inside_cols = (cols >= left[:, None]) & (cols < left[:, None] + side)
    patch = inside_rows[:, :, None] & inside_cols[:, None, :]
    return np.where(patch, noise, images)


def _flip(images, _, rng):
    return images[:, :, ::-1].copy()


def _invert(images, _, rng):
    return 255 - images


@dataclass(frozen=True)
class Corruption:
    """One family: ``function(images, parameter, rng)`` and its parameter per severity."""

    function: Callable[[np.ndarray, Any, np.random.Generator], np.ndarray]
    parameter: str  # what the ladder's numbers are
    ladder: tuple  # the parameter at severities 1..MAX_SEVERITY
    random: bool  # draws from the rng (else the seed changes nothing)


CORRUPTIONS: dict[str, Corruption] = {
    "gaussian_noise": Corruption(
        _gaussian_noise, "noise std (pixels in [0, 1])", (0.04, 0.08, 0.12, 0.18, 0.26), True
    ),
    "gaussian_blur": Corruption(
        _gaussian_blur, "blur sigma (pixels)", (0.5, 0.75, 1.0, 1.25, 1.5), False
    ),
    "contrast": Corruption(
        _contrast, "contrast kept (x -> mean + c (x - mean))", (0.5, 0.4, 0.3, 0.2, 0.1), False
    ),
    "brightness": Corruption(
        _brightness, "brightness added (pixels in [0, 1])", (0.1, 0.2, 0.3, 0.4, 0.5), False
    ),
    "jpeg": Corruption(_jpeg, "JPEG quality", (25, 18, 15, 10, 7), False),
    "rotate": Corruption(_rotate, "rotation (degrees, random sign)", (5, 10, 15, 20, 30), True),
    "translate": Corruption(
        _translate, "shift (pixels, random direction)", (1, 1.5, 2, 3, 4), True
    ),
    "occlude": Corruption(_occlude, "noise patch side (pixels)", (6, 9, 12, 15, 18), True),
    "flip": Corruption(_flip, "left-right mirror (one level)", ("mirror",) * MAX_SEVERITY, False),
    "invert": Corruption(_invert, "255 - x (one level)", ("inverted",) * MAX_SEVERITY, False),
}
FAMILIES = tuple(CORRUPTIONS)


def check_family(name: str) -> Corruption:
    if name not in CORRUPTIONS:
        raise ValueError(f"unknown corruption family {name!r}; valid names are {list(FAMILIES)}")
    return CORRUPTIONS[name]


def check_severity(severity) -> int:
    if isinstance(severity, bool) or not isinstance(severity, int | np.integer):
        raise ValueError(
            f"severity: expected a whole number from 0 to {MAX_SEVERITY}, got {severity!r}"
        )
    if not 0 <= severity <= MAX_SEVERITY:
        raise ValueError(
            f"severity: {severity} is out of range; valid severities are 0 to {MAX_SEVERITY}"
        )
    return int(severity)


def check_images(images) -> np.ndarray:
    images = np.asarray(images)
    if images.dtype != np.uint8 or images.ndim != 3 or images.shape[1:] != IMAGE_SHAPE:
        raise ValueError(
            f"expected uint8 images shaped (N, {IMAGE_SHAPE[0]}, {IMAGE_SHAPE[1]}), "
            f"got {images.dtype} of shape {images.shape}"
        )
    return images


def parameter(family: str, severity: int):
    """The family's parameter at ``severity`` (None at severity 0, the identity)."""
    corruption, severity = check_family(family), check_severity(severity)
    return None if severity == 0 else corruption.ladder[severity - 1]


def corrupt(images, family: str, severity: int, seed: int = 0) -> np.ndarray:
    """A corrupted copy of uint8 ``images`` (N, 28, 28); same seed, same bytes."""
    corruption, severity = check_family(family), check_severity(severity)
    images = check_images(images)
    if severity == 0:
        return images.copy()
    rng = np.random.default_rng(seed)
    return corruption.function(images, corruption.ladder[severity - 1], rng)


def ladder_markdown() -> str:
    """The families and their parameter per severity, as a Markdown table."""
    header = " | ".join(str(s) for s in range(1, MAX_SEVERITY + 1))
    lines = [
        f"| family | parameter | {header} |",
        "|---|---|" + "---|" * MAX_SEVERITY,
    ]
    for name, corruption in CORRUPTIONS.items():
        cells = " | ".join(
            f"{value:g}" if not isinstance(value, str) else value for value in corruption.ladder
        )
        lines.append(f"| {name} | {corruption.parameter} | {cells} |")
    return "\n".join(lines) + "\n"
