"""The networks: the original's three architectures, layer for layer, and ours.

Which models exist, and their roles, is ``fmnist_lib.specs``; this module builds them.

Each builder returns the bare network for 28x28x1 inputs in [0, 1]: a list of
layers for the original's plain stacks, or a function from the input tensor to
the output for networks with branches. The last layer always computes in
float32 so that mixed precision never rounds the probabilities.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import sys
from collections.abc import Callable

import keras
import numpy as np
from keras import layers

from .augment import build_augmentation
from .data import NUM_CLASSES
from .errors import ModelContractError
from .layers import FusedBatchNormalization
from .specs import USER, builder_path, get_spec, model_names

INPUT_SHAPE = (28, 28, 1)

# Every model normalises with the fused layer (about twice the CPU training
# throughput, see fmnist_lib.layers); Keras' own stays selectable to compare them.
BATCH_NORMS: dict[str, type[layers.BatchNormalization]] = {
    "fused": FusedBatchNormalization,
    "keras": layers.BatchNormalization,
}


def _conv_relu_bn(filters, batch_norm):
    return [
        layers.Conv2D(filters, 3, padding="same"),
        layers.ReLU(),
        batch_norm(),
    ]


def arch1(batch_norm=FusedBatchNormalization) -> list[layers.Layer]:
    """Original `v1`: conv-conv-pool, conv-pool, one dense layer (848,330 trainable)."""
    return [
        layers.Conv2D(16, 3, padding="same"),
        layers.ReLU(),
        layers.Conv2D(32, 3, padding="valid"),
        batch_norm(),
        layers.ReLU(),
        layers.MaxPooling2D(2),
        layers.Dropout(0.25),
        layers.Conv2D(64, 3, padding="valid"),
        batch_norm(),
        layers.ReLU(),
        layers.MaxPooling2D(2),
        layers.Dropout(0.25),
        layers.Flatten(),
        layers.Dense(512),
        layers.ReLU(),
        layers.Dropout(0.5),
        layers.Dense(NUM_CLASSES, activation="softmax", dtype="float32"),
    ]


def arch2(batch_norm=FusedBatchNormalization) -> list[layers.Layer]:
    """Original `custom`: batch-normalised input, two 4x4 conv blocks (493,772 trainable)."""
    return [
        batch_norm(),
        layers.Conv2D(64, 4, padding="same", activation="relu"),
        layers.MaxPooling2D(2),
        layers.Dropout(0.1),
        layers.Conv2D(64, 4, padding="valid", activation="relu"),
        layers.MaxPooling2D(2),
        layers.Dropout(0.3),
        layers.Flatten(),
        layers.Dense(256, activation="relu"),
        layers.Dropout(0.5),
        layers.Dense(64, activation="relu"),
        batch_norm(),
        layers.Dense(NUM_CLASSES, activation="softmax", dtype="float32"),
    ]


def vgg(batch_norm=FusedBatchNormalization) -> list[layers.Layer]:
    """Original `vgg_like`: two VGG blocks of 3x3 convs, one dense block (1,677,674 trainable)."""
    return [
        *_conv_relu_bn(32, batch_norm),
        *_conv_relu_bn(32, batch_norm),
        layers.MaxPooling2D(2),
        layers.Dropout(0.25),
        *_conv_relu_bn(64, batch_norm),
        *_conv_relu_bn(64, batch_norm),
        layers.MaxPooling2D(2),
        layers.Dropout(0.25),
        layers.Flatten(),
        layers.Dense(512),
        layers.ReLU(),
        batch_norm(),
        layers.Dropout(0.5),
        layers.Dense(NUM_CLASSES),
        layers.Softmax(dtype="float32"),
    ]


# The usual ResNet value: Keras' default moving-average momentum (0.99) lags behind
# weights that move fast early on, and through a residual stack the lag compounds.
BN_MOMENTUM = 0.9


def _residual_block(x, filters: int, batch_norm, stride: int = 1):
    """Two 3x3 convolutions plus a shortcut (He et al., 2016); a 1x1 projection
    joins the shortcut when the block changes resolution or width."""
    y = layers.Conv2D(filters, 3, strides=stride, padding="same", use_bias=False)(x)
    y = batch_norm(momentum=BN_MOMENTUM)(y)
    y = layers.ReLU()(y)
    y = layers.Conv2D(filters, 3, padding="same", use_bias=False)(y)
    y = batch_norm(momentum=BN_MOMENTUM)(y)
    shortcut = x
    if stride != 1 or x.shape[-1] != filters:
        shortcut = layers.Conv2D(filters, 1, strides=stride, use_bias=False)(x)
        shortcut = batch_norm(momentum=BN_MOMENTUM)(shortcut)
    return layers.ReLU()(layers.Add()([y, shortcut]))


def _residual_network(stem: int, widths: tuple[int, int], batch_norm, blocks: int = 2) -> Callable:
    """A full-resolution stem convolution, then two residual stages at 14x14 and
    7x7 (``blocks`` blocks each), global average pooling and the classifier."""

    def network(x):
        x = layers.Conv2D(stem, 3, padding="same", use_bias=False)(x)
        x = batch_norm(momentum=BN_MOMENTUM)(x)
        x = layers.ReLU()(x)
        for filters in widths:
            x = _residual_block(x, filters, batch_norm, stride=2)
            for _ in range(blocks - 1):
                x = _residual_block(x, filters, batch_norm)
        x = layers.GlobalAveragePooling2D()(x)
        return layers.Dense(NUM_CLASSES, activation="softmax", dtype="float32")(x)

    return network


def resnet(
    batch_norm=FusedBatchNormalization, width: int = 48, blocks: int = 2, stem: int = 32
) -> Callable:
    """This project's model: a small residual network sized for a 2-core CPU (375,242 trainable).

    The stem keeps full resolution for one convolution only; the residual stages
    work at 14x14 (``width`` filters) and 7x7 (twice as many), ``blocks`` blocks
    each. The defaults are the model; the options are what a search varies.
    """
    for option, value in (("width", width), ("blocks", blocks), ("stem", stem)):
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 512:
            raise ValueError(f"resnet {option}: {value!r} must be an integer in [1, 512]")
    return _residual_network(stem, (width, 2 * width), batch_norm, blocks)


# Wider versions of resnet: the same stages with more filters.
def resnet64(batch_norm=FusedBatchNormalization) -> Callable:
    """resnet with stages of 64 and 128 filters (658,922 trainable)."""
    return resnet(batch_norm, width=64)


def resnet96(batch_norm=FusedBatchNormalization) -> Callable:
    """resnet twice as wide: a 64-filter stem, stages of 96 and 192 (1,495,434 trainable)."""
    return resnet(batch_norm, width=96, stem=64)


def list_models() -> list[str]:
    return model_names()


def _import_target(target: str):
    """The module a builder reference names: a dotted module, or a ``.py`` file's path."""
    if target.endswith(".py"):
        path = builder_path(target)
        if not path.is_file():
            raise ModelContractError(f"{target}: no such file (expected path/to/file.py:FUNCTION)")
        module_name = f"fmnist_user_models.{path.stem}"
        spec = importlib.util.spec_from_file_location(module_name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module  # so that Keras can resolve classes defined there
        spec.loader.exec_module(module)
        return module
    return importlib.import_module(target)


def load_builder(name: str) -> Callable:
    """The builder function a model's spec names as ``module:function`` (or ``file.py:``).

    A user's builder that cannot be imported or is not callable is a
    ModelContractError naming the reference and what was expected.
    """
    reference = get_spec(name).builder
    target, function = reference.rsplit(":", 1)
    try:
        module = _import_target(target)
    except ModelContractError:
        raise
    except Exception as err:  # the user's module: any error in it is theirs to see
        raise ModelContractError(
            f"{reference}: importing {target} failed ({type(err).__name__}: {err})"
        ) from None
    builder = getattr(module, function, None)
    if builder is None:
        raise ModelContractError(f"{reference}: {target} has no attribute {function!r}")
    if not callable(builder):
        raise ModelContractError(
            f"{reference}: {function} is a {type(builder).__name__}, expected a function "
            "that returns the model"
        )
    return builder


def check_batch_norm(batch_norm: str) -> str:
    if batch_norm not in BATCH_NORMS:
        raise ValueError(f"batch_norm: unknown {batch_norm!r}; valid names are {list(BATCH_NORMS)}")
    return batch_norm


_CONTRACT = (
    "a keras.Model or a list of Keras layers for 28x28x1 inputs in [0, 1], or a function "
    f"from the input tensor to the output, ending in {NUM_CLASSES} class probabilities"
)


def _call_builder(name: str, builder: Callable, batch_norm: str, options: dict):
    """The builder's network; this project's builders take the batch-norm layer to use.

    ``options`` (``TrainConfig.model_options``) are keyword arguments the builder declares.
    """
    reference = get_spec(name).builder
    parameters = inspect.signature(builder).parameters
    unknown = sorted(set(options) - set(parameters) - {"batch_norm"})
    if unknown:
        valid = [p for p in parameters if p != "batch_norm"]
        raise ModelContractError(
            f"{reference}: model_options {unknown} are not arguments of the builder; "
            f"it takes {valid or 'none'}"
        )
    kwargs = {"batch_norm": BATCH_NORMS[batch_norm]} if "batch_norm" in parameters else {}
    try:
        return builder(**kwargs, **options)
    except Exception as err:
        raise ModelContractError(
            f"{reference}: the builder raised {type(err).__name__}: {err}"
        ) from None


def _assemble(name: str, body, inputs, augmenter) -> keras.Model:
    """The model: ``inputs`` -> optional augmentation -> the builder's network."""
    reference = get_spec(name).builder
    if isinstance(body, (list, tuple)):
        if not body or not all(isinstance(layer, layers.Layer) for layer in body):
            raise ModelContractError(f"{reference}: returned a list that is not all Keras layers")
        stack = [inputs, *([augmenter] if augmenter is not None else []), *body]
        return keras.Sequential(stack, name=name)
    if not callable(body):
        raise ModelContractError(
            f"{reference}: returned {type(body).__name__!r}; expected {_CONTRACT}"
        )
    x = augmenter(inputs) if augmenter is not None else inputs
    try:
        outputs = body(x)
    except Exception as err:
        raise ModelContractError(
            f"{reference}: the model fails on 28x28x1 inputs ({type(err).__name__}: {err}); "
            f"expected {_CONTRACT}"
        ) from None
    return keras.Model(inputs, outputs, name=name)


def _check_outputs(name: str, model: keras.Model) -> None:
    """Ten class probabilities per image, or a ModelContractError saying what came instead."""
    reference = get_spec(name).builder
    shape = tuple(model.outputs[0].shape) if len(model.outputs) == 1 else None
    if shape is None or shape[1:] != (NUM_CLASSES,):
        raise ModelContractError(
            f"{reference}: the output shape is {shape or 'several outputs'}; "
            f"expected (None, {NUM_CLASSES}): {NUM_CLASSES} class probabilities"
        )
    sums = keras.ops.convert_to_numpy(
        keras.ops.sum(
            keras.ops.cast(model(np.full((2, *INPUT_SHAPE), 0.5, "float32")), "float32"), -1
        )
    )
    if not np.allclose(sums, 1.0, atol=1e-2):
        raise ModelContractError(
            f"{reference}: the outputs are not probabilities (they sum to {sums[0]:.3g}); "
            "end the model with a softmax"
        )


def build_model(
    name: str,
    augmentation=(),
    seed: int | None = None,
    batch_norm: str = "fused",
    augment_strength: float = 1.0,
    model_options: dict | None = None,
) -> keras.Model:
    """Build a registered model; ``augmentation`` names layers put in front of it.

    ``batch_norm`` picks the batch-norm layer of this project's builders: "fused"
    (this project's, the default) or "keras" (Keras' own, unfused on TensorFlow).
    ``model_options`` go to the builder as keyword arguments (a width, a depth).
    A builder that breaks the contract is a ModelContractError.
    """
    builder = load_builder(name)  # an unknown name fails here, naming the valid ones
    check_batch_norm(batch_norm)
    inputs = keras.Input(INPUT_SHAPE, name="image")
    augmenter = build_augmentation(augmentation, seed=seed, strength=augment_strength)
    body = _call_builder(name, builder, batch_norm, dict(model_options or {}))
    model = _assemble(name, body, inputs, augmenter)
    if get_spec(name).role == USER:
        _check_outputs(name, model)
    return model


def count_params(model: keras.Model) -> dict[str, int]:
    trainable = sum(int(w.numpy().size) for w in model.trainable_weights)
    total = trainable + sum(int(w.numpy().size) for w in model.non_trainable_weights)
    return {"trainable": trainable, "total": total}
