"""Training throughput of this project's pipeline, variant against variant, interleaved.

Answers "does augmentation make the model wait?" and "what does a precision
policy buy on this machine?": each variant trains the same model on the same
tf.data batches, in alternating rounds (A, B, A, B...) so that a busy machine
slows every variant alike; the median of the rounds is reported.
"""

from __future__ import annotations

import statistics
import time
from datetime import datetime

import keras

from . import hardware
from .batches import training_batches
from .config import TrainConfig
from .data import NUM_CLASSES, prepare_splits
from .hardware import package_versions
from .reference import ORIGINAL_AUGMENTATION
from .training import compile_model

DEFAULT_VARIANTS = {
    "no augmentation": {"augmentation": ()},
    "default augmentation (rotate, flip)": {"augmentation": ORIGINAL_AUGMENTATION},
}


def measure(
    arch: str = "vgg",
    variants: dict | None = None,
    steps: int = 20,
    rounds: int = 3,
    batch_size: int = 250,
    subset: int = 10_000,
    seed: int = 0,
    progress: bool = True,
) -> dict:
    """Steady-state training images/s per variant (TrainConfig overrides), interleaved."""
    variants = variants or DEFAULT_VARIANTS
    keras.utils.set_random_seed(seed)
    splits = prepare_splits(0.1, seed, subset)
    y_train = keras.utils.to_categorical(splits.y_train, NUM_CLASSES)
    per_epoch = -(-len(y_train) // batch_size)
    epochs_needed = -(-(steps * (rounds + 1)) // per_epoch) + 1
    setups = {}
    for label, overrides in variants.items():
        config = TrainConfig(arch=arch, batch_size=batch_size, seed=seed, verbose=0, **overrides)
        model, precision = compile_model(config, steps)
        data, _ = training_batches(splits.x_train, y_train, batch_size, seed, 0, epochs_needed)
        model.fit(data, epochs=1, steps_per_epoch=steps, verbose=0)  # trace and warm up
        setups[label] = (model, data, precision)
    timings = {label: [] for label in variants}
    for round_index in range(rounds):
        for label, (model, data, _) in setups.items():
            start = time.perf_counter()
            model.fit(data, epochs=1, steps_per_epoch=steps, verbose=0)
            timings[label].append(steps * batch_size / (time.perf_counter() - start))
            if progress:
                print(
                    f"round {round_index + 1}/{rounds} {label}: {timings[label][-1]:,.0f} images/s",
                    flush=True,
                )
    first = next(iter(variants))
    baseline = statistics.median(timings[first])
    return {
        "arch": arch,
        "created": datetime.now().isoformat(timespec="seconds"),
        "steps_per_round": steps,
        "rounds": rounds,
        "batch_size": batch_size,
        "machine": hardware.describe(),
        "versions": package_versions(),
        "variants": {
            label: {
                "settings": {
                    k: list(v) if isinstance(v, tuple) else v for k, v in variants[label].items()
                },
                "precision": setups[label][2],
                "images_per_second_rounds": timings[label],
                "images_per_second": statistics.median(timings[label]),
                "relative_to_first": statistics.median(timings[label]) / baseline,
            }
            for label in variants
        },
    }


def markdown(report: dict) -> str:
    lines = [
        f"| {report['arch']} variant | precision | images/s (median of {report['rounds']} rounds) "
        "| relative to the first |",
        "|---|---|---|---|",
    ]
    for label, row in report["variants"].items():
        lines.append(
            f"| {label} | {row['precision']} | {row['images_per_second']:,.0f} | "
            f"{row['relative_to_first']:.1%} |"
        )
    return "\n".join(lines) + "\n"
