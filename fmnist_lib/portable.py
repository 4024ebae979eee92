"""Saved models that plain Keras loads: the fused batch-norm layer swapped for Keras' own.

A run's ``model.keras`` names only Keras' classes, so that any Keras 3 process
loads it without this package: each ``FusedBatchNormalization`` (``layers``) is
saved as Keras' ``BatchNormalization``, with the same config and weights, which
compute the same function. Loading through this package fuses them again
(``fused_copy``), so a run's model predicts as fast, and with the same rounding,
as when its run scored it.

This module names the fused layer by its registered name, without importing
``layers``, so that ``runs`` can save portable models; Keras loads only when a
function here is called.
"""

from __future__ import annotations

import re

# The name under which `layers` registers FusedBatchNormalization for load_model.
FUSED_REGISTERED_NAME = "fmnist>FusedBatchNormalization"
# Saved copies keep each layer's name (weights files address layers by name), so a
# Keras layer with the fused layer's default name was a fused layer when saved.
FUSED_DEFAULT_NAME = re.compile(r"fused_batch_normalization(_\d+)?")


def _walk(model):
    """Every layer of ``model``, those of nested models included."""
    for layer in model.layers:
        yield layer
        if hasattr(layer, "layers"):
            yield from _walk(layer)


def _is_fused(layer) -> bool:
    import keras

    return keras.saving.get_registered_name(type(layer)) == FUSED_REGISTERED_NAME


def _was_fused(layer) -> bool:
    import keras

    return type(layer) is keras.layers.BatchNormalization and bool(
        FUSED_DEFAULT_NAME.fullmatch(layer.name)
    )


def _copy_training_state(copy, model) -> None:
    """Compile ``copy`` as ``model`` is compiled, with the same optimizer state."""
    if not model.compiled:
        return
    copy.compile_from_config(model.get_compile_config())
    if model.optimizer.built:
        for target, source in zip(copy.optimizer.variables, model.optimizer.variables, strict=True):
            target.assign(source)


def _replace(model, pick, new_class):
    """A copy of ``model`` where each layer ``pick`` accepts is a ``new_class`` with the
    same config; every weight, and the compiled optimizer's state, copied over."""
    import keras

    def clone(layer):
        return (new_class if pick(layer) else type(layer)).from_config(layer.get_config())

    # The model's own policy, as when it was built: mixed_float16 wraps its optimizer.
    previous = keras.mixed_precision.global_policy()
    keras.mixed_precision.set_global_policy(model.dtype_policy)
    try:
        copy = keras.models.clone_model(model, clone_function=clone, recursive=True)
    finally:
        keras.mixed_precision.set_global_policy(previous)
    for target, source in zip(copy.weights, model.weights, strict=True):
        target.assign(source)
    _copy_training_state(copy, model)
    return copy


def portable_copy(model):
    """``model`` with Keras' ``BatchNormalization`` for each fused layer; ``model``
    itself when it has none."""
    import keras

    if not any(_is_fused(layer) for layer in _walk(model)):
        return model
    return _replace(model, _is_fused, keras.layers.BatchNormalization)


def fused_copy(model, fused_class):
    """``model`` with ``fused_class`` again for each layer ``portable_copy`` replaced;
    ``model`` itself when it has none."""
    if not any(_was_fused(layer) for layer in _walk(model)):
        return model
    return _replace(model, _was_fused, fused_class)
