"""Runs survive kills, repeat exactly, refuse bad state, and never leak test data."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import keras
import numpy as np
import pytest

from fmnist_lib import runs, training
from fmnist_lib.config import TrainConfig
from fmnist_lib.data import prepare_splits
from fmnist_lib.inference import load_trained_model
from fmnist_lib.runs import RunError, load_run, read_json, read_status, set_status, write_json

from .conftest import run_cli


def test_sigkill_mid_run_then_resume(tmp_path):
    run_dir = tmp_path / "killed"
    cmd = [
        sys.executable,
        "-m",
        "fmnist_lib",
        "train",
        "--arch",
        "arch1",
        "--subset",
        "3000",
        "--epochs",
        "4",
        "--out",
        tmp_path,
        "--run-name",
        "killed",
        "--quiet",
    ]
    proc = subprocess.Popen(
        list(map(str, cmd)), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    history = run_dir / "history.json"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and proc.poll() is None:
        if history.exists() and len(read_json(history)) >= 1:
            break
        time.sleep(0.05)
    assert proc.poll() is None, "training ended before it could be killed"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert read_json(run_dir / "status.json")["state"] == "running"
    assert read_status(run_dir)["state"] == "interrupted"  # its process is gone
    with pytest.raises(RunError, match="interrupted, not completed"):
        load_run(run_dir)  # an interrupted run never passes for a finished one

    resumed = run_cli("train", "--resume", run_dir, check_rc=0)
    assert "Resuming" in resumed.stdout
    history = read_json(run_dir / "history.json")
    assert [r["epoch"] for r in history] == [1, 2, 3, 4]
    metrics = read_json(run_dir / "metrics.json")
    assert metrics["resumed_from_epoch"] >= 1 and metrics["epochs"] == 4
    assert load_run(run_dir)["metrics"]["test"]["n"] == 10000
    again = run_cli("train", "--resume", run_dir, check_rc=0)
    assert "already completed" in again.stdout


DETERMINISM_SCRIPT = textwrap.dedent(
    """
    import json, os, signal, sys
    import keras
    from fmnist_lib.config import TrainConfig
    from fmnist_lib.training import train

    def kill():
        os.kill(os.getpid(), signal.SIGKILL)

    class KillAfterEpoch(keras.callbacks.Callback):  # after every callback of epoch 2
        def on_epoch_end(self, epoch, logs=None):
            if epoch + 1 == 2:
                kill()

    mode, run_dir, ema = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
    save_model = keras.callbacks.BackupAndRestore._save_model
    save_weights = keras.Model.save_weights

    def save_then_kill(self):  # epoch 2's backup written, its checkpoint and row not yet
        save_model(self)
        if self._current_epoch == 2:
            kill()

    def weights_then_kill(self, filepath, *args, **kwargs):  # epoch 2's backup half written
        save_weights(self, filepath, *args, **kwargs)
        metadata = os.path.join(os.path.dirname(filepath), "training_metadata.json")
        if str(filepath).endswith("latest.weights.h5") and os.path.exists(filepath + ".bkp"):
            if json.load(open(metadata))["epoch"] == 1:
                kill()

    if mode == "kill-after-backup":
        keras.callbacks.BackupAndRestore._save_model = save_then_kill
    if mode == "kill-mid-backup":
        keras.Model.save_weights = weights_then_kill
    config = TrainConfig(arch="arch1", epochs=3, subset=1500, augmentation=("rotate", "flip"),
                         deterministic=True, seed=7, ema_momentum=ema, verbose=0)
    extra = [KillAfterEpoch()] if mode == "kill-after-epoch" else []
    train(config, run_dir=run_dir, resume=(mode == "resume"), extra_callbacks=extra)
    """
)


def _run_script(tmp_path, *args):
    script = tmp_path / "determinism.py"
    script.write_text(DETERMINISM_SCRIPT)
    return subprocess.run(
        [sys.executable, str(script), *map(str, args)], capture_output=True, text=True, timeout=600
    )


def _fingerprint(run_dir):
    history = read_json(run_dir / "history.json")
    metrics = read_json(run_dir / "metrics.json")
    return [(r["loss"], r["val_loss"], r["accuracy"]) for r in history], metrics["test"]["accuracy"]


# Where a kill lands in epoch 2's end, the epochs its history keeps, and the epoch
# the run resumes after. Only a complete epoch (its history row written last) counts.
KILL_POINTS = {
    "kill-after-epoch": (2, 2),
    "kill-after-backup": (1, 1),  # backup saved, checkpoint and row not
    "kill-mid-backup": (1, 1),  # new weights saved, their metadata not
}


# With a weight average the backup must hold both the weights being trained and
# their average, or a resumed run would drift from an uninterrupted one. Every kill
# point runs with the average, whose weight swaps make the epoch's end the longest.
@pytest.mark.parametrize(
    "ema, kill_points",
    [(None, ["kill-after-epoch"]), (0.9, list(KILL_POINTS))],
    ids=["plain", "weight-ema"],
)
def test_deterministic_runs_repeat_exactly_even_across_a_kill(tmp_path, ema, kill_points):
    ema = json.dumps(ema)
    for name in ("a", "b"):
        proc = _run_script(tmp_path, "plain", tmp_path / name, ema)
        assert proc.returncode == 0, proc.stderr[-2000:]
    assert _fingerprint(tmp_path / "a") == _fingerprint(tmp_path / "b")

    for mode in kill_points:
        kept, resumed_after = KILL_POINTS[mode]
        killed = _run_script(tmp_path, mode, tmp_path / mode, ema)
        assert killed.returncode == -signal.SIGKILL, (mode, killed.stderr[-2000:])
        assert len(read_json(tmp_path / mode / "history.json")) == kept, mode
        proc = _run_script(tmp_path, "resume", tmp_path / mode, ema)
        assert proc.returncode == 0, (mode, proc.stderr[-2000:])
        metrics = read_json(tmp_path / mode / "metrics.json")
        assert metrics["resumed_from_epoch"] == resumed_after, mode
        assert _fingerprint(tmp_path / mode) == _fingerprint(tmp_path / "a"), mode


class PoisonOutputLayer(keras.callbacks.Callback):
    """NaN weights in the last layer after the first batch: the loss becomes NaN.

    (NaN images would not do it everywhere: oneDNN's ReLU maps NaN to 0 on some CPUs.)
    """

    def on_train_batch_end(self, batch, logs=None):
        kernel = [w for w in self.model.trainable_weights if w.path.endswith("kernel")][-1]
        kernel.assign(np.full(kernel.shape, np.nan, dtype="float32"))


def test_nan_loss_stops_the_run_and_marks_it_failed(tmp_path):
    config = TrainConfig(arch="arch1", epochs=3, subset=500, verbose=0)
    with pytest.raises(training.TrainingError, match="NaN"):
        training.train(config, run_dir=tmp_path / "nan", extra_callbacks=[PoisonOutputLayer()])
    status = read_json(tmp_path / "nan" / "status.json")
    assert status["state"] == "failed" and "NaN" in status["error"]
    assert not (tmp_path / "nan" / "metrics.json").exists()
    with pytest.raises(RunError, match="failed"):
        load_run(tmp_path / "nan")


def test_test_set_is_used_once_after_training(tmp_path, monkeypatch):
    calls = []
    for method in ("fit", "evaluate", "predict"):
        original = getattr(keras.Model, method)

        def spy(self, *args, _name=method, _original=original, **kwargs):
            x = args[0] if args else kwargs.get("x")
            calls.append((_name, getattr(x, "shape", None), kwargs.get("validation_data")))
            return _original(self, *args, **kwargs)

        monkeypatch.setattr(keras.Model, method, spy)
    config = TrainConfig(arch="arch1", epochs=1, subset=600, seed=2, verbose=0)
    training.train(config, run_dir=tmp_path / "spy")
    splits = prepare_splits(config.val_fraction, config.seed, config.subset)
    names = [c[0] for c in calls if c[0] != "evaluate"]
    assert names[0] == "fit" and set(names[1:]) == {"predict"}
    x_val, _ = calls[0][2]
    assert np.array_equal(x_val, splits.x_val)  # validation comes from the training pool
    # fit's per-epoch evaluate calls see the validation images only
    assert {c[1] for c in calls if c[0] == "evaluate"} == {splits.x_val.shape}
    # the kept checkpoint's validation scores (without and with flip TTA) come first
    assert {c[1] for c in calls[1:-1] if c[0] == "predict"} == {splits.x_val.shape}
    # the one use of the test set is the last call, after training ended
    assert [c[0] for c in calls if c[1] == (10000, 28, 28, 1)] == ["predict"]
    assert calls[-1][:2] == ("predict", (10000, 28, 28, 1))


def test_existing_run_needs_resume_and_same_settings(trained_run, tmp_path):
    config = TrainConfig.from_dict(read_json(trained_run / "config.json"))
    with pytest.raises(RunError, match="already holds a run"):
        training.train(config, run_dir=trained_run)
    with pytest.raises(RunError, match=r"different settings \['seed'\]"):
        training.train(config.replace(seed=99), run_dir=trained_run, resume=True)
    assert training.train(config, run_dir=trained_run, resume=True) == trained_run


def test_incomplete_and_failed_runs_are_refused(tmp_path):
    run_dir = tmp_path / "half"
    run_dir.mkdir()
    set_status(run_dir, "running")
    with pytest.raises(RunError, match="running, not completed"):
        load_run(run_dir)
    set_status(run_dir, "failed", error="boom")
    with pytest.raises(RunError, match="failed: boom"):
        load_run(run_dir)
    with pytest.raises(RunError, match="no such run directory"):
        load_run(tmp_path / "nothing")


def test_atomic_write_keeps_the_old_file_when_writing_fails(tmp_path, monkeypatch):
    path = tmp_path / "metrics.json"
    write_json(path, {"accuracy": 0.9})

    def crash(fd):
        raise OSError("disk full")

    monkeypatch.setattr(runs.os, "fsync", crash)
    with pytest.raises(OSError, match="disk full"):
        write_json(path, {"accuracy": 0.1})
    assert json.loads(path.read_text()) == {"accuracy": 0.9}
    assert [p.name for p in tmp_path.iterdir()] == ["metrics.json"]  # no temp left behind
    assert oct(os.stat(path).st_mode & 0o777) == "0o644"


MIRRORED_SCRIPT = textwrap.dedent(
    """
    import sys
    import tensorflow as tf
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    from fmnist_lib.config import TrainConfig
    from fmnist_lib.training import train
    train(TrainConfig(arch="arch1", epochs=1, subset=600, strategy="mirrored", verbose=0),
          run_dir=sys.argv[1])
    """
)


def test_mirrored_strategy_over_two_logical_cpus(tmp_path):
    script = tmp_path / "mirrored.py"
    script.write_text(MIRRORED_SCRIPT)
    proc = subprocess.run(
        [sys.executable, str(script), str(tmp_path / "m")],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    metrics = load_run(tmp_path / "m")["metrics"]
    assert metrics["replicas"] == 2
    assert (tmp_path / "m" / "model.keras").is_file()


def test_resume_is_refused_while_another_process_trains_the_run(tmp_path):
    config = TrainConfig(arch="arch1", epochs=1, subset=500, verbose=0)
    run_dir = tmp_path / "busy"
    run_dir.mkdir()
    write_json(run_dir / "config.json", config.to_dict())
    trainer = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    try:
        set_status(run_dir, "running", pid=trainer.pid)
        assert read_status(run_dir)["state"] == "running"
        with pytest.raises(RunError, match=f"being trained by process {trainer.pid}"):
            training.train(config, run_dir=run_dir, resume=True)
    finally:
        trainer.kill()
        trainer.wait()
    assert read_status(run_dir)["state"] == "interrupted"
    # A status written on another machine cannot be checked, so it is taken as written.
    set_status(run_dir, "running", pid=trainer.pid)
    write_json(run_dir / "status.json", {**read_json(run_dir / "status.json"), "host": "elsewhere"})
    assert read_status(run_dir)["state"] == "running"


def test_resume_after_the_last_epoch_only_evaluates(tmp_path):
    """Killed between the last epoch and the metrics: resuming trains nothing more."""
    config = TrainConfig(arch="arch1", epochs=1, subset=500, verbose=0)
    run_dir = training.train(config, run_dir=tmp_path / "late")
    history = read_json(run_dir / "history.json")
    # Recreate the state of a kill after the epoch: backup present, no metrics yet.
    (run_dir / "metrics.json").unlink()
    backup = run_dir / training.BACKUP_DIR
    backup.mkdir()
    model, _ = load_trained_model(run_dir)
    model.save_weights(backup / "latest.weights.h5")
    write_json(backup / "training_metadata.json", {"epoch": 1, "batch": 0})
    set_status(run_dir, "running")
    training.train(config, run_dir=run_dir, resume=True)
    assert read_json(run_dir / "history.json") == history
    assert read_json(run_dir / "metrics.json")["resumed_from_epoch"] == 1


def test_an_interrupted_time_budget_run_resumes_with_the_epochs_fitted_first(tmp_path):
    """Resuming a time-budget run measures nothing again: its first fit stands."""

    class StopAfterFirstEpoch(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            raise KeyboardInterrupt

    config = TrainConfig(arch="arch1", budget_seconds=2, subset=500, verbose=0)
    run_dir = tmp_path / "timed"
    with pytest.raises(KeyboardInterrupt):
        training.train(config, run_dir=run_dir, extra_callbacks=[StopAfterFirstEpoch()])
    fitted = read_json(run_dir / training.TIME_BUDGET_FILE)
    assert read_status(run_dir)["state"] == "failed"
    training.train(config, run_dir=run_dir, resume=True)
    assert read_json(run_dir / training.TIME_BUDGET_FILE) == fitted
    assert read_json(run_dir / "config.json")["epochs"] == fitted["epochs"]
    assert read_json(run_dir / "metrics.json")["resumed_from_epoch"] == 1
    with pytest.raises(RunError, match=r"different settings \['budget_seconds'\]"):
        training.train(config.replace(budget_seconds=3), run_dir=run_dir, resume=True)


def test_a_run_saved_before_a_setting_existed_still_resumes(tmp_path):
    config = TrainConfig(arch="arch1", epochs=1, subset=200, verbose=0)
    saved = config.to_dict()
    del saved["budget_seconds"]  # config.json of a run made before budget_seconds existed
    write_json(tmp_path / "config.json", saved)
    set_status(tmp_path, "completed")
    assert training._resume_point(config, tmp_path, resume=True) == training.COMPLETED
    with pytest.raises(RunError, match=r"different settings \['seed'\]"):
        training._resume_point(config.replace(seed=1), tmp_path, resume=True)
