"""The suite itself: which notebooks there are, what each trains or reads, and where
their executed copies go."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from ..errors import UsageError
from ..paths import PROJECT_ROOT
from ..results import recipe_searches
from ..runs import suite_run_dir

RECORD_NAME = "executed.json"

# Parameters the runner sets itself; any other must be passed with -p NAME=VALUE.
MANAGED = ("PROFILE", "RUNS_DIR")
# The architectures each notebook of the suite trains or reads (their runs are
# ``runs.suite_run_dir(RUNS_DIR, PROFILE, arch, recipe, SEED)``, see suite_runs):
# 01-03 train one architecture each (the ARCH of their notebook),
# and 04_evaluation reads every run they train (its ARCHS). A notebook whose runs
# are incomplete or newer than its last execution is run again. Read runs are
# optional (04_evaluation also works from results/ alone), but one that exists
# must be complete.
TRAINS = {"01_arch1": ("arch1",), "02_arch2": ("arch2",), "03_vgg": ("vgg",)}
# Each of them trains its architecture twice, on the same budget: the original's
# recipe, then the recipe chosen on validation (results.recipe_searches()).
TRAININGS_PER_ARCH = 2
READS = {"04_evaluation": tuple(arch for archs in TRAINS.values() for arch in archs)}


@dataclass
class Outcome:
    name: str
    status: str  # "executed", "skipped" or "planned" (dry run)
    reason: str
    seconds: float = 0.0
    output: Path | None = None


def default_out_dir(profile: str) -> Path:
    return PROJECT_ROOT / "runs" / "notebooks" / profile


def list_notebooks(notebooks_dir: str | os.PathLike) -> list[str]:
    """Names (without .ipynb) of the notebooks in a folder, in execution order."""
    folder = Path(notebooks_dir)
    if not folder.is_dir():
        raise UsageError(f"{folder}: no such notebooks folder")
    return sorted(p.stem for p in folder.glob("*.ipynb") if not p.name.startswith("."))


def select_notebooks(names: list[str], only=None) -> list[str]:
    """The notebooks to run, in suite order; unknown names are a usage error."""
    if not names:
        raise UsageError("no notebooks found")
    if not only:
        return list(names)
    wanted = [n[: -len(".ipynb")] if n.endswith(".ipynb") else n for n in only]
    unknown = [n for n in wanted if n not in names]
    if unknown:
        raise UsageError(
            f"--only: unknown notebook(s) {unknown}; valid names are {', '.join(names)}"
        )
    return [n for n in names if n in wanted]


def suite_runs(root: Path, profile: str, archs, seed: int) -> list[Path]:
    """The run directories of ``archs`` in the suite: per architecture, the original's
    recipe and then the recipe chosen on validation (``results.recipe_searches()``)."""
    searches = recipe_searches()
    return [
        suite_run_dir(root, profile, arch, recipe, seed)
        for arch in archs
        for recipe in (None, searches[arch]["chosen"])
    ]
