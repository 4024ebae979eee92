"""Runs `fmnist throughput`."""

from __future__ import annotations

import shlex

from ...errors import UsageError
from ...models import BATCH_NORMS
from ...runs import write_json
from ...throughput import markdown, measure, variant_grid


def throughput_command(args) -> int:
    if not 2 <= args.steps <= 10_000 or not 1 <= args.rounds <= 100:
        # a rate is timed between batches, so a round needs two
        raise UsageError("--steps must be 2..10,000 and --rounds 1..100")
    unknown = sorted(set(args.batch_norm or ()) - set(BATCH_NORMS))
    if unknown:
        raise UsageError(f"--batch-norm: unknown {unknown}; valid: {sorted(BATCH_NORMS)}")
    axes = (args.precisions, args.batch_norm, args.xla, args.augment_in)
    chosen = None
    if any(axes) or args.augment is not None:
        augmentation = None
        if args.augment is not None:
            augmentation = [a for a in args.augment.split(",") if a and a != "none"]
        chosen = variant_grid(
            args.precisions or (),
            args.batch_norm or (),
            [x == "on" for x in args.xla or ()],
            args.augment_in or (),
            augmentation,
        )
    try:
        report = measure(args.arch, chosen, steps=args.steps, rounds=args.rounds)
    except ValueError as err:  # a bad model, precision or batch-norm name
        raise UsageError(str(err)) from None
    command = ["fmnist", "throughput", "--arch", args.arch]
    command += ["--steps", str(args.steps), "--rounds", str(args.rounds)]
    for option, values in (
        ("--precisions", args.precisions),
        ("--batch-norm", args.batch_norm),
        ("--xla", args.xla),
        ("--augment-in", args.augment_in),
    ):
        command += [option, *values] if values else []
    command += ["--augment", args.augment] if args.augment is not None else []
    report["command"] = shlex.join([*command, "--out", str(args.out)])
    write_json(args.out, report)
    print(f"{markdown(report)}\nWrote {args.out}")
    return 0
