"""train(config) -> run directory.

Training sees only the training split; the checkpoint is chosen on validation
loss; the test set is used once, after training, to evaluate that checkpoint.
A run killed at any moment resumes from its last completed epoch.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import platform
import shutil
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import keras
import numpy as np

from . import hardware
from .config import PROJECT_ROOT, TrainConfig
from .data import prepare_splits
from .metrics import evaluate_probabilities
from .models import build_model, count_params
from .runs import (
    COMPLETED,
    FAILED,
    RUNNING,
    RunError,
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


class TrainingError(RuntimeError):
    """Training ran but produced no usable model (NaN loss, interrupted...)."""


def epoch_order(seed: int, epoch: int, n: int) -> np.ndarray:
    """The training order of one epoch, a function of (seed, epoch) only.

    Keying the order on the epoch number (not on how many epochs this process
    has run) makes a resumed run see the same batches as an uninterrupted one.
    """
    return np.random.default_rng([seed, epoch]).permutation(n)


class ShuffledBatches(keras.utils.PyDataset):
    """Backend-neutral training batches (used where tf.data is not available)."""

    def __init__(self, x, y, batch_size, seed):
        super().__init__()
        self.x, self.y, self.batch_size, self.seed = x, y, batch_size, seed
        self.set_epoch(0)

    def set_epoch(self, epoch: int) -> None:
        self.order = epoch_order(self.seed, epoch, len(self.x))

    def __len__(self):
        return math.ceil(len(self.x) / self.batch_size)

    def __getitem__(self, index):
        rows = self.order[index * self.batch_size : (index + 1) * self.batch_size]
        return self.x[rows], self.y[rows]


def training_batches(x, y, batch_size: int, seed: int, first_epoch: int, epochs: int):
    """Shuffled training batches for epochs [first_epoch, epochs) and steps per epoch.

    On TensorFlow a tf.data pipeline gathers each batch in C++ (a Python
    generator halved the throughput here); elsewhere a PyDataset does the same.
    """
    steps = math.ceil(len(x) / batch_size)
    if keras.backend.backend() != "tensorflow":
        return ShuffledBatches(x, y, batch_size, seed), steps
    import tensorflow as tf

    # A run killed after its last epoch resumes with nothing left to train; fit
    # still wants a dataset, so keep at least the last epoch's order.
    first_epoch = min(first_epoch, epochs - 1)
    orders = np.stack([epoch_order(seed, e, len(x)) for e in range(first_epoch, epochs)])
    images, labels = tf.constant(x), tf.constant(y)
    batches = (
        tf.data.Dataset.from_tensor_slices(orders)
        .flat_map(lambda order: tf.data.Dataset.from_tensor_slices(order).batch(batch_size))
        .map(lambda rows: (tf.gather(images, rows), tf.gather(labels, rows)))
        .prefetch(tf.data.AUTOTUNE)
    )
    return batches, steps


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


def make_optimizer(config: TrainConfig, steps_per_epoch: int):
    lr = config.lr
    total_steps = steps_per_epoch * config.resolved_epochs
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
    if config.optimizer == "adam":
        return keras.optimizers.Adam(schedule)
    if config.optimizer == "rmsprop":
        return keras.optimizers.RMSprop(schedule)
    return keras.optimizers.SGD(schedule, momentum=0.9, nesterov=True)


def compile_model(config: TrainConfig, steps_per_epoch: int, batch_norm: str = "fused"):
    """The configured model, compiled under its precision policy; returns (model, precision).

    The policy is set only while the layers are built (they keep it), so the
    process-wide default stays float32 for whatever runs next.
    """
    precision = hardware.auto_precision() if config.precision == "auto" else config.precision
    previous_policy = keras.mixed_precision.global_policy()
    keras.mixed_precision.set_global_policy(precision)
    try:
        model = build_model(config.arch, config.augmentation, config.seed, batch_norm)
        model.compile(
            optimizer=make_optimizer(config, steps_per_epoch),
            loss=keras.losses.CategoricalCrossentropy(label_smoothing=config.label_smoothing),
            metrics=["accuracy"],
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


def package_versions() -> dict:
    from importlib.metadata import PackageNotFoundError, version

    versions = {"python": platform.python_version()}
    for name in ("keras", "tensorflow", "tensorflow-cpu", "jax", "numpy", "scikit-learn"):
        with contextlib.suppress(PackageNotFoundError):
            versions[name] = version(name)
    return versions


def git_commit() -> str | None:
    """The checkout's commit (``-dirty`` with uncommitted changes to tracked files).

    ``$FMNIST_GIT_COMMIT`` overrides it: a tree copied to another host (a borrowed
    GPU machine) may carry no .git, or a stale one that would misname the code.
    """
    if os.environ.get("FMNIST_GIT_COMMIT"):
        return os.environ["FMNIST_GIT_COMMIT"]
    try:
        sha = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=PROJECT_ROOT,
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=PROJECT_ROOT,
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
        return sha + ("-dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return None


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
    config_path = run_dir / "config.json"
    resumed_from = None
    if config_path.exists():
        if not resume:
            raise RunError(
                f"{run_dir} already holds a run; resume it with `fmnist train --resume "
                f"{run_dir}` or choose another --run-name"
            )
        saved = read_json(config_path)
        if _comparable(saved) != _comparable(config.to_dict()):
            changed = sorted(
                k for k in _comparable(saved) if saved.get(k) != config.to_dict().get(k)
            )
            raise RunError(f"{run_dir}: cannot resume with different settings {changed}")
        status = read_status(run_dir)
        if status.get("state") == COMPLETED:
            _log(config, f"{run_dir}: already completed; nothing to do")
            return run_dir
        if trainer_alive(status):
            # Two trainers on one directory would overwrite each other's backup and history.
            raise RunError(
                f"{run_dir} is being trained by process {status['pid']} (status updated "
                f"{status.get('updated')}); wait for it to finish or stop it, then resume"
            )
        backup_meta = run_dir / BACKUP_DIR / "training_metadata.json"
        resumed_from = read_json(backup_meta)["epoch"] if backup_meta.exists() else 0
        _log(config, f"Resuming {run_dir} after epoch {resumed_from} of {config.resolved_epochs}")
    run_dir.mkdir(parents=True, exist_ok=True)
    write_json(config_path, config.to_dict())
    set_status(run_dir, RUNNING, pid=os.getpid(), resumed_from_epoch=resumed_from)
    try:
        metrics = _train_and_evaluate(config, run_dir, resumed_from, list(extra_callbacks))
    except BaseException as err:
        reason = "interrupted" if isinstance(err, KeyboardInterrupt) else f"{err}"
        set_status(run_dir, FAILED, error=f"{type(err).__name__}: {reason}")
        raise
    set_status(run_dir, COMPLETED, test_accuracy=metrics["test"]["accuracy"])
    return run_dir


def _train_and_evaluate(config: TrainConfig, run_dir: Path, resumed_from, extra_callbacks) -> dict:
    keras.utils.set_random_seed(config.seed)
    if config.deterministic and keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        tf.config.experimental.enable_op_determinism()
    splits = prepare_splits(config.val_fraction, config.seed, config.subset, config.data_dir)
    n_train = len(splits.y_train)
    y_train = keras.utils.to_categorical(splits.y_train, 10)
    y_val = keras.utils.to_categorical(splits.y_val, 10)
    epochs = config.resolved_epochs
    batches, steps_per_epoch = training_batches(
        splits.x_train, y_train, config.batch_size, config.seed, resumed_from or 0, epochs
    )

    scope, replicas = _strategy_scope(config.strategy)
    with scope:
        model, precision = compile_model(config, steps_per_epoch)

    history_path = run_dir / "history.json"
    prior = read_json(history_path) if (resumed_from and history_path.exists()) else []
    best_so_far = min((r["val_loss"] for r in prior if r["epoch"] <= resumed_from), default=None)
    callbacks = [
        keras.callbacks.BackupAndRestore(
            str(run_dir / BACKUP_DIR), double_checkpoint=True, delete_checkpoint=False
        ),
        EpochState(batches, config.seed),
        keras.callbacks.TerminateOnNaN(),
        keras.callbacks.ModelCheckpoint(
            str(run_dir / BEST_WEIGHTS),
            monitor="val_loss",
            mode="min",
            save_best_only=True,
            save_weights_only=True,
            initial_value_threshold=best_so_far,
        ),
        HistoryWriter(history_path, n_train),
        *tensorboard_callback(run_dir, config),
        *extra_callbacks,
    ]
    _log(
        config,
        f"Training {config.arch} on {n_train:,} images ({len(splits.y_val):,} validation) "
        f"for {epochs} epochs = {epochs * n_train:,} images seen; precision {precision}, "
        f"batch {config.batch_size}, {config.optimizer} lr={config.lr:g} ({config.lr_schedule}), "
        f"augmentation {list(config.augmentation) or 'none'}. Run: {run_dir}",
    )
    # The code that trains is the checkout as training starts, not as it ends hours later.
    commit = git_commit()
    model.fit(
        batches,
        validation_data=(splits.x_val, y_val),
        validation_batch_size=1000,
        epochs=epochs,
        steps_per_epoch=steps_per_epoch,
        shuffle=False,  # the batches are already in their (seed, epoch) order
        callbacks=callbacks,
        verbose={0: 0, 1: "auto", 2: 2}[config.verbose],
    )
    history = read_json(history_path)
    bad = [r["epoch"] for r in history if not all(map(math.isfinite, (r["loss"], r["val_loss"])))]
    if bad or len(history) < epochs:
        where = f"at epoch {bad[0]}" if bad else f"after {len(history)} of {epochs} epochs"
        raise TrainingError(f"loss became NaN {where}; training stopped (TerminateOnNaN)")

    # The checkpoint with the lowest validation loss is the model we report.
    model.load_weights(run_dir / BEST_WEIGHTS)
    best_epoch = min(history, key=lambda r: r["val_loss"])["epoch"]
    probs = predict_probabilities(model, splits.x_test, tta_flip=config.tta_flip)
    test = evaluate_probabilities(splits.y_test, probs)
    write_npz(
        run_dir / "test_predictions.npz", probs=probs.astype(np.float16), y_true=splits.y_test
    )
    atomic_save_model(model, run_dir / "model.keras")
    train_seconds = sum(r["train_seconds"] for r in history)
    metrics = {
        "arch": config.arch,
        "test": test,
        "best_epoch": best_epoch,
        "best_val_loss": min(r["val_loss"] for r in history),
        "best_val_accuracy": next(r["val_accuracy"] for r in history if r["epoch"] == best_epoch),
        "epochs": epochs,
        "n_train": n_train,
        "n_val": int(len(splits.y_val)),
        "images_seen": epochs * n_train,
        "params": count_params(model),
        "train_seconds": train_seconds,
        "wall_seconds": sum(r["seconds"] for r in history),
        "images_per_second": epochs * n_train / train_seconds,
        "precision": precision,
        "test_time_augmentation": "flip" if config.tta_flip else None,
        "replicas": replicas,
        "seed": config.seed,
        "resumed_from_epoch": resumed_from,
        "config": config.to_dict(),
        "hardware": hardware.describe(),
        "versions": package_versions(),
        "git_commit": commit,
        "command": " ".join(sys.argv),
        "finished": datetime.now().isoformat(timespec="seconds"),
    }
    write_json(run_dir / "metrics.json", metrics)
    shutil.rmtree(run_dir / BACKUP_DIR, ignore_errors=True)
    _log(config, f"Test accuracy {test['accuracy']:.4f} (best epoch {best_epoch} by val_loss)")
    return metrics


def summarize_run(run_dir) -> str:
    """One paragraph on a finished run, for the CLI and notebooks."""
    metrics = read_json(Path(run_dir) / "metrics.json")
    return json.dumps(
        {k: metrics[k] for k in ("arch", "epochs", "images_seen", "train_seconds")}
        | {"test_accuracy": metrics["test"]["accuracy"]},
        indent=2,
    )
