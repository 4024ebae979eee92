"""Executing one notebook with papermill, in a fresh kernel, into its executed copy."""

from __future__ import annotations

import contextlib
import os
import time
from pathlib import Path

from ..errors import NotebookError
from ..runs import write_json
from .cells import clean_notebook, source_digest
from .suite import RECORD_NAME, Outcome

KERNEL_NAME = "python3"
# C-level output (TensorFlow's C++ logs, any library's writes to file descriptor 2)
# goes to the process's file descriptor 2, which a kernel by default forwards into the
# notebook as stderr. Without that capture it reaches the runner's terminal instead;
# Python's sys.stdout/sys.stderr still reach the notebook. (Importing fmnist_lib
# already drops TensorFlow's start-up notices: see fmnist_lib.quiet.)
KERNEL_ARGUMENTS = ("--IPKernelApp.capture_fd_output=False",)
# plots.FIGURES_ENV, named here because importing plots loads matplotlib.
FIGURES_ENV = "FMNIST_FIGURES_DIR"


@contextlib.contextmanager
def kernel_environment(commit: str | None = None, figures: Path | None = None):
    """What kernels inherit: the commit they run, and where their figures go.

    ``commit`` pins ``$FMNIST_GIT_COMMIT``, so every notebook's header names the
    checkout as the run started. ``figures`` sets ``$FMNIST_FIGURES_DIR`` unless the
    environment already sets it (a caller's explicit choice wins). Both are restored
    afterwards.
    """
    wanted = {}
    if commit:
        wanted["FMNIST_GIT_COMMIT"] = commit
    if figures is not None and not os.environ.get(FIGURES_ENV):
        wanted[FIGURES_ENV] = str(figures)
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


def _raise_failure(name: str, err: BaseException, output: Path) -> None:
    """A NotebookError for a failed cell or a kernel that could not run; an interrupt
    (not an Exception) is left for the caller to re-raise."""
    from papermill.exceptions import PapermillExecutionError  # heavy, as in _papermill

    if isinstance(err, PapermillExecutionError):
        raise NotebookError(_failure_message(name, err, output)) from None
    if isinstance(err, Exception):
        raise NotebookError(
            f"{name}.ipynb could not be executed ({type(err).__name__}: {err}); "
            f"partial executed copy, if any: {output}"
        ) from err


def _write_blank_copy(source: Path, output: Path) -> None:
    """``source`` without outputs at ``output``: papermill keeps the old outputs of cells
    it never reaches, so a partial copy then shows only this execution."""
    import nbformat  # heavy (seconds to import): loaded only when a notebook runs

    blank = nbformat.read(source, as_version=4)
    for cell in blank.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    nbformat.write(blank, output)


def _papermill(output: Path, nb_dir: Path, name: str, parameters: dict, progress: bool) -> None:
    """Execute ``output`` in place in a fresh kernel whose working directory is ``nb_dir``."""
    import papermill  # heavy (seconds to import): loaded only when a notebook runs

    papermill.execute_notebook(
        str(output),
        str(output),
        parameters=parameters,
        kernel_name=KERNEL_NAME,
        extra_arguments=list(KERNEL_ARGUMENTS),
        cwd=str(nb_dir),
        progress_bar=progress and {"desc": name, "leave": False},
        log_output=False,
    )


def _write_back(source: Path, output: Path, entry: dict, record_path: Path, record) -> None:
    """The cleaned executed copy over ``source``, unless the source was edited meanwhile."""
    import nbformat  # heavy (seconds to import): loaded only when a notebook runs

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


def execute(name, source, out, nb_dir, entry, record, progress=False) -> Outcome:
    """Run one notebook into ``out``; keep ``record`` (written after each change) current."""
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
    _write_blank_copy(source, output)
    start = time.perf_counter()
    try:
        _papermill(output, nb_dir, name, entry["parameters"], progress)
    except BaseException as err:
        entry.update(
            status="interrupted" if isinstance(err, KeyboardInterrupt) else "failed",
            seconds=time.perf_counter() - start,
            error=f"{type(err).__name__}: {getattr(err, 'evalue', err)}",
        )
        write_json(record_path, record)
        _raise_failure(name, err, output)
        raise
    seconds = time.perf_counter() - start
    if entry["in_place"]:
        _write_back(source, output, entry, record_path, record)
    entry.update(status="completed", seconds=seconds, finished=time.time())
    write_json(record_path, record)
    return Outcome(name, "executed", "", seconds, output)
