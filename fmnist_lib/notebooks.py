"""Batch runner for the notebook suite: `fmnist run-notebooks`, built on papermill.

The notebooks in ``notebooks/`` run in name order, each in a fresh ``python3``
kernel whose working directory is the notebooks folder (so their relative paths
work). papermill injects ``PROFILE`` (and ``RUNS_DIR`` when ``--runs-dir`` is
given) after each notebook's ``parameters`` cell; every other parameter passed
must already be in that cell, with a value of the same type, or nothing runs.

Executed copies go to ``runs/notebooks/<profile>/`` (the sources are rewritten
only with ``--in-place``), beside ``executed.json``, the record of finished
notebooks. A notebook recorded as executed for the same profile, parameters and
source, whose training runs are complete and unchanged since, is skipped unless
``--force``. The first failing notebook stops the batch: the error names the
notebook and the cell, and the partial executed copy stays for inspection.
"""

from __future__ import annotations

import ast
import contextlib
import hashlib
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

from . import hardware
from .config import PROFILES
from .errors import NotebookError, UsageError
from .paths import NOTEBOOKS_DIR, PROJECT_ROOT
from .runs import is_complete, read_json, write_json

KERNEL_NAME = "python3"
# TensorFlow's C++ logs (the oneDNN notice, written before absl::InitializeLog, which
# no environment variable silences) go to the process's file descriptor 2, which a
# kernel by default forwards into the notebook as stderr. Without that capture they
# reach the runner's terminal instead; Python's sys.stdout/sys.stderr still reach
# the notebook.
KERNEL_ARGUMENTS = ("--IPKernelApp.capture_fd_output=False",)
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
INJECTED_TAG = "injected-parameters"
ERROR_TAG = "papermill-error-cell-tag"
# What a committed notebook may carry: anything else is volatile or personal.
NOTEBOOK_METADATA_KEYS = ("kernelspec", "language_info")
CELL_METADATA_KEYS = ("tags",)


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


def parse_parameter(text: str) -> tuple[str, object]:
    """``NAME=VALUE`` -> (NAME, value); VALUE is a Python literal or else a string."""
    name, sep, raw = text.partition("=")
    name = name.strip()
    if not sep or not name.isidentifier():
        raise UsageError(f"-p {text!r}: expected NAME=VALUE, e.g. -p SEED=1")
    try:
        value = ast.literal_eval(raw)
    except (ValueError, SyntaxError):
        value = raw
    return name, value


def notebook_parameters(path: Path) -> dict[str, dict]:
    """The parameters cell of a notebook as {name: papermill's description}."""
    import nbformat
    import papermill

    nb = nbformat.read(path, as_version=4)
    tagged = [c for c in nb.cells if "parameters" in c.get("metadata", {}).get("tags", [])]
    if len(tagged) > 1:
        raise UsageError(
            f"{path.name}: {len(tagged)} cells are tagged 'parameters'; papermill "
            "overrides only the first, so a notebook must have exactly one"
        )
    if not tagged:
        return {}
    return papermill.inspect_notebook(str(path))


def _default_value(name: str, spec: dict, notebook: str):
    try:
        return ast.literal_eval(spec["default"])
    except (ValueError, SyntaxError):
        raise UsageError(
            f"{notebook}: parameter {name} = {spec['default']} is not a plain value; "
            "a parameters cell holds literals only (derive values in the next cell)"
        ) from None


def _same_type(value, default) -> bool:
    if default is None:
        return True
    if isinstance(default, bool) or isinstance(value, bool):
        return type(value) is type(default)
    if isinstance(default, float):
        return isinstance(value, (int, float))
    return isinstance(value, type(default))


def notebook_inputs(
    name: str, declared: dict[str, dict], profile: str, runs_dir: Path | None, extra: dict
) -> dict:
    """The parameters to inject into one notebook, checked against its parameters cell."""
    needs_runs = name in TRAINS or name in READS
    missing = [p for p in MANAGED if p not in declared]
    if needs_runs and missing:
        raise UsageError(
            f"{name}: trains or reads runs, so its parameters cell must define {missing}"
        )
    values = {}
    if "PROFILE" in declared:
        values["PROFILE"] = profile
    if runs_dir is not None and "RUNS_DIR" in declared:
        values["RUNS_DIR"] = str(runs_dir)
    for key, value in extra.items():
        if key in MANAGED:
            option = "--profile" if key == "PROFILE" else "--runs-dir"
            raise UsageError(f"-p {key}: set it with {option}")
        if key not in declared:
            valid = ", ".join(declared) or "none"
            raise UsageError(
                f"parameter {key!r} is not in the parameters cell of {name}.ipynb "
                f"(its parameters: {valid}); use --only to pick notebooks that take it"
            )
        default = _default_value(key, declared[key], name)
        if not _same_type(value, default):
            raise UsageError(
                f"parameter {key}: {name}.ipynb expects {type(default).__name__} values "
                f"(default {default!r}), got {value!r}"
            )
        values[key] = value
    for key, spec in declared.items():
        _default_value(key, spec, name)  # a parameters cell holds plain values only
    return values


def source_digest(nb) -> str:
    """SHA-256 of a notebook's cell types and sources (outputs and metadata excluded)."""
    cells = [
        [c.cell_type, c.source]
        for c in nb.cells
        if INJECTED_TAG not in c.get("metadata", {}).get("tags", [])
    ]
    return hashlib.sha256(json.dumps(cells).encode()).hexdigest()


def clean_notebook(nb):
    """An executed notebook fit to commit: no injected cell, no volatile metadata.

    Drops papermill's injected-parameters and error-marker cells, keeps only the
    kernelspec and language_info of the notebook's metadata and only non-empty
    tags of each cell's, and renumbers the execution counts from 1.
    """
    nb.cells = [
        c
        for c in nb.cells
        if not {INJECTED_TAG, ERROR_TAG} & set(c.get("metadata", {}).get("tags", []))
    ]
    for key in list(nb.metadata):
        if key not in NOTEBOOK_METADATA_KEYS:
            del nb.metadata[key]
    count = 0
    for cell in nb.cells:
        for key in list(cell.metadata):
            if key not in CELL_METADATA_KEYS or not cell.metadata[key]:
                del cell.metadata[key]
        if cell.cell_type != "code":
            continue
        if cell.execution_count is not None:
            count += 1
            cell.execution_count = count
        for output in cell.outputs:
            if output.get("output_type") == "execute_result":
                output["execution_count"] = cell.execution_count
    return nb


def _folder_parameter(
    nb_dir: Path, declared: dict, values: dict, name: str, key: str
) -> Path | None:
    """A folder parameter's value: the override, else the default relative to the notebook."""
    if key in values:
        return Path(values[key])
    if key not in declared:
        return None
    return (nb_dir / _default_value(key, declared[key], name)).resolve()


def _newest_mtime(folder: Path) -> float:
    return max((p.stat().st_mtime for p in folder.rglob("*") if p.is_file()), default=0.0)


def suite_runs(root: Path, profile: str, archs, seed: int) -> list[Path]:
    """The run directories of ``archs`` in the suite: per architecture, the original's
    recipe and then the recipe chosen on validation (``results.recipe_searches()``)."""
    from .results import recipe_searches
    from .runs import suite_run_dir

    searches = recipe_searches()
    return [
        suite_run_dir(root, profile, arch, recipe, seed)
        for arch in archs
        for recipe in (None, searches[arch]["chosen"])
    ]


def _stale_reason(
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
    for run_dir in run_dirs:
        if runs_optional and not run_dir.exists():
            continue
        if not is_complete(run_dir):
            return f"run {run_dir} is not complete"
        if (run_dir / "status.json").stat().st_mtime > entry.get("finished", 0):
            return f"run {run_dir} changed after the notebook last ran"
    # `fmnist results add` changes what 04_evaluation shows without touching a run.
    if results_dir is not None and results_dir.is_dir():
        if _newest_mtime(results_dir) > entry.get("finished", 0):
            return f"results {results_dir} changed after the notebook last ran"
    return None


@contextlib.contextmanager
def _kernel_environment(commit: str | None = None):
    """What kernels inherit: fewer TensorFlow C++ log lines, and the commit they run.

    Level 2 hides INFO and WARNING (cpu_feature_guard's notice); the oneDNN notice
    comes before TensorFlow reads it (see KERNEL_ARGUMENTS). ``commit`` pins
    ``$FMNIST_GIT_COMMIT``, so every notebook's header names the checkout as the
    run started. Both are restored afterwards.
    """
    wanted = {"TF_CPP_MIN_LOG_LEVEL": os.environ.get("TF_CPP_MIN_LOG_LEVEL", "2")}
    if commit:
        wanted["FMNIST_GIT_COMMIT"] = commit
    previous = {name: os.environ.get(name) for name in wanted}
    os.environ.update(wanted)
    try:
        yield
    finally:
        for name, value in previous.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _failure_message(name: str, err, output: Path) -> str:
    first_line = next((line for line in err.source.splitlines() if line.strip()), "")
    return (
        f"{name}.ipynb failed in cell In [{err.exec_count}] "
        f"(cell #{err.cell_index + 1} of the executed copy, `{first_line.strip()}`): "
        f"{err.ename}: {err.evalue}. Partial executed copy kept: {output}"
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
    plan = []
    for name in selected:
        declared = notebook_parameters(nb_dir / f"{name}.ipynb")
        values = notebook_inputs(name, declared, profile, runs_root_override, parameters or {})
        root = _folder_parameter(nb_dir, declared, values, name, "RUNS_DIR")
        seed = values.get("SEED", 0)
        used = TRAINS.get(name, ()) + READS.get(name, ())
        run_dirs = suite_runs(root, profile, used, seed) if root else []
        results_dir = _folder_parameter(nb_dir, declared, values, name, "RESULTS_DIR")
        plan.append((name, values, run_dirs, results_dir))
    trained_before = set()
    for name, _, run_dirs, _ in plan:
        trains = TRAININGS_PER_ARCH * len(TRAINS.get(name, ()))
        for run_dir in run_dirs[trains:]:
            if run_dir not in trained_before and run_dir.exists() and not is_complete(run_dir):
                raise NotebookError(
                    f"{name}.ipynb reads the run {run_dir}, which is not a completed run; "
                    "finish it (run the notebook that trains it, or `fmnist train --resume "
                    f"{run_dir}`) or remove it"
                )
        trained_before.update(run_dirs[:trains])

    import nbformat
    from tqdm.auto import tqdm

    if estimate:
        _print_estimate([arch for name, *_ in plan for arch in TRAINS.get(name, ())], profile)
    record_path = out / RECORD_NAME
    record = {"notebooks": {}}
    if record_path.exists():
        try:
            record = read_json(record_path)
        except ValueError as err:
            raise NotebookError(
                f"{record_path}: unreadable record ({err}); delete it to start afresh"
            ) from None
    outcomes = []
    started = time.perf_counter()
    # The code that runs is the checkout as the run starts: --in-place rewrites tracked
    # notebooks as it goes, which would mark every later look at the commit dirty.
    commit = hardware.git_commit()
    bar = tqdm(total=len(plan), unit="nb", desc=f"notebooks ({profile})", disable=not progress)
    # Kernels inherit the commit, so every notebook's header names it too.
    with _kernel_environment(commit), contextlib.closing(bar):
        for name, values, run_dirs, results_dir in plan:
            source = nb_dir / f"{name}.ipynb"
            digest = source_digest(nbformat.read(source, as_version=4))
            entry = record["notebooks"].get(name)
            reason = "--force" if force else None
            reason = reason or _stale_reason(
                entry,
                profile=profile,
                values=values,
                digest=digest,
                in_place=in_place,
                run_dirs=run_dirs,
                runs_optional=name in READS,
                results_dir=results_dir,
            )
            bar.set_postfix_str(name)
            if reason is None:
                outcomes.append(Outcome(name, "skipped", "up to date", 0.0, Path(entry["output"])))
                bar.write(f"{name:<16} skipped: already executed for {profile} (--force reruns)")
            elif dry_run:
                outcomes.append(Outcome(name, "planned", reason))
                bar.write(f"{name:<16} would run: {reason}")
            else:
                entry = {
                    "profile": profile,
                    "parameters": values,
                    "source_sha256": digest,
                    "in_place": in_place,
                }
                outcome = _execute(name, source, out, nb_dir, entry, record, progress)
                outcome.reason = reason
                outcomes.append(outcome)
                bar.write(f"{name:<16} executed in {outcome.seconds:7.1f} s ({reason})")
            bar.update(1)
    tally = {s: sum(o.status == s for o in outcomes) for s in ("executed", "skipped", "planned")}
    if not dry_run:
        seconds = time.perf_counter() - started
        _record_last_run(record, record_path, profile, outcomes, seconds, commit)
    done = (
        f"{tally['planned']} would run, {tally['skipped']} up to date (dry run)"
        if dry_run
        else f"{tally['executed']} executed, {tally['skipped']} skipped, "
        f"in {time.perf_counter() - started:.1f} s; executed copies in {out}"
    )
    print(f"{len(outcomes)} notebook(s): {done}")
    if in_place and tally["executed"]:
        print(
            "Sources rewritten in place with their outputs; their parameters cells keep "
            f"their own values, whatever profile ({profile}) produced the outputs."
        )
    return outcomes


def _record_last_run(record, record_path, profile, outcomes, seconds, commit) -> None:
    """The whole run's wall time, machine and commit, beside the per-notebook entries."""
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
        "finished": time.strftime("%Y-%m-%dT%H:%M:%S"),
    }
    write_json(record_path, record)


def _print_estimate(archs: list[str], profile: str) -> None:
    """Say, before hours of training start, how long they will take on this machine."""
    if not archs:
        return
    from .throughput import training_estimate

    print(f"Measuring this machine's training speed for {', '.join(archs)}...", flush=True)
    with _kernel_environment():
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


def _execute(name, source, out, nb_dir, entry, record, progress=False) -> Outcome:
    """Run one notebook into ``out``; keep ``record`` (written after each change) current."""
    import nbformat
    import papermill
    from papermill.exceptions import PapermillExecutionError

    output = out / source.name
    out.mkdir(parents=True, exist_ok=True)
    record_path = out / RECORD_NAME
    entry = record["notebooks"][name] = {
        **entry,
        "status": "running",
        "source": str(source),
        "output": str(output),
        "started": time.time(),
    }
    write_json(record_path, record)
    # papermill keeps the old outputs of cells it never reaches: start from a
    # copy without outputs, so that a partial copy shows only this execution.
    blank = nbformat.read(source, as_version=4)
    for cell in blank.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    nbformat.write(blank, output)
    start = time.perf_counter()
    try:
        with _kernel_environment():
            papermill.execute_notebook(
                str(output),
                str(output),
                parameters=entry["parameters"],
                kernel_name=KERNEL_NAME,
                extra_arguments=list(KERNEL_ARGUMENTS),
                cwd=str(nb_dir),
                progress_bar=progress and {"desc": name, "leave": False},
                log_output=False,
            )
    except BaseException as err:
        entry.update(
            status="interrupted" if isinstance(err, KeyboardInterrupt) else "failed",
            seconds=time.perf_counter() - start,
            error=f"{type(err).__name__}: {getattr(err, 'evalue', err)}",
        )
        write_json(record_path, record)
        if isinstance(err, PapermillExecutionError):
            raise NotebookError(_failure_message(name, err, output)) from None
        if isinstance(err, Exception):
            raise NotebookError(
                f"{name}.ipynb could not be executed ({type(err).__name__}: {err}); "
                f"partial executed copy, if any: {output}"
            ) from err
        raise
    seconds = time.perf_counter() - start
    if entry["in_place"]:
        if source_digest(nbformat.read(source, as_version=4)) != entry["source_sha256"]:
            entry.update(status="failed", error="source edited during execution")
            write_json(record_path, record)
            raise NotebookError(
                f"{source} was edited while it ran, so it was not overwritten; "
                f"the executed copy is {output}"
            )
        cleaned = clean_notebook(nbformat.read(output, as_version=4))
        tmp = source.with_name(f".{source.name}.tmp")
        nbformat.write(cleaned, tmp)
        os.replace(tmp, source)
    entry.update(status="completed", seconds=seconds, finished=time.time())
    write_json(record_path, record)
    return Outcome(name, "executed", "", seconds, output)
