"""The optimizer a config builds: its schedule, its weight decay and its weight average."""

import keras
import numpy as np
import pytest

from fmnist_lib.config import TrainConfig
from fmnist_lib.results import recipe
from fmnist_lib.runs import read_json
from fmnist_lib.training import BEST_WEIGHTS, compile_model, prepare, train


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


class LastTrainedWeights(keras.callbacks.Callback):
    """The weights being trained as each epoch's last batch ends (before any swap)."""

    def on_train_begin(self, logs=None):
        self.by_epoch = []

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        weights = [np.array(v.numpy()) for v in self.model.trainable_variables]
        if len(self.by_epoch) == self.epoch:
            self.by_epoch.append(weights)
        else:
            self.by_epoch[self.epoch] = weights


def test_weight_ema_is_what_validation_scores_and_the_checkpoint_keeps(tmp_path):
    config = TrainConfig(
        arch="arch1", epochs=3, subset=1500, augmentation=(), ema_momentum=0.9, verbose=0
    )
    trained = LastTrainedWeights()
    run_dir = train(config, run_dir=tmp_path / "ema", extra_callbacks=[trained])
    history = read_json(run_dir / "history.json")
    best = min(history, key=lambda r: r["val_loss"])

    prepared = prepare(config)
    prepared.model.load_weights(run_dir / BEST_WEIGHTS)
    kept = [np.array(v.numpy()) for v in prepared.model.trainable_variables]
    # The checkpoint is the average, not the weights training had reached at that epoch...
    raw = trained.by_epoch[best["epoch"] - 1]
    assert max(np.abs(k - r).max() for k, r in zip(kept, raw, strict=True)) > 1e-3
    # ...and it is the very model whose validation loss chose it.
    val_loss = prepared.model.evaluate(*prepared.validation, batch_size=1000, verbose=0)[0]
    np.testing.assert_allclose(val_loss, best["val_loss"], rtol=1e-3)
    assert "weight EMA 0.9" in recipe(read_json(run_dir / "config.json"))
