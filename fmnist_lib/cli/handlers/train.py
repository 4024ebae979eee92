"""Runs `fmnist train`."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from ... import training
from ...config import TrainConfig, profile_config
from ...errors import UsageError
from ...metrics import format_report
from ...recipes import recipe_settings
from ...runs import load_run, read_json


def train_command(args) -> int:
    settings = {
        f.name: getattr(args, f.name)
        for f in dataclasses.fields(TrainConfig)
        if getattr(args, f.name, None) is not None
    }
    if args.recipe:
        settings = {**recipe_settings(args.recipe), **settings}
    if args.quiet:
        settings["verbose"] = 0
    if args.resume:
        run_dir = Path(args.resume)
        if not (run_dir / "config.json").exists():
            raise UsageError(f"--resume {run_dir}: no run there (config.json missing)")
        if args.recipe or set(settings) - {"verbose"}:
            raise UsageError("--resume takes no other training options: the run keeps its own")
        saved = read_json(run_dir / "config.json")
        config = TrainConfig.from_dict({**saved, "verbose": settings.get("verbose", 1)})
        run_dir = training.train(config, run_dir=run_dir, resume=True)
    else:
        if args.profile:
            if args.profile != "smoke":
                # The profiles' compact epoch lines are for notebooks; a terminal keeps its bar.
                settings.setdefault("verbose", 1)
            config = profile_config(settings.pop("arch", "vgg"), args.profile, **settings)
        else:
            config = TrainConfig.from_dict(settings)
        run_dir = training.train(config)
    if not args.quiet:
        print(format_report(load_run(run_dir)["metrics"]["test"]))
        print(f"Run directory: {run_dir}")
        print(training.summarize_run(run_dir))
    return 0
