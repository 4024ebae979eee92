"""The same code trains on the JAX backend, as it does on a GPU host without TensorFlow."""

from __future__ import annotations

import json
import os
import subprocess
import sys

JAX_ENV = {**os.environ, "KERAS_BACKEND": "jax"}


def test_augmented_models_stay_jitted_on_jax():
    # Keras marks RandomRotation/RandomTranslation unfit for XLA; unjitted, JAX trains eagerly,
    # which ran VGG on an H200 at 396 instead of ~80,000 images/s.
    code = (
        "from fmnist_lib.config import TrainConfig\n"
        "from fmnist_lib.training import compile_model\n"
        "layers = ('rotate', 'flip', 'translate', 'erase')\n"
        "config = TrainConfig(arch='arch2', augmentation=layers)\n"
        "model, _ = compile_model(config, steps_per_epoch=10)\n"
        "print('jit_compile', model.jit_compile)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], env=JAX_ENV, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip().splitlines()[-1] == "jit_compile True"


def test_a_smoke_run_trains_on_jax(tmp_path):
    subprocess.run(
        [sys.executable, "-m", "fmnist_lib", "train", "--profile", "smoke", "--arch", "arch2"]
        + ["--cutmix", "0.5", "--out", str(tmp_path), "--run-name", "jax", "--quiet"],
        env=JAX_ENV,
        check=True,
        timeout=600,
    )
    metrics = json.loads((tmp_path / "jax" / "metrics.json").read_text())
    assert metrics["hardware"]["keras_backend"] == "jax"
    assert metrics["config"]["augmentation"] == ["rotate", "flip"]
    assert metrics["config"]["cutmix"] == 0.5  # mixed in the PyDataset, not in tf.data
    # 1,800 images for one epoch: well above the 10% of guessing, far from converged.
    assert 0.2 < metrics["test"]["accuracy"] < 0.95
