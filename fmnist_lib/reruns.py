"""Why a notebook's run may score differently from the committed record of its seed.

Training notebooks 01-03 set their runs beside the committed runs in ``results/``.
A run and the committed record of the same seed and settings repeat each other's
numbers only on the same kind of machine, in the same precision, with the same
package versions, and even then only roughly: training is not bit-for-bit
deterministic unless the config asks for it. This module says which of those
differ, from what each run recorded about itself (``metrics.hardware``,
``metrics.precision``, ``metrics.versions``, written by ``fmnist_lib.hardware``).
"""

from __future__ import annotations

from .metrics import percent
from .records import normalised_config, record_group
from .results import machine

# Packages whose version changes the arithmetic of training: these always, and the
# Keras backend's own (an installed backend that does not run takes no part).
NUMERIC_PACKAGES = ("keras", "numpy")
BACKEND_PACKAGES = {"tensorflow": ("tensorflow", "tensorflow-cpu"), "jax": ("jax", "jaxlib")}


def settings(config: dict, metrics: dict) -> dict:
    """A run's training settings, leaving out what a machine decides (precision, kind)."""
    normalised = normalised_config(config, metrics)
    normalised.pop("precision")
    normalised.pop("machine", None)
    return normalised


def committed_twin(run: dict, records: list[dict]) -> dict | None:
    """The committed record of ``run``'s seed with its settings; the closest in precision
    and machine when several qualify (None when there is none)."""
    metrics = run["metrics"]
    wanted = settings(run["config"], metrics)
    twins = [
        r
        for r in records
        if r["model"] == metrics["arch"]
        and r["metrics"]["seed"] == metrics["seed"]
        and settings(r["config"], r["metrics"]) == wanted
    ]
    return min(
        twins,
        key=lambda r: (
            r["metrics"]["precision"] != metrics["precision"],
            machine(r) != machine(run),
        ),
        default=None,
    )


def differences(run: dict, record: dict) -> list[str]:
    """What differs between how ``run`` and ``record`` trained, in words."""
    mine, theirs = run["metrics"], record["metrics"]
    found = []
    if mine["precision"] != theirs["precision"]:
        found.append(f"precision {theirs['precision']} there, {mine['precision']} here")
    if machine(run) != machine(record):
        found.append(f"machine {machine(record)} there, {machine(run)} here")
    backends = [_backend(m) for m in (theirs, mine)]
    if backends[0] != backends[1]:
        found.append(f"Keras backend {backends[0]} there, {backends[1]} here")
    backend_packages = (p for b in backends for p in BACKEND_PACKAGES.get(b, ()))
    packages = [*NUMERIC_PACKAGES, *dict.fromkeys(backend_packages)]
    versions = [
        f"{name} {_version(theirs, name)} there, {_version(mine, name)} here"
        for name in packages
        if _version(theirs, name) != _version(mine, name)
    ]
    return found + versions


def _backend(metrics: dict) -> str:
    """The Keras backend a run trained on (the project's default where unrecorded)."""
    return metrics.get("hardware", {}).get("keras_backend") or "tensorflow"


def _version(metrics: dict, package: str) -> str:
    return metrics.get("versions", {}).get(package) or "not installed"


def same_seed_note(label: str, run: dict, records: list[dict]) -> str:
    """One markdown bullet: ``run`` against the committed record of its seed, and why
    the two may differ."""
    metrics = run["metrics"]
    twin = committed_twin(run, records)
    head = f"- **The {label}** (seed {metrics['seed']})"
    if twin is None:
        return f"{head}: no committed run of this seed has its settings."
    mine, theirs = metrics["test"]["accuracy"], twin["metrics"]["test"]["accuracy"]
    text = (
        f"{head}: {percent(mine)} here, {percent(theirs)} in the committed record "
        f"`{twin['name']}` ({100 * (mine - theirs):+.2f} points). "
    )
    found = differences(run, twin)
    if found:
        text += (
            f"They trained differently: {'; '.join(found)}. Another precision, CPU or "
            "library version rounds differently, and the differences grow over the epochs, "
            "so the same seed need not repeat its score."
        )
    else:
        text += "Both trained on the same kind of machine, in the same precision and versions."
    if not run["config"].get("deterministic"):
        text += (
            " Training is not bit-for-bit deterministic (`deterministic` is off: threads add "
            "up in varying order), so even an identical setup can differ slightly."
        )
    if record_group(run["config"], metrics) != twin["group"]:
        text += (
            " Its precision (or, for a time budget, its machine) puts this run in another "
            "group than the committed runs, so it has no committed range to fall in."
        )
    return text


def same_seed_notes(runs: dict[str, dict], records: list[dict]) -> str:
    """``same_seed_note`` for each labelled run (``runs.load_run`` outputs), as markdown."""
    return "\n".join(same_seed_note(label, run, records) for label, run in runs.items())
