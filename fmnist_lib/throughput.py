"""Training throughput of this project's pipeline, variant against variant, interleaved.

Answers "does augmentation make the model wait?" and "what does a precision
policy buy on this machine?": each variant trains the same model on the same
tf.data batches, in rounds that run every variant once, each round starting one
variant later (A B C, B C A, C A B...), so that a busy machine slows every
variant alike; the median of the rounds is reported. --batch-norm compares
Keras' BatchNormalization with this project's fused one.
"""

from __future__ import annotations

import statistics
import time
from datetime import datetime

import keras

from . import hardware
from .augment import DEFAULT_AUGMENTATION
from .config import TrainConfig
from .data import prepare_splits
from .models import BATCH_NORMS
from .runs import write_json
from .training import compile_model, package_versions, training_batches

DEFAULT_VARIANTS = {
    "no augmentation": {"augmentation": ()},
    "default augmentation (rotate, flip)": {"augmentation": DEFAULT_AUGMENTATION},
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
    """Steady-state training images/s per variant, interleaved.

    A variant is a dict of TrainConfig overrides, plus optionally ``batch_norm``
    ("fused", the default, or "keras").
    """
    variants = variants or DEFAULT_VARIANTS
    keras.utils.set_random_seed(seed)
    splits = prepare_splits(0.1, seed, subset)
    y_train = keras.utils.to_categorical(splits.y_train, 10)
    per_epoch = -(-len(y_train) // batch_size)
    epochs_needed = -(-(steps * (rounds + 1)) // per_epoch) + 1
    setups = {}
    for label, overrides in variants.items():
        overrides = dict(overrides)
        batch_norm = overrides.pop("batch_norm", "fused")
        config = TrainConfig(arch=arch, batch_size=batch_size, seed=seed, verbose=0, **overrides)
        model, precision = compile_model(config, steps, batch_norm)
        data, _ = training_batches(splits.x_train, y_train, batch_size, seed, 0, epochs_needed)
        model.fit(data, epochs=1, steps_per_epoch=steps, verbose=0)  # trace and warm up
        setups[label] = (model, data, precision, batch_norm)
    timings = {label: [] for label in variants}
    labels = list(variants)
    orders = [labels[r % len(labels) :] + labels[: r % len(labels)] for r in range(rounds)]
    for round_index, order in enumerate(orders):
        for label in order:
            model, data, *_ = setups[label]
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
        "round_orders": orders,
        "machine": hardware.describe(),
        "versions": package_versions(),
        "variants": {
            label: {
                "settings": {
                    k: list(v) if isinstance(v, tuple) else v for k, v in variants[label].items()
                },
                "precision": setups[label][2],
                "batch_norm": setups[label][3],
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


def add_parser(sub):
    p = sub.add_parser(
        "throughput",
        help="training images/s with and without augmentation (or other variants), interleaved",
        description="Train the same model on the same batches with and without the default "
        "augmentation, in alternating rounds, and report the median steady-state training "
        "images/s of each (JSON + markdown). --precisions compares precision policies instead, "
        "--batch-norm batch-norm layers (both: every pair).",
    )
    p.add_argument("--arch", default="vgg", help="model name (default vgg)")
    p.add_argument("--steps", type=int, default=20, help="training steps per round (default 20)")
    p.add_argument("--rounds", type=int, default=3, help="rounds per variant (default 3)")
    p.add_argument(
        "--precisions",
        nargs="+",
        metavar="POLICY",
        help="compare these precision policies (with the default augmentation)",
    )
    p.add_argument(
        "--batch-norm",
        nargs="+",
        choices=list(BATCH_NORMS),
        metavar="IMPL",
        help="compare these batch-norm layers (with the default augmentation): keras (Keras' "
        "own) and/or fused (this project's); with --precisions, every pair, named like "
        "mixed_bfloat16/fused",
    )
    p.add_argument("--out", default="runs/throughput.json", help="JSON report path")
    p.set_defaults(handler=_throughput)


def _throughput(args) -> int:
    from .cli import UsageError

    if not 1 <= args.steps <= 10_000 or not 1 <= args.rounds <= 100:
        raise UsageError("--steps must be 1..10,000 and --rounds 1..100")
    variants = None
    if args.precisions and args.batch_norm:
        variants = {
            f"{p}/{bn}": {"precision": p, "batch_norm": bn}
            for p in args.precisions
            for bn in args.batch_norm
        }
    elif args.precisions:
        variants = {p: {"precision": p} for p in args.precisions}
    elif args.batch_norm:
        variants = {bn: {"batch_norm": bn} for bn in args.batch_norm}
    report = measure(args.arch, variants, steps=args.steps, rounds=args.rounds)
    report["command"] = (
        f"fmnist throughput --arch {args.arch} --steps {args.steps} --rounds {args.rounds}"
        + (f" --precisions {' '.join(args.precisions)}" if args.precisions else "")
        + (f" --batch-norm {' '.join(args.batch_norm)}" if args.batch_norm else "")
        + f" --out {args.out}"
    )
    write_json(args.out, report)
    print(markdown(report))
    print(f"Wrote {args.out}")
    return 0
