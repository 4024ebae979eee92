"""The one validated training configuration, shared by the CLI and the notebooks.

Every field is checked when the object is made, so nothing trains on a bad
setting; each message names the field and its valid range or choices.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

from .errors import ConfigError
from .recipes import recipe_settings
from .reference import ORIGINAL_AUGMENTATION
from .specs import USER, get_spec, is_builder_reference, register_model, user_model_name

OPTIMIZERS = ("adam", "rmsprop", "sgd")
# Adam with Keras defaults and RMSprop(5e-4) are the original's two choices.
DEFAULT_LEARNING_RATES = {"adam": 1e-3, "rmsprop": 5e-4, "sgd": 0.05}
LR_SCHEDULES = ("constant", "cosine")
PRECISIONS = ("auto", "float32", "mixed_bfloat16", "mixed_float16")
STRATEGIES = ("default", "mirrored", "multiworker")
TRAIN_POOL_SIZE = 60000
# What training prints. 3 suits saved notebook outputs: Keras' own per-epoch
# logging (2) writes two lines per epoch, the progress bar (1) hundreds of updates.
VERBOSITY = {
    0: "silent",
    1: "progress bar",
    2: "Keras' log lines per epoch",
    3: "one compact line per epoch (callbacks.EpochLine)",
}
COMPACT = 3
DEFAULT_EPOCHS = 10

PROFILES = ("full", "quick", "smoke")
# The settings that say how long a run trains; any one given replaces a profile's.
TRAINING_LENGTHS = ("epochs", "budget_images", "budget_seconds")
# The share of a time budget that the fitted epochs fill: a full epoch runs a little
# slower than the measured steady state, and a shared machine can slow down after
# the rate is measured (by up to 6% in the time-budget runs of results/); the
# margin keeps the run inside its budget.
TIME_BUDGET_MARGIN = 0.9
# The quick profile's schedule length: the shortest cosine schedule after which VGG
# clears 88% test accuracy with both of its notebook's recipes.
QUICK_EPOCHS = 3


def _choice(name, value, choices):
    if value not in choices:
        raise ConfigError(f"{name}: {value!r} is not valid; choose one of {list(choices)}")


def _int_range(name, value, low, high=None, optional=False):
    if value is None and optional:
        return
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"{name}: expected an integer, got {value!r}")
    if value < low or (high is not None and value > high):
        upper = f" and {high:,}" if high is not None else ""
        raise ConfigError(f"{name}: {value} is out of range; it must be between {low:,}{upper}")


@dataclass(frozen=True)
class TrainConfig:
    """Everything a training run depends on (all validated on creation).

    ``epochs`` and ``learning_rate`` are resolved when the object is made: epochs
    from ``budget_images`` (images seen in training) when that is given, else 10;
    the learning rate from the optimizer's default when none is given. With
    ``budget_seconds`` (a training-time budget) the epochs stay None until training
    starts and fits them to the rate it measures (``throughput.fit_to_time_budget``).
    """

    arch: str = "vgg"
    builder: str | None = None  # a user's model: MODULE:FUNCTION or path/to/file.py:FUNCTION
    model_options: dict = dataclasses.field(default_factory=dict)  # the builder's arguments
    epochs: int | None = None
    budget_images: int | None = None
    budget_seconds: float | None = None  # seconds of training; the epochs are fitted to it
    batch_size: int = 250
    optimizer: str = "adam"
    learning_rate: float | None = None
    lr_schedule: str = "constant"
    warmup_epochs: float = 0.0
    label_smoothing: float = 0.0
    weight_decay: float = 0.0  # decoupled (AdamW-style), on the kernels only
    ema_momentum: float | None = None  # validate and keep a moving average of the weights
    augmentation: tuple[str, ...] = ORIGINAL_AUGMENTATION
    augment_strength: float = 1.0  # scales each augmentation's amount (fmnist_lib.augment)
    cutmix: float = 0.0  # share of training images given a patch of another (fmnist_lib.mixing)
    val_fraction: float = 0.1
    seed: int = 0
    subset: int | None = None  # training pool size for quick runs (stratified)
    precision: str = "auto"
    deterministic: bool = False
    tta_flip: bool = False  # test predictions averaged over each image and its mirror
    strategy: str = "default"
    out_dir: str = "runs"
    run_name: str | None = None
    data_dir: str | None = None
    verbose: int = 1  # one of VERBOSITY: 0 silent ... 3 one compact line per epoch

    def __post_init__(self):
        # augment builds Keras layers: imported when a config is made, so that
        # `fmnist --help` (which imports this module) loads no Keras.
        from .augment import STRENGTH_RANGE, check_augmentation

        self._resolve_model()
        _int_range("epochs", self.epochs, 1, 10_000, optional=True)
        _int_range("budget_images", self.budget_images, 1, 10**10, optional=True)
        if self.budget_seconds is not None:
            _float_range("budget_seconds", self.budget_seconds, 0.0, 7 * 86_400.0, open_low=True)
        _int_range("batch_size", self.batch_size, 1, 65_536)
        _choice("optimizer", self.optimizer, OPTIMIZERS)
        if self.learning_rate is None:
            object.__setattr__(self, "learning_rate", DEFAULT_LEARNING_RATES[self.optimizer])
        _positive_float("learning_rate", self.learning_rate, upper=10.0)
        _choice("lr_schedule", self.lr_schedule, LR_SCHEDULES)
        _float_range("warmup_epochs", self.warmup_epochs, 0.0, 1000.0)
        _float_range("label_smoothing", self.label_smoothing, 0.0, 0.5)
        _float_range("weight_decay", self.weight_decay, 0.0, 1.0)
        if self.ema_momentum is not None:
            _float_range("ema_momentum", self.ema_momentum, 0.0, 1.0, open_low=True, open_high=True)
        object.__setattr__(
            self, "augmentation", _as_config_error(lambda: check_augmentation(self.augmentation))
        )
        _float_range("augment_strength", self.augment_strength, *STRENGTH_RANGE)
        _float_range("cutmix", self.cutmix, 0.0, 1.0)
        _float_range("val_fraction", self.val_fraction, 0.0, 0.5, open_low=True)
        _int_range("seed", self.seed, 0, 2**31 - 1)
        _int_range("subset", self.subset, 100, TRAIN_POOL_SIZE, optional=True)
        _choice("precision", self.precision, PRECISIONS)
        if not isinstance(self.deterministic, bool):
            raise ConfigError(f"deterministic: expected true or false, got {self.deterministic!r}")
        if not isinstance(self.tta_flip, bool):
            raise ConfigError(f"tta_flip: expected true or false, got {self.tta_flip!r}")
        _choice("strategy", self.strategy, STRATEGIES)
        if isinstance(self.verbose, bool) or self.verbose not in VERBOSITY:
            levels = "; ".join(f"{k} {v}" for k, v in VERBOSITY.items())
            raise ConfigError(f"verbose: {self.verbose!r} is not valid; choose one of {levels}")
        if not isinstance(self.out_dir, str) or not self.out_dir:
            raise ConfigError(f"out_dir: expected a folder path, got {self.out_dir!r}")
        if self.run_name is not None and ("/" in self.run_name or not self.run_name.strip()):
            raise ConfigError(f"run_name: {self.run_name!r} must be a plain folder name")
        pool = self.subset or TRAIN_POOL_SIZE
        if round(pool * self.val_fraction) < 10:
            raise ConfigError(
                f"val_fraction: {self.val_fraction} of {pool} images leaves fewer than 10 "
                "validation images; raise subset or val_fraction"
            )
        object.__setattr__(self, "epochs", self._resolve_epochs())

    def _resolve_model(self) -> None:
        """``arch`` as a builder reference registers a user's model named after it."""
        if not isinstance(self.arch, str):
            raise ConfigError(f"arch: expected a model name or MODULE:FUNCTION, got {self.arch!r}")
        if is_builder_reference(self.arch):
            if self.builder not in (None, self.arch):
                raise ConfigError(f"arch {self.arch!r} and builder {self.builder!r} disagree")
            object.__setattr__(self, "builder", self.arch)
            object.__setattr__(self, "arch", user_model_name(self.arch))
        if self.builder is not None:
            spec = _as_config_error(lambda: register_model(self.builder, name=self.arch))
            object.__setattr__(self, "builder", spec.builder)
        _as_config_error(lambda: get_spec(self.arch))
        options = self.model_options
        if not isinstance(options, dict) or not all(
            isinstance(k, str) and isinstance(v, (int, float, str, bool))
            for k, v in options.items()
        ):
            raise ConfigError(
                f"model_options: expected a mapping of argument names to numbers, strings "
                f"or booleans, got {options!r}"
            )

    def _resolve_epochs(self) -> int | None:
        if self.budget_seconds is not None:
            if self.budget_images is not None:
                raise ConfigError(
                    "budget_images and budget_seconds are two training budgets; give one of them"
                )
            return self.epochs  # None until training fits it to the time budget
        if self.budget_images is None:
            return DEFAULT_EPOCHS if self.epochs is None else self.epochs
        # Whole epochs over the training split: the budget is met or overshot by less
        # than one epoch.
        derived = max(1, math.ceil(self.budget_images / self.n_train))
        if self.epochs is not None and self.epochs != derived:
            raise ConfigError(
                f"epochs ({self.epochs}) and budget_images ({self.budget_images:,} = {derived} "
                f"epochs of {self.n_train:,} images) disagree; give one of them"
            )
        return derived

    # --- derived values -------------------------------------------------------
    @property
    def n_train(self) -> int:
        """Training images after the validation split (as sklearn rounds it)."""
        pool = self.subset or TRAIN_POOL_SIZE
        return pool - math.ceil(pool * self.val_fraction)

    @property
    def images_seen(self) -> int:
        if self.epochs is None:
            raise ConfigError(
                f"the epochs of a {self.budget_seconds:g}-second time budget are fitted when "
                "training starts (throughput.fit_to_time_budget)"
            )
        return self.epochs * self.n_train

    def to_dict(self) -> dict:
        data = dataclasses.asdict(self)
        data["augmentation"] = list(self.augmentation)
        return data

    @classmethod
    def from_dict(cls, data: dict) -> TrainConfig:
        """Build from a mapping; unknown keys fail with the list of valid ones."""
        valid = [f.name for f in dataclasses.fields(cls)]
        unknown = sorted(set(data) - set(valid))
        if unknown:
            raise ConfigError(f"unknown setting(s) {unknown}; valid settings are {valid}")
        data = dict(data)
        if isinstance(data.get("augmentation"), list):
            data["augmentation"] = tuple(data["augmentation"])
        return cls(**data)

    def replace(self, **changes) -> TrainConfig:
        """A copy with ``changes``; a budget's epochs are derived again unless given."""
        data = self.to_dict()
        if self.budget_images is not None and "epochs" not in changes:
            data["epochs"] = None
        return TrainConfig.from_dict({**data, **changes})


def _as_config_error(fn):
    """Run a validator from another module; its ValueError becomes a ConfigError."""
    try:
        return fn()
    except ConfigError:
        raise
    except ValueError as err:
        raise ConfigError(str(err)) from None


def _positive_float(name, value, upper):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ConfigError(f"{name}: expected a number, got {value!r}")
    if not 0 < value <= upper:
        raise ConfigError(f"{name}: {value} is out of range; it must be in (0, {upper}]")


def _float_range(name, value, low, high, open_low=False, open_high=False):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ConfigError(f"{name}: expected a number, got {value!r}")
    too_low = value <= low if open_low else value < low
    too_high = value >= high if open_high else value > high
    if too_low or too_high:
        interval = f"{'(' if open_low else '['}{low}, {high}{')' if open_high else ']'}"
        raise ConfigError(f"{name}: {value} is out of range; it must be in {interval}")


def profile_config(
    arch: str, profile: str = "full", recipe: str | None = None, **overrides
) -> TrainConfig:
    """The settings of a named profile for one model, with its recipe or a named one.

    ``full`` trains on the full training split for the model's budget of images seen
    (``specs.ModelSpec.budget_images``: the original's for its architectures);
    ``quick`` is a short interactive run on the full training split (QUICK_EPOCHS);
    ``smoke`` is a 2,000-image, one-epoch run for tests. ``recipe`` (a name from
    ``fmnist_lib.recipes``; None: the model's own, ``ModelSpec.recipe``) sets how it
    trains, not the budget; ``overrides`` replace single settings.
    """
    _choice("profile", profile, PROFILES)
    if is_builder_reference(arch):
        spec = _as_config_error(lambda: register_model(arch))
        base: dict = {"arch": spec.name, "builder": spec.builder}
    else:
        spec = _as_config_error(lambda: get_spec(arch))
        base = {"arch": arch, "builder": spec.builder if spec.role == USER else None}
    base.update(recipe_settings(recipe or spec.recipe))
    if profile == "full":
        base["budget_images"] = spec.budget_images
    elif profile == "quick":
        base.update(epochs=QUICK_EPOCHS)
    else:
        base.update(epochs=1, subset=2000, verbose=0)
    if profile != "smoke":
        base["verbose"] = COMPACT  # the notebooks' output; the CLI passes its own
    if any(overrides.get(length) is not None for length in TRAINING_LENGTHS):
        for length in TRAINING_LENGTHS:  # a length given replaces the profile's own
            base.pop(length, None)
    return TrainConfig.from_dict({**base, **overrides})
