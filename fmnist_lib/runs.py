"""Run directories: atomic writes, a status file, and reading runs back.

A run directory holds ``config.json``, ``status.json``, ``history.json``,
``metrics.json``, ``model.keras``, the resume backup and TensorBoard logs.
Every file is written to a temporary name and renamed, so a reader never sees
half a file, and ``status.json`` says whether the run completed.
"""

from __future__ import annotations

import io
import json
import os
import socket
import tempfile
import time
from pathlib import Path

import numpy as np

from .errors import RunError
from .portable import portable_copy

RUNNING, COMPLETED, FAILED = "running", "completed", "failed"
# Never written: read_status reports it for a "running" run whose process is gone.
INTERRUPTED = "interrupted"


def _default(obj):
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.floating):
        return float(obj)
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"cannot write {type(obj).__name__} to JSON")


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write to a temporary file in the same folder, fsync, then rename over ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)  # mkstemp makes 0600; artifacts are meant to be shared
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_json(path: str | os.PathLike, data) -> None:
    text = json.dumps(data, indent=2, default=_default, allow_nan=True)
    atomic_write_bytes(path, (text + "\n").encode())


def write_npz(path: str | os.PathLike, **arrays) -> None:
    """``np.savez_compressed`` of ``arrays``, written atomically."""
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    atomic_write_bytes(path, buffer.getvalue())


def read_json(path: str | os.PathLike):
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)


def atomic_save_model(model, path: str | os.PathLike) -> None:
    """Save ``model`` for plain Keras to a temporary ``.keras`` file, then rename.

    Each fused batch-norm layer is saved as Keras' own (``portable``), so a model
    of Keras' and this project's layers loads where this package is not installed.
    """
    path = Path(path)
    tmp = path.with_name(f".{path.stem}.tmp.keras")
    portable_copy(model).save(tmp)
    os.replace(tmp, path)


def set_status(run_dir: str | os.PathLike, state: str, **extra) -> None:
    record = {
        "state": state,
        "updated": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "host": socket.gethostname(),
        **extra,
    }
    write_json(Path(run_dir) / "status.json", record)


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, owned by another user
        return True
    return True


def trainer_alive(status: dict) -> bool | None:
    """Whether the process named in a "running" status still runs; None if unknowable.

    Only a process on this host can be checked; a status without a host was
    written before hosts were recorded, on this machine.
    """
    pid = status.get("pid")
    if status.get("state") != RUNNING or pid is None:
        return None
    if status.get("host", socket.gethostname()) != socket.gethostname():
        return None
    return _process_alive(int(pid))


def read_status(run_dir: str | os.PathLike) -> dict:
    """The run's status; a "running" run whose process died reads as interrupted."""
    path = Path(run_dir) / "status.json"
    if not path.exists():
        return {"state": "missing"}
    status = read_json(path)
    if trainer_alive(status) is False:
        # A SIGKILL or a lost machine leaves "running" behind with no one to update it.
        status = {**status, "state": INTERRUPTED}
    return status


def is_complete(run_dir: str | os.PathLike) -> bool:
    return read_status(run_dir).get("state") == COMPLETED


def suite_run_dir(
    runs_dir: str | os.PathLike, profile: str, arch: str, recipe: str | None = None, seed: int = 0
) -> Path:
    """Where the notebook suite keeps one run: ``RUNS_DIR/<profile>/<arch>-<recipe>-s<seed>``.

    The recipe is named by ``recipe_slug``. The seed is part of the name so that every
    seed gets a run of its own.
    """
    return Path(runs_dir) / profile / f"{arch}-{recipe_slug(recipe)}-s{seed}"


def recipe_slug(recipe: str | None) -> str:
    """A recipe's name as part of a file name, portable to every file system: None (the
    original's recipe) is ``original``, a study's trial ``search:<study>#<N>`` is
    ``search-<study>-t<N>``."""
    return (recipe or "original").replace(":", "-").replace("#", "-t")


def load_run(run_dir: str | os.PathLike) -> dict:
    """Config, history and metrics of a completed run; RunError otherwise."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise RunError(f"{run_dir}: no such run directory; train it first")
    status = read_status(run_dir)
    if status.get("state") != COMPLETED:
        detail = f": {status['error']}" if status.get("error") else ""
        raise RunError(
            f"{run_dir}: the run is {status.get('state')}{detail}, not completed. "
            f"Resume it with `fmnist train --resume {run_dir}` or train it again."
        )
    return {
        "dir": run_dir,
        "config": read_json(run_dir / "config.json"),
        "history": read_json(run_dir / "history.json"),
        "metrics": read_json(run_dir / "metrics.json"),
    }


def selection_val_accuracy(metrics: dict) -> float:
    """The validation accuracy that choices compare, scored as the run scores its test set."""
    return metrics["selection_val_accuracy"]
