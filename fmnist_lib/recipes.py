"""Named training recipes: how a model trains, never what the model is.

A recipe sets optimizer, schedule, batch size, augmentation (CutMix among it), label
smoothing, weight decay, a moving average of the weights, test-time augmentation and
the precision policy; every setting it leaves out keeps ``TrainConfig``'s default.
Why each recipe exists and what it scored lives in the records (``results/``) and
``docs/findings.md``; each model's candidates for the recipe choice are experiments
(``fmnist_lib.experiments``).
"""

from __future__ import annotations

from pathlib import Path

from .errors import ConfigError
from .paths import RESULTS_DIR
from .runs import read_json

# The settings a recipe may set (all TrainConfig fields).
RECIPE_SETTINGS = (
    "optimizer",
    "learning_rate",
    "lr_schedule",
    "warmup_epochs",
    "batch_size",
    "augmentation",
    "cutmix",
    "label_smoothing",
    "augment_strength",
    "weight_decay",
    "ema_momentum",
    "tta_flip",
    "precision",
)

# The original's recipe (Adam at a constant learning rate, rotate+flip) trained in
# float32, as the original did; reduced precision is a recipe of its own.
_ORIGINAL = {"lr_schedule": "constant", "augmentation": ("rotate", "flip"), "precision": "float32"}
_FLIP_LS = {
    "lr_schedule": "cosine",
    "learning_rate": 2e-3,
    "augmentation": ("flip",),
    "label_smoothing": 0.1,
}
_MODERN = {
    "lr_schedule": "cosine",
    "learning_rate": 2e-3,
    "warmup_epochs": 1.0,
    "augmentation": ("flip", "translate", "erase"),
    "label_smoothing": 0.1,
}
_WD = {"weight_decay": 0.05}
_TTA = {"tta_flip": True}

RECIPES: dict[str, dict] = {
    "original": _ORIGINAL,
    "original-noaug": {**_ORIGINAL, "augmentation": ()},
    "original-auto": {**_ORIGINAL, "precision": "auto"},
    "cosine": {"lr_schedule": "cosine", "augmentation": ()},
    "cosine-b125": {"lr_schedule": "cosine", "augmentation": (), "batch_size": 125},
    "cosine-b64": {"lr_schedule": "cosine", "augmentation": (), "batch_size": 64},
    "cosine-b32": {"lr_schedule": "cosine", "augmentation": (), "batch_size": 32},
    "cosine-flip": {"lr_schedule": "cosine", "augmentation": ("flip",)},
    "cosine-rotflip": {"lr_schedule": "cosine", "augmentation": ("rotate", "flip")},
    "cosine-flip-ls": _FLIP_LS,
    "cosine-flip-ls-bf16": {**_FLIP_LS, "precision": "mixed_bfloat16"},
    "cosine-flip-ls-fp32": {**_FLIP_LS, "precision": "float32"},
    "cosine-flip-ls-tta": {**_FLIP_LS, **_TTA},
    "cosine-flip-ls-b125": {**_FLIP_LS, "batch_size": 125},
    "cosine-flip-ls-wd": {**_FLIP_LS, **_WD},
    "cosine-flip-ls-wd-tta": {**_FLIP_LS, **_WD, **_TTA},
    "cosine-flip-ls-wd-b500": {**_FLIP_LS, **_WD, "batch_size": 500},
    "cosine-flip-ls-wd-lr4e-3": {**_FLIP_LS, **_WD, "learning_rate": 4e-3, "warmup_epochs": 1.0},
    "cosine-flip-ls-wd-ema": {**_FLIP_LS, **_WD, "ema_momentum": 0.998},
    "cosine-flip-ls-wd-cutmix": {**_FLIP_LS, **_WD, "cutmix": 0.5},
    "cosine-flip-ls-wd0.2": {**_FLIP_LS, "weight_decay": 0.2},
    "cosine-flip-ls-wd0.2-tta": {**_FLIP_LS, "weight_decay": 0.2, **_TTA},
    "cosine-flip-ls-wd0.2-ema": {**_FLIP_LS, "weight_decay": 0.2, "ema_momentum": 0.998},
    # SGD's decay gives the same shrink per step (learning rate x decay) as Adam's 0.05.
    "sgd-cosine-flip-ls-wd": {
        **_FLIP_LS,
        "optimizer": "sgd",
        "learning_rate": 0.1,
        "warmup_epochs": 1.0,
        "weight_decay": 1e-3,
    },
    "cosine-modern": _MODERN,
    "cosine-modern-tta": {**_MODERN, **_TTA},
    "cosine-modern-tta-fp32": {**_MODERN, **_TTA, "precision": "float32"},
    "cosine-modern-wd-tta": {**_MODERN, **_WD, **_TTA},
    "cosine-modern-cutmix-tta": {**_MODERN, "cutmix": 0.5, **_TTA},
    "cosine-modern-wd-cutmix-tta": {**_MODERN, **_WD, "cutmix": 0.5, **_TTA},
    "cosine-modern-wd-cutmix1-tta": {**_MODERN, **_WD, "cutmix": 1.0, **_TTA},
    "cosine-modern-wd-cutmix-ema-tta": {
        **_MODERN,
        **_WD,
        "cutmix": 0.5,
        "ema_momentum": 0.999,
        **_TTA,
    },
}


def recipe_settings(name: str, results_dir=RESULTS_DIR) -> dict:
    """The TrainConfig settings of a named recipe, or of a study's confirmed trial
    (``search:<study>#<N>``: the recipe settings its records in ``results_dir`` share)."""
    if is_study_recipe(name):
        return study_recipe_settings(name, results_dir)
    if name not in RECIPES:
        raise ConfigError(f"recipe: unknown recipe {name!r}; valid: {', '.join(RECIPES)}")
    return dict(RECIPES[name])


def study_recipe_settings(name: str, results_dir=RESULTS_DIR) -> dict:
    """The recipe settings of a study's trial, read from its confirmation records: a
    study recipe is declared by the runs that confirm it (``fmnist search --confirm``)."""
    found = []
    for path in sorted((Path(results_dir) / "runs").glob("*.json")):
        record = read_json(path)
        if record.get("recipe") == name:
            config = record["config"]
            found.append({k: _plain(config[k]) for k in RECIPE_SETTINGS if k in config})
    if not found:
        raise ConfigError(
            f"recipe: {name!r} has no confirmed runs in {results_dir}/runs; "
            f"`fmnist search --study {study_trial(name)[0]} --confirm` records them"
        )
    if any(settings != found[0] for settings in found):
        raise ConfigError(f"recipe: the runs recorded under {name!r} differ in their settings")
    return found[0]


def _plain(value):
    """A JSON list as the tuple a TrainConfig holds."""
    return tuple(value) if isinstance(value, list) else value


def check_recipes(recipes: dict[str, dict]) -> None:
    """Every recipe sets only recipe settings (ConfigError naming the valid ones)."""
    for name, settings in recipes.items():
        unknown = sorted(set(settings) - set(RECIPE_SETTINGS))
        if unknown:
            raise ConfigError(
                f"recipe {name}: {unknown} are not recipe settings; valid: {list(RECIPE_SETTINGS)}"
            )


check_recipes(RECIPES)  # a bad declaration fails on import, before anything trains


def same_training(first: str, second: str) -> bool:
    """Whether two recipes train alike but for the precision policy.

    A study's trial (``search:<study>#<N>``) trains alike only itself: its records
    share its settings (``study_recipe_settings``), so its name decides, and no
    results directory is read for records that may come from another one.
    """
    if is_study_recipe(first) or is_study_recipe(second):
        return first == second
    settings = [
        {k: v for k, v in recipe_settings(name).items() if k != "precision"}
        for name in (first, second)
    ]
    return settings[0] == settings[1]


# A recipe an Optuna study found is no named recipe: its trial's settings, recorded
# under the study's name and the trial's number (``fmnist search --confirm``).
STUDY_RECIPE_PREFIX = "search:"


def study_recipe(study: str, number: int) -> str:
    """The recipe name of a study's trial: ``search:<study>#<N>``."""
    return f"{STUDY_RECIPE_PREFIX}{study}#{number}"


def is_study_recipe(name: str) -> bool:
    return name.startswith(STUDY_RECIPE_PREFIX)


def study_trial(name: str) -> tuple[str, int]:
    """(study, trial number) of a study recipe ``search:<study>#<N>``; ValueError otherwise."""
    study, _, number = name.removeprefix(STUDY_RECIPE_PREFIX).rpartition("#")
    if not is_study_recipe(name) or not study or not number.isdigit():
        raise ValueError(f"{name!r} is not a study recipe, search:<study>#<trial number>")
    return study, int(number)
