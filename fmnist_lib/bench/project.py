"""The project side of `fmnist bench`, and the model's FLOPs from its built layers.

The project side trains exactly as ``fmnist train`` does: ``training.prepare``
(seeded split before augmenting, one-hot labels, the (seed, epoch)-ordered
batches, the compiled model under its automatic precision) and ``training.fit``
(the one ``model.fit`` call), with the benchmark's recorder as its only callback:
no checkpoints, logs or run directory, whose I/O the original side leaves out too.

This module loads Keras: the package imports it only when a benchmark runs.
"""

from __future__ import annotations

import os

import keras
from keras import layers

from ..config import TrainConfig
from ..hardware import package_versions
from ..models import build_model, count_params
from ..recipes import recipe_settings
from ..results import recipe
from ..training import fit, prepare
from .recorder import Recorder, make_callback, planned_epochs, recorder_result, test_probe

FLOPS_METHOD = (
    "conv: out_h*out_w*filters*k*k*in_ch multiply-adds; dense: in*out; "
    "x2 FLOPs per multiply-add; training = 3x forward; BN/ReLU/pool/bias ignored"
)


def model_flops(model) -> dict:
    """Forward and training FLOPs per image of a built Keras model, from its layers' shapes.

    Conv2D: out_h x out_w x filters x kh x kw x in_channels multiply-adds (the
    output shape carries padding and strides); Dense: inputs x units; 2 FLOPs per
    multiply-add. Batch norm, ReLU, pooling, dropout, softmax and biases are left
    out (under 1%). Training is taken as 3x forward: the backward pass computes
    gradients with respect to both the activations and the weights, each about
    one forward pass.
    """
    per_layer = []
    for layer in model.layers:
        if isinstance(layer, layers.Conv2D):
            _, out_h, out_w, filters = layer.output.shape
            kh, kw = layer.kernel_size
            in_ch = layer.input.shape[-1]
            per_layer.append(
                {
                    "layer": f"conv{kh}x{kw}x{filters}",
                    "output": [out_h, out_w, filters],
                    "macs": out_h * out_w * filters * kh * kw * in_ch,
                }
            )
        elif isinstance(layer, layers.Dense):
            fan_in, units = layer.input.shape[-1], layer.units
            per_layer.append({"layer": f"dense{units}", "output": [units], "macs": fan_in * units})
    forward = 2 * sum(layer["macs"] for layer in per_layer)
    return {
        "forward_flops_per_image": forward,
        "training_flops_per_image": 3 * forward,
        "layers": per_layer,
        "method": FLOPS_METHOD,
    }


def vgg_flops() -> dict:
    """FLOPs per image of the VGG-like model, which both sides train (the same stack)."""
    return model_flops(build_model("vgg"))


def _config(spec) -> tuple[TrainConfig, int]:
    """The training settings of ``fmnist train`` for the VGG model under ``spec``, and the
    epochs the tighter of its caps allows (set in those settings too)."""
    settings = recipe_settings(spec.project_recipe) if spec.project_recipe else {}
    config = TrainConfig(
        arch="vgg",
        subset=spec.subset,
        seed=spec.seed,
        data_dir=spec.data_dir,
        precision=spec.project_precision,
        verbose=0,
        **settings,
    )
    caps = [e for e in (spec.max_epochs, spec.project_epochs) if e]
    epochs = planned_epochs(config.n_train, min(caps) if caps else None, spec.max_images)
    return config.replace(epochs=epochs), epochs


def _preprocessing(seconds: dict) -> dict:
    """``prepare``'s data steps, named as the original side names its own."""
    return {
        "load_split_scale_seconds": seconds["split"],
        "augment_seconds": 0.0,  # on the fly, inside the training step
        "labels_and_batches_seconds": seconds["labels_and_batches"],
        "total_seconds": seconds["split"] + seconds["labels_and_batches"],
    }


def run_project(spec) -> dict:
    """This project's pipeline on ``spec`` (a BenchSpec); the side's raw result.

    Clock: the recorder is made (its ``t0`` taken) just before ``prepare``.
    Preprocessing is ``prepare``'s data steps (load, verify, split, scale; one-hot
    labels and the batch pipeline), model setup its last step (build and compile);
    ``prepare`` times each step itself (``Prepared.seconds``), so the two stay apart.
    """
    load_start = os.getloadavg()
    config, epochs = _config(spec)
    recorder = Recorder.for_side(spec.to_dict(), "project", config.n_train, config.batch_size)
    prepared = prepare(config)
    seconds = prepared.seconds
    preprocessing = _preprocessing(seconds)
    splits = prepared.splits
    probe, n_test = test_probe(splits.x_test, splits.y_test, spec.test_subset, spec.seed)
    if spec.verbose:
        print(
            f"[project] Keras {keras.__version__}, {prepared.precision}: {config.n_train:,} "
            f"training images, {len(splits.y_val):,} validation, augmentation "
            f"{list(config.augmentation)} on the fly; preprocessing "
            f"{preprocessing['total_seconds']:.1f} s; up to {epochs} epochs",
            flush=True,
        )
    callback = make_callback(keras.callbacks.Callback, recorder, probe)
    fit(prepared, epochs, config.seed, [callback])
    recorder.finish(epochs)
    return {
        "pipeline": "project",
        "status": "ok",
        "description": "fmnist_lib: Keras 3, "
        f"recipe {spec.project_recipe or 'original'} ({recipe(config.to_dict())}) over "
        f"{epochs} epochs, augmentation layers on the fly, stratified split before augmenting "
        f"(val_fraction {config.val_fraction}), {prepared.precision}, batch {config.batch_size}",
        "recipe": spec.project_recipe,
        "versions": {k: v for k, v in package_versions().items() if k != "jax"},
        "precision": prepared.precision,
        "params": count_params(prepared.model),
        "n_source": len(splits.y_train) + len(splits.y_val),
        "n_train": len(splits.y_train),
        "n_val": len(splits.y_val),
        "n_test": n_test,
        "batch_size": config.batch_size,
        "planned_epochs": epochs,
        "preprocessing": preprocessing,
        "setup_seconds": seconds["model"],
        "load_average": {"start": list(load_start), "end": list(os.getloadavg())},
        **recorder_result(recorder),
    }
