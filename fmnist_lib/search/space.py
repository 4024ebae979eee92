"""Search spaces as data: which settings a recipe search varies, and over what.

A space maps a setting to its range: a ``TrainConfig`` field (the recipe), or
``model.<argument>`` for an argument of the model's builder (a width, a depth),
which reaches the builder through ``TrainConfig.model_options``. ``check_space``
validates a space before anything trains; ``suggest`` samples a trial's settings
and ``params_from_config`` places an already recorded run in the space.
"""

from __future__ import annotations

import inspect
import math
from dataclasses import dataclass

from ..config import TrainConfig
from ..errors import ConfigError
from ..models import load_builder

MODEL_PREFIX = "model."
NO_AUGMENTATION = "none"
# The recipe settings a space may vary; the precision is how a run computes, not
# what it learns, so a search leaves it to the machine.
SEARCHABLE = (
    "learning_rate",
    "lr_schedule",
    "warmup_epochs",
    "batch_size",
    "weight_decay",
    "label_smoothing",
    "augmentation",
    "augment_strength",
    "cutmix",
    "ema_momentum",
    "tta_flip",
    "optimizer",
)


@dataclass(frozen=True)
class Float:
    """A real range [low, high], sampled on a log scale when ``log``."""

    low: float
    high: float
    log: bool = False


@dataclass(frozen=True)
class Int:
    """An integer range [low, high]."""

    low: int
    high: int


@dataclass(frozen=True)
class Choice:
    """One of ``choices``; an augmentation set is written ``"flip+translate"``."""

    choices: tuple


# The recipe space of every model: wider than the hand search of recipes.py in each
# direction (learning rate, batch size, regularisation, augmentation and its amount).
RECIPE_SPACE: dict[str, Float | Int | Choice] = {
    "learning_rate": Float(3e-4, 8e-3, log=True),
    "lr_schedule": Choice(("constant", "cosine")),
    "warmup_epochs": Float(0.0, 3.0),
    "batch_size": Choice((64, 125, 250, 500)),
    "weight_decay": Float(0.0, 0.3),
    "label_smoothing": Float(0.0, 0.2),
    "augmentation": Choice(
        (
            NO_AUGMENTATION,
            "flip",
            "rotate+flip",
            "flip+translate",
            "flip+translate+erase",
            "rotate+flip+translate",
        )
    ),
    "augment_strength": Float(0.5, 2.0),
    "cutmix": Float(0.0, 1.0),
    "ema_momentum": Choice((None, 0.99, 0.998, 0.999)),
    "tta_flip": Choice((False, True)),
}
# This project's own model: the recipe and the network's width and depth.
OWN_MODEL_SPACE = {
    **RECIPE_SPACE,
    "model.width": Choice((32, 48, 64, 80, 96)),
    "model.blocks": Choice((1, 2, 3)),
}
SPACES: dict[str, dict] = {"resnet": OWN_MODEL_SPACE}


def space_for(model: str) -> dict:
    """The space a model's search varies: its own, else the recipe space."""
    return SPACES.get(model, RECIPE_SPACE)


def _range_problem(name: str, rng) -> str | None:
    if isinstance(rng, Choice):
        if not rng.choices or len(set(map(repr, rng.choices))) != len(rng.choices):
            return f"{name}: choices {list(rng.choices)} must be distinct and not empty"
        return None
    if isinstance(rng, (Float, Int)):
        if not (math.isfinite(rng.low) and math.isfinite(rng.high)) or rng.low >= rng.high:
            return f"{name}: range [{rng.low}, {rng.high}] must have low < high"
        if isinstance(rng, Float) and rng.log and rng.low <= 0:
            return f"{name}: a log range needs low > 0, got {rng.low}"
        if isinstance(rng, Int) and not all(isinstance(v, int) for v in (rng.low, rng.high)):
            return f"{name}: an Int range takes integers, got [{rng.low}, {rng.high}]"
        return None
    return f"{name}: {rng!r} is not a Float, Int or Choice"


def _values(rng) -> list:
    """The values a range's checks try: its choices, or its two ends."""
    return list(rng.choices) if isinstance(rng, Choice) else [rng.low, rng.high]


def check_space(space: dict, model: str) -> None:
    """ConfigError, naming the setting and the valid ones, for anything that cannot run.

    Every setting is a searchable recipe setting or an argument of the model's
    builder; every range is well formed; and each end or choice is a valid setting.
    """
    builder_args = [
        p for p in inspect.signature(load_builder(model)).parameters if p != "batch_norm"
    ]
    for name, rng in space.items():
        if name.startswith(MODEL_PREFIX):
            if name[len(MODEL_PREFIX) :] not in builder_args:
                valid = [MODEL_PREFIX + a for a in builder_args] or "none"
                raise ConfigError(
                    f"search space: {name} is not an argument of {model}'s builder; valid: {valid}"
                )
        elif name not in SEARCHABLE:
            raise ConfigError(f"search space: unknown setting {name!r}; valid: {list(SEARCHABLE)}")
        problem = _range_problem(name, rng)
        if problem:
            raise ConfigError(f"search space: {problem}")
        if not name.startswith(MODEL_PREFIX):
            for value in _values(rng):
                try:
                    TrainConfig(arch=model, **settings_from_params({name: value}))
                except ConfigError as err:
                    raise ConfigError(f"search space: {name} = {value!r}: {err}") from None


def distributions(space: dict) -> dict:
    """Optuna's distributions for a space (Optuna imports here, when a search runs)."""
    import optuna

    made = {}
    for name, rng in space.items():
        if isinstance(rng, Float):
            made[name] = optuna.distributions.FloatDistribution(rng.low, rng.high, log=rng.log)
        elif isinstance(rng, Int):
            made[name] = optuna.distributions.IntDistribution(rng.low, rng.high)
        else:
            made[name] = optuna.distributions.CategoricalDistribution(rng.choices)
    return made


def suggest(trial, space: dict) -> dict:
    """A trial's params: one value per setting of the space."""
    params = {}
    for name, rng in space.items():
        if isinstance(rng, Float):
            params[name] = trial.suggest_float(name, rng.low, rng.high, log=rng.log)
        elif isinstance(rng, Int):
            params[name] = trial.suggest_int(name, rng.low, rng.high)
        else:
            params[name] = trial.suggest_categorical(name, list(rng.choices))
    return params


def settings_from_params(params: dict) -> dict:
    """TrainConfig settings from a trial's params (model options gathered)."""
    settings: dict = {}
    options = {}
    for name, value in params.items():
        if name.startswith(MODEL_PREFIX):
            options[name[len(MODEL_PREFIX) :]] = value
        elif name == "augmentation":
            settings[name] = () if value == NO_AUGMENTATION else tuple(value.split("+"))
        else:
            settings[name] = value
    if options:
        settings["model_options"] = options
    return settings


def _param_value(name: str, config: dict, defaults: dict):
    if name.startswith(MODEL_PREFIX):
        option = name[len(MODEL_PREFIX) :]
        return (config.get("model_options") or {}).get(option, defaults.get(option))
    value = config.get(name, defaults.get(name))
    if name == "augmentation":
        return "+".join(value) or NO_AUGMENTATION
    return value


def params_from_config(config: dict, space: dict, model: str) -> dict | None:
    """A recorded run's settings as params of the space; None when it lies outside.

    A setting the space does not vary must be at its default for the run to count.
    """
    full = TrainConfig.from_dict(config).to_dict()
    base = TrainConfig(arch=model).to_dict()
    outside = [k for k in SEARCHABLE if k not in space and full[k] != base[k]]
    if outside:
        return None
    signature = inspect.signature(load_builder(model)).parameters
    option_defaults = {k: p.default for k, p in signature.items() if p.default is not p.empty}
    params = {}
    for name, rng in space.items():
        value = _param_value(name, full, option_defaults)
        if isinstance(rng, Choice):
            if value not in rng.choices:
                return None
        elif value is None or not rng.low <= value <= rng.high:
            return None
        params[name] = value
    return params
