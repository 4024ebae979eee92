"""The suite driver: plan every notebook, check the plan, then execute or skip each."""

from __future__ import annotations

import contextlib
import os
import time
from dataclasses import dataclass
from pathlib import Path

from tqdm.auto import tqdm

from .. import hardware
from ..config import PROFILES
from ..errors import NotebookError, UsageError
from ..paths import NOTEBOOKS_DIR
from ..runs import is_complete, read_json
from .cells import source_digest
from .execution import FIGURES_ENV, execute, kernel_environment
from .parameters import folder_parameter, notebook_inputs, notebook_parameters
from .staleness import read_record, record_last_run, stale_reason
from .suite import (
    READS,
    RECORD_NAME,
    TRAININGS_PER_ARCH,
    TRAINS,
    Outcome,
    default_out_dir,
    list_notebooks,
    select_notebooks,
    suite_runs,
)


@dataclass
class _Step:
    """One notebook of the plan: what it is given, and the runs and results it depends on."""

    name: str
    values: dict
    run_dirs: list
    results_dir: Path | None

    @property
    def trains(self) -> list:
        """The runs the notebook trains: the first of ``run_dirs``; the rest it reads."""
        return self.run_dirs[: TRAININGS_PER_ARCH * len(TRAINS.get(self.name, ()))]


@dataclass
class _Settings:
    profile: str
    out: Path
    nb_dir: Path
    in_place: bool
    force: bool
    dry_run: bool
    progress: bool

    @property
    def figures(self) -> Path:
        """Where the kernels' figures go: the figures/ beside the notebooks' folder (the
        README's) only for --in-place, which publishes; else beside the executed copies."""
        return self.nb_dir.parent / "figures" if self.in_place else self.out / "figures"


def _plan(nb_dir: Path, selected, profile: str, runs_dir: Path | None, extra: dict) -> list:
    """Each selected notebook's checked parameters and the runs and results it uses."""
    plan = []
    for name in selected:
        declared = notebook_parameters(nb_dir / f"{name}.ipynb")
        values = notebook_inputs(name, declared, profile, runs_dir, extra)
        root = folder_parameter(nb_dir, declared, values, name, "RUNS_DIR")
        seed = values.get("SEED", 0)
        used = TRAINS.get(name, ()) + READS.get(name, ())
        run_dirs = suite_runs(root, profile, used, seed) if root else []
        results_dir = folder_parameter(nb_dir, declared, values, name, "RESULTS_DIR")
        plan.append(_Step(name, values, run_dirs, results_dir))
    return plan


def _check_reads(plan: list) -> None:
    """Every run a notebook reads is complete, or trained by an earlier notebook of the plan."""
    trained_before = set()
    for step in plan:
        for run_dir in step.run_dirs[len(step.trains) :]:
            if run_dir not in trained_before and run_dir.exists() and not is_complete(run_dir):
                raise NotebookError(
                    f"{step.name}.ipynb reads the run {run_dir}, which is not a completed run; "
                    "finish it (run the notebook that trains it, or `fmnist train --resume "
                    f"{run_dir}`) or remove it"
                )
        trained_before.update(step.trains)


def _print_estimate(archs: list[str], profile: str) -> None:
    """Say, before hours of training start, how long they will take on this machine."""
    if not archs:
        return
    # Loads Keras and TensorFlow, which nothing else in the runner's process needs.
    from ..throughput import training_estimate

    print(f"Measuring this machine's training speed for {', '.join(archs)}...", flush=True)
    estimate = training_estimate(archs, profile, trainings=TRAININGS_PER_ARCH)
    print(estimate_line(estimate, profile), flush=True)


def estimate_line(estimate: dict, profile: str) -> str:
    """``throughput.training_estimate``'s result as the one line run-notebooks prints."""
    parts = ", ".join(
        f"{arch} {m['trainings']} x {m['images_seen'] / 1e6:.2f} M images at "
        f"{m['images_per_second']:,.0f}/s"
        for arch, m in estimate["models"].items()
    )
    return (
        f"Training in the {profile} profile: about {estimate['seconds'] / 60:.0f} min ({parts}), "
        "plus the notebooks' own analysis; a busy machine takes longer."
    )


def _visit(step: _Step, record: dict, settings: _Settings, bar) -> Outcome:
    """Skip, plan (dry run) or execute one notebook, and say which on the bar."""
    import nbformat  # heavy (seconds to import): loaded only when notebooks are run

    name, profile = step.name, settings.profile
    source = settings.nb_dir / f"{name}.ipynb"
    digest = source_digest(nbformat.read(source, as_version=4))
    entry = record["notebooks"].get(name)
    reason = "--force" if settings.force else None
    reason = reason or stale_reason(
        entry,
        profile=profile,
        values=step.values,
        digest=digest,
        in_place=settings.in_place,
        run_dirs=step.run_dirs,
        runs_optional=name in READS,
        results_dir=step.results_dir,
    )
    bar.set_postfix_str(name)
    if reason is None:
        bar.write(f"{name:<16} skipped: already executed for {profile} (--force reruns)")
        return Outcome(name, "skipped", "up to date", 0.0, Path(entry["output"]))
    if settings.dry_run:
        bar.write(f"{name:<16} would run: {reason}")
        return Outcome(name, "planned", reason)
    entry = {
        "profile": profile,
        "parameters": step.values,
        "source_sha256": digest,
        "in_place": settings.in_place,
    }
    outcome = execute(name, source, settings.out, settings.nb_dir, entry, record, settings.progress)
    outcome.reason = reason
    bar.write(f"{name:<16} executed in {outcome.seconds:7.1f} s ({reason})")
    return outcome


def _run_plan(plan: list, record: dict, settings: _Settings, commit: str | None) -> list:
    """Each notebook of the plan in turn, under one progress bar over the notebooks."""
    outcomes = []
    bar = tqdm(
        total=len(plan),
        unit="nb",
        desc=f"notebooks ({settings.profile})",
        disable=not settings.progress,
    )
    # Kernels inherit the commit, so every notebook's header names it too.
    with kernel_environment(commit, settings.figures), contextlib.closing(bar):
        for step in plan:
            outcomes.append(_visit(step, record, settings, bar))
            bar.update(1)
    return outcomes


def suite_training(plan: list, outcomes: list, since: float) -> dict:
    """The training runs of the executed notebooks: how many, how many this run trained
    (their metrics written after ``since``, a wall-clock time), and their training seconds.

    A notebook whose run is already complete only reads it, so a suite's wall time says
    how long it took only together with this."""
    executed = {o.name for o in outcomes if o.status == "executed"}
    runs = [
        run_dir
        for step in plan
        if step.name in executed
        for run_dir in step.trains
        if is_complete(run_dir)
    ]
    metrics = [run_dir / "metrics.json" for run_dir in runs]
    return {
        "runs": len(runs),
        "trained": sum(path.stat().st_mtime >= since for path in metrics),
        "train_seconds": sum(read_json(path)["train_seconds"] for path in metrics),
    }


def _print_summary(outcomes: list, settings: _Settings, started: float) -> None:
    tally = {s: sum(o.status == s for o in outcomes) for s in ("executed", "skipped", "planned")}
    done = (
        f"{tally['planned']} would run, {tally['skipped']} up to date (dry run)"
        if settings.dry_run
        else f"{tally['executed']} executed, {tally['skipped']} skipped, "
        f"in {time.perf_counter() - started:.1f} s; executed copies in {settings.out}, "
        f"figures in {os.environ.get(FIGURES_ENV) or settings.figures}"
    )
    print(f"{len(outcomes)} notebook(s): {done}")
    if settings.in_place and tally["executed"]:
        print(
            "Sources rewritten in place with their outputs; their parameters cells keep "
            f"their own values, whatever profile ({settings.profile}) produced the outputs."
        )


def run_suite(
    profile: str = "smoke",
    only=None,
    out_dir: str | os.PathLike | None = None,
    runs_dir: str | os.PathLike | None = None,
    in_place: bool = False,
    force: bool = False,
    parameters: dict | None = None,
    notebooks_dir: str | os.PathLike | None = None,
    dry_run: bool = False,
    progress: bool = True,
    estimate: bool = False,
) -> list[Outcome]:
    """Execute the notebooks in order; return what happened to each.

    Prints one line per notebook (skipped, or executed with its time) and a
    summary; ``progress`` adds a tqdm bar over the notebooks and one over each
    notebook's cells; ``estimate`` first measures this machine's training speed
    and says how long the training will take.

    Raises UsageError for bad names or parameters (before anything runs) and
    NotebookError when a notebook fails (the batch stops there).
    """
    if profile not in PROFILES:
        raise UsageError(f"profile: {profile!r} is not valid; choose one of {PROFILES}")
    nb_dir = Path(notebooks_dir or NOTEBOOKS_DIR).resolve()
    selected = select_notebooks(list_notebooks(nb_dir), only)
    out = Path(out_dir).resolve() if out_dir else default_out_dir(profile)
    runs_root_override = Path(runs_dir).resolve() if runs_dir else None
    # Everything is checked before the first kernel starts.
    plan = _plan(nb_dir, selected, profile, runs_root_override, parameters or {})
    _check_reads(plan)
    if estimate:
        _print_estimate([arch for step in plan for arch in TRAINS.get(step.name, ())], profile)
    record_path = out / RECORD_NAME
    record = read_record(record_path)
    started, started_wall = time.perf_counter(), time.time()
    # The code that runs is the checkout as the run starts: --in-place rewrites tracked
    # notebooks as it goes, which would mark every later look at the commit dirty.
    commit = hardware.git_commit()
    settings = _Settings(profile, out, nb_dir, in_place, force, dry_run, progress)
    outcomes = _run_plan(plan, record, settings, commit)
    if not dry_run:
        seconds = time.perf_counter() - started
        training = suite_training(plan, outcomes, started_wall)
        record_last_run(record, record_path, profile, outcomes, seconds, commit, training)
    _print_summary(outcomes, settings, started)
    return outcomes
