"""What this machine is: CPU model and features, accelerators, a peak FLOP/s estimate."""

from __future__ import annotations

import os
import platform
from functools import cache

import keras


@cache
def cpu_flags() -> frozenset[str]:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("flags"):
                    return frozenset(line.split(":", 1)[1].split())
    except OSError:
        pass
    return frozenset()


@cache
def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def cpu_count() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()


def has_bf16() -> bool:
    """True where the CPU computes bfloat16 natively (AVX-512 BF16 or AMX)."""
    return bool({"avx512_bf16", "amx_bf16"} & cpu_flags())


def gpu_names() -> list[str]:
    """Accelerators visible to the active Keras backend."""
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        return [d.name for d in tf.config.list_physical_devices("GPU")]
    if backend == "jax":
        import jax

        return [d.device_kind for d in jax.devices() if d.platform != "cpu"]
    return []


# bf16 becomes the CPU default only once its test accuracy is shown within 0.2
# points of float32 (mean of 3 seeds, equal epochs) on a CPU with native bf16.
# No such measurement exists yet (the machines this project was run on lack
# AVX-512 BF16, where bf16 is emulated and ~8x slower), so it stays opt-in.
BF16_CPU_DEFAULT = False


def auto_precision() -> str:
    """mixed_float16 on GPUs; on CPUs float32 (mixed_bfloat16 is opt-in, see above)."""
    if gpu_names():
        return "mixed_float16"
    if BF16_CPU_DEFAULT and has_bf16():
        return "mixed_bfloat16"
    return "float32"


def peak_gflops(precision: str = "float32") -> dict:
    """Theoretical CPU peak, stated with how it was computed.

    Peak = cores x clock x FLOPs/cycle/core. FLOPs/cycle: two FMA units of
    512 bits (or 256 bits without AVX-512), 2 FLOPs per FMA per lane; lanes are
    16 (float32, AVX-512) or 8 (AVX2). bf16 dot products (AVX512_BF16 VDPBF16PS)
    do twice the float32 work per instruction.
    """
    flags = cpu_flags()
    clock_ghz = _clock_ghz()
    lanes = 16 if "avx512f" in flags else 8 if "avx2" in flags else 4
    flops_per_cycle = 2 * 2 * lanes  # 2 FMA units x (multiply + add) x lanes
    if precision == "mixed_bfloat16" and has_bf16():
        flops_per_cycle *= 2
    cores = cpu_count()
    return {
        "gflops": cores * clock_ghz * flops_per_cycle,
        "cores": cores,
        "clock_ghz": clock_ghz,
        "flops_per_cycle_per_core": flops_per_cycle,
        "formula": "cores x clock_ghz x flops_per_cycle_per_core (2 FMA units x 2 x SIMD lanes"
        + (", x2 for AVX512_BF16)" if precision == "mixed_bfloat16" and has_bf16() else ")"),
    }


def _clock_ghz() -> float:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("cpu MHz"):
                    return float(line.split(":", 1)[1]) / 1000.0
    except (OSError, ValueError):
        pass
    return 2.0


def describe() -> dict:
    return {
        "cpu": cpu_model(),
        "cores": cpu_count(),
        "bf16": has_bf16(),
        "gpus": gpu_names(),
        "platform": platform.platform(),
        "keras_backend": keras.backend.backend(),
    }
