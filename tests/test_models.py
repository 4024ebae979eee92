"""The registry reproduces the original's architectures exactly."""

from __future__ import annotations

import numpy as np
import pytest

from fmnist_lib.augment import check_augmentation
from fmnist_lib.models import build_model, count_params, list_models
from fmnist_lib.reference import ORIGINAL_AUGMENTATION, ORIGINAL_RESULTS

ORIGINAL_TRAINABLE = {"arch1": 848_330, "arch2": 493_772, "vgg": 1_677_674}
ORIGINAL_TOTAL = {"arch1": 848_522, "arch2": 493_902, "vgg": 1_679_082}


@pytest.mark.parametrize("name", ["arch1", "arch2", "vgg"])
def test_parameter_counts_match_the_original(name):
    counts = count_params(build_model(name))
    assert counts["trainable"] == ORIGINAL_TRAINABLE[name]
    assert counts["total"] == ORIGINAL_TOTAL[name]
    # the counts the notebooks print as the original's
    assert ORIGINAL_RESULTS[name]["trainable_params"] == ORIGINAL_TRAINABLE[name]
    assert ORIGINAL_RESULTS[name]["total_params"] == ORIGINAL_TOTAL[name]
    # augmentation layers add no parameters
    assert count_params(build_model(name, ORIGINAL_AUGMENTATION)) == counts


def test_registry_lists_models_and_rejects_unknown():
    assert {"arch1", "arch2", "vgg", "resnet", "resnet64", "resnet96"} <= set(list_models())
    with pytest.raises(ValueError, match=r"valid names are \['arch1', 'arch2', 'vgg', 'resnet'"):
        build_model("resnet9000")


def test_resnet_is_a_residual_network_with_augmentation_in_front():
    import keras

    model = build_model("resnet", ("flip", "translate", "erase"), seed=0)
    assert count_params(model) == {"trainable": 375_242, "total": 376_746}
    kinds = [type(layer).__name__ for layer in model.layers]
    assert kinds.count("Add") == 4  # two stages of two residual blocks
    assert kinds[1] == "Sequential" and model.layers[1].name == "augmentation"
    assert model.output_shape == (None, 10)
    # the t-SNE map reads the input of the last Dense layer
    assert isinstance(model.get_layer(index=-1), keras.layers.Dense)


def _conv_filters(model):
    import keras

    return [layer.filters for layer in model.layers if isinstance(layer, keras.layers.Conv2D)]


@pytest.mark.parametrize(
    ("name", "stem", "widths", "trainable"),
    [("resnet64", 32, (64, 128), 658_922), ("resnet96", 64, (96, 192), 1_495_434)],
)
def test_wider_resnets_are_resnet_with_more_filters(name, stem, widths, trainable):
    base, wide = build_model("resnet"), build_model(name)
    # the same layers in the same order: only the number of filters differs
    assert [type(layer) for layer in wide.layers] == [type(layer) for layer in base.layers]
    assert count_params(wide)["trainable"] == trainable
    # stem; per stage: block 1 (two convs, then its 1x1 projection), block 2 (two convs)
    per_stage = [[filters] * 5 for filters in widths]
    assert _conv_filters(wide) == [stem, *per_stage[0], *per_stage[1]]
    assert _conv_filters(base) == [32, *[48] * 5, *[96] * 5]


@pytest.mark.parametrize("name", ["vgg", "resnet", "resnet64"])
def test_outputs_are_float32_probabilities(name):
    model = build_model(name)
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


def test_auto_precision_follows_the_hardware(monkeypatch):
    from fmnist_lib import hardware

    monkeypatch.setattr(hardware, "gpu_names", lambda: [])
    monkeypatch.setattr(hardware, "has_bf16", lambda: False)
    assert hardware.auto_precision() == "float32"  # AVX2-only CPUs emulate bf16
    monkeypatch.setattr(hardware, "has_bf16", lambda: True)
    assert hardware.auto_precision() == "mixed_bfloat16"
    monkeypatch.setattr(hardware, "gpu_names", lambda: ["/physical_device:GPU:0"])
    assert hardware.auto_precision() == "mixed_float16"


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        ("fpu avx2 fma", False),  # Zen 3
        ("avx2 avx512f avx512_bf16", True),  # Zen 5
        ("avx2 avx512f amx_bf16 amx_tile", True),  # Xeon with AMX
    ],
)
def test_native_bf16_is_detected_from_the_cpu_flags(monkeypatch, flags, expected):
    from fmnist_lib import hardware

    monkeypatch.setattr(hardware, "_cpuinfo", lambda field: flags if field == "flags" else None)
    assert hardware.has_bf16() is expected


@pytest.mark.parametrize(
    ("vendor", "family", "model", "expected"),
    [
        ("AuthenticAMD", "25", "1", "Zen 3"),  # Milan: AVX2 only
        ("AuthenticAMD", "25", "17", "Zen 4"),  # Genoa: AVX-512 at half width
        ("AuthenticAMD", "26", "2", "Zen 5"),  # Turin: AVX-512 at full width
        ("GenuineIntel", "6", "143", "family 6 model 143"),
        ("GenuineIntel", None, None, None),  # no numbers to tell
    ],
)
def test_the_cpu_generation_tells_apart_cpus_of_one_name(
    monkeypatch, vendor, family, model, expected
):
    from fmnist_lib import hardware
    from fmnist_lib.records import machine_kind

    fields = {"vendor_id": vendor, "cpu family": family, "model": model}
    monkeypatch.setattr(hardware, "_cpuinfo", fields.get)
    assert hardware.cpu_generation() == expected
    epyc = {"cpu": "AMD EPYC", "bf16": True, "gpus": []}
    kind = machine_kind({**epyc, "cpu_generation": expected})
    # A record from before generations were recorded is a kind of its own.
    assert machine_kind(epyc) == "AMD EPYC (AVX-512 BF16)"
    assert (kind == machine_kind(epyc)) is (expected is None)


def test_this_machines_generation_is_recorded_with_its_runs():
    from fmnist_lib import hardware

    described = hardware.describe()
    assert described["cpu_generation"] == hardware.cpu_generation()
    # Every x86 /proc/cpuinfo numbers its family and model.
    assert described["cpu_generation"] is not None or hardware.platform.machine() != "x86_64"


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


def test_flip_tta_averages_each_image_with_its_mirror(trained_run):
    import keras

    from fmnist_lib.data import load_fashion_mnist, to_model_input
    from fmnist_lib.inference import predict_probabilities

    model = keras.saving.load_model(trained_run / "model.keras")
    _, (x_test, _) = load_fashion_mnist()
    images = to_model_input(x_test[:300])
    mirrored = images[:, :, ::-1]
    plain = predict_probabilities(model, images)
    tta = predict_probabilities(model, images, tta_flip=True)
    np.testing.assert_allclose(tta, (plain + predict_probabilities(model, mirrored)) / 2, atol=1e-6)
    np.testing.assert_allclose(tta.sum(axis=1), 1.0, rtol=1e-5)
    assert not np.allclose(tta, plain)  # the trained model is not mirror-symmetric by itself
    # with TTA an item and its mirror get the same prediction
    mirrored_tta = predict_probabilities(model, mirrored, tta_flip=True)
    np.testing.assert_allclose(tta, mirrored_tta, atol=1e-6)


def test_model_summary_is_plain_text_with_every_layer_and_the_parameter_count():
    from fmnist_lib.summaries import model_summary

    model = build_model("arch1")
    text = model_summary(model)
    assert isinstance(text, str) and "<pre" not in text and "\x1b[" not in text
    for layer in model.layers:
        assert layer.name in text
    assert f"Total params: {count_params(model)['total']:,}" in text
