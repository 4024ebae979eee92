"""Runs `fmnist experiment list|run`."""

from __future__ import annotations

from ...errors import UsageError
from ...experiments import REFERENCE, ROLES
from ...runner import run_experiments, states


def _seeds(text: str | None) -> list[int] | None:
    if text is None:
        return None
    try:
        return [int(seed) for seed in text.split(",")]
    except ValueError:
        raise UsageError(f"--seeds: expected comma-separated integers, got {text!r}") from None


def experiment_command(args) -> int:
    if args.action == "list":
        if args.ids or args.reference or args.seeds:
            raise UsageError("experiment list takes only --role")
        table = states()
        if args.role is not None:
            if args.role not in ROLES:
                raise UsageError(f"--role: {args.role!r} is not valid; choose one of {list(ROLES)}")
            table = table[table["role"] == args.role]
        print(table.to_string(index=False))
        return 0
    if args.role is not None:
        raise UsageError("--role is for `experiment list`")
    ids = list(REFERENCE) if args.reference else args.ids
    if not ids:
        raise UsageError(
            "experiment run: name experiment ids (`fmnist experiment list`) or --reference"
        )
    for path in run_experiments(ids, seeds=_seeds(args.seeds)):
        print(f"recorded {path}")
    return 0
