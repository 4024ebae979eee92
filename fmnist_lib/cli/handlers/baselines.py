"""Runs `fmnist baselines`."""

from __future__ import annotations

from ...baselines import BASELINES, run_baselines
from ...errors import UsageError
from ...runs import write_json


def baselines_command(args) -> int:
    unknown = sorted(set(args.only or []) - set(BASELINES))
    if unknown:
        raise UsageError(f"--only: unknown baseline(s) {unknown}; valid: {sorted(BASELINES)}")
    if args.train_size is not None and not 100 <= args.train_size <= 60000:
        raise UsageError(f"--train-size: {args.train_size} is out of range (100 to 60,000)")
    results = run_baselines(args.only, args.train_size)
    write_json(args.out, results)
    for name, record in results.items():
        print(
            f"{name:<20} test accuracy {record['test']['accuracy']:.4f} "
            f"({record['train_size']:,} training images, fit {record['fit_seconds']:.0f} s)"
        )
    print(f"Wrote {args.out}")
    return 0
