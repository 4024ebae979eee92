"""Figures of the dataset itself: sample sprites, mean images, where each class puts its ink."""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib import MatplotlibDeprecationWarning
from matplotlib.figure import Figure
from skimage.util import montage

from ..data import CLASS_NAMES
from .images import IMAGE_CMAP, check_images, class_indices


def _sample_per_class(labels, rows, per_class: int, seed: int, class_names) -> list:
    """``per_class`` random indices of each class in ``rows``, sorted within a class."""
    rng = np.random.default_rng(seed)
    picked = []
    for c in rows:
        pool = np.flatnonzero(labels == c)
        if len(pool) < per_class:
            raise ValueError(
                f"class {class_names[c]!r} has {len(pool)} images; cannot draw {per_class}"
            )
        picked.extend(np.sort(rng.choice(pool, per_class, replace=False)))
    return picked


def class_sprite(
    images,
    labels,
    per_class: int = 10,
    seed: int = 0,
    classes=None,
    class_names: Sequence[str] = CLASS_NAMES,
) -> Figure:
    """One row per class of ``per_class`` random samples, tiled with skimage's montage."""
    images, labels = check_images(images, labels)
    rows = class_indices(classes, class_names)
    if per_class < 1:
        raise ValueError(f"per_class: expected at least 1, got {per_class}")
    picked = _sample_per_class(labels, rows, per_class, seed, class_names)
    pad = 2
    sheet = montage(
        images[np.array(picked)],
        grid_shape=(len(rows), per_class),
        padding_width=pad,
        fill=0,
    )
    height = images.shape[1]
    fig = Figure(figsize=(0.55 * per_class + 1.6, 0.55 * len(rows) + 0.4))
    ax = fig.subplots()
    ax.imshow(sheet, cmap=IMAGE_CMAP, interpolation="nearest")
    ax.set_yticks([pad + r * (height + pad) + height / 2 for r in range(len(rows))])
    ax.set_yticklabels([class_names[c] for c in rows])
    ax.set_xticks([])
    ax.tick_params(length=0)
    for spine in ax.spines.values():
        spine.set_visible(False)
    ax.set_title(f"{per_class} random images per class (seed {seed})")
    return fig


def mean_images(
    images, labels, classes=None, class_names: Sequence[str] = CLASS_NAMES, cols: int = 5
) -> Figure:
    """The average image of each class, on one shared grey scale."""
    images, labels = check_images(images, labels)
    chosen = class_indices(classes, class_names)
    means = []
    for c in chosen:
        members = images[labels == c]
        if not len(members):
            raise ValueError(f"class {class_names[c]!r} has no images")
        means.append(members.mean(axis=0))
    cols = min(cols, len(chosen))
    nrows = -(-len(chosen) // cols)
    fig = Figure(figsize=(1.9 * cols, 2.1 * nrows))
    axes = fig.subplots(nrows, cols, squeeze=False).ravel()
    top = max(float(m.max()) for m in means)
    for ax, c, mean in zip(axes, chosen, means, strict=False):
        ax.imshow(mean, cmap=IMAGE_CMAP, vmin=0, vmax=top, interpolation="nearest")
        ax.set_title(class_names[c], fontsize=10)
    for ax in axes:
        ax.set_axis_off()
    fig.suptitle("Mean image per class")
    return fig


def intensity_profiles(images, labels, n_classes: int = len(CLASS_NAMES)) -> dict:
    """Per class, the mean intensity (0..1) of each image row and column, and each image's mean.

    Returns ``{"rows": (C, H), "columns": (C, W), "brightness": (N,)}``.
    """
    images, labels = check_images(images, labels)
    rows, columns = [], []
    for c in range(n_classes):
        members = images[labels == c]
        if not len(members):
            raise ValueError(f"class {c} has no images")
        mean = members.mean(axis=0, dtype=np.float64) / 255
        rows.append(mean.mean(axis=1))
        columns.append(mean.mean(axis=0))
    brightness = images.reshape(len(images), -1).mean(axis=1, dtype=np.float64) / 255
    return {"rows": np.stack(rows), "columns": np.stack(columns), "brightness": brightness}


def _draw_profiles(ax_rows, ax_cols, profiles: dict, class_names, palette: dict) -> None:
    """The row profiles (height) and column profiles (width) of every class."""
    height, width = profiles["rows"].shape[1], profiles["columns"].shape[1]
    for name, row_profile, column_profile in zip(
        class_names, profiles["rows"], profiles["columns"], strict=True
    ):
        ax_rows.plot(row_profile, np.arange(height), color=palette[name], label=name)
        ax_cols.plot(np.arange(width), column_profile, color=palette[name], label=name)
    ax_rows.invert_yaxis()  # image row 0 is the top of the picture
    ax_rows.set_ylim(height - 0.5, -0.5)
    ax_rows.set_xlabel("mean intensity (0..1)")
    ax_rows.set_ylabel("image row (top to bottom)")
    ax_rows.set_title("Ink per row")
    ax_cols.set_xlim(-0.5, width - 0.5)
    ax_cols.set_xlabel("image column (left to right)")
    ax_cols.set_ylabel("mean intensity (0..1)")
    ax_cols.set_title("Ink per column")
    # Below the panel: inside it would cover the profiles, which fill the frame.
    ax_cols.legend(fontsize=8, ncols=5, loc="upper center", bbox_to_anchor=(0.5, -0.13))
    for ax in (ax_rows, ax_cols):
        ax.grid(alpha=0.3)


def _draw_brightness(ax_box, frame: pd.DataFrame, palette: dict) -> None:
    """A box per class of its images' mean brightness."""
    with warnings.catch_warnings():
        # seaborn 0.13.2 passes matplotlib 3.11 the deprecated ``vert``; nothing to act on.
        warnings.filterwarnings("ignore", "vert: bool", MatplotlibDeprecationWarning)
        # No fliers: with 6,000 images a class they would bury the boxes in dots.
        sns.boxplot(
            data=frame,
            y="class",
            x="brightness",
            hue="class",
            palette=palette,
            showfliers=False,
            legend=False,
            ax=ax_box,
        )
    ax_box.set_xlabel("mean intensity of an image (0..1)")
    ax_box.set_ylabel("")
    ax_box.set_title("Brightness of each image")
    ax_box.grid(axis="x", alpha=0.3)


def pixel_intensity_profiles(images, labels, class_names: Sequence[str] = CLASS_NAMES) -> Figure:
    """Where each class puts its ink: mean intensity per image row and column, and brightness.

    The row profile shows height (footwear fills only the middle rows), the
    column profile width and gaps (the two legs of trousers), and the box plot
    of each image's mean brightness how much ink a class carries (sandals little).
    """
    profiles = intensity_profiles(images, labels, len(class_names))
    palette = dict(zip(class_names, sns.color_palette("tab10", len(class_names)), strict=True))
    fig = Figure(figsize=(15, 5))
    ax_rows, ax_cols, ax_box = fig.subplots(1, 3, gridspec_kw={"width_ratios": [1, 1.3, 1.3]})
    _draw_profiles(ax_rows, ax_cols, profiles, class_names, palette)
    frame = pd.DataFrame(
        {
            "class": pd.Categorical(
                np.asarray(class_names)[np.asarray(labels)], categories=class_names
            ),
            "brightness": profiles["brightness"],
        }
    )
    _draw_brightness(ax_box, frame, palette)
    fig.suptitle(f"Pixel intensity by class ({len(frame):,} images)")
    fig.tight_layout()
    return fig
