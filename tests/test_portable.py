"""A saved model.keras loads in plain Keras, without fmnist_lib, and predicts as trained."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile

import keras
import numpy as np
import pytest

from fmnist_lib.data import NUM_CLASSES, load_fashion_mnist, to_model_input
from fmnist_lib.inference import load_trained_model
from fmnist_lib.layers import FusedBatchNormalization
from fmnist_lib.models import build_model
from fmnist_lib.portable import (
    FUSED_DEFAULT_NAME,
    FUSED_REGISTERED_NAME,
    fused_copy,
    portable_copy,
)
from fmnist_lib.runs import atomic_save_model

# (model, augmentation, precision): Sequential, Functional, and augmentation in front
# of a mixed-precision Functional model (nested Sequential, bf16 layers).
CASES = {
    "arch1": ("arch1", (), "float32"),
    "resnet": ("resnet", (), "float32"),
    "resnet_aug_bf16": ("resnet", ("rotate", "flip", "translate", "erase"), "mixed_bfloat16"),
}
# The fused kernel and Keras' layer round differently: to float32 precision, or to
# about one bf16 unit (8 bits of mantissa) through the network.
FUSED_VS_KERAS = {"float32": 1e-5, "mixed_bfloat16": 1e-2}

# Runs in a fresh interpreter where importing fmnist_lib fails: plain Keras only.
LOADER = """
import json, sys
sys.modules["fmnist_lib"] = None
import keras, numpy as np
folder = sys.argv[1]
images = np.load(folder + "/images.npy")
def walk(model):
    for layer in model.layers:
        yield layer
        yield from walk(layer) if hasattr(layer, "layers") else ()
probs, classes = {}, {}
for name in sys.argv[2:]:
    model = keras.saving.load_model(f"{folder}/{name}.keras")
    probs[name] = model.predict(images, batch_size=64, verbose=0)
    classes[name] = sorted({type(x).__module__ for x in walk(model)})
    assert tuple(model.input_shape) == (None, 28, 28, 1), model.input_shape
np.savez(folder + "/probs.npz", **probs)
assert not any(m.startswith("fmnist") for m in sys.modules if sys.modules[m] is not None)
print(json.dumps(classes))
"""


def _walk(model):
    """Every layer of ``model``, those of nested models included."""
    for layer in model.layers:
        yield layer
        if hasattr(layer, "layers"):
            yield from _walk(layer)


def _policies(model) -> list[str]:
    """The precision policy of each computing layer (Keras reloads input layers as float32)."""
    leaves = [x for x in _walk(model) if not hasattr(x, "layers")]
    return [x.dtype_policy.name for x in leaves if not isinstance(x, keras.layers.InputLayer)]


def _trained(arch, augmentation, precision, images, labels):
    """A model fitted briefly on real images, with non-trivial batch-norm statistics."""
    keras.mixed_precision.set_global_policy(precision)
    try:
        model = build_model(arch, augmentation, seed=0)
        model.compile("adam", "categorical_crossentropy", metrics=["accuracy"])
    finally:
        keras.mixed_precision.set_global_policy("float32")
    targets = keras.utils.to_categorical(labels, NUM_CLASSES)
    model.fit(images, targets, batch_size=128, epochs=1, verbose=0)
    rng = np.random.default_rng(0)
    for layer in _walk(model):
        if isinstance(layer, FusedBatchNormalization):
            shape = layer.moving_mean.shape
            layer.moving_mean.assign(layer.moving_mean + rng.normal(0.0, 0.1, shape))
            layer.moving_variance.assign(layer.moving_variance * rng.uniform(0.7, 1.4, shape))
    return model


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """Each case trained, saved by atomic_save_model, and loaded by plain Keras."""
    folder = tmp_path_factory.mktemp("portable")
    (x_train, y_train), (x_test, _) = load_fashion_mnist()
    images = to_model_input(x_test[:200])
    np.save(folder / "images.npy", images)
    models = {}
    for name, (arch, augmentation, precision) in CASES.items():
        model = _trained(
            arch, augmentation, precision, to_model_input(x_train[:512]), y_train[:512]
        )
        atomic_save_model(model, folder / f"{name}.keras")
        models[name] = model
    proc = subprocess.run(
        [sys.executable, "-c", LOADER, str(folder), *CASES],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=folder,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    classes = json.loads(proc.stdout.strip().splitlines()[-1])
    probs = dict(np.load(folder / "probs.npz"))
    return {
        "folder": folder,
        "images": images,
        "models": models,
        "probs": probs,
        "classes": classes,
    }


@pytest.mark.slow
@pytest.mark.parametrize("name", CASES)
def test_plain_keras_loads_the_saved_model_and_predicts_as_trained(saved, name):
    model, images = saved["models"][name], saved["images"]
    probs = saved["probs"][name]
    assert all(module.startswith("keras.") for module in saved["classes"][name])
    config = zipfile.ZipFile(saved["folder"] / f"{name}.keras").read("config.json").decode()
    assert "fmnist" not in config and "Fused" not in config
    # What plain Keras computes is exactly what this process computes with Keras' layer...
    expected = portable_copy(model).predict(images, batch_size=64, verbose=0)
    np.testing.assert_allclose(probs, expected, rtol=0, atol=1e-6)
    # ...and the trained fused model's probabilities, to the precision's rounding.
    trained = model.predict(images, batch_size=64, verbose=0)
    np.testing.assert_allclose(probs, trained, rtol=0, atol=FUSED_VS_KERAS[CASES[name][2]])
    assert np.mean(probs.argmax(1) == trained.argmax(1)) >= 0.99


@pytest.mark.slow
@pytest.mark.parametrize("name", CASES)
def test_load_trained_model_fuses_again_and_predicts_exactly_as_trained(saved, name):
    model, images = saved["models"][name], saved["images"]
    loaded, tta_flip = load_trained_model(saved["folder"] / f"{name}.keras")
    assert tta_flip is False
    fused = [layer for layer in _walk(loaded) if isinstance(layer, FusedBatchNormalization)]
    assert len(fused) == sum(isinstance(x, FusedBatchNormalization) for x in _walk(model))
    assert not any(type(x) is keras.layers.BatchNormalization for x in _walk(loaded))
    assert _policies(loaded) == _policies(model)
    np.testing.assert_allclose(
        loaded.predict(images, batch_size=64, verbose=0),
        model.predict(images, batch_size=64, verbose=0),
        rtol=0,
        atol=1e-6,
    )


@pytest.mark.slow
def test_the_saved_model_keeps_the_optimizer_state(saved):
    model = saved["models"]["resnet_aug_bf16"]
    loaded = keras.saving.load_model(saved["folder"] / "resnet_aug_bf16.keras")
    assert loaded.compiled and int(loaded.optimizer.iterations) == 4  # 512 images / 128
    for mine, theirs in zip(loaded.optimizer.variables, model.optimizer.variables, strict=True):
        np.testing.assert_array_equal(np.asarray(mine), np.asarray(theirs))


@pytest.mark.slow
def test_weights_of_the_loaded_model_load_into_a_freshly_built_one(saved, tmp_path):
    """Weights files address layers by class: those of load_trained_model's model fit
    the fused models this project builds (those of Keras' layers do not)."""
    model = saved["models"]["resnet_aug_bf16"]
    loaded, _ = load_trained_model(saved["folder"] / "resnet_aug_bf16.keras")
    loaded.save_weights(tmp_path / "w.weights.h5")
    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    try:
        fresh = build_model("resnet", CASES["resnet_aug_bf16"][1], seed=1)
    finally:
        keras.mixed_precision.set_global_policy("float32")
    fresh.load_weights(tmp_path / "w.weights.h5")
    images = saved["images"]
    np.testing.assert_array_equal(
        fresh.predict(images, batch_size=64, verbose=0),
        model.predict(images, batch_size=64, verbose=0),
    )


def test_a_model_without_the_fused_layer_is_saved_as_it_is():
    model = build_model("arch1", batch_norm="keras")
    assert portable_copy(model) is model
    assert fused_copy(model, FusedBatchNormalization) is model  # default names, not fused ones


def test_older_files_naming_the_fused_layer_still_load(tmp_path):
    model = build_model("arch2", seed=0)
    model.save(tmp_path / "model.keras")  # as atomic_save_model saved before portable copies
    loaded, _ = load_trained_model(tmp_path / "model.keras")
    assert sum(isinstance(x, FusedBatchNormalization) for x in loaded.layers) == 2
    images = np.random.default_rng(0).random((8, 28, 28, 1), dtype=np.float32)
    np.testing.assert_array_equal(
        loaded.predict(images, verbose=0), model.predict(images, verbose=0)
    )


def test_the_fused_layer_is_known_by_its_registered_and_default_names():
    assert keras.saving.get_registered_name(FusedBatchNormalization) == FUSED_REGISTERED_NAME
    for _ in range(2):  # the first in a process, or a numbered one
        assert FUSED_DEFAULT_NAME.fullmatch(FusedBatchNormalization().name)
    assert not FUSED_DEFAULT_NAME.fullmatch(keras.layers.BatchNormalization().name)
