"""Where figures go and how they are written: ``figures_dir`` and ``save_fig``."""

from __future__ import annotations

import io
import os
import re
from pathlib import Path

from matplotlib.figure import Figure

from ..paths import PROJECT_ROOT
from ..runs import atomic_write_bytes

DPI = 120
FIGURES_ENV = "FMNIST_FIGURES_DIR"
# Without $FMNIST_FIGURES_DIR (an interactive kernel, a script) figures go to this
# folder, ignored by git: figures/ holds the README's figures, which only
# `fmnist run-notebooks --in-place` (`make reproduce`) rewrites, by setting the variable.
SCRATCH_FIGURES_DIR = PROJECT_ROOT / "runs" / "figures"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


def figures_dir() -> Path:
    """``$FMNIST_FIGURES_DIR`` when set, else ``runs/figures/`` under the repository root."""
    override = os.environ.get(FIGURES_ENV)
    return Path(override) if override else SCRATCH_FIGURES_DIR


def save_fig(fig: Figure, name: str) -> Path:
    """Write ``fig`` as ``<figures_dir>/<name>.png`` at the fixed dpi; return the path.

    The file is written atomically, and without the matplotlib version in its
    metadata, so the same figure gives the same bytes on another install.
    """
    if not isinstance(fig, Figure):
        raise TypeError(f"save_fig: expected a matplotlib Figure, got {type(fig).__name__}")
    name = name[:-4] if name.endswith(".png") else name
    if not _NAME.match(name):
        raise ValueError(
            f"save_fig: {name!r} is not a plain file name (letters, digits, '_', '-', '.')"
        )
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI, bbox_inches="tight", metadata={"Software": None})
    path = figures_dir() / f"{name}.png"
    atomic_write_bytes(path, buffer.getvalue())
    return path
