"""The original side of `fmnist bench`: the original project's VGG pipeline on tf.keras 2.

Written here from the facts recorded in docs/original.md (the original's code is
not copied): pixels scaled to [0, 1] in float32; offline augmentation with
``ImageDataGenerator(rotation_range=10, horizontal_flip=True, fill_mode='nearest')``
applied image by image in a Python loop, each training image followed by two
augmented copies (3x the data); ``train_test_split(test_size=0.2,
random_state=42)`` AFTER augmenting (so augmented copies of validation images
sit in the training set); one-hot labels; the VGG-like stack; Adam with Keras
defaults; categorical cross-entropy; batch 250; ``fit`` with the validation
split evaluated every epoch. Its best-val_loss checkpoint file is left out, as
the project side's is (I/O, not compute).

``launch.run_original`` starts this module in a subprocess with ``TF_USE_LEGACY_KERAS=1``,
so that ``tf.keras`` there is tf.keras 2 from the ``tf-keras`` package:

    TF_USE_LEGACY_KERAS=1 python -m fmnist_lib.bench.original --spec S.json --result R.json

This module imports only pure-Python parts of the package (never Keras 3), and
TensorFlow only inside the subprocess.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from dataclasses import dataclass

import numpy as np
from sklearn.model_selection import train_test_split

from ..data import NUM_CLASSES, load_fashion_mnist, stratified_subset, to_model_input
from .recorder import Recorder, make_callback, planned_epochs, recorder_result, test_probe

BATCH_SIZE = 250
COPIES = 2  # augmented copies per training image


def vgg_like(keras):
    """arch 3 (`vgg_like`) of the original, layer for layer (1,677,674 trainable)."""
    layers = keras.layers

    def block(filters):
        return [
            layers.Conv2D(filters, (3, 3), padding="same"),
            layers.Activation("relu"),
            layers.BatchNormalization(),
        ]

    return keras.Sequential([
        layers.InputLayer(input_shape=(28, 28, 1)),
        *block(32), *block(32),
        layers.MaxPooling2D((2, 2)), layers.Dropout(0.25),
        *block(64), *block(64),
        layers.MaxPooling2D((2, 2)), layers.Dropout(0.25),
        layers.Flatten(),
        layers.Dense(512), layers.Activation("relu"), layers.BatchNormalization(),
        layers.Dropout(0.5),
        layers.Dense(NUM_CLASSES), layers.Activation("softmax"),
    ])  # fmt: skip


def augment_offline(keras, images: np.ndarray, labels: np.ndarray):
    """Each image, then COPIES random transforms of it, one image at a time (as the original)."""
    datagen = keras.preprocessing.image.ImageDataGenerator(
        rotation_range=10, horizontal_flip=True, fill_mode="nearest"
    )
    out_images, out_labels = [], []
    for image, label in zip(images, labels, strict=True):
        out_images.append(image)
        out_labels.append(label)
        for _ in range(COPIES):
            out_images.append(datagen.random_transform(image))
            out_labels.append(label)
    return np.array(out_images, dtype=np.float32), np.array(out_labels)


def _tf_keras():
    """(tensorflow, tf.keras, tf_keras); RuntimeError unless tf.keras is tf.keras 2."""
    # TensorFlow loads only here, in the tf.keras 2 subprocess (TF_USE_LEGACY_KERAS=1).
    import tensorflow as tf

    keras = tf.keras
    if not keras.__name__.startswith("tf_keras"):
        raise RuntimeError(
            f"tf.keras is {keras.__name__}, not tf.keras 2: set TF_USE_LEGACY_KERAS=1 and "
            "install tf-keras (pip install -e .[bench])"
        )
    import tf_keras  # the optional [bench] package; present once tf.keras is tf_keras

    return tf, keras, tf_keras


@dataclass
class _Data:
    """The original's data after preprocessing, and the clock readings around it."""

    t0: float
    t_pre: float
    n_source: int
    train: tuple
    val: tuple
    test: tuple
    preprocessing: dict


def _preprocess(keras, spec: dict) -> _Data:
    """Load and scale, augment offline, one-hot, then split, each step timed."""
    t0 = time.perf_counter()
    (x_pool, y_pool), test = load_fashion_mnist(spec["data_dir"])
    if spec["subset"]:
        rows = stratified_subset(y_pool, spec["subset"], spec["seed"])
        x_pool, y_pool = x_pool[rows], y_pool[rows]
    x = to_model_input(x_pool)
    t_load = time.perf_counter()
    x_aug, y_aug = augment_offline(keras, x, y_pool)
    t_aug = time.perf_counter()
    y_aug = keras.utils.to_categorical(y_aug, NUM_CLASSES)
    x_train, x_val, y_train, y_val = train_test_split(x_aug, y_aug, test_size=0.2, random_state=42)
    del x_aug, y_aug
    t_pre = time.perf_counter()
    preprocessing = {
        "load_scale_seconds": t_load - t0,
        "augment_seconds": t_aug - t_load,
        "labels_split_seconds": t_pre - t_aug,
        "total_seconds": t_pre - t0,
    }
    return _Data(t0, t_pre, len(x_pool), (x_train, y_train), (x_val, y_val), test, preprocessing)


def _describe(tf, tf_keras, model) -> dict:
    """The head of the side's result: what ran, on which versions, with how many weights."""
    trainable = int(sum(np.prod(w.shape) for w in model.trainable_weights))
    total = trainable + int(sum(np.prod(w.shape) for w in model.non_trainable_weights))
    return {
        "pipeline": "original",
        "status": "ok",
        "description": "original, rebuilt: tf.keras 2, ImageDataGenerator rotate 10 + flip "
        f"offline, 1 + {COPIES} copies per image, split after augmenting (test_size 0.2), "
        f"float32, batch {BATCH_SIZE}, Adam defaults",
        "versions": {
            "python": platform.python_version(),
            "tensorflow": tf.__version__,
            "tf-keras": tf_keras.__version__,
            "numpy": np.__version__,
        },
        "precision": "float32",
        "params": {"trainable": trainable, "total": total},
    }


def run(spec: dict) -> dict:
    """The whole original side, timed; runs in the tf.keras 2 subprocess."""
    tf, keras, tf_keras = _tf_keras()
    seed = spec["seed"]
    keras.utils.set_random_seed(seed)  # seeds Python, NumPy (the augmentation) and TensorFlow
    load_start = os.getloadavg()
    data = _preprocess(keras, spec)
    (x_train, y_train), (x_val, y_val) = data.train, data.val
    n_train = len(x_train)
    model = vgg_like(keras)
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    setup_seconds = time.perf_counter() - data.t_pre
    head = _describe(tf, tf_keras, model)
    x_test, y_test = to_model_input(data.test[0]), data.test[1].astype(np.int64)
    probe, n_test = test_probe(x_test, y_test, spec["test_subset"], seed)
    recorder = Recorder.for_side(spec, "original", n_train, BATCH_SIZE, t0=data.t0)
    epochs = planned_epochs(n_train, spec["max_epochs"], spec["max_images"])
    if spec["verbose"]:
        print(
            f"[original] tf.keras {tf_keras.__version__} on TensorFlow {tf.__version__}, "
            f"float32: {data.n_source:,} source images -> {data.n_source * (1 + COPIES):,} after "
            f"offline augmentation -> {n_train:,} training / {len(x_val):,} validation; "
            f"preprocessing {data.preprocessing['total_seconds']:.1f} s "
            f"(augmentation {data.preprocessing['augment_seconds']:.1f} s); up to {epochs} epochs",
            flush=True,
        )
    model.fit(
        x_train,
        y_train,
        batch_size=BATCH_SIZE,
        epochs=epochs,
        validation_data=(x_val, y_val),
        shuffle=True,
        callbacks=[make_callback(keras.callbacks.Callback, recorder, probe)],
        verbose=0,
    )
    recorder.finish(epochs)
    return {
        **head,
        "n_source": data.n_source,
        "n_train": n_train,
        "n_val": len(x_val),
        "n_test": n_test,
        "batch_size": BATCH_SIZE,
        "planned_epochs": epochs,
        "preprocessing": data.preprocessing,
        "setup_seconds": setup_seconds,
        "load_average": {"start": list(load_start), "end": list(os.getloadavg())},
        **recorder_result(recorder),
    }


def _json_default(obj):
    return obj.item() if hasattr(obj, "item") else str(obj)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m fmnist_lib.bench.original", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--spec", required=True, help="JSON settings written by fmnist bench")
    parser.add_argument("--result", required=True, help="where to write the JSON result")
    args = parser.parse_args(argv)
    with open(args.spec, encoding="utf-8") as fh:
        spec = json.load(fh)
    # Before TensorFlow is imported: tf.keras must be tf.keras 2 here.
    os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    result = run(spec)
    with open(args.result, "w", encoding="utf-8") as fh:
        json.dump(result, fh, indent=2, default=_json_default)
    return 0


if __name__ == "__main__":
    sys.exit(main())
