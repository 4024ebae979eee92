"""Runs `fmnist train`."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from ... import training
from ...config import TrainConfig, profile_config
from ...errors import UsageError
from ...metrics import format_report
from ...paths import RESULTS_DIR
from ...recipes import RECIPE_SETTINGS, recipe_settings
from ...results import add_run
from ...runs import load_run, read_json
from ...specs import get_spec, is_builder_reference


def _settings(args) -> dict:
    """The TrainConfig settings given on the command line, over the named recipe's."""
    settings = {
        f.name: getattr(args, f.name)
        for f in dataclasses.fields(TrainConfig)
        if getattr(args, f.name, None) is not None
    }
    if args.recipe:
        settings = {**recipe_settings(args.recipe), **settings}
    if args.quiet:
        settings["verbose"] = 0
    return settings


def _config(args, settings: dict) -> TrainConfig:
    """The run's config: a profile's when given; a user's model defaults to the full one."""
    arch = settings.pop("arch", "vgg")
    profile = args.profile or ("full" if is_builder_reference(arch) else None)
    if profile is None:
        return TrainConfig.from_dict({"arch": arch, **settings})
    if profile != "smoke":
        # The profiles' compact epoch lines are for notebooks; a terminal keeps its bar.
        settings.setdefault("verbose", 1)
    return profile_config(arch, profile, recipe=args.recipe, **settings)


def _recipe_name(args, config: TrainConfig) -> str:
    """The recipe a recorded run names: the recipe it ran, or custom if options changed it."""
    if any(getattr(args, field, None) is not None for field in RECIPE_SETTINGS):
        return "custom"
    return args.recipe or (
        get_spec(config.arch).recipe if args.profile or config.builder else "custom"
    )


def _resume(args, settings: dict) -> Path:
    run_dir = Path(args.resume)
    if not (run_dir / "config.json").exists():
        raise UsageError(f"--resume {run_dir}: no run there (config.json missing)")
    if args.recipe or args.seeds or args.record or set(settings) - {"verbose"}:
        raise UsageError("--resume takes no other training options: the run keeps its own")
    saved = read_json(run_dir / "config.json")
    config = TrainConfig.from_dict({**saved, "verbose": settings.get("verbose", 1)})
    return training.train(config, run_dir=run_dir, resume=True)


def train_command(args) -> int:
    settings = _settings(args)
    if args.resume:
        run_dirs = [_resume(args, settings)]
    else:
        config = _config(args, settings)
        recipe = _recipe_name(args, config)
        seeds = args.seeds or [config.seed]
        if len(seeds) > 1 and config.run_name:
            raise UsageError("--run-name names one run; leave it out with several --seeds")
        run_dirs = []
        for seed in seeds:
            seeded = config.replace(seed=seed)
            run_dir = training.train(seeded)
            run_dirs.append(run_dir)
            if args.record:
                name = f"{seeded.arch}-{recipe}-s{seed}"
                path = add_run(
                    run_dir,
                    args.results_dir or RESULTS_DIR,
                    name,
                    f"{seeded.arch}-{recipe}",
                    recipe,
                )
                if not args.quiet:
                    print(f"Recorded: {path}")
    if not args.quiet:
        for run_dir in run_dirs:
            print(format_report(load_run(run_dir)["metrics"]["test"]))
            print(f"Run directory: {run_dir}")
            print(training.summarize_run(run_dir))
    return 0
