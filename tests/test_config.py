"""Every setting is validated before anything trains."""

from __future__ import annotations

import pytest

from fmnist_lib.config import (
    COMPACT,
    QUICK_EPOCHS,
    ConfigError,
    TrainConfig,
    profile_config,
)
from fmnist_lib.recipes import RECIPES, check_recipes, recipe_settings
from fmnist_lib.specs import OWN, SPECS, get_spec, with_role


def test_defaults_follow_the_original():
    config = TrainConfig()
    assert config.arch == "vgg" and config.batch_size == 250 and config.optimizer == "adam"
    assert config.learning_rate == 1e-3 and config.augmentation == ("rotate", "flip")
    assert config.epochs == 10
    assert TrainConfig(optimizer="rmsprop").learning_rate == 5e-4


@pytest.mark.parametrize(
    ("changes", "fragment"),
    [
        ({"arch": "lenet"}, "arch: unknown model 'lenet'; valid names are"),
        ({"optimizer": "adamw"}, "optimizer: 'adamw' is not valid; choose one of ['adam'"),
        ({"augmentation": ("rotate", "zoom")}, "augmentation: unknown name(s) ['zoom']"),
        ({"epochs": 0}, "epochs: 0 is out of range"),
        ({"epochs": 2.5}, "epochs: expected an integer"),
        ({"batch_size": 0}, "batch_size: 0 is out of range"),
        ({"subset": 50}, "subset: 50 is out of range; it must be between 100 and 60,000"),
        ({"subset": 70000}, "subset: 70000 is out of range"),
        ({"val_fraction": 0.0}, "val_fraction: 0.0 is out of range; it must be in (0.0, 0.5]"),
        ({"val_fraction": 0.6}, "val_fraction: 0.6 is out of range"),
        ({"learning_rate": -1.0}, "learning_rate: -1.0 is out of range"),
        ({"learning_rate": float("nan")}, "learning_rate: expected a number"),
        ({"lr_schedule": "step"}, "lr_schedule: 'step' is not valid; choose one of"),
        ({"precision": "float8"}, "precision: 'float8' is not valid"),
        ({"strategy": "tpu"}, "strategy: 'tpu' is not valid"),
        ({"label_smoothing": 0.9}, "label_smoothing: 0.9 is out of range"),
        ({"weight_decay": -0.1}, "weight_decay: -0.1 is out of range; it must be in [0.0, 1.0]"),
        ({"ema_momentum": 1.0}, "ema_momentum: 1.0 is out of range; it must be in (0.0, 1.0)"),
        ({"seed": -1}, "seed: -1 is out of range"),
        ({"deterministic": "yes"}, "deterministic: expected true or false"),
        ({"tta_flip": 1}, "tta_flip: expected true or false"),
        ({"epochs": 3, "budget_images": 1000}, "give one of them"),
        ({"budget_seconds": 60, "budget_images": 1000}, "two training budgets; give one"),
        ({"budget_seconds": 0}, "budget_seconds: 0 is out of range"),
        ({"budget_seconds": "1h"}, "budget_seconds: expected a number"),
        ({"subset": 100, "val_fraction": 0.05}, "fewer than 10 validation images"),
        ({"run_name": "a/b"}, "run_name"),
    ],
)
def test_invalid_settings_fail_with_the_field_and_choices(changes, fragment):
    with pytest.raises(ConfigError) as info:
        TrainConfig(**changes)
    assert fragment in str(info.value)


def test_unknown_keys_are_refused_with_the_valid_ones():
    with pytest.raises(ConfigError, match=r"unknown setting\(s\) \['epoch'\]; valid settings are"):
        TrainConfig.from_dict({"epoch": 3})


def test_round_trip_and_replace():
    config = TrainConfig(arch="arch2", augmentation=("flip",), subset=1000)
    assert TrainConfig.from_dict(config.to_dict()) == config
    assert config.replace(seed=5).seed == 5
    with pytest.raises(ConfigError):
        config.replace(batch_size=-3)


def test_budget_sets_epochs_from_the_training_split():
    config = profile_config("vgg", "full")
    assert config.budget_images == SPECS["vgg"].original["images_seen"] == 1_440_000
    assert config.n_train == 54_000 and config.epochs == 27
    assert config.images_seen >= 1_440_000
    arch1 = profile_config("arch1", "full")
    assert arch1.augmentation == () and arch1.epochs == 9
    smoke = profile_config("arch2", "smoke")
    assert smoke.epochs == 1 and smoke.subset == 2000
    assert profile_config("vgg", "full", epochs=2).epochs == 2
    with pytest.raises(ConfigError, match="profile: 'fast' is not valid"):
        profile_config("vgg", "fast")


def test_a_models_full_profile_is_its_specs_budget_and_recipe():
    for spec in SPECS.values():
        config = profile_config(spec.name, "full")
        assert config.budget_images == spec.budget_images
        settings = recipe_settings(spec.recipe)
        assert {k: getattr(config, k) for k in settings} == settings
    # the original's recipe trains in float32, as the original did
    assert profile_config("vgg", "full").precision == "float32"
    assert profile_config("arch1", "full").augmentation == ()
    # the own models share one recipe; a named recipe replaces it, an override a setting
    own = {spec.recipe for spec in with_role(OWN)}
    assert own == {"cosine-modern-tta"} and profile_config("resnet", "full").tta_flip is True
    assert profile_config("resnet", "full", tta_flip=False).tta_flip is False
    vgg = profile_config("vgg", "full", "cosine-modern-tta")
    settings = recipe_settings("cosine-modern-tta")
    assert {k: getattr(vgg, k) for k in settings} == settings
    with pytest.raises(ValueError, match="valid names are"):
        get_spec("nope")


def test_epochs_and_learning_rate_are_resolved_once():
    config = profile_config("vgg", "full")
    saved = config.to_dict()
    assert saved["epochs"] == 27 and saved["learning_rate"] == 1e-3
    assert TrainConfig.from_dict(saved) == config  # a saved run reads back as it ran
    # a budget's epochs follow the training split when it changes
    assert config.replace(subset=2000).epochs == 800
    with pytest.raises(ConfigError, match=r"epochs \(5\) and budget_images"):
        config.replace(epochs=5)


def test_a_time_budget_leaves_the_epochs_to_training():
    config = profile_config("resnet", "full", budget_seconds=3600)
    assert config.budget_images is None and config.epochs is None  # the profile's length goes
    with pytest.raises(ConfigError, match="fitted when training starts"):
        _ = config.images_seen
    fitted = config.replace(epochs=40)  # as training fits it, and config.json keeps it
    assert fitted.images_seen == 40 * 54_000 and fitted.budget_seconds == 3600
    assert TrainConfig.from_dict(fitted.to_dict()) == fitted
    # any length given replaces the profile's own
    assert profile_config("vgg", "quick", budget_images=540_000).epochs == 10


def test_quick_profile_is_a_few_epochs_on_the_full_split_with_the_originals_recipe():
    config = profile_config("vgg", "quick")
    assert QUICK_EPOCHS == 3 and config.epochs == QUICK_EPOCHS and config.budget_images is None
    assert config.subset is None and config.n_train == 54_000
    assert config.images_seen == 162_000
    assert (config.optimizer, config.learning_rate, config.lr_schedule) == (
        "adam",
        1e-3,
        "constant",
    )
    assert config.augmentation == ("rotate", "flip") and config.label_smoothing == 0.0
    assert config.verbose == COMPACT
    assert profile_config("arch1", "quick").augmentation == ()


def test_a_recipe_changes_how_it_trains_not_the_budget():
    for profile in ("full", "quick"):
        original = profile_config("vgg", profile)
        chosen = profile_config("vgg", profile, recipe="cosine-flip-ls")
        assert chosen.images_seen == original.images_seen
        assert (chosen.learning_rate, chosen.lr_schedule) == (2e-3, "cosine")
        assert chosen.augmentation == ("flip",) and chosen.label_smoothing == 0.1
    assert profile_config("vgg", "quick", recipe="cosine-flip-ls", seed=2).seed == 2
    with pytest.raises(ConfigError, match="recipe: unknown recipe 'nope'; valid: original, "):
        profile_config("vgg", "quick", recipe="nope")


def test_a_recipe_sets_only_recipe_settings():
    check_recipes(RECIPES)
    with pytest.raises(ConfigError, match=r"recipe bad: \['arch'\] are not recipe settings"):
        check_recipes({"bad": {"arch": "vgg", "lr_schedule": "cosine"}})
