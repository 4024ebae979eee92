"""The model registry: the original's three architectures, layer for layer, and ours.

Each builder returns the bare network for 28x28x1 inputs in [0, 1]: a list of
layers for the original's plain stacks, or a function from the input tensor to
the output for networks with branches. The last layer always computes in
float32 so that mixed precision never rounds the probabilities.
"""

from __future__ import annotations

from collections.abc import Callable

import keras
from keras import layers

from .augment import build_augmentation
from .data import NUM_CLASSES

INPUT_SHAPE = (28, 28, 1)


def _conv_relu_bn(filters):
    return [
        layers.Conv2D(filters, 3, padding="same"),
        layers.ReLU(),
        layers.BatchNormalization(),
    ]


def arch1() -> list[layers.Layer]:
    """Original `v1`: conv-conv-pool, conv-pool, one dense layer (848,330 trainable)."""
    return [
        layers.Conv2D(16, 3, padding="same"),
        layers.ReLU(),
        layers.Conv2D(32, 3, padding="valid"),
        layers.BatchNormalization(),
        layers.ReLU(),
        layers.MaxPooling2D(2),
        layers.Dropout(0.25),
        layers.Conv2D(64, 3, padding="valid"),
        layers.BatchNormalization(),
        layers.ReLU(),
        layers.MaxPooling2D(2),
        layers.Dropout(0.25),
        layers.Flatten(),
        layers.Dense(512),
        layers.ReLU(),
        layers.Dropout(0.5),
        layers.Dense(NUM_CLASSES, activation="softmax", dtype="float32"),
    ]


def arch2() -> list[layers.Layer]:
    """Original `custom`: batch-normalised input, two 4x4 conv blocks (493,772 trainable)."""
    return [
        layers.BatchNormalization(),
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
        layers.BatchNormalization(),
        layers.Dense(NUM_CLASSES, activation="softmax", dtype="float32"),
    ]


def vgg() -> list[layers.Layer]:
    """Original `vgg_like`: two VGG blocks of 3x3 convs, one dense block (1,677,674 trainable)."""
    return [
        *_conv_relu_bn(32),
        *_conv_relu_bn(32),
        layers.MaxPooling2D(2),
        layers.Dropout(0.25),
        *_conv_relu_bn(64),
        *_conv_relu_bn(64),
        layers.MaxPooling2D(2),
        layers.Dropout(0.25),
        layers.Flatten(),
        layers.Dense(512),
        layers.ReLU(),
        layers.BatchNormalization(),
        layers.Dropout(0.5),
        layers.Dense(NUM_CLASSES),
        layers.Softmax(dtype="float32"),
    ]


# Keras' default moving-average momentum (0.99) lags far behind weights that move
# fast early on; through a residual stack the lag compounds, and inference-mode
# predictions stayed near chance for the first epochs. 0.9 is the usual ResNet value.
BN_MOMENTUM = 0.9


def _residual_block(x, filters: int, stride: int = 1):
    """Two 3x3 convolutions plus a shortcut (He et al., 2016); a 1x1 projection
    joins the shortcut when the block changes resolution or width."""
    y = layers.Conv2D(filters, 3, strides=stride, padding="same", use_bias=False)(x)
    y = layers.BatchNormalization(momentum=BN_MOMENTUM)(y)
    y = layers.ReLU()(y)
    y = layers.Conv2D(filters, 3, padding="same", use_bias=False)(y)
    y = layers.BatchNormalization(momentum=BN_MOMENTUM)(y)
    shortcut = x
    if stride != 1 or x.shape[-1] != filters:
        shortcut = layers.Conv2D(filters, 1, strides=stride, use_bias=False)(x)
        shortcut = layers.BatchNormalization(momentum=BN_MOMENTUM)(shortcut)
    return layers.ReLU()(layers.Add()([y, shortcut]))


def resnet() -> Callable:
    """This project's model: a small residual network sized for a 2-core CPU (375,242 trainable).

    The stem keeps full resolution for one convolution only; the residual stages
    work at 14x14 (48 filters) and 7x7 (96 filters), two blocks each.
    """

    def network(x):
        x = layers.Conv2D(32, 3, padding="same", use_bias=False)(x)
        x = layers.BatchNormalization(momentum=BN_MOMENTUM)(x)
        x = layers.ReLU()(x)
        for filters in (48, 96):
            x = _residual_block(x, filters, stride=2)
            x = _residual_block(x, filters)
        x = layers.GlobalAveragePooling2D()(x)
        return layers.Dense(NUM_CLASSES, activation="softmax", dtype="float32")(x)

    return network


MODELS: dict[str, Callable] = {
    "arch1": arch1,
    "arch2": arch2,
    "vgg": vgg,
    "resnet": resnet,
}


def list_models() -> list[str]:
    return list(MODELS)


def check_model_name(name: str) -> str:
    if name not in MODELS:
        raise ValueError(f"arch: unknown model {name!r}; valid names are {list_models()}")
    return name


def build_model(name: str, augmentation=(), seed: int | None = None) -> keras.Model:
    """Build a registered model; ``augmentation`` names layers put in front of it."""
    check_model_name(name)
    inputs = keras.Input(INPUT_SHAPE, name="image")
    augmenter = build_augmentation(augmentation, seed=seed)
    body = MODELS[name]()
    if isinstance(body, list):
        stack = [inputs, *([augmenter] if augmenter is not None else []), *body]
        return keras.Sequential(stack, name=name)
    x = augmenter(inputs) if augmenter is not None else inputs
    return keras.Model(inputs, body(x), name=name)


def count_params(model: keras.Model) -> dict[str, int]:
    trainable = sum(int(w.numpy().size) for w in model.trainable_weights)
    total = trainable + sum(int(w.numpy().size) for w in model.non_trainable_weights)
    return {"trainable": trainable, "total": total}
