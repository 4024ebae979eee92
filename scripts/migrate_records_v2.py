"""One-time migration of results/ to record schema 2 (fmnist_lib.records).

Each legacy record (no schema_version) gains its experiment id and recipe from the
registry (its name is one of the registry's run ids), the full normalised config
(defaults filled in, the retired ``tags`` key dropped), its group key, and
``selection_val_accuracy`` where it predates that field: the kept checkpoint's plain
validation accuracy, the one score such records have (``selection_note`` says so
where the run used flip TTA). Absolute paths become relative to the repository.
results/suite/*.json loses its absolute paths too. Run once:
``.venv/bin/python scripts/migrate_records_v2.py``; a second run changes nothing.
"""

from __future__ import annotations

import sys
from pathlib import Path

from fmnist_lib.config import TrainConfig
from fmnist_lib.experiments import run_index
from fmnist_lib.paths import RESULTS_DIR
from fmnist_lib.records import SCHEMA_VERSION, make_record, relative_paths
from fmnist_lib.runs import read_json, write_json

LEGACY_CONFIG_KEYS = ("tags",)


def migrate(legacy: dict) -> dict:
    experiment, _seed = run_index()[legacy["name"]]
    config = {k: v for k, v in legacy["config"].items() if k not in LEGACY_CONFIG_KEYS}
    full = TrainConfig.from_dict(config).to_dict()
    # Keep the run's own epochs field as it was saved (None for a budget of images).
    full["epochs"] = config.get("epochs")
    metrics = dict(legacy["metrics"])
    if "selection_val_accuracy" not in metrics:
        metrics["selection_val_accuracy"] = metrics["best_val_accuracy"]
        if full["tta_flip"]:
            metrics["selection_note"] = (
                "plain validation accuracy of the kept checkpoint: recorded before "
                "validation was scored with flip TTA"
            )
    run = {"config": full, "history": legacy["history"], "metrics": metrics}
    return make_record(legacy["name"], experiment.id, experiment.recipe, run)


def main(results_dir: Path = RESULTS_DIR) -> int:
    changed = 0
    for path in sorted((results_dir / "runs").glob("*.json")):
        legacy = read_json(path)
        if legacy.get("schema_version") == SCHEMA_VERSION:
            continue
        write_json(path, migrate(legacy))
        changed += 1
    for path in sorted((results_dir / "suite").glob("*.json")):
        suite = read_json(path)
        relative = relative_paths(suite)
        if relative != suite:
            write_json(path, relative)
            changed += 1
    print(f"migrated {changed} file(s) to schema {SCHEMA_VERSION}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
