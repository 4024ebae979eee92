"""What this machine is and what ran on it: CPU model and features, accelerators,
a peak FLOP/s estimate, package versions and the code's git commit.

Keras is imported only where accelerators are asked for, so a notebook header
or the command line can describe the CPU and versions without loading it.
"""

from __future__ import annotations

import contextlib
import os
import platform
import subprocess
from functools import cache
from importlib.metadata import PackageNotFoundError, version

from .paths import PROJECT_ROOT


@cache
def _cpuinfo(field: str) -> str | None:
    """The first value of ``field`` in /proc/cpuinfo (None where there is none)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.split(":", 1)[0].strip() == field:
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return None


def cpu_flags() -> frozenset[str]:
    return frozenset((_cpuinfo("flags") or "").split())


def cpu_model() -> str:
    return _cpuinfo("model name") or platform.processor() or platform.machine()


# AMD's micro-architectures by (family, model range), as /proc/cpuinfo numbers them.
AMD_GENERATIONS = (
    (23, range(0x00, 0x30), "Zen"),
    (23, range(0x30, 0x100), "Zen 2"),
    (25, range(0x00, 0x10), "Zen 3"),
    (25, range(0x10, 0x20), "Zen 4"),
    (25, range(0x20, 0x60), "Zen 3"),
    (25, range(0x60, 0x100), "Zen 4"),
    (26, range(0x00, 0x100), "Zen 5"),
)


def cpu_generation() -> str | None:
    """The CPU's micro-architecture (AMD's Zen name, else ``family F model M``).

    A virtual machine may name every CPU of a vendor alike ("AMD EPYC"), yet Zen 4
    runs AVX-512 at half the width of Zen 5: two machines of one name can differ
    twofold in speed, so time budgets tell them apart by this.
    """
    try:
        family, model = int(_cpuinfo("cpu family")), int(_cpuinfo("model"))
    except (TypeError, ValueError):
        return None
    if _cpuinfo("vendor_id") == "AuthenticAMD":
        for amd_family, models, name in AMD_GENERATIONS:
            if family == amd_family and model in models:
                return name
    return f"family {family} model {model}"


def cpu_count() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()


def has_bf16() -> bool:
    """True where the CPU computes bfloat16 natively (AVX-512 BF16 or AMX)."""
    return bool({"avx512_bf16", "amx_bf16"} & cpu_flags())


def gpu_names() -> list[str]:
    """Accelerators visible to the active Keras backend."""
    import keras  # heavy: Keras loads only where accelerators are asked for

    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf  # TensorFlow: only on the TensorFlow backend

        return [d.name for d in tf.config.list_physical_devices("GPU")]
    if backend == "jax":
        import jax  # JAX: only on the JAX backend

        return [d.device_kind for d in jax.devices() if d.platform != "cpu"]
    return []


def auto_precision() -> str:
    """mixed_float16 on GPUs; mixed_bfloat16 on CPUs with native bf16; float32 elsewhere.

    bf16 is the CPU default because it was measured within 0.2 points of float32
    (VGG, 3 seeds each at equal images seen: the "precision check" experiments of
    fmnist_lib/experiments.py, in docs/findings.md) at about twice the speed. Without native bf16
    it is emulated, and slower, so those CPUs keep float32.
    """
    if gpu_names():
        return "mixed_float16"
    return "mixed_bfloat16" if has_bf16() else "float32"


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
        return float(_cpuinfo("cpu MHz")) / 1000.0
    except (TypeError, ValueError):
        return 2.0


def describe() -> dict:
    """The machine as run records store it (loads Keras to ask for accelerators)."""
    import keras  # heavy: Keras loads only where accelerators are asked for

    return {
        "cpu": cpu_model(),
        "cpu_generation": cpu_generation(),
        "cores": cpu_count(),
        "bf16": has_bf16(),
        "gpus": gpu_names(),
        "platform": platform.platform(),
        "keras_backend": keras.backend.backend(),
    }


# --- provenance: what ran --------------------------------------------------------


def package_versions() -> dict:
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


def header(accelerators: bool = False) -> str:
    """Versions, CPU and commit in three lines: the first output of every notebook.

    It loads no Keras: the backend named is the one the environment asks for, as
    Keras reads it. ``accelerators=True``, for a notebook that trains (and so loads
    Keras anyway), adds a fourth line: the accelerators the active backend sees and
    the precision ``auto`` picks on them; that one loads Keras.
    """
    versions = ", ".join(f"{name} {v}" for name, v in package_versions().items())
    features = [f for f in ("avx2", "avx512f", "avx512_bf16", "amx_bf16") if f in cpu_flags()]
    lines = [
        f"versions: {versions}",
        f"machine: {cpu_model()}, {cpu_count()} cores ({', '.join(features) or 'no AVX2'}), "
        f"Keras backend {os.environ.get('KERAS_BACKEND', 'tensorflow')}",
        f"code: git commit {git_commit() or 'unknown'}",
    ]
    if accelerators:
        lines.append(
            f"accelerators: {', '.join(gpu_names()) or 'none'} "
            f"(so precision auto = {auto_precision()})"
        )
    return "\n".join(lines)
