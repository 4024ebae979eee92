"""train(config) -> run directory.

Training sees only the training split; the checkpoint is chosen on validation
loss; the test set is used once, after training, to evaluate that checkpoint.
A run killed at any moment resumes from its last completed epoch.

The steps are separate functions: ``prepare`` (data, batches, compiled model),
``fit`` (the one call of ``model.fit``, which the benchmark uses too),
``evaluate`` (the best checkpoint on the test set) and ``record`` (metrics.json).
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
from .batches import ShuffledBatches, training_batches
from .config import TrainConfig
from .data import NUM_CLASSES, DataSplits, prepare_splits
from .errors import RunError, TrainingError
from .metrics import evaluate_probabilities
from .models import build_model, count_params
from .runs import (
    COMPLETED,
    FAILED,
    RUNNING,
    atomic_save_model,
    read_json,
    read_status,
    set_status,
    trainer_alive,
    write_json,
    write_npz,
)

BACKUP_DIR = "backup"
BEST_WEIGHTS = "best.weights.h5"
TIME_BUDGET_FILE = "time_budget.json"  # how a time budget's epochs were fitted
# The share of a time budget that the fitted epochs fill (see fit_to_time_budget).
# 0.95 until two of the first nine time-budget runs (results/) overran their hour by
# a few seconds: their machines slowed after the measurement, by up to 6%.
TIME_BUDGET_MARGIN = 0.9


class EpochState(keras.callbacks.Callback):
    """Per epoch: reseed every random layer from (seed, epoch), and set the batch order.

    Keras does not save random-layer state with the weights, so without this a
    resumed run would draw different dropout masks and augmentations.
    """

    def __init__(self, batches, seed: int):
        super().__init__()
        self.batches, self.seed = batches, seed

    def on_epoch_begin(self, epoch, logs=None):
        if isinstance(self.batches, ShuffledBatches):
            self.batches.set_epoch(epoch)
        generators = [v for v in self.model.variables if v.path.endswith("seed_generator_state")]
        for index, state in enumerate(generators):
            # The second slot counts draws within the epoch; 2**20 of them is ample.
            state.assign(np.array([self.seed * 1000 + index, epoch * 2**20], dtype="int64"))


class EpochLine(keras.callbacks.Callback):
    """One line per epoch (verbose 3), e.g. ``epoch 3/27  loss 0.312  ...  (41 s)``.

    Keras' own per-epoch log (verbose 2) takes two lines and a step timing; saved
    notebook outputs need only the metrics and the epoch's wall time.
    """

    ORDER = ("loss", "accuracy", "val_loss", "val_accuracy")

    def on_epoch_begin(self, epoch, logs=None):
        self.start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        names = [k for k in self.ORDER if k in logs] + sorted(set(logs) - set(self.ORDER))
        metrics = "  ".join(f"{k} {float(logs[k]):.4f}" for k in names)
        seconds = time.perf_counter() - self.start
        total = self.params["epochs"]
        print(f"epoch {epoch + 1}/{total}  {metrics}  ({seconds:.0f} s)", flush=True)


class HistoryWriter(keras.callbacks.Callback):
    """history.json after every epoch, with wall times; keeps earlier epochs on resume."""

    def __init__(self, path: Path, n_train: int):
        super().__init__()
        self.path, self.n_train = path, n_train
        self.records = read_json(path) if path.exists() else []

    def on_epoch_begin(self, epoch, logs=None):
        # Epochs past the restored backup were lost with the crash: drop them.
        self.records = [r for r in self.records if r["epoch"] < epoch + 1]
        self.epoch_start = self.last_batch_end = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        self.last_batch_end = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        now = time.perf_counter()
        train_seconds = self.last_batch_end - self.epoch_start
        record = {"epoch": epoch + 1}
        record.update({k: float(v) for k, v in (logs or {}).items()})
        lr = self.model.optimizer.learning_rate
        record["learning_rate"] = float(keras.ops.convert_to_numpy(lr))
        record["seconds"] = now - self.epoch_start
        record["train_seconds"] = train_seconds
        record["images_per_second"] = self.n_train / train_seconds if train_seconds else None
        self.records.append(record)
        write_json(self.path, self.records)


def make_optimizer(config: TrainConfig, steps_per_epoch: int, model: keras.Model):
    """The configured optimizer and learning-rate schedule.

    With ``weight_decay`` the decay is decoupled from the gradient (Keras applies
    ``w -= w * weight_decay * learning_rate`` each step, AdamW's rule for Adam)
    and, as is usual, spares ``model``'s biases and batch-norm scales and offsets:
    decaying them only fights the normalisation.
    """
    lr = config.learning_rate
    total_steps = steps_per_epoch * config.epochs
    warmup = int(config.warmup_epochs * steps_per_epoch)
    if config.lr_schedule == "cosine":
        schedule = keras.optimizers.schedules.CosineDecay(
            initial_learning_rate=lr / 10 if warmup else lr,
            decay_steps=max(1, total_steps - warmup),
            warmup_target=lr if warmup else None,
            warmup_steps=warmup,
        )
    else:
        schedule = lr
    decay = {"weight_decay": config.weight_decay} if config.weight_decay else {}
    options = dict(decay)
    if config.ema_momentum is not None:
        options.update(use_ema=True, ema_momentum=config.ema_momentum)
    if config.optimizer == "adam":
        optimizer = keras.optimizers.Adam(schedule, **options)
    elif config.optimizer == "rmsprop":
        optimizer = keras.optimizers.RMSprop(schedule, **options)
    else:
        optimizer = keras.optimizers.SGD(schedule, momentum=0.9, nesterov=True, **options)
    if decay:
        spared = [v for v in model.trainable_variables if len(v.shape) <= 1]
        optimizer.exclude_from_weight_decay(var_list=spared)
    return optimizer


def compile_model(
    config: TrainConfig, steps_per_epoch: int, batch_norm: str = "fused", jit_compile="auto"
):
    """The configured model, compiled under its precision policy; returns (model, precision).

    The policy is set only while the layers are built (they keep it), so the
    process-wide default stays float32 for whatever runs next. ``jit_compile``
    is Keras' own: "auto" leaves XLA off on a CPU-only TensorFlow host.
    """
    precision = hardware.auto_precision() if config.precision == "auto" else config.precision
    previous_policy = keras.mixed_precision.global_policy()
    keras.mixed_precision.set_global_policy(precision)
    try:
        model = build_model(config.arch, config.augmentation, config.seed, batch_norm)
        model.compile(
            optimizer=make_optimizer(config, steps_per_epoch, model),
            loss=keras.losses.CategoricalCrossentropy(label_smoothing=config.label_smoothing),
            metrics=["accuracy"],
            jit_compile=jit_compile,
        )
    finally:
        keras.mixed_precision.set_global_policy(previous_policy)
    return model, precision


def predict_probabilities(model, images, tta_flip: bool = False, batch_size: int = 1000):
    """Class probabilities; with ``tta_flip``, the mean over each image and its mirror.

    Fashion-MNIST items are left-right symmetric in meaning (the training
    augmentation flips them too), so the mirror is a second look at the same item.
    """
    probs = model.predict(images, batch_size=batch_size, verbose=0)
    if tta_flip:
        mirrored = np.flip(np.asarray(images), axis=2)  # axis 2 = width of (N, H, W, C)
        probs = (probs + model.predict(mirrored, batch_size=batch_size, verbose=0)) / 2
    return probs


def tensorboard_callback(run_dir: Path, config: TrainConfig) -> list:
    """TensorBoard logs where TensorFlow is installed (Keras writes them with tf.summary).

    A JAX-only machine (a GPU host without TensorFlow) trains without them;
    history.json holds the same per-epoch numbers.
    """
    import importlib.util

    if importlib.util.find_spec("tensorflow") is None:
        _log(config, "TensorFlow is not installed: no TensorBoard logs (history.json has them)")
        return []
    return [keras.callbacks.TensorBoard(str(run_dir / "logs"), write_graph=False)]


def _strategy_scope(name: str):
    if name == "default":
        return contextlib.nullcontext(), 1
    if keras.backend.backend() != "tensorflow":
        raise RunError(f"strategy={name} needs the TensorFlow backend (KERAS_BACKEND=tensorflow)")
    import tensorflow as tf

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
):
    """Train, evaluate once on the test set, and write a complete run directory.

    With ``resume=True`` an existing run directory continues from its last
    completed epoch (or is left as it is when it already completed).
    ``extra_callbacks`` run after the built-in ones (they see validation data only).
    """
    run_dir = Path(run_dir) if run_dir is not None else default_run_dir(config)
    resumed_from = _resume_point(config, run_dir, resume)
    if resumed_from == COMPLETED:
        _log(config, f"{run_dir}: already completed; nothing to do")
        return run_dir
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
        test = evaluate(prepared, run_dir, config.tta_flip)  # the test set's one use, last
        metrics = record(config, run_dir, prepared, history, test, validation, resumed_from, commit)
    except BaseException as err:
        reason = "interrupted" if isinstance(err, KeyboardInterrupt) else f"{err}"
        set_status(run_dir, FAILED, error=f"{type(err).__name__}: {reason}")
        raise
    set_status(run_dir, COMPLETED, test_accuracy=metrics["test"]["accuracy"])
    _log(config, f"Test accuracy {test['accuracy']:.4f} (best epoch {metrics['best_epoch']})")
    return run_dir


def fit_to_time_budget(config: TrainConfig) -> tuple[TrainConfig, dict]:
    """``config`` with the whole epochs that fit its ``budget_seconds`` here, and why.

    The rate is measured now, on this machine, with the run's own model, batch
    size, precision and augmentation (median of 3 rounds, ``throughput.measure``).
    The epochs fill TIME_BUDGET_MARGIN of the budget: a full epoch runs a little
    slower than the steady state, and a shared machine can slow down. The epochs
    are then fixed in config.json, so a resumed run keeps them.
    """
    from .throughput import measure  # throughput builds on this module

    settings = {
        "augmentation": config.augmentation,
        "cutmix": config.cutmix,
        "precision": config.precision,
    }
    report = measure(
        config.arch,
        {"run": settings},
        steps=20,
        rounds=3,
        batch_size=config.batch_size,
        seed=config.seed,
        progress=False,
    )
    rate = report["variants"]["run"]["images_per_second"]
    fitted = math.floor(config.budget_seconds * TIME_BUDGET_MARGIN * rate / config.n_train)
    epochs = min(max(1, fitted), 10_000)
    _log(
        config,
        f"Time budget {config.budget_seconds:,.0f} s: {rate:,.0f} images/s measured here, "
        f"so {epochs} epochs ({epochs * config.n_train:,} images)",
    )
    return config.replace(epochs=epochs), {
        "budget_seconds": config.budget_seconds,
        "margin": TIME_BUDGET_MARGIN,
        "measured_images_per_second": rate,
        "rounds_images_per_second": report["variants"]["run"]["images_per_second_rounds"],
        "epochs": epochs,
        "images_seen": epochs * config.n_train,
        "measured": report["created"],
        "machine": report["machine"],
    }


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
    backup_meta = run_dir / BACKUP_DIR / "training_metadata.json"
    resumed_from = read_json(backup_meta)["epoch"] if backup_meta.exists() else 0
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
        import tensorflow as tf

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


def run_callbacks(config: TrainConfig, run_dir: Path, resumed_from) -> list:
    """A run directory's callbacks: backup for resuming, NaN stop, best checkpoint, logs."""
    history_path = run_dir / "history.json"
    prior = read_json(history_path) if (resumed_from and history_path.exists()) else []
    best_so_far = min((r["val_loss"] for r in prior if r["epoch"] <= resumed_from), default=None)
    return [
        keras.callbacks.BackupAndRestore(
            str(run_dir / BACKUP_DIR), double_checkpoint=True, delete_checkpoint=False
        ),
        keras.callbacks.TerminateOnNaN(),
        *ema_callbacks(config),
        keras.callbacks.ModelCheckpoint(
            str(run_dir / BEST_WEIGHTS),
            monitor="val_loss",
            mode="min",
            save_best_only=True,
            save_weights_only=True,
            initial_value_threshold=best_so_far,
        ),
        HistoryWriter(history_path, config.n_train),
        *tensorboard_callback(run_dir, config),
    ]


def ema_callbacks(config: TrainConfig) -> list:
    """With ``ema_momentum``, validate and checkpoint the weights' moving average.

    SwapEMAWeights puts the average in the model for validation and from the end of
    each epoch to the start of the next. It comes after BackupAndRestore, so the
    backup holds the weights being trained (the average rides in the optimizer's
    state) and a resumed run continues them, and before ModelCheckpoint, so the kept
    checkpoint is the average that validation scored.
    """
    if config.ema_momentum is None:
        return []
    return [keras.callbacks.SwapEMAWeights(swap_on_epoch=True)]


def check_history(history_path: Path, epochs: int) -> list[dict]:
    """The finished run's history; TrainingError if a loss went NaN or epochs are missing."""
    history = read_json(history_path)
    bad = [r["epoch"] for r in history if not all(map(math.isfinite, (r["loss"], r["val_loss"])))]
    if bad or len(history) < epochs:
        where = f"at epoch {bad[0]}" if bad else f"after {len(history)} of {epochs} epochs"
        raise TrainingError(f"loss became NaN {where}; training stopped (TerminateOnNaN)")
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
        f"({len(prepared.splits.y_val):,} validation) for {config.epochs} epochs = "
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
        | {"test_accuracy": metrics["test"]["accuracy"]},
        indent=2,
    )
