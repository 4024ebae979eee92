"""The optimizer a config builds: its schedule and its weight decay."""

import keras
import numpy as np
import pytest

from fmnist_lib.config import TrainConfig
from fmnist_lib.training import compile_model


def _one_step_without_gradient(model):
    """Apply zero gradients once: whatever changes is the weight decay alone."""
    before = [np.array(v.numpy()) for v in model.trainable_variables]
    zeros = [keras.ops.zeros_like(v) for v in model.trainable_variables]
    model.optimizer.apply_gradients(zip(zeros, model.trainable_variables, strict=True))
    return before, [np.array(v.numpy()) for v in model.trainable_variables]


@pytest.mark.parametrize("optimizer", ["adam", "sgd"])
def test_weight_decay_shrinks_kernels_and_spares_biases_and_batch_norm(optimizer):
    config = TrainConfig(
        arch="arch1",
        optimizer=optimizer,
        learning_rate=0.01,
        weight_decay=0.5,
        augmentation=(),
        precision="float32",
    )
    model, _ = compile_model(config, steps_per_epoch=10)
    # Biases start at zero and batch norm's scales at one, which no decay could
    # show on a bias; give every variable a nonzero value first.
    for v in model.trainable_variables:
        v.assign(keras.ops.ones_like(v))
    before, after = _one_step_without_gradient(model)
    shrink = 1 - config.weight_decay * config.learning_rate
    decayed = spared = 0
    for v, old, new in zip(model.trainable_variables, before, after, strict=True):
        if len(v.shape) > 1:  # conv and dense kernels
            np.testing.assert_allclose(new, old * shrink, rtol=1e-6)
            decayed += 1
        else:  # biases, batch-norm gamma and beta
            np.testing.assert_array_equal(new, old)
            spared += 1
    assert decayed == 5 and spared == 9  # arch1: 4 conv/dense kernels + output, 5 biases + 2 BN x 2


def test_no_weight_decay_by_default():
    config = TrainConfig(arch="arch1", augmentation=(), precision="float32")
    assert config.weight_decay == 0.0
    model, _ = compile_model(config, steps_per_epoch=10)
    for v in model.trainable_variables:
        v.assign(keras.ops.ones_like(v))
    before, after = _one_step_without_gradient(model)
    for old, new in zip(before, after, strict=True):
        np.testing.assert_array_equal(new, old)
