"""Runs `fmnist bench`."""

from __future__ import annotations

import shlex
import sys

from ... import bench
from ...bench import INSTALL_HINT, SIDES, BenchSpec, check_spec, render_markdown, tf_keras_available
from ...errors import ConfigError

# The bench options that become BenchSpec fields only when given.
_BENCH_CAPS = (
    "max_epochs",
    "max_images",
    "time_limit",
    "target",
    "subset",
    "test_subset",
    "project_recipe",
    "project_epochs",
)


def _bench_spec(args):
    sides = tuple(s.strip() for s in args.sides.split(",") if s.strip())
    overrides = {key: getattr(args, key) for key in _BENCH_CAPS if getattr(args, key) is not None}
    overrides["project_precision"] = args.project_precision
    common = {
        "seed": args.seed,
        "data_dir": args.data_dir,
        "sides": sides,
        "verbose": not args.quiet,
    }
    try:
        if args.quick:
            return BenchSpec.quick_spec(**common, **overrides)
        return BenchSpec(**common, **overrides)
    except TypeError as err:  # pragma: no cover - argparse guards the names
        raise ConfigError(str(err)) from None


def _command_line(args) -> str:
    """The command, rebuilt from the parsed options (however it was started)."""
    parts = ["fmnist", "bench"]
    if args.quick:
        parts.append("--quick")
    for key in ("sides", *_BENCH_CAPS, "project_precision", "seed", "data_dir", "out"):
        value = getattr(args, key)
        defaults = {"sides": ",".join(SIDES), "seed": 0, "out": "runs/bench"}
        default = {**defaults, "project_precision": "auto"}.get(key)
        if value is not None and value != default:
            parts += [f"--{key.replace('_', '-')}", str(value)]
    if args.quiet:
        parts.append("--quiet")
    return shlex.join(parts)


def bench_command(args) -> int:
    spec = _bench_spec(args)
    check_spec(spec)
    if "original" in spec.sides and not tf_keras_available():
        print(
            f"fmnist bench: tf-keras is not installed: the original pipeline will be skipped. "
            f"Install it with: {INSTALL_HINT}",
            file=sys.stderr,
        )
    report = bench.run_bench(spec, args.out, command=_command_line(args))
    print(render_markdown(report))
    print(f"Report: {' and '.join(report['paths'])}")
    failed = [side for side in report["pipelines"].values() if side.get("status") == "failed"]
    for side in failed:
        message = f"the {side['pipeline']} pipeline failed: {side['reason']}"
        print(f"fmnist bench: {message}\n{side.get('stderr_tail', '')}", file=sys.stderr)
    return 1 if failed else 0
