"""`fmnist bench`: the original's pipeline and this project's, side by side.

Both sides train the VGG-like model on one machine in one run, one after the
other (never at the same time: they would share the cores):

* **original**: the original project's pipeline as it ran, rebuilt from the
  facts in seed-facts.md (fmnist_lib/original_pipeline.py): offline per-image
  ImageDataGenerator augmentation into 3x the data, split after augmenting,
  tf.keras 2 (the ``tf-keras`` package, ``TF_USE_LEGACY_KERAS=1``) in a
  subprocess. Skipped, with a note in the report, when tf-keras is missing.
* **project**: this project's pipeline (Keras 3, augmentation layers applied on
  the fly, split before augmenting, automatic precision), in this process.

For each side the report gives preprocessing time, training images/s, achieved
GFLOP/s and its fraction of the machine's peak, and time-to-accuracy: wall time
from the start of preprocessing until the model's test accuracy, checked after
every epoch, first reaches the original's 10-epoch 93.54%. The test-set check
itself is not counted in that clock, and it is made only for this measurement.

Heavy imports (Keras, TensorFlow) happen inside functions: the CLI imports this
module to register the subcommand, and the tf.keras 2 subprocess imports the
pure-Python helpers below.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from .reference import ORIGINAL_RESULTS

SCHEMA = "fmnist-bench/1"
SIDES = ("original", "project")
BATCH_SIZE = 250

# The original's VGG-like model after 10 epochs (seed-facts.md), best val_loss checkpoint.
ORIGINAL_TEST_ACCURACY = ORIGINAL_RESULTS["vgg"]["test_accuracy"]
ORIGINAL_BUDGET_IMAGES = ORIGINAL_RESULTS["vgg"]["images_seen"]  # 10 epochs x 144,000 images
MILESTONES = (0.80, 0.85, 0.88, 0.90, 0.92)

# --quick: a CI smoke run of about a minute. Its accuracy target is deliberately
# low and measured on a test subset, so its time-to-accuracy is not comparable.
QUICK = {"subset": 1000, "test_subset": 2000, "max_epochs": 1, "target": 0.50}

# The goals (set on a faster AVX-512 machine), project versus original.
GOALS = {"time_to_accuracy_speedup": 5.0, "images_per_second_ratio": 2.0}

INSTALL_HINT = "pip install -e .[bench]  (or: pip install --no-deps tf-keras==<your TF version>)"


# --- FLOPs of the VGG-like model, from its layer shapes ------------------------------------------

# (kind, units/filters, kernel) in order; "pool" halves height and width.
# Must match models.vgg(): two 32-filter and two 64-filter 3x3 "same" convs, Dense(512), Dense(10).
VGG_LAYERS = (
    ("conv", 32, 3),
    ("conv", 32, 3),
    ("pool", 2, None),
    ("conv", 64, 3),
    ("conv", 64, 3),
    ("pool", 2, None),
    ("dense", 512, None),
    ("dense", 10, None),
)


def vgg_flops(input_shape=(28, 28, 1), layers=VGG_LAYERS) -> dict:
    """Forward and training FLOPs per image of the VGG-like model, analytically.

    Convolution ("same" padding, stride 1): out_h x out_w x filters x k x k x in_channels
    multiply-adds; dense: inputs x units multiply-adds; 2 FLOPs per multiply-add.
    Batch norm, ReLU, pooling, dropout, softmax and biases are left out (under 1%).
    Training is taken as 3x forward: the backward pass computes gradients with
    respect to both the activations and the weights, each about one forward pass.
    """
    h, w, c = input_shape
    per_layer = []
    flat = None
    for kind, units, kernel in layers:
        if kind == "conv":
            macs = h * w * units * kernel * kernel * c
            per_layer.append(
                {"layer": f"conv{kernel}x{kernel}x{units}", "output": [h, w, units], "macs": macs}
            )
            c = units
        elif kind == "pool":
            h, w = h // units, w // units
        elif kind == "dense":
            fan_in = flat if flat is not None else h * w * c
            macs = fan_in * units
            per_layer.append({"layer": f"dense{units}", "output": [units], "macs": macs})
            flat = units
        else:  # pragma: no cover - a guard on the table above
            raise ValueError(f"unknown layer kind {kind!r}")
    forward = 2 * sum(layer["macs"] for layer in per_layer)
    return {
        "forward_flops_per_image": forward,
        "training_flops_per_image": 3 * forward,
        "layers": per_layer,
        "method": "conv: out_h*out_w*filters*k*k*in_ch multiply-adds; dense: in*out; "
        "x2 FLOPs per multiply-add; training = 3x forward; BN/ReLU/pool/bias ignored",
    }


# --- per-epoch clock and test-accuracy probe, shared by both sides -------------------------------


@dataclass
class Recorder:
    """Times one pipeline: preprocessing, each epoch, and the first epoch at each accuracy.

    ``elapsed`` is wall time since ``t0`` (the start of preprocessing) minus the
    time spent in the test-accuracy probe, which exists only for this benchmark.
    Pure Python, so the tf.keras 2 subprocess uses it too (see ``make_callback``).
    """

    n_train: int
    batch_size: int
    target: float
    max_images: int | None = None
    time_limit: float | None = None
    milestones: tuple[float, ...] = MILESTONES
    verbose: bool = True
    label: str = ""
    t0: float = field(default_factory=time.perf_counter)
    probe_seconds: float = 0.0
    epochs: list = field(default_factory=list)
    reached: dict = field(default_factory=dict)
    stop_reason: str | None = None

    def elapsed(self) -> float:
        return time.perf_counter() - self.t0 - self.probe_seconds

    def batch_size_of(self, index: int) -> int:
        return min(self.batch_size, self.n_train - index * self.batch_size)

    def epoch_begin(self) -> None:
        self._epoch_start = time.perf_counter()
        self._batch_ends: list[float] = []

    def batch_end(self) -> None:
        self._batch_ends.append(time.perf_counter())

    def epoch_end(self, epoch: int, logs: dict | None, probe) -> bool:
        """Record epoch ``epoch`` (0-based), run the probe; True when training should stop."""
        now = time.perf_counter()
        ends = self._batch_ends
        last = ends[-1] if ends else now
        # Steady state: the first batch of every epoch is left out (tracing, iterator start).
        steady_images = sum(self.batch_size_of(i) for i in range(1, len(ends)))
        steady_seconds = ends[-1] - ends[0] if len(ends) > 1 else 0.0
        elapsed = now - self.t0 - self.probe_seconds
        start = time.perf_counter()
        accuracy = float(probe())
        self.probe_seconds += time.perf_counter() - start
        images_seen = (epoch + 1) * self.n_train
        record = {
            "epoch": epoch + 1,
            "images_seen": images_seen,
            "train_seconds": last - self._epoch_start,
            "steady_images": steady_images,
            "steady_seconds": steady_seconds,
            "after_train_seconds": now - last,  # the pipeline's own validation pass
            "elapsed_seconds": elapsed,
            "probe_seconds": time.perf_counter() - start,
            "test_accuracy": accuracy,
        }
        record.update({k: float(v) for k, v in (logs or {}).items()})
        self.epochs.append(record)
        for threshold in sorted({*self.milestones, self.target}):
            key = f"{threshold:.4f}"
            if accuracy >= threshold and key not in self.reached:
                self.reached[key] = {
                    "seconds": elapsed,
                    "epoch": epoch + 1,
                    "images_seen": images_seen,
                }
        if self.verbose:
            ips = steady_images / steady_seconds if steady_seconds else float("nan")
            print(
                f"[{self.label}] epoch {epoch + 1}: {record['train_seconds']:.1f} s training "
                f"({ips:,.0f} img/s), test accuracy {accuracy:.4f}, elapsed {elapsed:.1f} s",
                flush=True,
            )
        if accuracy >= self.target:
            self.stop_reason = f"reached the target {self.target:.4f}"
        elif self.max_images is not None and images_seen >= self.max_images:
            self.stop_reason = f"cap: {self.max_images:,} images seen"
        elif self.time_limit is not None and elapsed >= self.time_limit:
            self.stop_reason = f"cap: time limit {self.time_limit:g} s"
        return self.stop_reason is not None

    def finish(self, planned_epochs: int) -> None:
        if self.stop_reason is None:
            self.stop_reason = f"cap: {planned_epochs} epochs"


def make_callback(callback_base, recorder: Recorder, probe):
    """A callback of the given Keras flavour (tf.keras 2 or Keras 3) driving ``recorder``."""

    class BenchProbe(callback_base):
        def on_epoch_begin(self, epoch, logs=None):
            recorder.epoch_begin()

        def on_train_batch_end(self, batch, logs=None):
            recorder.batch_end()

        def on_epoch_end(self, epoch, logs=None):
            if recorder.epoch_end(epoch, logs, lambda: probe(self.model)):
                self.model.stop_training = True

    return BenchProbe()


def test_accuracy_probe(x_test, y_test):
    """probe(model) -> accuracy of the current weights on (x_test, y_test)."""
    import numpy as np

    def probe(model):
        probs = model.predict(x_test, batch_size=1000, verbose=0)
        return float(np.mean(np.argmax(probs, axis=1) == y_test))

    return probe


def test_subset_indices(y_test, size: int | None, seed: int):
    """The (stratified) test images the probe uses; None means all 10,000."""
    import numpy as np

    from .data import stratified_subset

    if size is None or size >= len(y_test):
        return np.arange(len(y_test))
    return stratified_subset(y_test, size, seed)


def planned_epochs(n_train: int, max_epochs: int | None, max_images: int | None) -> int:
    caps = [max_epochs] if max_epochs else []
    if max_images:
        caps.append(math.ceil(max_images / n_train))
    return max(1, min(caps)) if caps else 1


def recorder_result(recorder: Recorder) -> dict:
    return {
        "epochs": recorder.epochs,
        "milestones": recorder.reached,
        "stop_reason": recorder.stop_reason,
        "wall_seconds": recorder.elapsed(),
        "probe_seconds_total": recorder.probe_seconds,
    }


# --- settings ------------------------------------------------------------------------------------


@dataclass
class BenchSpec:
    """What one benchmark run does; handed to both sides (as JSON to the subprocess)."""

    quick: bool = False
    subset: int | None = None  # source training images (from 60,000), both sides
    test_subset: int | None = None  # test images the accuracy probe uses (None: all 10,000)
    target: float = ORIGINAL_TEST_ACCURACY
    max_epochs: int | None = None
    max_images: int | None = ORIGINAL_BUDGET_IMAGES  # images seen in training, per side
    time_limit: float | None = None  # seconds of elapsed wall time, per side
    seed: int = 0
    data_dir: str | None = None
    sides: tuple[str, ...] = SIDES
    verbose: bool = True

    @classmethod
    def quick_spec(cls, **overrides) -> BenchSpec:
        return cls(quick=True, max_images=None, **{**QUICK, **overrides})

    def to_dict(self) -> dict:
        data = dataclasses.asdict(self)
        data["sides"] = list(self.sides)
        return data


def check_spec(spec: BenchSpec) -> None:
    from .config import ConfigError

    if spec.subset is not None and not 100 <= spec.subset <= 60_000:
        raise ConfigError(f"subset: {spec.subset} is out of range; it must be in [100, 60,000]")
    if spec.test_subset is not None and not 100 <= spec.test_subset <= 10_000:
        raise ConfigError(f"test_subset: {spec.test_subset} must be in [100, 10,000]")
    if not 0 < spec.target <= 1:
        raise ConfigError(f"target: {spec.target} must be an accuracy in (0, 1]")
    if spec.max_epochs is not None and spec.max_epochs < 1:
        raise ConfigError(f"max_epochs: {spec.max_epochs} must be at least 1")
    if spec.max_images is not None and spec.max_images < 1:
        raise ConfigError(f"max_images: {spec.max_images} must be at least 1")
    if spec.max_epochs is None and spec.max_images is None and spec.time_limit is None:
        raise ConfigError("give at least one cap: max_epochs, max_images or time_limit")
    if spec.max_epochs is None and spec.max_images is None:
        raise ConfigError("a time limit alone is not enough; also give max_epochs or max_images")
    unknown = [s for s in spec.sides if s not in SIDES]
    if unknown or not spec.sides:
        raise ConfigError(f"sides: {list(spec.sides)}; choose from {list(SIDES)}")


# --- the two sides -------------------------------------------------------------------------------


def tf_keras_available() -> bool:
    return importlib.util.find_spec("tf_keras") is not None


def run_original(spec: BenchSpec, python: str | None = None) -> dict:
    """The original pipeline in a tf.keras 2 subprocess; a 'skipped' result without tf-keras."""
    if not tf_keras_available():
        return {
            "pipeline": "original",
            "status": "skipped",
            "reason": "tf-keras (tf.keras 2) is not installed in this environment, so the "
            f"original pipeline could not run. Install it with: {INSTALL_HINT}",
        }
    env = dict(os.environ, TF_USE_LEGACY_KERAS="1", TF_CPP_MIN_LOG_LEVEL="2")
    with tempfile.TemporaryDirectory(prefix="fmnist-bench-") as tmp:
        spec_path, result_path = Path(tmp) / "spec.json", Path(tmp) / "result.json"
        spec_path.write_text(json.dumps(spec.to_dict()))
        cmd = [
            python or sys.executable,
            "-m",
            "fmnist_lib.original_pipeline",
            "--spec",
            str(spec_path),
            "--result",
            str(result_path),
        ]
        proc = subprocess.run(
            cmd,
            env=env,
            cwd=Path(__file__).resolve().parent.parent,
            stdout=None if spec.verbose else subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        if proc.returncode != 0 or not result_path.exists():
            tail = "\n".join(proc.stderr.strip().splitlines()[-15:])
            return {
                "pipeline": "original",
                "status": "failed",
                "reason": f"the tf.keras 2 subprocess exited with status {proc.returncode}",
                "stderr_tail": tail,
            }
        return json.loads(result_path.read_text())


def run_project(spec: BenchSpec) -> dict:
    """This project's pipeline: fmnist_lib's data split, batches, model and optimizer."""
    import keras

    from .config import TrainConfig
    from .data import prepare_splits
    from .models import count_params
    from .training import EpochState, compile_model, package_versions, training_batches

    load_start = os.getloadavg()
    config = TrainConfig(
        arch="vgg", subset=spec.subset, seed=spec.seed, data_dir=spec.data_dir, verbose=0
    )
    keras.utils.set_random_seed(config.seed)
    recorder = Recorder(
        n_train=config.n_train,
        batch_size=config.batch_size,
        target=spec.target,
        max_images=spec.max_images,
        time_limit=spec.time_limit,
        verbose=spec.verbose,
        label="project",
    )
    recorder.t0 = time.perf_counter()
    # Preprocessing: load + verify, stratified split before augmenting, scale to float32.
    splits = prepare_splits(config.val_fraction, config.seed, config.subset, config.data_dir)
    t_split = time.perf_counter()
    y_train = keras.utils.to_categorical(splits.y_train, 10)
    y_val = keras.utils.to_categorical(splits.y_val, 10)
    n_train = len(y_train)
    epochs = planned_epochs(n_train, spec.max_epochs, spec.max_images)
    config = config.replace(epochs=epochs)
    batches, steps = training_batches(
        splits.x_train, y_train, config.batch_size, config.seed, 0, epochs
    )
    t_pre = time.perf_counter()
    preprocessing = {
        "load_split_scale_seconds": t_split - recorder.t0,
        "augment_seconds": 0.0,  # on the fly, inside the training step
        "labels_and_batches_seconds": t_pre - t_split,
        "total_seconds": t_pre - recorder.t0,
    }
    model, precision = compile_model(config, steps)
    setup_seconds = time.perf_counter() - t_pre
    idx = test_subset_indices(splits.y_test, spec.test_subset, spec.seed)
    probe = test_accuracy_probe(splits.x_test[idx], splits.y_test[idx])
    if spec.verbose:
        print(
            f"[project] Keras {keras.__version__}, {precision}: {n_train:,} training images, "
            f"{len(y_val):,} validation, augmentation {list(config.augmentation)} on the fly; "
            f"preprocessing {preprocessing['total_seconds']:.1f} s; up to {epochs} epochs",
            flush=True,
        )
    model.fit(
        batches,
        validation_data=(splits.x_val, y_val),
        validation_batch_size=1000,
        epochs=epochs,
        steps_per_epoch=steps,
        shuffle=False,
        callbacks=[
            EpochState(batches, config.seed),
            make_callback(keras.callbacks.Callback, recorder, probe),
        ],
        verbose=0,
    )
    recorder.finish(epochs)
    return {
        "pipeline": "project",
        "status": "ok",
        "description": "fmnist_lib: Keras 3, augmentation layers "
        f"{'+'.join(config.augmentation)} on the fly, stratified split before augmenting "
        f"(val_fraction {config.val_fraction}), {precision}, batch {config.batch_size}, "
        f"{config.optimizer} lr={config.lr:g}",
        "versions": {k: v for k, v in package_versions().items() if k != "jax"},
        "precision": precision,
        "params": count_params(model),
        "n_source": len(splits.y_train) + len(splits.y_val),
        "n_train": n_train,
        "n_val": len(y_val),
        "n_test": len(idx),
        "batch_size": config.batch_size,
        "planned_epochs": epochs,
        "preprocessing": preprocessing,
        "setup_seconds": setup_seconds,
        "load_average": {"start": list(load_start), "end": list(os.getloadavg())},
        **recorder_result(recorder),
    }


# --- the report ----------------------------------------------------------------------------------


def _ratio(a, b):
    return a / b if a is not None and b not in (None, 0) else None


def summarize_side(raw: dict, flops: dict, peaks: dict) -> dict:
    """Add the derived numbers (images/s, GFLOP/s, fraction of peak, time-to-accuracy)."""
    if raw.get("status") != "ok":
        return raw
    epochs = raw["epochs"]
    steady_images = sum(e["steady_images"] for e in epochs)
    steady_seconds = sum(e["steady_seconds"] for e in epochs)
    train_seconds = sum(e["train_seconds"] for e in epochs)
    images_seen = epochs[-1]["images_seen"] if epochs else 0
    ips = steady_images / steady_seconds if steady_seconds else None
    ips_all = images_seen / train_seconds if train_seconds else None
    gflops = ips * flops["training_flops_per_image"] / 1e9 if ips else None
    peak = peaks.get(raw.get("precision", "float32")) or peaks["float32"]
    target_key = f"{raw['target']:.4f}"
    reached = raw["milestones"].get(target_key)
    out = dict(raw)
    out.update(
        {
            "epochs_run": len(epochs),
            "images_seen": images_seen,
            "train_seconds": train_seconds,
            "images_per_second": ips,
            "images_per_second_incl_first_batches": ips_all,
            "gflops": gflops,
            "peak_gflops": peak["gflops"],
            "fraction_of_peak": gflops / peak["gflops"] if gflops else None,
            "final_test_accuracy": epochs[-1]["test_accuracy"] if epochs else None,
            "best_test_accuracy": max((e["test_accuracy"] for e in epochs), default=None),
            "time_to_accuracy": {
                "target": raw["target"],
                "reached": reached is not None,
                "seconds": reached["seconds"] if reached else None,
                "epoch": reached["epoch"] if reached else None,
                "images_seen": reached["images_seen"] if reached else None,
                "searched_seconds": raw["wall_seconds"],
                "searched_images": images_seen,
            },
        }
    )
    return out


def compute_ratios(original: dict, project: dict) -> dict:
    """Project versus original; every ratio > 1 means the project is better."""
    if original.get("status") != "ok" or project.get("status") != "ok":
        missing = [s["pipeline"] for s in (original, project) if s.get("status") != "ok"]
        return {"available": False, "reason": f"not measured: {', '.join(missing)} did not run"}
    o_tta, p_tta = original["time_to_accuracy"], project["time_to_accuracy"]
    if o_tta["reached"] and p_tta["reached"]:
        tta = {"value": o_tta["seconds"] / p_tta["seconds"], "bound": None}
    elif p_tta["reached"]:
        tta = {
            "value": None,
            "bound": f">= {o_tta['searched_seconds'] / p_tta['seconds']:.2f} "
            "(original not reached within its cap)",
        }
    elif o_tta["reached"]:
        tta = {
            "value": None,
            "bound": f"<= {o_tta['seconds'] / p_tta['searched_seconds']:.2f} "
            "(project not reached within its cap)",
        }
    else:
        tta = {"value": None, "bound": None, "reason": "neither side reached the target"}
    milestones = {
        key: original["milestones"][key]["seconds"] / project["milestones"][key]["seconds"]
        for key in sorted(set(original["milestones"]) & set(project["milestones"]))
    }
    return {
        "available": True,
        "preprocessing_speedup": _ratio(
            original["preprocessing"]["total_seconds"], project["preprocessing"]["total_seconds"]
        ),
        "images_per_second": _ratio(project["images_per_second"], original["images_per_second"]),
        "gflops": _ratio(project["gflops"], original["gflops"]),
        "time_to_accuracy_speedup": tta,
        "time_to_milestone_speedup": milestones,
    }


def goal_verdicts(ratios: dict, quick: bool) -> dict:
    if not ratios.get("available"):
        return {"time_to_accuracy": "not measured", "images_per_second": "not measured"}
    ips = ratios["images_per_second"]
    ips_goal = GOALS["images_per_second_ratio"]
    verdict = {
        "images_per_second": f"{'met' if ips >= ips_goal else 'not met'}: "
        f"{ips:.2f}x (goal >= {ips_goal:g}x)"
    }
    tta = ratios["time_to_accuracy_speedup"]
    tta_goal = GOALS["time_to_accuracy_speedup"]
    if quick:
        verdict["time_to_accuracy"] = "n/a in --quick mode (lowered target on a test subset)"
    elif tta["value"] is not None:
        verdict["time_to_accuracy"] = (
            f"{'met' if tta['value'] >= tta_goal else 'not met'}: "
            f"{tta['value']:.2f}x (goal >= {tta_goal:g}x)"
        )
    else:
        verdict["time_to_accuracy"] = (
            f"undecided: {tta.get('bound') or tta.get('reason')} (goal >= {tta_goal:g}x)"
        )
    return verdict


def build_report(
    spec: BenchSpec, sides: dict, machine: dict, peaks: dict, flops: dict, command: str
) -> dict:
    summarized = {name: summarize_side(sides[name], flops, peaks) for name in SIDES}
    ratios = compute_ratios(summarized["original"], summarized["project"])
    notes = []
    if spec.quick:
        notes.append(
            f"--quick: {spec.subset:,} source images, {spec.max_epochs} epoch(s), accuracy "
            f"probed on {spec.test_subset:,} test images with a lowered target of "
            f"{spec.target:.2%}: time-to-accuracy here is a smoke test, NOT comparable to the "
            f"original's {ORIGINAL_TEST_ACCURACY:.2%}."
        )
    for side in summarized.values():
        if side.get("status") != "ok":
            notes.append(f"{side['pipeline']} pipeline {side['status']}: {side['reason']}")
    notes.append(
        "Time-to-accuracy: wall time from the start of preprocessing (data loading included; "
        "Python/TensorFlow import time excluded) through model building, training and each "
        "pipeline's own validation pass, until the test accuracy checked after an epoch first "
        "reaches the target; the test check itself is not counted. Checkpoint, TensorBoard "
        "and run-directory I/O are left out on both sides."
    )
    notes.append(
        "Training images/s: steady state, from the timestamps of the training batches, leaving "
        "out the first batch of every epoch (graph tracing, iterator start); excludes validation."
    )
    notes.append(
        "The sides ran one after the other, not at the same time; the load average "
        "at each side's start and end shows what else was running on the machine."
    )
    return {
        "schema": SCHEMA,
        "created": datetime.now().isoformat(timespec="seconds"),
        "command": command,
        "mode": "quick" if spec.quick else "full",
        "spec": spec.to_dict(),
        "machine": machine,
        "peak": peaks,
        "flops": flops,
        "target": {
            "accuracy": spec.target,
            "source": "original VGG-like, 10 epochs, test accuracy 93.54% (seed-facts.md)"
            if spec.target == ORIGINAL_TEST_ACCURACY
            else "lowered target (not the original's 93.54%)",
            "evaluated_on": f"{spec.test_subset or 10_000:,} test images after every epoch",
        },
        "pipelines": summarized,
        "ratios": ratios,
        "goals": goal_verdicts(ratios, spec.quick),
        "notes": notes,
    }


def _fmt(value, pattern="{:,.1f}", missing="n/a"):
    return missing if value is None else pattern.format(value)


def _tta_cell(side: dict) -> str:
    if side.get("status") != "ok":
        return side.get("status", "n/a")
    tta = side["time_to_accuracy"]
    if tta["reached"]:
        return f"{tta['seconds']:,.1f} s (epoch {tta['epoch']}, {tta['images_seen']:,} images)"
    return (
        f"not reached ({tta['searched_seconds']:,.1f} s, {tta['searched_images']:,} images "
        f"searched; best {side['best_test_accuracy']:.2%})"
    )


def render_markdown(report: dict) -> str:
    orig, proj = report["pipelines"]["original"], report["pipelines"]["project"]
    ratios = report["ratios"]
    ok = ratios.get("available", False)

    def cell(side, key, pattern="{:,.1f}"):
        if side.get("status") != "ok":
            return side.get("status", "n/a")
        return _fmt(side.get(key), pattern)

    def ratio(key, pattern="{:.2f}x"):
        return _fmt(ratios.get(key), pattern) if ok else "n/a"

    target = report["target"]["accuracy"]
    if ok:
        tta = ratios["time_to_accuracy_speedup"]
        tta_ratio = (
            f"{tta['value']:.2f}x" if tta["value"] is not None else tta.get("bound") or "n/a"
        )
    else:
        tta_ratio = "n/a"
    rows = [
        (
            "pipeline",
            orig.get("description", "tf.keras 2, offline augmentation"),
            proj.get("description", "Keras 3"),
            "",
        ),
        (
            "training images per epoch",
            cell(orig, "n_train", "{:,}"),
            cell(proj, "n_train", "{:,}"),
            "",
        ),
        (
            "preprocessing (s)",
            _fmt(orig["preprocessing"]["total_seconds"])
            if orig.get("status") == "ok"
            else orig.get("status"),
            _fmt(proj["preprocessing"]["total_seconds"])
            if proj.get("status") == "ok"
            else proj.get("status"),
            f"{ratio('preprocessing_speedup')} faster" if ok else "n/a",
        ),
        (
            "training images/s (steady)",
            cell(orig, "images_per_second", "{:,.0f}"),
            cell(proj, "images_per_second", "{:,.0f}"),
            ratio("images_per_second"),
        ),
        ("achieved GFLOP/s", cell(orig, "gflops"), cell(proj, "gflops"), ratio("gflops")),
        (
            "fraction of peak",
            cell(orig, "fraction_of_peak", "{:.1%}"),
            cell(proj, "fraction_of_peak", "{:.1%}"),
            "",
        ),
        (
            f"time to {target:.2%} test accuracy",
            _tta_cell(orig),
            _tta_cell(proj),
            f"{tta_ratio} faster" if ok and tta_ratio != "n/a" else tta_ratio,
        ),
        (
            "epochs run / images seen",
            f"{orig['epochs_run']} / {orig['images_seen']:,}"
            if orig.get("status") == "ok"
            else orig.get("status"),
            f"{proj['epochs_run']} / {proj['images_seen']:,}"
            if proj.get("status") == "ok"
            else proj.get("status"),
            "",
        ),
        (
            "last test accuracy",
            cell(orig, "final_test_accuracy", "{:.2%}"),
            cell(proj, "final_test_accuracy", "{:.2%}"),
            "",
        ),
        ("stopped because", orig.get("stop_reason", "n/a"), proj.get("stop_reason", "n/a"), ""),
    ]
    lines = [
        f"# fmnist bench ({report['mode']})",
        "",
        f"Command: `{report['command']}`  ",
        f"Created: {report['created']}  ",
        f"Machine: {report['machine']['cpu']}, {report['machine']['cores']} cores, "
        f"{report['machine']['platform']}",
        "",
        "| metric | original (tf.keras 2) | this project (Keras 3) | project vs original |",
        "|---|---|---|---|",
        *(f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows),
        "",
    ]
    if ok and ratios["time_to_milestone_speedup"]:
        lines += [
            "Time to lower test accuracies (project vs original, > 1 = project faster):",
            "",
            "| test accuracy | original (s) | project (s) | speedup |",
            "|---|---|---|---|",
        ]
        for key, value in ratios["time_to_milestone_speedup"].items():
            lines.append(
                f"| {float(key):.2%} | {orig['milestones'][key]['seconds']:,.1f} | "
                f"{proj['milestones'][key]['seconds']:,.1f} | {value:.2f}x |"
            )
        lines.append("")
    peak = report["peak"]["float32"]
    flops = report["flops"]
    lines += [
        "Goals (set on a faster AVX-512 machine): "
        f"time-to-accuracy >= 5x: {report['goals']['time_to_accuracy']}; "
        f"images/s >= 2x: {report['goals']['images_per_second']}.",
        "",
        f"- Peak (float32): {peak['gflops']:,.1f} GFLOP/s = {peak['cores']} cores x "
        f"{peak['clock_ghz']:.3f} GHz x {peak['flops_per_cycle_per_core']} FLOPs/cycle/core "
        f"({peak['formula']}).",
        f"- VGG-like FLOPs per training image: {flops['training_flops_per_image'] / 1e6:,.1f} "
        f"MFLOP (forward {flops['forward_flops_per_image']:,} FLOPs x 3; {flops['method']}).",
        f"- Target: {report['target']['source']}; {report['target']['evaluated_on']}.",
    ]
    for name, side in report["pipelines"].items():
        if side.get("status") == "ok":
            pre = ", ".join(
                f"{k.replace('_seconds', '')} {v:.1f} s"
                for k, v in side["preprocessing"].items()
                if k != "total_seconds"
            )
            lines.append(
                f"- {name}: preprocessing {pre}; model setup {side['setup_seconds']:.1f} s; "
                f"load average {side['load_average']['start'][0]:.2f} at start, "
                f"{side['load_average']['end'][0]:.2f} at end; versions "
                + ", ".join(f"{k} {v}" for k, v in side["versions"].items())
            )
    lines += [f"- {note}" for note in report["notes"]]
    return "\n".join(lines) + "\n"


def write_report(report: dict, out_dir) -> tuple[Path, Path]:
    from .runs import atomic_write_bytes, write_json

    out_dir = Path(out_dir)
    json_path, md_path = out_dir / "bench.json", out_dir / "bench.md"
    write_json(json_path, report)
    atomic_write_bytes(md_path, render_markdown(report).encode())
    return json_path, md_path


def run_bench(spec: BenchSpec, out_dir="runs/bench", command: str | None = None) -> dict:
    """Run the selected sides one after the other; write bench.json and bench.md."""
    from . import hardware

    check_spec(spec)
    flops = vgg_flops()
    peaks = {p: hardware.peak_gflops(p) for p in ("float32", "mixed_bfloat16")}
    machine = hardware.describe()
    sides = {}
    for name in SIDES:
        if name not in spec.sides:
            sides[name] = {
                "pipeline": name,
                "status": "skipped",
                "reason": "not selected (--sides)",
            }
            continue
        sides[name] = run_original(spec) if name == "original" else run_project(spec)
        if sides[name].get("status") == "ok":
            sides[name]["target"] = spec.target
    report = build_report(
        spec, sides, machine, peaks, flops, command or "fmnist " + " ".join(sys.argv[1:])
    )
    paths = write_report(report, out_dir)
    report["paths"] = [str(p) for p in paths]
    return report
