"""`fmnist bench`: the original's pipeline and this project's, side by side.

Both sides train the VGG-like model on one machine in one run, one after the
other (never at the same time: they would share the cores):

* **original** (``original.py``): the original project's pipeline as it ran,
  rebuilt from the facts in docs/original.md: offline per-image augmentation
  into 3x the data, split after augmenting, tf.keras 2 in a subprocess
  (started by ``launch.py``). Skipped, with a note in the report, when tf-keras
  is missing.
* **project** (``project.py``): this project's pipeline, trained through
  ``training.prepare`` and ``training.fit`` in this process.

``spec.py`` holds the settings (``BenchSpec``) and the original's numbers;
``recorder.py`` times both sides the same way; ``report.py`` derives images/s,
GFLOP/s, fraction of peak and time-to-accuracy, and the ratios between the sides.

This module is the driver. It imports no Keras, TensorFlow or JAX: the CLI
imports it to register the subcommand (``fmnist bench --help``).
"""

from __future__ import annotations

import importlib.util
import sys

from .. import hardware
from .launch import run_original
from .report import SCHEMA, build_report, render_markdown, write_report
from .spec import (
    ORIGINAL_BUDGET_IMAGES,
    ORIGINAL_TEST_ACCURACY,
    QUICK,
    SIDES,
    BenchSpec,
    check_spec,
)

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

INSTALL_HINT = "pip install -e .[bench]  (or: pip install --no-deps tf-keras==<your TF version>)"


def tf_keras_available() -> bool:
    return importlib.util.find_spec("tf_keras") is not None


def _skipped(name: str, reason: str) -> dict:
    return {"pipeline": name, "status": "skipped", "reason": reason}


def run_side(name: str, spec: BenchSpec) -> dict:
    """One side's raw result: measured, or 'skipped' (not selected, or no tf-keras)."""
    if name not in spec.sides:
        return _skipped(name, "not selected (--sides)")
    if name == "project":
        # Loads Keras (and its backend): imported only when the project side runs.
        from .project import run_project

        return run_project(spec)
    if not tf_keras_available():
        return _skipped(
            name,
            "tf-keras (tf.keras 2) is not installed in this environment, so the original "
            f"pipeline could not run. Install it with: {INSTALL_HINT}",
        )
    return run_original(spec)


def run_bench(spec: BenchSpec, out_dir="runs/bench", command: str | None = None) -> dict:
    """Run the selected sides one after the other; write bench.json and bench.md."""
    # Loads Keras (and its backend): imported only when a benchmark runs.
    from .project import vgg_flops

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
