"""Training throughput of this project's pipeline, variant against variant, interleaved.

Answers "does augmentation make the model wait?" and "what does a precision
policy buy on this machine?": each variant trains the same model on the same
tf.data batches, in rounds that run every variant once, each round starting one
variant later (A B C, B C A, C A B...), so that a busy machine slows every
variant alike; the median of the rounds is reported. --batch-norm compares
Keras' BatchNormalization with this project's fused one.

A round's rate is timed between its batches, from the end of the first to the end
of the last, never around the whole ``fit`` call: a ``fit`` that stops before its
tf.data iterator is exhausted returns only at the next of a doubling series of
moments (1.27 s, 2.55 s, 5.11 s... after it starts, on TensorFlow 2.21), so a
round timed around ``fit`` can come out at 1/2 or 1/4 of the rate between
batches. Reports created before 2026-11-30 were timed around ``fit``: compare
them only with each other.

``fit_to_time_budget`` turns a time budget into epochs with the same measurement.
"""

from __future__ import annotations

import math
import statistics
import time
from datetime import datetime

import keras

from . import hardware
from .augment import build_augmentation
from .batches import training_batches
from .compiling import compile_model
from .config import TIME_BUDGET_MARGIN, TRAIN_POOL_SIZE, TrainConfig, profile_config
from .data import NUM_CLASSES, prepare_splits
from .hardware import package_versions
from .reference import ORIGINAL_AUGMENTATION

DEFAULT_VARIANTS = {
    "no augmentation": {"augmentation": ()},
    "default augmentation (rotate, flip)": {"augmentation": ORIGINAL_AUGMENTATION},
}


# The axes a comparison can vary besides TrainConfig settings, with their defaults.
AXES = {"batch_norm": "fused", "jit_compile": "auto", "augment_in": "model"}
AUGMENT_PLACES = ("model", "pipeline")


class BatchClock(keras.callbacks.Callback):
    """The time each training batch ends, for rates that leave out fit's start and end."""

    def on_train_begin(self, logs=None):
        self.ends = []

    def on_train_batch_end(self, batch, logs=None):
        self.ends.append(time.perf_counter())

    def images_per_second(self, batch_size: int) -> float:
        """Steady state: the batches after the first, over the time they took."""
        if len(self.ends) < 2:
            raise ValueError("a rate needs at least 2 timed batches (steps >= 2)")
        return (len(self.ends) - 1) * batch_size / (self.ends[-1] - self.ends[0])


def variant_grid(
    precisions=(), batch_norms=(), jit_compile=(), augment_in=(), augmentation=None
) -> dict[str, dict]:
    """Every combination of the given axes, named by its values (``bf16/fused/xla-off``).

    An axis left empty stays at its default; ``augmentation`` applies to all.
    """
    axes = [
        [("precision", p, p) for p in precisions],
        [("batch_norm", b, b) for b in batch_norms],
        [("jit_compile", j, f"xla-{'on' if j else 'off'}") for j in jit_compile],
        [("augment_in", a, f"augment-in-{a}") for a in augment_in],
    ]
    combos = [{}]
    for axis in (a for a in axes if a):
        combos = [{**c, key: (value, name)} for c in combos for key, value, name in axis]
    base = {} if augmentation is None else {"augmentation": tuple(augmentation)}
    return {
        "/".join(name for _, name in combo.values()) or "default": {
            **base,
            **{key: value for key, (value, _) in combo.items()},
        }
        for combo in combos
    }


def _augmented_in_pipeline(data, names, seed):
    """The tf.data batches with the augmentation applied in a parallel map, not the model."""
    import tensorflow as tf  # TensorFlow: tf.data pipelines exist only on its backend

    layers = build_augmentation(names, seed=seed)
    return data.map(
        lambda x, y: (layers(x, training=True), y), num_parallel_calls=tf.data.AUTOTUNE
    ).prefetch(tf.data.AUTOTUNE)


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
    """Steady-state training images/s per variant, interleaved.

    A variant is a dict of TrainConfig overrides, plus optionally the ``AXES``:
    ``batch_norm`` ("fused" or "keras"), ``jit_compile`` (XLA: True, False or
    "auto") and ``augment_in`` ("model": augmentation layers inside the model, as
    training does; "pipeline": the same layers in the tf.data map instead).
    """
    variants = variants or DEFAULT_VARIANTS
    keras.utils.set_random_seed(seed)
    splits = prepare_splits(0.1, seed, subset)
    y_train = keras.utils.to_categorical(splits.y_train, NUM_CLASSES)
    per_epoch = -(-len(y_train) // batch_size)
    epochs_needed = -(-(steps * (rounds + 1)) // per_epoch) + 1
    common = {"arch": arch, "batch_size": batch_size, "seed": seed, "verbose": 0}
    setups = {}
    for label, settings in variants.items():
        config, in_pipeline, model, precision, axes = _compiled_variant(settings, common, steps)
        data, _ = training_batches(
            splits.x_train, y_train, batch_size, seed, 0, epochs_needed, config.cutmix
        )
        if in_pipeline:
            data = _augmented_in_pipeline(data, config.augmentation, seed)
        # The batches come in their own order: no shuffle (Keras warns it would ignore one).
        model.fit(data, epochs=1, steps_per_epoch=steps, verbose=0, shuffle=False)  # warm up
        setups[label] = (model, data, precision, {**axes, "jit_compile": model.jit_compile})
    labels = list(variants)
    orders = [labels[r % len(labels) :] + labels[: r % len(labels)] for r in range(rounds)]
    timings = _timed_rounds(setups, orders, steps, batch_size, progress)
    return {
        "arch": arch,
        "created": datetime.now().isoformat(timespec="seconds"),
        "steps_per_round": steps,
        "rounds": rounds,
        "batch_size": batch_size,
        "round_orders": orders,
        "machine": hardware.describe(),
        "versions": package_versions(),
        "variants": _variant_rows(variants, setups, timings),
    }


def _compiled_variant(settings: dict, common: dict, steps: int):
    """One variant: (config, augmented in the pipeline?, compiled model, precision, axes)."""
    overrides = {k: v for k, v in settings.items() if k not in AXES}
    axes = {k: settings.get(k, default) for k, default in AXES.items()}
    if axes["augment_in"] not in AUGMENT_PLACES:
        raise ValueError(f"augment_in: {axes['augment_in']!r}; valid: {AUGMENT_PLACES}")
    config = TrainConfig(**common, **overrides)
    in_pipeline = axes["augment_in"] == "pipeline" and config.augmentation
    model, precision = compile_model(
        config.replace(augmentation=()) if in_pipeline else config,
        steps,
        axes["batch_norm"],
        axes["jit_compile"],
    )
    return config, in_pipeline, model, precision, axes


def _timed_rounds(setups: dict, orders: list, steps: int, batch_size: int, progress: bool):
    """Each variant's rate per round, the variants in each round's order."""
    timings = {label: [] for label in setups}
    for round_index, order in enumerate(orders):
        for label in order:
            model, data, *_ = setups[label]
            clock = BatchClock()
            model.fit(
                data, epochs=1, steps_per_epoch=steps, verbose=0, shuffle=False, callbacks=[clock]
            )
            timings[label].append(clock.images_per_second(batch_size))
            if progress:
                print(
                    f"round {round_index + 1}/{len(orders)} {label}: "
                    f"{timings[label][-1]:,.0f} images/s",
                    flush=True,
                )
    return timings


def _variant_rows(variants: dict, setups: dict, timings: dict) -> dict:
    """The report's row per variant: settings, precision, axes and rates."""
    baseline = statistics.median(timings[next(iter(variants))])
    return {
        label: {
            "settings": {
                k: list(v) if isinstance(v, tuple) else v for k, v in variants[label].items()
            },
            "precision": setups[label][2],
            **setups[label][3],
            "images_per_second_rounds": timings[label],
            "images_per_second": statistics.median(timings[label]),
            "relative_to_first": statistics.median(timings[label]) / baseline,
        }
        for label in variants
    }


# The settings that change what a training step costs: the network's own options
# (width, depth), its inputs' augmentation and mixing, precision, and the optimizer's
# extra work (decoupled weight decay, a weight average). A time budget's epochs are
# fitted with all of them, so a wide variant of a model gets the epochs it can afford.
STEP_COST_SETTINGS = (
    "model_options",
    "augmentation",
    "augment_strength",
    "cutmix",
    "precision",
    "optimizer",
    "weight_decay",
    "ema_momentum",
    "label_smoothing",
)


def fit_to_time_budget(config: TrainConfig) -> tuple[TrainConfig, dict]:
    """``config`` with the whole epochs that fit its ``budget_seconds`` here, and why.

    The rate is measured now, on this machine, with the run's own model, batch
    size and ``STEP_COST_SETTINGS`` (median of 3 rounds of ``measure``). The
    epochs fill TIME_BUDGET_MARGIN of the budget. The caller fixes them in
    config.json, so a resumed run keeps them.
    """
    settings = {name: getattr(config, name) for name in STEP_COST_SETTINGS}
    report = measure(
        config.arch,
        {"run": settings},
        steps=20,
        rounds=3,
        batch_size=config.batch_size,
        seed=config.seed,
        progress=False,
    )
    rate = report["variants"]["run"]["images_per_second"]
    fitted = math.floor(config.budget_seconds * TIME_BUDGET_MARGIN * rate / config.n_train)
    epochs = min(max(1, fitted), 10_000)
    if config.verbose:
        short = ", the least a run trains: the budget is shorter than an epoch"
        print(
            f"Time budget {config.budget_seconds:,.0f} s: {rate:,.0f} images/s measured here, "
            f"so {epochs} epoch{'s' if epochs != 1 else ''} ({epochs * config.n_train:,} "
            f"images){short if fitted < 1 else ''}",
            flush=True,
        )
    return config.replace(epochs=epochs), {
        "budget_seconds": config.budget_seconds,
        "margin": TIME_BUDGET_MARGIN,
        "measured_images_per_second": rate,
        "measured_settings": report["variants"]["run"]["settings"],
        "rounds_images_per_second": report["variants"]["run"]["images_per_second_rounds"],
        "epochs": epochs,
        "images_seen": epochs * config.n_train,
        "measured": report["created"],
        "machine": report["machine"],
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


def training_estimate(archs, profile: str, trainings: int = 1, steps: int = 8) -> dict:
    """How long training ``archs`` in ``profile`` will take here, from a short measurement now.

    Each model trains ``steps`` batches of its profile's own settings (after a
    warm-up), and its images seen are divided by that rate; each epoch's
    validation pass is counted as a third of a training pass per image (forward
    only). Each model is trained ``trainings`` times on the same budget (a recipe
    changes how it trains, not how many images it sees). The machine's load can
    change the real time either way.
    """
    models = {}
    for arch in archs:
        config = profile_config(arch, profile)
        settings = {"augmentation": config.augmentation, "precision": config.precision}
        report = measure(arch, {arch: settings}, steps=steps, rounds=1, progress=False)
        rate = report["variants"][arch]["images_per_second"]
        n_val = (config.subset or TRAIN_POOL_SIZE) - config.n_train
        validation = config.epochs * n_val / 3
        models[arch] = {
            "images_seen": config.images_seen,  # per training
            "trainings": trainings,
            "images_per_second": rate,
            "seconds": trainings * (config.images_seen + validation) / rate,
        }
    return {"models": models, "seconds": sum(m["seconds"] for m in models.values())}
