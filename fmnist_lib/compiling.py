"""The compiled model a TrainConfig describes: optimizer, learning-rate schedule,
loss and precision policy. Training and the throughput measurement compile alike.
"""

from __future__ import annotations

import keras

from . import hardware
from .config import TrainConfig
from .models import build_model


def make_optimizer(config: TrainConfig, steps_per_epoch: int, model: keras.Model):
    """The configured optimizer and learning-rate schedule.

    With ``weight_decay`` the decay is decoupled from the gradient (Keras applies
    ``w -= w * weight_decay * learning_rate`` each step, AdamW's rule for Adam)
    and, as is usual, spares ``model``'s biases and batch-norm scales and offsets:
    decaying them only fights the normalisation.
    """
    lr = config.learning_rate
    total_steps = steps_per_epoch * config.epochs
    warmup = int(config.warmup_epochs * steps_per_epoch)
    if config.lr_schedule == "cosine":
        schedule = keras.optimizers.schedules.CosineDecay(
            initial_learning_rate=lr / 10 if warmup else lr,
            decay_steps=max(1, total_steps - warmup),
            warmup_target=lr if warmup else None,
            warmup_steps=warmup,
        )
    else:
        schedule = lr
    decay = {"weight_decay": config.weight_decay} if config.weight_decay else {}
    options = dict(decay)
    if config.ema_momentum is not None:
        options.update(use_ema=True, ema_momentum=config.ema_momentum)
    if config.optimizer == "adam":
        optimizer = keras.optimizers.Adam(schedule, **options)
    elif config.optimizer == "rmsprop":
        optimizer = keras.optimizers.RMSprop(schedule, **options)
    else:
        optimizer = keras.optimizers.SGD(schedule, momentum=0.9, nesterov=True, **options)
    if decay:
        spared = [v for v in model.trainable_variables if len(v.shape) <= 1]
        optimizer.exclude_from_weight_decay(var_list=spared)
    return optimizer


def compile_model(
    config: TrainConfig, steps_per_epoch: int, batch_norm: str = "fused", jit_compile="auto"
):
    """The configured model, compiled under its precision policy; returns (model, precision).

    The policy is set only while the layers are built (they keep it), so the
    process-wide default stays float32 for whatever runs next. ``jit_compile``
    is Keras' own: "auto" leaves XLA off on a CPU-only TensorFlow host.
    """
    precision = hardware.auto_precision() if config.precision == "auto" else config.precision
    previous_policy = keras.mixed_precision.global_policy()
    keras.mixed_precision.set_global_policy(precision)
    try:
        model = build_model(
            config.arch,
            config.augmentation,
            config.seed,
            batch_norm,
            augment_strength=config.augment_strength,
            model_options=config.model_options,
        )
        model.compile(
            optimizer=make_optimizer(config, steps_per_epoch, model),
            loss=keras.losses.CategoricalCrossentropy(label_smoothing=config.label_smoothing),
            metrics=["accuracy"],
            jit_compile=jit_compile,
        )
    finally:
        keras.mixed_precision.set_global_policy(previous_policy)
    return model, precision
