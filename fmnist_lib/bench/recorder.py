"""The benchmark's clock: per-epoch timing and the test-accuracy probe, for both sides.

No Keras (NumPy and the data module only): the tf.keras 2 subprocess of the
original side imports it as well as this process does.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np

from ..data import stratified_subset

# Lower test accuracies whose time the report gives too, where both sides reach them.
MILESTONES = (0.80, 0.85, 0.88, 0.90, 0.92)


@dataclass
class Recorder:
    """Times one pipeline: preprocessing, each epoch, and the first epoch at each accuracy.

    ``elapsed`` is wall time since ``t0`` (the start of preprocessing) minus the
    time spent in the test-accuracy probe, which exists only for this benchmark.
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

    @classmethod
    def for_side(cls, spec: dict, label: str, n_train: int, batch_size: int, **more) -> Recorder:
        """A side's recorder with the run's target and caps (``spec``: BenchSpec.to_dict())."""
        caps = {key: spec[key] for key in ("target", "max_images", "time_limit", "verbose")}
        return cls(n_train=n_train, batch_size=batch_size, label=label, **caps, **more)

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


def test_probe(x_test, y_test, size: int | None, seed: int):
    """(probe, n): probe(model) is the accuracy of the current weights on a stratified
    subset of ``size`` test images (all of them for None); n is how many it uses."""
    if size is not None:
        rows = stratified_subset(y_test, size, seed)
        x_test, y_test = x_test[rows], y_test[rows]

    def probe(model):
        probs = model.predict(x_test, batch_size=1000, verbose=0)
        return float(np.mean(np.argmax(probs, axis=1) == y_test))

    return probe, len(y_test)


def planned_epochs(n_train: int, max_epochs: int | None, max_images: int | None) -> int:
    """Epochs to plan for: the tighter of the two caps (a time limit stops earlier)."""
    caps = [max_epochs] if max_epochs else []
    if max_images:
        caps.append(math.ceil(max_images / n_train))
    return max(1, min(caps)) if caps else 1


def recorder_result(recorder: Recorder) -> dict:
    """The recorder's part of a side's raw result."""
    return {
        "epochs": recorder.epochs,
        "milestones": recorder.reached,
        "stop_reason": recorder.stop_reason,
        "wall_seconds": recorder.elapsed(),
        "probe_seconds_total": recorder.probe_seconds,
    }
