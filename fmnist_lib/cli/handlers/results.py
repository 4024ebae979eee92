"""Runs `fmnist results add|embed|readme`."""

from __future__ import annotations

from pathlib import Path

from ... import readme, results
from ...embedding import embed_run
from ...errors import UsageError
from ...paths import PROJECT_ROOT


def results_command(args) -> int:
    if args.action == "add":
        if not args.runs:
            raise UsageError("results add: name at least one run directory")
        if args.name and len(args.runs) > 1:
            raise UsageError("results add: --name takes a single run directory")
        for run_dir in args.runs:
            print(f"added {results.add_run(run_dir, name=args.name)}")
        return 0
    if args.action == "embed":
        if not args.runs:
            raise UsageError("results embed: name at least one run directory")
        if args.size is not None and args.size < 100:
            raise UsageError(f"--size: expected at least 100 test images, got {args.size}")
        for run_dir in args.runs:
            target = results.embedding_path(Path(run_dir).name)
            print(f"t-SNE of {run_dir} ({args.size or 10_000:,} test images)...", flush=True)
            print(f"wrote {embed_run(run_dir, target, size=args.size, seed=args.seed)}")
        return 0
    if args.runs:
        raise UsageError("results readme takes no run directories")
    readme_path = PROJECT_ROOT / "README.md"
    if args.check:
        stale = readme.out_of_date(readme_path)
        for path in stale:
            print(f"{path.name} in {path.parent.name}/ is out of date: run `fmnist results readme`")
        if stale:
            return 1
        print("README results section and results/README.md match results/")
        return 0
    changed = readme.update_readme(readme_path)
    for path in changed:
        print(f"updated {path}")
    if not changed:
        print("README results section and results/README.md already up to date")
    return 0
