"""The Keras callbacks of a training run: batch order and reseeding per epoch, the
per-epoch line and history, and a run directory's backup, checkpoint and logs.
"""

from __future__ import annotations

import importlib.util
import time
from pathlib import Path

import keras
import numpy as np

from .batches import ShuffledBatches
from .config import TrainConfig
from .runs import read_json, write_json

BACKUP_DIR = "backup"
BEST_WEIGHTS = "best.weights.h5"


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


def tensorboard_callback(run_dir: Path, config: TrainConfig) -> list:
    """TensorBoard logs where TensorFlow is installed (Keras writes them with tf.summary).

    A JAX-only machine (a GPU host without TensorFlow) trains without them;
    history.json holds the same per-epoch numbers.
    """
    if importlib.util.find_spec("tensorflow") is None:
        if config.verbose:
            print(
                "TensorFlow is not installed: no TensorBoard logs (history.json has them)",
                flush=True,
            )
        return []
    return [keras.callbacks.TensorBoard(str(run_dir / "logs"), write_graph=False)]


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
