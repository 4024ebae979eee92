"""Runs `fmnist robustness`."""

from __future__ import annotations

from pathlib import Path

from ... import robustness
from ...errors import UsageError


def robustness_command(args) -> int:
    families = None
    if args.families is not None:
        families = [name.strip() for name in args.families.split(",") if name.strip()]
    severities = []
    for item in args.severities.split(","):
        try:
            severities.append(int(item))
        except ValueError:
            raise UsageError(
                f"--severities: {item.strip()!r} is not a whole number; valid severities are "
                f"0 to {robustness.MAX_SEVERITY}"
            ) from None
    # Everything is checked before the first model is scored: a bad argument leaves no file.
    try:
        run_dirs = robustness.check_runs(args.runs)
        families, severities = robustness.check_request(families, severities, args.test_subset)
    except ValueError as err:
        raise UsageError(str(err)) from None
    out = Path(args.out) if args.out else robustness.ROBUSTNESS_DIR
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out}: expected a folder for the records, found a file")
    for run_dir in run_dirs:
        record = robustness.score_run(
            run_dir,
            families,
            severities,
            test_subset=args.test_subset,
            seed=args.seed,
            data_dir=args.data_dir,
            progress=not args.quiet,
        )
        path = robustness.write_record(record, out)
        if not args.quiet:
            worst = record["worst_family"]
            print(
                f"{record['name']}: clean {record['clean_accuracy']:.4f}, mean corruption "
                f"{record['mean_corruption_accuracy']:.4f}, worst {worst['name']} "
                f"{worst['accuracy']:.4f} ({record['seconds']:.0f} s); wrote {path}"
            )
    return 0
