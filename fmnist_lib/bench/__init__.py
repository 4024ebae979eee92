"""`fmnist bench`: the original's pipeline and this project's, side by side.

Both sides train the VGG-like model on one machine in one run, one after the
other (never at the same time: they would share the cores):

* **original** (``original.py``): the original project's pipeline as it ran,
  rebuilt from the facts in docs/original.md: offline per-image augmentation
  into 3x the data, split after augmenting, tf.keras 2 in a subprocess. Skipped,
  with a note in the report, when tf-keras is missing.
* **project** (``project.py``): this project's pipeline, trained through
  ``training.prepare`` and ``training.fit`` in this process.

``recorder.py`` times both sides the same way; ``report.py`` derives images/s,
GFLOP/s, fraction of peak and time-to-accuracy, and the ratios between the sides.

This module holds the settings and the driver. It imports no Keras, TensorFlow or
JAX: the CLI imports it to register the subcommand (``fmnist bench --help``).
"""

from __future__ import annotations

import dataclasses
import importlib.util
import sys
from dataclasses import dataclass

from ..config import PRECISIONS
from ..errors import ConfigError
from ..reference import ORIGINAL_RESULTS
from .report import SCHEMA, render_markdown

__all__ = [
    "INSTALL_HINT",
    "ORIGINAL_BUDGET_IMAGES",
    "ORIGINAL_TEST_ACCURACY",
    "QUICK",
    "SCHEMA",
    "SIDES",
    "BenchSpec",
    "check_spec",
    "render_markdown",
    "run_bench",
    "run_side",
    "tf_keras_available",
]

SIDES = ("original", "project")

# The original's VGG-like model after 10 epochs (docs/original.md), best val_loss checkpoint.
ORIGINAL_TEST_ACCURACY = ORIGINAL_RESULTS["vgg"]["test_accuracy"]
ORIGINAL_BUDGET_IMAGES = ORIGINAL_RESULTS["vgg"]["images_seen"]  # 10 epochs x 144,000 images

# --quick: a CI smoke run of about a minute. Its accuracy target is deliberately
# low and measured on a test subset, so its time-to-accuracy is not comparable.
QUICK = {"subset": 1000, "test_subset": 2000, "max_epochs": 1, "target": 0.50}

INSTALL_HINT = "pip install -e .[bench]  (or: pip install --no-deps tf-keras==<your TF version>)"


@dataclass
class BenchSpec:
    """What one benchmark run does; handed to both sides (as JSON to the subprocess)."""

    quick: bool = False
    subset: int | None = None  # source training images (from 60,000), both sides
    test_subset: int | None = None  # test images the accuracy probe uses (None: all 10,000)
    target: float = ORIGINAL_TEST_ACCURACY
    max_epochs: int | None = None
    max_images: int | None = ORIGINAL_BUDGET_IMAGES  # images seen in training, per side
    time_limit: float | None = None  # seconds of elapsed wall time, per side
    seed: int = 0
    data_dir: str | None = None
    sides: tuple[str, ...] = SIDES
    verbose: bool = True
    # The project side's recipe (fmnist_lib.recipes; None: the original's), schedule
    # length and precision; the original side always trains as the original did.
    project_recipe: str | None = None
    project_epochs: int | None = None
    project_precision: str = "auto"

    @classmethod
    def quick_spec(cls, **overrides) -> BenchSpec:
        return cls(quick=True, max_images=None, **{**QUICK, **overrides})

    def to_dict(self) -> dict:
        data = dataclasses.asdict(self)
        data["sides"] = list(self.sides)
        return data


def check_spec(spec: BenchSpec) -> None:
    if spec.subset is not None and not 100 <= spec.subset <= 60_000:
        raise ConfigError(f"subset: {spec.subset} is out of range; it must be in [100, 60,000]")
    if spec.test_subset is not None and not 100 <= spec.test_subset <= 10_000:
        raise ConfigError(f"test_subset: {spec.test_subset} must be in [100, 10,000]")
    if not 0 < spec.target <= 1:
        raise ConfigError(f"target: {spec.target} must be an accuracy in (0, 1]")
    if spec.max_epochs is not None and spec.max_epochs < 1:
        raise ConfigError(f"max_epochs: {spec.max_epochs} must be at least 1")
    if spec.max_images is not None and spec.max_images < 1:
        raise ConfigError(f"max_images: {spec.max_images} must be at least 1")
    if spec.max_epochs is None and spec.max_images is None and spec.time_limit is None:
        raise ConfigError("give at least one cap: max_epochs, max_images or time_limit")
    if spec.max_epochs is None and spec.max_images is None:
        raise ConfigError("a time limit alone is not enough; also give max_epochs or max_images")
    if spec.project_recipe is not None:
        from ..recipes import recipe_settings

        recipe_settings(spec.project_recipe)  # ConfigError naming the valid recipes
    if spec.project_epochs is not None and spec.project_epochs < 1:
        raise ConfigError(f"project_epochs: {spec.project_epochs} must be at least 1")
    if spec.project_precision not in PRECISIONS:
        raise ConfigError(
            f"project_precision: {spec.project_precision!r}; choose one of {list(PRECISIONS)}"
        )
    unknown = [s for s in spec.sides if s not in SIDES]
    if unknown or not spec.sides:
        raise ConfigError(f"sides: {list(spec.sides)}; choose from {list(SIDES)}")


def tf_keras_available() -> bool:
    return importlib.util.find_spec("tf_keras") is not None


def _skipped(name: str, reason: str) -> dict:
    return {"pipeline": name, "status": "skipped", "reason": reason}


def run_side(name: str, spec: BenchSpec) -> dict:
    """One side's raw result: measured, or 'skipped' (not selected, or no tf-keras)."""
    if name not in spec.sides:
        return _skipped(name, "not selected (--sides)")
    if name == "project":
        from .project import run_project

        return run_project(spec)
    if not tf_keras_available():
        return _skipped(
            name,
            "tf-keras (tf.keras 2) is not installed in this environment, so the original "
            f"pipeline could not run. Install it with: {INSTALL_HINT}",
        )
    from .original import run_original

    return run_original(spec)


def run_bench(spec: BenchSpec, out_dir="runs/bench", command: str | None = None) -> dict:
    """Run the selected sides one after the other; write bench.json and bench.md."""
    from .. import hardware
    from .project import vgg_flops
    from .report import build_report, write_report

    check_spec(spec)
    flops = vgg_flops()
    peaks = {p: hardware.peak_gflops(p) for p in ("float32", "mixed_bfloat16")}
    machine = hardware.describe()
    sides = {}
    for name in SIDES:
        sides[name] = run_side(name, spec)
        if sides[name].get("status") == "ok":
            sides[name]["target"] = spec.target
    report = build_report(
        spec, sides, machine, peaks, flops, command or "fmnist " + " ".join(sys.argv[1:])
    )
    paths = write_report(report, out_dir)
    report["paths"] = [str(p) for p in paths]
    return report
