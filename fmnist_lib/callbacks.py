"""The Keras callbacks of a training run: batch order and reseeding per epoch, the
per-epoch line and history, and a run directory's backup, checkpoint and logs.
"""

from __future__ import annotations

import importlib.util
import shutil
import time
from pathlib import Path

import keras
import numpy as np

from .batches import ShuffledBatches
from .config import TrainConfig
from .runs import read_json, write_json

BACKUP_DIR = "backup"
BEST_WEIGHTS = "best.weights.h5"
# BackupAndRestore's files, and the suffix of the previous save it keeps with
# double_checkpoint=True.
BACKUP_FILES = ("latest.weights.h5", "training_metadata.json")
PREVIOUS_SAVE = ".bkp"


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


def settled_backup_epoch(run_dir: Path) -> int:
    """The last epoch an interrupted run can resume after; repairs its backup to match.

    At an epoch's end the backup is written first, then the best checkpoint, and the
    history row last (``run_callbacks``' order), so an epoch is complete only once its
    row is in history.json. A backup ahead of the history, or one whose save was cut
    short (its metadata still names the epoch the previous save copied), gives way to
    that previous save: the interrupted epoch trains again, and its checkpoint and row
    are written in order.
    """
    backup = run_dir / BACKUP_DIR
    weights, metadata = (backup / name for name in BACKUP_FILES)
    if not metadata.exists():  # no save finished: start over
        shutil.rmtree(backup, ignore_errors=True)
        return 0
    history_path = run_dir / "history.json"
    logged = [r["epoch"] for r in read_json(history_path)] if history_path.exists() else []
    last_logged = max(logged, default=0)
    saved = read_json(metadata)["epoch"]
    previous = [backup / (name + PREVIOUS_SAVE) for name in BACKUP_FILES]
    before = read_json(previous[1])["epoch"] if previous[1].exists() else 0
    if saved == last_logged and before != saved:
        return saved
    if before == last_logged:
        if before == 0:
            shutil.rmtree(backup)
        else:
            for kept, latest in zip(previous, (weights, metadata), strict=True):
                shutil.copyfile(kept, latest)
        return before
    return saved  # no save matches the history; check_history names what is missing


def run_callbacks(config: TrainConfig, run_dir: Path, resumed_from) -> list:
    """A run directory's callbacks: backup for resuming, NaN stop, best checkpoint, logs.

    Their order at an epoch's end is the order ``settled_backup_epoch`` relies on:
    the backup, then the checkpoint, then the history row.
    """
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
