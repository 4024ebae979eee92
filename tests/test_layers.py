"""FusedBatchNormalization computes what Keras' BatchNormalization computes."""

from __future__ import annotations

import os
import subprocess
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf

from fmnist_lib.layers import FusedBatchNormalization
from fmnist_lib.models import build_model, count_params

# Outputs are compared in the policy's compute dtype: float32 agrees to rounding,
# 16-bit outputs to about one unit in the last place (bf16 has 8 bits of mantissa).
OUTPUT_TOLERANCE = {
    "float32": {"rtol": 1e-5, "atol": 1e-5},
    "mixed_bfloat16": {"rtol": 1e-2, "atol": 1e-2},
    "mixed_float16": {"rtol": 2e-3, "atol": 2e-3},
}
# Moving statistics and gradients stay float32 under every policy.
FLOAT32_TOLERANCE = {"rtol": 1e-5, "atol": 1e-5}
NAMES = ("gamma", "beta", "moving_mean", "moving_variance")


@pytest.fixture
def policy(request):
    keras.mixed_precision.set_global_policy(request.param)
    yield request.param
    keras.mixed_precision.set_global_policy("float32")


def _pair(shape, momentum=0.9, seed=0, **kwargs):
    """Keras' layer and the fused one, built with the same non-trivial weights."""
    rng = np.random.default_rng(seed)
    channels = (shape[kwargs.get("axis", -1)],)
    weights = [
        rng.normal(1.0, 0.2, channels),  # gamma
        rng.normal(0.0, 0.2, channels),  # beta
        rng.normal(0.0, 0.2, channels),  # moving mean
        rng.uniform(0.5, 2.0, channels),  # moving variance
    ]
    pair = []
    for cls in (keras.layers.BatchNormalization, FusedBatchNormalization):
        layer = cls(momentum=momentum, **kwargs)
        layer.build(shape)
        for name, value in zip(NAMES, weights, strict=True):
            getattr(layer, name).assign(value.astype(layer.variable_dtype))
        pair.append(layer)
    return pair


def _train_step(layer, jit_compile=False):
    """One training-mode call in a graph, as fit runs it: outputs and gradients."""

    @tf.function(jit_compile=jit_compile)
    def step(x, upstream):
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = layer(x, training=True)
            loss = tf.reduce_sum(tf.cast(y, tf.float32) * upstream)
        return y, tape.gradient(loss, [x, layer.gamma.value, layer.beta.value])

    return step


def _fused_op_types(layer, x, training, mask=None):
    call = tf.function(lambda x: layer(x, training=training, mask=mask))
    graph = call.get_concrete_function(x).graph
    return {op.type for op in graph.get_operations()} & {"FusedBatchNormV3"}


def _as_float32(tensors):
    return [np.asarray(tf.cast(t, tf.float32)) for t in tensors]


@pytest.mark.parametrize("policy", list(OUTPUT_TOLERANCE), indirect=True)
@pytest.mark.parametrize("shape", [(16, 6, 6, 8), (32, 8)], ids=["4d", "2d"])
def test_matches_keras_in_training_and_inference(policy, shape):
    keras_bn, fused_bn = _pair(shape)
    rng = np.random.default_rng(1)
    x = tf.constant(rng.normal(1.5, 2.0, shape), tf.float32)
    assert _fused_op_types(fused_bn, x, training=True) == {"FusedBatchNormV3"}
    assert _fused_op_types(fused_bn, x, training=False) == {"FusedBatchNormV3"}
    keras_step, fused_step = _train_step(keras_bn), _train_step(fused_bn)
    initial_variance = fused_bn.moving_variance.numpy()
    for _ in range(3):
        x = tf.constant(rng.normal(1.5, 2.0, shape), tf.float32)
        upstream = tf.constant(rng.normal(0.0, 1.0, shape), tf.float32)
        (y_keras, grads_keras), (y_fused, grads_fused) = (
            keras_step(x, upstream),
            fused_step(x, upstream),
        )
        assert y_fused.dtype == y_keras.dtype == keras.mixed_precision.global_policy().compute_dtype
        np.testing.assert_allclose(*_as_float32([y_fused, y_keras]), **OUTPUT_TOLERANCE[policy])
        for g_fused, g_keras in zip(grads_fused, grads_keras, strict=True):
            scale = float(np.abs(_as_float32([g_keras])[0]).max())
            np.testing.assert_allclose(
                *_as_float32([g_fused, g_keras]),
                rtol=0,
                atol=OUTPUT_TOLERANCE[policy]["atol"] * scale,
            )
    # The kernel's Bessel factor n/(n-1) (32/31 for the 2-D batch) would show here:
    # the fused layer must average the biased batch variance, as Keras does.
    for name in ("moving_mean", "moving_variance"):
        np.testing.assert_allclose(
            getattr(fused_bn, name).numpy(), getattr(keras_bn, name).numpy(), **FLOAT32_TOLERANCE
        )
    assert not np.allclose(fused_bn.moving_variance.numpy(), initial_variance)
    np.testing.assert_allclose(
        *_as_float32([fused_bn(x, training=False), keras_bn(x, training=False)]),
        **OUTPUT_TOLERANCE[policy],
    )


def test_matches_keras_under_xla():
    # Keras compiles the train step with XLA on TensorFlow when every layer allows
    # it (a model without augmentation); XLA has its own lowering of the kernel.
    shape = (16, 6, 6, 8)
    keras_bn, fused_bn = _pair(shape)
    rng = np.random.default_rng(2)
    x = tf.constant(rng.normal(1.5, 2.0, shape), tf.float32)
    upstream = tf.constant(rng.normal(0.0, 1.0, shape), tf.float32)
    y_keras, _ = _train_step(keras_bn, jit_compile=True)(x, upstream)
    y_fused, _ = _train_step(fused_bn, jit_compile=True)(x, upstream)
    np.testing.assert_allclose(y_fused.numpy(), y_keras.numpy(), **FLOAT32_TOLERANCE)
    np.testing.assert_allclose(
        fused_bn.moving_variance.numpy(), keras_bn.moving_variance.numpy(), **FLOAT32_TOLERANCE
    )


@pytest.mark.parametrize(
    ("shape", "kwargs", "mask"),
    [
        ((4, 5, 5, 3), {"axis": 1}, None),  # not the channels-last axis
        ((4, 7, 3), {}, None),  # 3-D
        ((8, 3), {}, np.arange(8) % 3 > 0),  # masked
        ((4, 5, 5, 3), {"dtype": "float64"}, None),  # float64 weights
        ((4, 5, 5, 3), {"renorm": True}, None),
    ],
    ids=["axis1", "3d", "mask", "float64", "renorm"],
)
def test_what_it_cannot_fuse_runs_keras_own_code(shape, kwargs, mask):
    keras_bn, fused_bn = _pair(shape, **kwargs)
    x = np.random.default_rng(3).normal(1.0, 2.0, shape)
    x_tensor = tf.constant(x, keras_bn.compute_dtype)
    assert not _fused_op_types(fused_bn, x_tensor, training=True, mask=mask)
    for training in (True, False):
        np.testing.assert_array_equal(
            np.asarray(fused_bn(x, training=training, mask=mask)),
            np.asarray(keras_bn(x, training=training, mask=mask)),
        )
    np.testing.assert_array_equal(
        fused_bn.moving_variance.numpy(), keras_bn.moving_variance.numpy()
    )


def test_a_frozen_layer_normalises_with_its_moving_statistics():
    keras_bn, fused_bn = _pair((8, 4))
    keras_bn.trainable = fused_bn.trainable = False
    x = np.random.default_rng(4).normal(1.0, 2.0, (8, 4)).astype(np.float32)
    np.testing.assert_allclose(
        np.asarray(fused_bn(x, training=True)),
        np.asarray(keras_bn(x, training=True)),
        **FLOAT32_TOLERANCE,
    )
    np.testing.assert_array_equal(fused_bn.moving_mean.numpy(), keras_bn.moving_mean.numpy())


def test_a_saved_model_loads_with_the_fused_layer_and_the_same_predictions(tmp_path):
    model = build_model("arch2", seed=0)
    model.compile("adam", "categorical_crossentropy")
    rng = np.random.default_rng(5)
    x = rng.random((32, 28, 28, 1), dtype=np.float32)
    model.train_on_batch(x, keras.utils.to_categorical(rng.integers(0, 10, 32), 10))
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    kinds = [type(layer) for layer in loaded.layers]
    assert kinds.count(FusedBatchNormalization) == 2
    assert keras.layers.BatchNormalization not in kinds
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))


def test_build_model_chooses_the_batch_norm_layer():
    fused, plain = build_model("vgg"), build_model("vgg", batch_norm="keras")
    assert sum(isinstance(layer, FusedBatchNormalization) for layer in fused.layers) == 5
    assert not any(isinstance(layer, FusedBatchNormalization) for layer in plain.layers)
    assert sum(type(layer) is keras.layers.BatchNormalization for layer in plain.layers) == 5
    assert count_params(fused) == count_params(plain)
    with pytest.raises(ValueError, match=r"batch_norm: unknown 'tf'; valid names are \['fused'"):
        build_model("vgg", batch_norm="tf")


def test_on_jax_it_is_exactly_keras_own_layer():
    code = (
        "import keras, numpy as np\n"
        "from fmnist_lib.layers import FusedBatchNormalization\n"
        "assert keras.backend.backend() == 'jax'\n"
        "rng = np.random.default_rng(0)\n"
        "for shape in [(16, 6, 6, 8), (32, 8)]:\n"
        "    layers = [keras.layers.BatchNormalization(), FusedBatchNormalization()]\n"
        "    weights = [rng.normal(1, .2, shape[-1:]).astype('float32') for _ in range(3)]\n"
        "    weights.append(rng.uniform(.5, 2, shape[-1:]).astype('float32'))\n"
        "    outs = []\n"
        "    for layer in layers:\n"
        "        layer.build(shape)\n"
        "        layer.set_weights(weights)\n"
        "    for step in range(3):\n"
        "        x = rng.normal(1.5, 2, shape).astype('float32')\n"
        "        outs.append([np.asarray(l(x, training=True)) for l in layers])\n"
        "    outs.append([np.asarray(l(x, training=False)) for l in layers])\n"
        "    outs.append([l.moving_variance.numpy() for l in layers])\n"
        "    for a, b in outs:\n"
        "        np.testing.assert_array_equal(a, b)\n"
        "print('identical')\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, "KERAS_BACKEND": "jax"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.strip().splitlines()[-1] == "identical"


class _BatchLosses(keras.callbacks.Callback):
    def on_train_begin(self, logs=None):
        self.losses = []

    def on_train_batch_end(self, batch, logs=None):
        self.losses.append(float(logs["loss"]))  # the running mean over the epoch


@pytest.mark.slow
@pytest.mark.parametrize("policy", ["float32", "mixed_bfloat16"], indirect=True)
def test_vgg_trains_with_it_as_with_keras_layer(policy, real_data_dir):
    from fmnist_lib.data import load_fashion_mnist, to_model_input

    (x, y), _ = load_fashion_mnist(real_data_dir)
    x, y = to_model_input(x[:384]), keras.utils.to_categorical(y[:384], 10)
    losses, weights = {}, None
    for batch_norm in ("fused", "keras"):
        keras.utils.set_random_seed(0)  # the same dropout masks in both models
        model = build_model("vgg", batch_norm=batch_norm)
        if weights is None:
            weights = model.get_weights()
        model.set_weights(weights)
        model.compile(keras.optimizers.Adam(1e-3), "categorical_crossentropy")
        record = _BatchLosses()
        model.fit(x, y, batch_size=64, epochs=1, shuffle=False, verbose=0, callbacks=[record])
        losses[batch_norm] = record.losses
    fused, plain = np.array(losses["fused"]), np.array(losses["keras"])
    assert np.isfinite(fused).all() and len(fused) == 6
    assert fused[-1] < 0.8 * fused[0]  # one epoch of six steps already learns
    np.testing.assert_allclose(fused, plain, rtol=0.1)
