"""The record schema: what ``results/runs/<run>.json`` holds, and a run's group.

A record is a finished run's compact copy: its config, per-epoch history and test
metrics, plus who it belongs to (``experiment``, ``recipe``) and its ``group``: a hash
of the normalised training config, the full set of settings minus those that differ
from seed to seed (``PER_RUN_FIELDS``). Seeds share a group exactly when they trained
alike; a display label never decides it. Records hold no machine's absolute paths.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re

from .config import TrainConfig
from .errors import RunError
from .paths import PROJECT_ROOT

SCHEMA_VERSION = 2
# Settings that differ between the seeds of one group, or only say where files go.
# Settings added after records began: left out of a group's identity at their
# default, so that the records made before them keep their groups.
LATER_FIELDS = {"builder": None, "model_options": {}, "augment_strength": 1.0}
PER_RUN_FIELDS = ("seed", "run_name", "out_dir", "data_dir", "verbose")
REQUIRED = {
    "schema_version": int,
    "name": str,
    "experiment": str,
    "recipe": str,
    "model": str,
    "group": str,
    "config": dict,
    "history": list,
    "metrics": dict,
}
REQUIRED_METRICS = (
    "arch",
    "seed",
    "epochs",
    "images_seen",
    "train_seconds",
    "precision",
    "best_val_accuracy",
    "selection_val_accuracy",
    "hardware",
    "params",
    "test",
)
FLOAT_FIELDS = tuple(f.name for f in dataclasses.fields(TrainConfig) if "float" in str(f.type))
_ABSOLUTE_PATH = re.compile(r"(?<![\w.])/(?:[\w.+-]+/)*[\w.+-]+")


def machine_kind(hardware: dict) -> str:
    """The kind of machine a run trained on: CPU name and generation, native bf16, GPUs.
    A record made before generations were recorded keeps its CPU's name alone: a kind
    of its own, since its generation is unknown."""
    gpus = ", ".join(hardware["gpus"])
    generation = hardware.get("cpu_generation")
    cpu = f"{hardware['cpu']} {generation}" if generation else hardware["cpu"]
    bf16 = " (AVX-512 BF16)" if hardware["bf16"] else ""
    return f"{cpu}{bf16}" + (f" + {gpus}" if gpus else "")


def normalised_config(config: dict, metrics: dict) -> dict:
    """Every setting that shapes training, as it ran: the group's identity.

    Defaults are filled in by ``TrainConfig``; the precision is the policy that ran
    (``auto`` resolves per machine); a time budget fits its epochs per seed, so they
    leave the identity and the machine kind joins it (a time budget buys each kind its
    own number of images).
    """
    full = TrainConfig.from_dict(config).to_dict()
    for field, default in LATER_FIELDS.items():  # at its default, as in the older records
        if full[field] == default:
            full.pop(field)
    for field in FLOAT_FIELDS:  # 900 and 900.0 are one setting
        if full.get(field) is not None:
            full[field] = float(full[field])
    for field in PER_RUN_FIELDS:
        full.pop(field)
    full["precision"] = metrics["precision"]
    if full["budget_seconds"] is not None:
        full.pop("epochs")
        full["machine"] = machine_kind(metrics["hardware"])
    return full


def group_key(normalised: dict) -> str:
    """A short stable hash of a normalised config."""
    text = json.dumps(normalised, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def record_group(config: dict, metrics: dict) -> str:
    return group_key(normalised_config(config, metrics))


def relative_paths(value, root: str = str(PROJECT_ROOT)):
    """``value`` with absolute paths made relative to the repository (others: file name)."""
    if isinstance(value, dict):
        return {key: relative_paths(item, root) for key, item in value.items()}
    if isinstance(value, list):
        return [relative_paths(item, root) for item in value]
    if not isinstance(value, str):
        return value

    def relative(match: re.Match) -> str:
        path = match.group(0)
        if path.startswith(root.rstrip("/") + "/"):
            return path[len(root.rstrip("/")) + 1 :]
        return path.rsplit("/", 1)[-1]

    return _ABSOLUTE_PATH.sub(relative, value)


def make_record(name: str, experiment: str, recipe: str, run: dict) -> dict:
    """A record from a loaded run (``runs.load_run``), validated."""
    record = {
        "schema_version": SCHEMA_VERSION,
        "name": name,
        "experiment": experiment,
        "recipe": recipe,
        "model": run["metrics"]["arch"],
        "group": record_group(run["config"], run["metrics"]),
        "config": relative_paths(run["config"]),
        "history": run["history"],
        "metrics": relative_paths(run["metrics"]),
    }
    validate(record)
    return record


def problems(record: dict) -> list[str]:
    """What is wrong with a record, in words; empty when it validates."""
    found = [
        f"{key}: expected {kind.__name__}"
        for key, kind in REQUIRED.items()
        if not isinstance(record.get(key), kind)
    ]
    if found:
        return found
    if record["schema_version"] != SCHEMA_VERSION:
        return [f"schema_version {record['schema_version']}, expected {SCHEMA_VERSION}"]
    metrics = record["metrics"]
    found += [f"metrics.{key}: missing" for key in REQUIRED_METRICS if key not in metrics]
    if found:
        return found
    try:
        group = record_group(record["config"], metrics)
    except ValueError as err:  # ConfigError: a setting that no longer validates
        return [f"config: {err}"]
    if record["group"] != group:
        found.append(f"group {record['group']} does not match its config ({group})")
    if record["model"] != record["config"]["arch"] or metrics["arch"] != record["model"]:
        found.append("model, config.arch and metrics.arch disagree")
    if metrics["seed"] != record["config"]["seed"]:
        found.append("metrics.seed and config.seed disagree")
    text = json.dumps(record)
    if str(PROJECT_ROOT) in text or re.search(r'"/(?:home|root|tmp|work|Users)/', text):
        found.append("holds an absolute path")
    return found


def validate(record: dict) -> None:
    found = problems(record)
    if found:
        raise RunError(f"record {record.get('name', '?')}: " + "; ".join(found))
