"""The record of executed notebooks (``executed.json``) and what makes an entry stale."""

from __future__ import annotations

import json
import time
from pathlib import Path

from .. import hardware
from ..errors import NotebookError
from ..runs import is_complete, read_json, write_json


def read_record(record_path: Path) -> dict:
    """The record at ``record_path``, or an empty one; an unreadable one stops the run."""
    if not record_path.exists():
        return {"notebooks": {}}
    try:
        return read_json(record_path)
    except ValueError as err:
        raise NotebookError(
            f"{record_path}: unreadable record ({err}); delete it to start afresh"
        ) from None


def _newest_mtime(folder: Path) -> float:
    return max((p.stat().st_mtime for p in folder.rglob("*") if p.is_file()), default=0.0)


def _stale_run(run_dirs, runs_optional: bool, finished: float) -> str | None:
    """Why the runs a notebook trains or reads make it stale, or None."""
    for run_dir in run_dirs:
        if runs_optional and not run_dir.exists():
            continue
        if not is_complete(run_dir):
            return f"run {run_dir} is not complete"
        if (run_dir / "status.json").stat().st_mtime > finished:
            return f"run {run_dir} changed after the notebook last ran"
    return None


def stale_reason(
    entry, *, profile, values, digest, in_place, run_dirs, runs_optional=False, results_dir=None
) -> str | None:
    """Why a notebook must run again, or None when its last execution still holds."""
    if entry is None:
        return "not executed yet"
    if entry.get("status") != "completed":
        return f"last attempt {entry.get('status', 'unfinished')}"
    if entry.get("profile") != profile:
        return f"last executed for profile {entry.get('profile')}"
    if entry.get("parameters") != json.loads(json.dumps(values)):
        return "parameters changed"
    if entry.get("source_sha256") != digest:
        return "notebook source changed"
    if not Path(entry.get("output", "")).is_file():
        return "executed copy missing"
    if in_place and not entry.get("in_place"):
        return "source not yet updated in place"
    reason = _stale_run(run_dirs, runs_optional, entry.get("finished", 0))
    if reason:
        return reason
    # `fmnist results add` changes what 04_evaluation shows without touching a run.
    if results_dir is not None and results_dir.is_dir():
        if _newest_mtime(results_dir) > entry.get("finished", 0):
            return f"results {results_dir} changed after the notebook last ran"
    return None


def record_last_run(record, record_path, profile, outcomes, seconds, commit, training) -> None:
    """The whole run's wall time, machine, commit and training (``runner.suite_training``),
    beside the per-notebook entries."""
    record["last_run"] = {
        "profile": profile,
        "wall_seconds": seconds,
        "executed": [o.name for o in outcomes if o.status == "executed"],
        "skipped": [o.name for o in outcomes if o.status == "skipped"],
        "machine": {
            "cpu": hardware.cpu_model(),
            "cores": hardware.cpu_count(),
            "bf16": hardware.has_bf16(),
        },
        "git_commit": commit,
        "training": training,
        "finished": time.strftime("%Y-%m-%dT%H:%M:%S"),
    }
    write_json(record_path, record)
