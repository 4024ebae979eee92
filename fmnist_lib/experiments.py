"""Every named experiment behind the results, as data.

An experiment is a model, a recipe (by name), a budget (images seen, epochs or
seconds of training), its seeds and its role. Its runs are ``<id>-s<seed>``; they
train into ``runs/experiments/`` under the full profile and are recorded in
``results/runs/`` with the experiment's id and recipe. ``fmnist experiment list``
shows each one's state, ``fmnist experiment run ID...`` trains, resumes and records.
"""

from __future__ import annotations

from dataclasses import dataclass

from .config import TrainConfig, profile_config
from .errors import ConfigError
from .recipes import RECIPES
from .records import record_group
from .specs import SPECS

REPRODUCTION, IMPROVEMENT, CANDIDATE = "reproduction", "improvement", "candidate"
LONGER, TIME_BUDGET = "longer run", "time budget"
PRECISION_CHECK, FAST_SCHEDULE = "precision check", "fast schedule"
# reproduction: the original's recipe at its budget; improvement: the recipe chosen on
# validation among the model's candidates at that budget (``selection.choose_recipe``);
# longer run: beyond the budget; time budget: seconds of training on one machine kind.
ROLES = (REPRODUCTION, IMPROVEMENT, CANDIDATE, LONGER, TIME_BUDGET, PRECISION_CHECK, FAST_SCHEDULE)
SEEDS = (0, 1, 2)


@dataclass(frozen=True)
class Budget:
    """How long an experiment trains: exactly one of images seen, epochs or seconds."""

    images: int | None = None
    epochs: int | None = None
    seconds: float | None = None

    def __post_init__(self):
        if sum(value is not None for value in (self.images, self.epochs, self.seconds)) != 1:
            raise ConfigError(f"budget: give exactly one of images, epochs, seconds ({self})")

    def settings(self) -> dict:
        """The one TrainConfig setting this budget sets."""
        settings = {
            "budget_images": self.images,
            "epochs": self.epochs,
            "budget_seconds": self.seconds,
        }
        return {key: value for key, value in settings.items() if value is not None}

    def describe(self) -> str:
        if self.images is not None:
            return f"{self.images:,} images"
        if self.epochs is not None:
            return f"{self.epochs} epochs"
        return f"{self.seconds / 60:g} min"


@dataclass(frozen=True)
class Experiment:
    """A model trained with a named recipe for a budget, once per seed, in a role."""

    id: str
    model: str
    recipe: str
    budget: Budget
    seeds: tuple[int, ...]
    role: str

    def __post_init__(self):
        if self.model not in SPECS:
            raise ConfigError(f"experiment {self.id}: unknown model {self.model!r}")
        if self.recipe not in RECIPES:
            raise ConfigError(f"experiment {self.id}: unknown recipe {self.recipe!r}")
        if self.role not in ROLES:
            raise ConfigError(f"experiment {self.id}: role {self.role!r}; valid: {list(ROLES)}")
        if not self.seeds or len(set(self.seeds)) != len(self.seeds):
            raise ConfigError(f"experiment {self.id}: seeds must be distinct, at least one")

    def run_id(self, seed: int) -> str:
        return f"{self.id}-s{seed}"

    def run_ids(self) -> list[str]:
        return [self.run_id(seed) for seed in self.seeds]

    def config(self, seed: int, **overrides) -> TrainConfig:
        """The run's settings: the full profile, the recipe, the budget and the seed."""
        settings = {**self.budget.settings(), "seed": seed, "verbose": 0, **overrides}
        return profile_config(self.model, "full", self.recipe, **settings)


def _at_budget(model: str, recipe: str, role: str = CANDIDATE, seeds=(0,)) -> Experiment:
    """An experiment at the model's own budget (the original's, for its architectures)."""
    spec = SPECS[model]
    name = f"{model}-full" if role == REPRODUCTION else f"{model}-{recipe}"
    return Experiment(name, model, recipe, Budget(images=spec.budget_images), tuple(seeds), role)


def _timed(exp_id: str, model: str, recipe: str, seconds: float, seeds=(0,)) -> Experiment:
    return Experiment(exp_id, model, recipe, Budget(seconds=seconds), tuple(seeds), TIME_BUDGET)


def _longer(exp_id: str, model: str, recipe: str, images: int, seeds=(0,)) -> Experiment:
    return Experiment(exp_id, model, recipe, Budget(images=images), tuple(seeds), LONGER)


# The original's 80 VGG epochs in two readings: equal images seen (over its
# 144,000-image augmented set) and equal epochs (over this project's 54,000 images).
EQUAL_IMAGES, EQUAL_EPOCHS = 11_520_000, 4_320_000

# Candidates are listed in the order they were searched: a tie keeps the first.
_EXPERIMENTS = [
    _at_budget("arch1", "original-noaug", REPRODUCTION, SEEDS),
    _at_budget("arch1", "cosine", seeds=SEEDS),
    _at_budget("arch1", "cosine-flip"),
    _at_budget("arch1", "cosine-flip-ls"),
    _at_budget("arch1", "cosine-b125"),
    _at_budget("arch1", "cosine-b64"),
    _at_budget("arch1", "cosine-b32", IMPROVEMENT, SEEDS),
    _at_budget("arch2", "original", REPRODUCTION, SEEDS),
    _at_budget("arch2", "cosine-rotflip"),
    _at_budget("arch2", "cosine-flip-ls", seeds=SEEDS),
    _at_budget("arch2", "cosine-modern"),
    _at_budget("arch2", "cosine-flip-ls-tta", IMPROVEMENT, SEEDS),
    _at_budget("vgg", "original", REPRODUCTION, SEEDS),
    _at_budget("vgg", "cosine-rotflip"),
    _at_budget("vgg", "cosine-flip-ls", seeds=SEEDS),
    _at_budget("vgg", "cosine-modern"),
    _at_budget("vgg", "cosine-flip-ls-tta"),
    _at_budget("vgg", "cosine-flip-ls-wd", IMPROVEMENT, SEEDS),
    _at_budget("vgg", "cosine-flip-ls-b125"),
    _at_budget("vgg", "cosine-flip-ls-wd0.2"),
    _at_budget("vgg", "cosine-flip-ls-wd-b500"),
    _at_budget("vgg", "cosine-flip-ls-wd-lr4e-3"),
    _at_budget("vgg", "sgd-cosine-flip-ls-wd"),
    _at_budget("vgg", "cosine-flip-ls-wd-tta"),
    _at_budget("vgg", "cosine-flip-ls-wd0.2-tta"),
    _at_budget("vgg", "cosine-flip-ls-wd-ema"),
    _at_budget("vgg", "cosine-flip-ls-wd0.2-ema"),
    _at_budget("vgg", "cosine-flip-ls-wd-cutmix"),
    Experiment(
        "resnet-full", "resnet", "cosine-modern-tta", Budget(images=1_296_000), SEEDS, CANDIDATE
    ),
    # Longer runs: learning curves beyond the budget, and the original's 80 epochs.
    _longer("arch1-cosine-4x", "arch1", "cosine", 1_944_000),
    _longer("vgg-cosine-flip-ls-2x", "vgg", "cosine-flip-ls", 2_880_000, (0, 1)),
    _longer("vgg-80ep", "vgg", "original-auto", EQUAL_EPOCHS, (0, 1)),
    _longer("vgg-cosine-flip-ls-80ep", "vgg", "cosine-flip-ls", EQUAL_EPOCHS, (0, 1)),
    _longer("vgg-cosine-flip-ls-wd-80ep", "vgg", "cosine-flip-ls-wd", EQUAL_EPOCHS, (0, 1)),
    _longer("vgg-long", "vgg", "original-auto", EQUAL_IMAGES, (0, 1)),
    _longer("vgg-cosine-flip-ls-wd-long", "vgg", "cosine-flip-ls-wd", EQUAL_IMAGES, (0, 1)),
    _longer("resnet-2x", "resnet", "cosine-modern-tta-fp32", 2_592_000),
    # The own model's hour: 15-minute screens on validation, then the hour.
    _timed("resnet-15min", "resnet", "cosine-modern-tta", 900),
    _timed("vgg-cosine-modern-tta-15min", "vgg", "cosine-modern-tta", 900),
    _timed("resnet-1h", "resnet", "cosine-modern-tta", 3600, SEEDS),
    _timed("vgg-cosine-modern-tta-1h", "vgg", "cosine-modern-tta", 3600, SEEDS),
    _timed("resnet-15min-epyc", "resnet", "cosine-modern-tta", 900),
    _timed("resnet64-15min-epyc", "resnet64", "cosine-modern-tta", 900),
    _timed("resnet96-15min-epyc", "resnet96", "cosine-modern-tta", 900),
    _timed("resnet64-1h", "resnet64", "cosine-modern-tta", 3600),
    _timed("resnet64-cosine-modern-wd-tta-1h", "resnet64", "cosine-modern-wd-tta", 3600),
    _timed(
        "resnet64-cosine-modern-wd-cutmix-tta-1h",
        "resnet64",
        "cosine-modern-wd-cutmix-tta",
        3600,
        SEEDS,
    ),
    _timed(
        "resnet64-cosine-modern-wd-cutmix-ema-tta-1h",
        "resnet64",
        "cosine-modern-wd-cutmix-ema-tta",
        3600,
    ),
    _timed(
        "resnet64-cosine-modern-wd-cutmix1-tta-1h", "resnet64", "cosine-modern-wd-cutmix1-tta", 3600
    ),
    # bf16 against float32 at equal images seen, and VGG's fast schedule in bf16.
    Experiment(
        "vgg-cosine-flip-ls-10ep-bf16",
        "vgg",
        "cosine-flip-ls-bf16",
        Budget(epochs=10),
        SEEDS,
        PRECISION_CHECK,
    ),
    Experiment(
        "vgg-cosine-flip-ls-10ep-float32",
        "vgg",
        "cosine-flip-ls-fp32",
        Budget(epochs=10),
        SEEDS,
        PRECISION_CHECK,
    ),
    *(
        Experiment(
            f"vgg-cosine-flip-ls-{epochs}ep-bf16",
            "vgg",
            "cosine-flip-ls-bf16",
            Budget(epochs=epochs),
            (0,),
            FAST_SCHEDULE,
        )
        for epochs in (3, 4, 6, 14)
    ),
]
EXPERIMENTS: dict[str, Experiment] = {experiment.id: experiment for experiment in _EXPERIMENTS}
if len(EXPERIMENTS) != len(_EXPERIMENTS):
    raise ConfigError("experiments: two declarations share an id")
# Default set of `make reference`: each model's reproduction and improvement runs.
REFERENCE = tuple(e.id for e in _EXPERIMENTS if e.role in (REPRODUCTION, IMPROVEMENT))


def get_experiment(exp_id: str) -> Experiment:
    if exp_id not in EXPERIMENTS:
        raise ConfigError(f"unknown experiment {exp_id!r}; `fmnist experiment list` shows them")
    return EXPERIMENTS[exp_id]


def run_index() -> dict[str, tuple[Experiment, int]]:
    """Every declared run id -> (its experiment, its seed)."""
    return {e.run_id(seed): (e, seed) for e in EXPERIMENTS.values() for seed in e.seeds}


def candidates(model: str) -> list[Experiment]:
    """The model's recipe candidates at its budget, in search order (improvement included)."""
    return [
        e
        for e in EXPERIMENTS.values()
        if e.model == model
        and e.role in (CANDIDATE, IMPROVEMENT)
        and e.budget.images == SPECS[model].budget_images
    ]


def by_role(role: str) -> list[Experiment]:
    return [e for e in EXPERIMENTS.values() if e.role == role]


def declaration_problems(record: dict) -> list[str]:
    """How a record departs from the experiment it belongs to; empty when it matches."""
    entry = run_index().get(record["name"])
    if entry is None:
        return [f"{record['name']}: no declared experiment has this run"]
    experiment, seed = entry
    found = []
    if (record["experiment"], record["recipe"]) != (experiment.id, experiment.recipe):
        found.append(f"declared as {experiment.id} with recipe {experiment.recipe}")
    declared = experiment.config(seed).to_dict()
    ran = record["metrics"]["precision"]
    if declared["precision"] not in ("auto", ran):
        found.append(f"precision {ran}, declared {declared['precision']}")
    if record_group(declared, record["metrics"]) != record["group"]:
        found.append("its settings differ from the declaration's")
    return [f"{record['name']}: {problem}" for problem in found]
