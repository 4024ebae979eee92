"""The registry reproduces the original's architectures exactly."""

from __future__ import annotations

import numpy as np
import pytest

from fmnist_lib.augment import DEFAULT_AUGMENTATION, check_augmentation
from fmnist_lib.models import build_model, count_params, list_models

ORIGINAL_TRAINABLE = {"arch1": 848_330, "arch2": 493_772, "vgg": 1_677_674}
ORIGINAL_TOTAL = {"arch1": 848_522, "arch2": 493_902, "vgg": 1_679_082}


@pytest.mark.parametrize("name", ["arch1", "arch2", "vgg"])
def test_parameter_counts_match_the_original(name):
    counts = count_params(build_model(name))
    assert counts["trainable"] == ORIGINAL_TRAINABLE[name]
    assert counts["total"] == ORIGINAL_TOTAL[name]
    # augmentation layers add no parameters
    assert count_params(build_model(name, DEFAULT_AUGMENTATION)) == counts


def test_registry_lists_models_and_rejects_unknown():
    assert {"arch1", "arch2", "vgg"} <= set(list_models())
    with pytest.raises(ValueError, match=r"valid names are \['arch1', 'arch2', 'vgg'"):
        build_model("resnet9000")


def test_outputs_are_float32_probabilities():
    model = build_model("vgg")
    probs = model.predict(
        np.random.default_rng(0).random((4, 28, 28, 1), dtype=np.float32), verbose=0
    )
    assert probs.dtype == np.float32 and probs.shape == (4, 10)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)


def test_augmentation_only_acts_in_training():
    model = build_model("arch1", ("rotate", "flip", "translate", "erase"), seed=0)
    augmenter = model.get_layer("augmentation")
    x = np.random.default_rng(1).random((8, 28, 28, 1), dtype=np.float32)
    assert np.array_equal(np.asarray(augmenter(x, training=False)), x)
    assert not np.array_equal(np.asarray(augmenter(x, training=True)), x)
    # predict and evaluate run with training=False: same input, same output
    first, second = model.predict(x, verbose=0), model.predict(x, verbose=0)
    assert np.array_equal(first, second)


def test_augmentation_names_are_validated():
    assert check_augmentation("rotate,flip") == ("rotate", "flip")
    assert check_augmentation("none") == ()
    with pytest.raises(ValueError, match="valid names are"):
        check_augmentation(["rotate", "zoom"])


def test_auto_precision_keeps_float32_on_cpus_until_bf16_is_validated(monkeypatch):
    from fmnist_lib import hardware

    monkeypatch.setattr(hardware, "gpu_names", lambda: [])
    monkeypatch.setattr(hardware, "has_bf16", lambda: True)
    assert hardware.auto_precision() == "float32"
    monkeypatch.setattr(hardware, "BF16_CPU_DEFAULT", True)
    assert hardware.auto_precision() == "mixed_bfloat16"
    monkeypatch.setattr(hardware, "gpu_names", lambda: ["/physical_device:GPU:0"])
    assert hardware.auto_precision() == "mixed_float16"


def test_mixed_precision_keeps_the_output_in_float32():
    import keras

    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    try:
        model = build_model("vgg")
    finally:
        keras.mixed_precision.set_global_policy("float32")
    assert model.layers[0].compute_dtype == "bfloat16"
    assert model.layers[-1].compute_dtype == "float32"
    assert model.predict(np.zeros((2, 28, 28, 1), np.float32), verbose=0).dtype == np.float32
