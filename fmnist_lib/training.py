"""train(config) -> run directory.

Training sees only the training split; the checkpoint is chosen on validation
loss; the test set is used once, after training, to evaluate that checkpoint.
A run killed at any moment resumes from its last completed epoch.

The steps are separate functions: ``prepare`` (data, batches, compiled model),
``fit`` (the one call of ``model.fit``, which the benchmark uses too),
``evaluate`` (the best checkpoint on the test set) and ``record`` (metrics.json).
The compiled model comes from ``compiling``, the callbacks from ``callbacks``,
the epochs of a time budget from ``throughput.fit_to_time_budget`` and the test
predictions from ``inference``.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import shutil
import sys
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import keras
import numpy as np

from . import hardware
from .batches import training_batches
from .callbacks import (
    BACKUP_DIR,
    BEST_WEIGHTS,
    EpochLine,
    EpochState,
    run_callbacks,
    settled_backup_epoch,
)
from .compiling import compile_model, make_optimizer
from .config import TrainConfig
from .data import NUM_CLASSES, DataSplits, prepare_splits
from .errors import RunError, TrainingError
from .inference import load_trained_model, predict_probabilities
from .metrics import evaluate_probabilities
from .models import build_model, count_params
from .runs import (
    COMPLETED,
    FAILED,
    RUNNING,
    atomic_save_model,
    load_run,
    read_json,
    read_status,
    set_status,
    trainer_alive,
    write_json,
    write_npz,
)
from .throughput import fit_to_time_budget

# The steps other modules and the notebooks call, and the names they read from here.
__all__ = [
    "BACKUP_DIR",
    "BEST_WEIGHTS",
    "COMPLETED",
    "TIME_BUDGET_FILE",
    "Prepared",
    "TrainingError",
    "compile_model",
    "evaluate",
    "fit",
    "make_optimizer",
    "prepare",
    "record",
    "summarize_run",
    "train",
]

TIME_BUDGET_FILE = "time_budget.json"  # how a time budget's epochs were fitted


def _strategy_scope(name: str):
    if name == "default":
        return contextlib.nullcontext(), 1
    if keras.backend.backend() != "tensorflow":
        raise RunError(f"strategy={name} needs the TensorFlow backend (KERAS_BACKEND=tensorflow)")
    import tensorflow as tf  # TensorFlow: only on the TensorFlow backend

    if name == "mirrored":
        devices = [d.name for d in tf.config.list_logical_devices("GPU")]
        devices = devices or [d.name for d in tf.config.list_logical_devices("CPU")]
        strategy = tf.distribute.MirroredStrategy(devices=devices)
    else:  # multiworker: the cluster comes from $TF_CONFIG
        strategy = tf.distribute.MultiWorkerMirroredStrategy()
    return strategy.scope(), strategy.num_replicas_in_sync


def default_run_dir(config: TrainConfig) -> Path:
    name = config.run_name or f"{config.arch}-s{config.seed}-{datetime.now():%Y%m%d-%H%M%S}"
    return Path(config.out_dir) / name


def _comparable(config: dict) -> dict:
    return {k: v for k, v in config.items() if k not in ("verbose", "out_dir", "run_name")}


def _log(config: TrainConfig, message: str) -> None:
    if config.verbose:
        print(message, flush=True)


def train(
    config: TrainConfig,
    run_dir: str | os.PathLike | None = None,
    resume: bool = False,
    extra_callbacks=(),
    score_test: bool = True,
):
    """Train, evaluate once on the test set, and write a complete run directory.

    With ``resume=True`` an existing run directory continues from its last
    completed epoch (or is left as it is when it already completed).
    ``extra_callbacks`` run after the built-in ones (they see validation data only).
    ``score_test=False`` (a search's trial) leaves the test set unread: metrics.json
    has ``"test": null`` until ``score_test_set`` scores the kept checkpoint.
    """
    run_dir = Path(run_dir) if run_dir is not None else default_run_dir(config)
    config = _fitted_when_started(config, run_dir)
    resumed_from = _resume_point(config, run_dir, resume)
    if resumed_from == COMPLETED:
        _log(config, f"{run_dir}: already completed; nothing to do")
        return run_dir
    if config.builder is not None or config.model_options:
        # a user's builder, or options to one, meet the contract before anything is written
        build_model(config.arch, model_options=config.model_options)
        keras.backend.clear_session()
    run_dir.mkdir(parents=True, exist_ok=True)
    if config.epochs is None:  # a time budget: its epochs are fitted to this machine now
        config, time_budget = fit_to_time_budget(config)
        write_json(run_dir / TIME_BUDGET_FILE, time_budget)
    write_json(run_dir / "config.json", config.to_dict())
    set_status(run_dir, RUNNING, pid=os.getpid(), resumed_from_epoch=resumed_from)
    try:
        # The code that trains is the checkout as training starts, not as it ends.
        commit = hardware.git_commit()
        prepared = prepare(config, resumed_from or 0)
        _log(config, _plan(config, prepared, run_dir))
        callbacks = run_callbacks(config, run_dir, resumed_from) + list(extra_callbacks)
        fit(prepared, config.epochs, config.seed, callbacks, config.verbose)
        history = check_history(run_dir / "history.json", config.epochs)
        prepared.model.load_weights(run_dir / BEST_WEIGHTS)  # the checkpoint training kept
        validation = kept_validation_accuracy(prepared)
        if score_test:
            test = evaluate(prepared, run_dir, config.tta_flip)  # the test set's one use, last
        else:
            test = None
            atomic_save_model(prepared.model, run_dir / "model.keras")
        metrics = record(config, run_dir, prepared, history, test, validation, resumed_from, commit)
    except BaseException as err:
        reason = "interrupted" if isinstance(err, KeyboardInterrupt) else f"{err}"
        set_status(run_dir, FAILED, error=f"{type(err).__name__}: {reason}")
        raise
    set_status(run_dir, COMPLETED, test_accuracy=test and test["accuracy"])
    _log(config, _outcome(metrics))
    return run_dir


def _outcome(metrics: dict) -> str:
    if metrics["test"] is None:
        return (
            f"Validation accuracy {metrics['selection_val_accuracy']:.4f} "
            f"(best epoch {metrics['best_epoch']}); the test set is not scored"
        )
    return f"Test accuracy {metrics['test']['accuracy']:.4f} (best epoch {metrics['best_epoch']})"


def score_test_set(run_dir: str | os.PathLike) -> dict:
    """Score a completed run's kept checkpoint on the test set, once; its test metrics.

    For runs trained with ``score_test=False`` (a search's trials): the scores and
    test probabilities are what ``train`` would have written.
    """
    run_dir = Path(run_dir)
    metrics = load_run(run_dir)["metrics"]
    if metrics["test"] is not None:
        return metrics["test"]
    config = TrainConfig.from_dict(read_json(run_dir / "config.json"))
    model, tta_flip = load_trained_model(run_dir)
    splits = prepare_splits(config.val_fraction, config.seed, config.subset, config.data_dir)
    probs = predict_probabilities(model, splits.x_test, tta_flip=tta_flip)
    write_npz(
        run_dir / "test_predictions.npz", probs=probs.astype(np.float16), y_true=splits.y_test
    )
    metrics["test"] = evaluate_probabilities(splits.y_test, probs)
    write_json(run_dir / "metrics.json", metrics)
    set_status(run_dir, COMPLETED, test_accuracy=metrics["test"]["accuracy"])
    return metrics["test"]


def _fitted_when_started(config: TrainConfig, run_dir: Path) -> TrainConfig:
    """A time-budget run that already started keeps the epochs fitted then.

    Measuring the rate again would change the plan of a half-trained run, so the
    budget's first fit stands (the run's time_budget.json); the other settings are
    still compared by ``_resume_point``.
    """
    fitted = run_dir / TIME_BUDGET_FILE
    if config.epochs is not None or config.budget_seconds is None or not fitted.exists():
        return config
    return config.replace(epochs=read_json(fitted)["epochs"])


def _resume_point(config: TrainConfig, run_dir: Path, resume: bool):
    """None for a new run, the last completed epoch for a resumed one, or COMPLETED."""
    config_path = run_dir / "config.json"
    if not config_path.exists():
        return None
    if not resume:
        raise RunError(
            f"{run_dir} already holds a run; resume it with `fmnist train --resume "
            f"{run_dir}` or choose another --run-name"
        )
    # Through TrainConfig, so that a run saved before a setting existed reads with its default.
    saved = _comparable(TrainConfig.from_dict(read_json(config_path)).to_dict())
    wanted = _comparable(config.to_dict())
    if saved != wanted:
        changed = sorted(k for k in saved.keys() | wanted.keys() if saved.get(k) != wanted.get(k))
        raise RunError(f"{run_dir}: cannot resume with different settings {changed}")
    status = read_status(run_dir)
    if status.get("state") == COMPLETED:
        return COMPLETED
    if trainer_alive(status):
        # Two trainers on one directory would overwrite each other's backup and history.
        raise RunError(
            f"{run_dir} is being trained by process {status['pid']} (status updated "
            f"{status.get('updated')}); wait for it to finish or stop it, then resume"
        )
    resumed_from = settled_backup_epoch(run_dir)
    _log(config, f"Resuming {run_dir} after epoch {resumed_from} of {config.epochs}")
    return resumed_from


@dataclass
class Prepared:
    """What training needs, built from a config: the data, its batches, the model."""

    splits: DataSplits
    validation: tuple
    batches: object
    steps_per_epoch: int
    model: keras.Model
    precision: str
    replicas: int
    seconds: dict  # each step's wall time (split, labels_and_batches, model), for `fmnist bench`


def prepare(config: TrainConfig, first_epoch: int = 0) -> Prepared:
    """Seed everything, split the data, build the batches and compile the model."""
    keras.utils.set_random_seed(config.seed)
    if config.deterministic and keras.backend.backend() == "tensorflow":
        import tensorflow as tf  # TensorFlow: only on the TensorFlow backend

        tf.config.experimental.enable_op_determinism()
    start = time.perf_counter()
    splits = prepare_splits(config.val_fraction, config.seed, config.subset, config.data_dir)
    split_end = time.perf_counter()
    y_train = keras.utils.to_categorical(splits.y_train, NUM_CLASSES)
    y_val = keras.utils.to_categorical(splits.y_val, NUM_CLASSES)
    batches, steps_per_epoch = training_batches(
        splits.x_train,
        y_train,
        config.batch_size,
        config.seed,
        first_epoch,
        config.epochs,
        config.cutmix,
    )
    data_end = time.perf_counter()
    scope, replicas = _strategy_scope(config.strategy)
    with scope:
        model, precision = compile_model(config, steps_per_epoch)
    seconds = {
        "split": split_end - start,
        "labels_and_batches": data_end - split_end,
        "model": time.perf_counter() - data_end,
    }
    return Prepared(
        splits, (splits.x_val, y_val), batches, steps_per_epoch, model, precision, replicas, seconds
    )


def fit(prepared: Prepared, epochs: int, seed: int, callbacks=(), verbose: int = 0) -> None:
    """The training loop: ``model.fit`` over the (seed, epoch)-ordered batches.

    Every epoch reseeds the random layers and validates on the validation split;
    ``callbacks`` add checkpoints, logs or a benchmark's clock.
    """
    prepared.model.fit(
        prepared.batches,
        validation_data=prepared.validation,
        validation_batch_size=1000,
        epochs=epochs,
        steps_per_epoch=prepared.steps_per_epoch,
        shuffle=False,  # the batches are already in their (seed, epoch) order
        callbacks=[EpochState(prepared.batches, seed), *callbacks]
        + ([EpochLine()] if verbose == 3 else []),
        verbose={0: 0, 1: "auto", 2: 2, 3: 0}[verbose],
    )


def check_history(history_path: Path, epochs: int) -> list[dict]:
    """The finished run's history; TrainingError if a loss went NaN or an epoch is missing."""
    history = read_json(history_path)
    bad = [r["epoch"] for r in history if not all(map(math.isfinite, (r["loss"], r["val_loss"])))]
    if bad:
        raise TrainingError(f"loss became NaN at epoch {bad[0]}; training stopped (TerminateOnNaN)")
    if sorted(r["epoch"] for r in history) != list(range(1, epochs + 1)):
        raise TrainingError(
            f"{history_path} holds epochs {[r['epoch'] for r in history]}, not 1 to {epochs}"
        )
    return history


def evaluate(prepared: Prepared, run_dir: Path, tta_flip: bool) -> dict:
    """The kept checkpoint (lowest validation loss, already loaded), scored once on the test set.

    Writes its test probabilities and the model beside the run's other files.
    """
    model = prepared.model
    probs = predict_probabilities(model, prepared.splits.x_test, tta_flip=tta_flip)
    y_test = prepared.splits.y_test
    write_npz(run_dir / "test_predictions.npz", probs=probs.astype(np.float16), y_true=y_test)
    atomic_save_model(model, run_dir / "model.keras")
    return evaluate_probabilities(y_test, probs)


def kept_validation_accuracy(prepared: Prepared) -> dict:
    """The kept checkpoint's validation accuracy, without and with flip TTA.

    Whether test-time augmentation helps is a choice, so it is made here, on
    validation, never on the test set, and before the test set is touched.
    """
    x_val, y_val = prepared.splits.x_val, prepared.splits.y_val
    return {
        name: float(np.mean(predict_probabilities(prepared.model, x_val, tta).argmax(1) == y_val))
        for name, tta in (("plain", False), ("flip_tta", True))
    }


def record(config, run_dir, prepared, history, test, validation, resumed_from, commit) -> dict:
    """Write metrics.json (results, budget, speed and provenance); drop the backup.

    ``validation`` is ``kept_validation_accuracy``; ``selection_val_accuracy`` is
    its number scored as the test set is (flip TTA when the run uses it), the one
    that recipe searches and representatives compare.
    """
    best = min(history, key=lambda r: r["val_loss"])
    train_seconds = sum(r["train_seconds"] for r in history)
    metrics = {
        "arch": config.arch,
        "test": test,
        "best_epoch": best["epoch"],
        "best_val_loss": best["val_loss"],
        "best_val_accuracy": best["val_accuracy"],
        "kept_val_accuracy": validation,
        "selection_val_accuracy": validation["flip_tta" if config.tta_flip else "plain"],
        "epochs": config.epochs,
        "n_train": config.n_train,
        "n_val": int(len(prepared.splits.y_val)),
        "images_seen": config.images_seen,
        "params": count_params(prepared.model),
        "train_seconds": train_seconds,
        "wall_seconds": sum(r["seconds"] for r in history),
        "images_per_second": config.images_seen / train_seconds,
        "precision": prepared.precision,
        "test_time_augmentation": "flip" if config.tta_flip else None,
        "time_budget": (
            read_json(run_dir / TIME_BUDGET_FILE) if (run_dir / TIME_BUDGET_FILE).exists() else None
        ),
        "replicas": prepared.replicas,
        "seed": config.seed,
        "resumed_from_epoch": resumed_from,
        "config": config.to_dict(),
        "hardware": hardware.describe(),
        "versions": hardware.package_versions(),
        "git_commit": commit,
        "command": " ".join(sys.argv),
        "finished": datetime.now().isoformat(timespec="seconds"),
    }
    write_json(run_dir / "metrics.json", metrics)
    shutil.rmtree(run_dir / BACKUP_DIR, ignore_errors=True)
    return metrics


def _plan(config: TrainConfig, prepared: Prepared, run_dir: Path) -> str:
    return (
        f"Training {config.arch} on {config.n_train:,} images "
        f"({len(prepared.splits.y_val):,} validation) for {config.epochs} "
        f"epoch{'s' if config.epochs != 1 else ''} = "
        f"{config.images_seen:,} images seen; precision {prepared.precision}, batch "
        f"{config.batch_size}, {config.optimizer} lr={config.learning_rate:g} "
        f"({config.lr_schedule}), augmentation {list(config.augmentation) or 'none'}. "
        f"Run: {run_dir}"
    )


def summarize_run(run_dir) -> str:
    """One paragraph on a finished run, for the CLI and notebooks."""
    metrics = read_json(Path(run_dir) / "metrics.json")
    return json.dumps(
        {k: metrics[k] for k in ("arch", "epochs", "images_seen", "train_seconds")}
        | {"test_accuracy": metrics["test"] and metrics["test"]["accuracy"]},
        indent=2,
    )
