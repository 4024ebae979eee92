"""Model specs: which models exist, what role each plays, and what it is measured against.

A spec names its builder as ``"module:function"`` (imported only when a model is
built, so this module and the CLI's ``--help`` stay free of Keras), its role (the
original's architecture, this project's own model, or a user's), the budget and
recipe of its full-profile run, and its target. Nothing else in the package infers a
role from a model's name.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .paths import PROJECT_ROOT
from .reference import ORIGINAL_RESULTS, OWN_MODEL_TARGET, TARGET_MARGIN, TARGET_SEEDS

ORIGINAL, OWN, USER = "original", "own", "user"
ROLES = (ORIGINAL, OWN, USER)


@dataclass(frozen=True)
class Target:
    """This project's goal for a model: a mean test accuracy over ``seeds`` seeds.

    ``max_train_seconds`` set: within that much training per run on the 2-core CPU
    (a GPU run neither meets nor misses it); unset: at the model's budget of images.
    """

    accuracy: float
    max_train_seconds: float | None = None
    seeds: int = TARGET_SEEDS

    def describe(self) -> str:
        goal = f"≥ {100 * self.accuracy:.2f}%"
        if self.max_train_seconds:
            return f"{goal} in ≤ {self.max_train_seconds / 3600:g} h"
        return goal


@dataclass(frozen=True)
class ModelSpec:
    """One model: its builder, role, full-profile budget and recipe, original and target.

    ``original`` is the original project's published run of the architecture (None for
    a model it did not have); ``recipe`` names the recipe (``fmnist_lib.recipes``) its
    full-profile run trains with: the original's for the original's architectures.
    """

    name: str
    builder: str
    role: str
    description: str
    budget_images: int
    recipe: str
    original: dict | None = None
    target: Target | None = None

    def __post_init__(self):
        if self.role not in ROLES:
            raise ValueError(f"role: {self.role!r} is not valid; choose one of {list(ROLES)}")
        if ":" not in self.builder:
            raise ValueError(f"builder: {self.builder!r} is not MODULE:FUNCTION")


def _original(name: str, recipe: str, description: str) -> ModelSpec:
    run = ORIGINAL_RESULTS[name]
    return ModelSpec(
        name=name,
        builder=f"fmnist_lib.models:{name}",
        role=ORIGINAL,
        description=description,
        budget_images=run["images_seen"],
        recipe=recipe,
        original=run,
        target=Target(round(run["test_accuracy"] + TARGET_MARGIN, 4)),
    )


# The own model's full-profile run: 24 epochs over the training split with its recipe,
# both fixed in advance; its target is judged on the time-budget experiments.
OWN_MODEL_BUDGET = 1_296_000
OWN_RECIPE = "cosine-modern-tta"
_OWN_TARGET = Target(OWN_MODEL_TARGET["accuracy"], OWN_MODEL_TARGET["max_train_seconds"])


def _own(name: str, description: str) -> ModelSpec:
    return ModelSpec(
        name=name,
        builder=f"fmnist_lib.models:{name}",
        role=OWN,
        description=description,
        budget_images=OWN_MODEL_BUDGET,
        recipe=OWN_RECIPE,
        target=_OWN_TARGET,
    )


SPECS: dict[str, ModelSpec] = {
    spec.name: spec
    for spec in (
        _original("arch1", "original-noaug", "the original's v1: two conv blocks, one dense"),
        _original("arch2", "original", "the original's custom: two 4x4 conv blocks"),
        _original("vgg", "original", "the original's vgg_like: two VGG blocks"),
        _own("resnet", "this project's small residual network (stages of 48 and 96)"),
        _own("resnet64", "resnet with stages of 64 and 128 filters"),
        _own("resnet96", "resnet twice as wide (stem 64, stages of 96 and 192)"),
    )
}


# A user's model trains by default at the budget the original's arch2 and VGG share,
# with a recipe this project's search found for both; either can be declared instead.
USER_BUDGET = ORIGINAL_RESULTS["vgg"]["images_seen"]
USER_RECIPE = "cosine-flip-ls"


def model_names() -> list[str]:
    return list(SPECS)


def get_spec(name: str) -> ModelSpec:
    """The spec of a registered model; ValueError naming the valid ones otherwise."""
    if name not in SPECS:
        raise ValueError(
            f"arch: unknown model {name!r}; valid names are {model_names()}, "
            "or a builder of your own as MODULE:FUNCTION or path/to/file.py:FUNCTION"
        )
    return SPECS[name]


def resolve_model(arch: str) -> str:
    """A model's name: ``arch`` itself, or a builder reference registered as a user's model."""
    return register_model(arch).name if is_builder_reference(arch) else get_spec(arch).name


def reproduction_recipe(name: str) -> str:
    """The original's recipe as it applies to a model: its spec's for the original's
    architectures, the original's plain recipe for any other."""
    spec = get_spec(name)
    return spec.recipe if spec.role == ORIGINAL else "original"


def role_of(name: str) -> str:
    """A model's role; a name the registry does not know is a user's model."""
    return SPECS[name].role if name in SPECS else USER


def is_builder_reference(arch: str) -> bool:
    """Whether ``--arch`` names a builder (``MODULE:FUNCTION``) rather than a model."""
    return ":" in arch


def canonical_builder(builder: str) -> str:
    """A builder reference as records keep it: a ``.py`` path relative to the project
    when it lies inside it (from any working directory), else absolute. A relative
    path names a file from the working directory, or else from the project."""
    target, function = builder.rsplit(":", 1)
    if not target.endswith(".py"):
        return builder
    path = Path(target).expanduser()
    if not path.is_absolute() and not path.exists():  # already relative to the project
        path = PROJECT_ROOT / path
    path = path.resolve()
    if path.is_relative_to(PROJECT_ROOT):
        path = path.relative_to(PROJECT_ROOT)
    return f"{path.as_posix()}:{function}"


def builder_path(target: str) -> Path:
    """Where a canonical ``.py`` target lies: relative ones are the project's."""
    path = Path(target)
    return path if path.is_absolute() else PROJECT_ROOT / path


def user_model_name(builder: str) -> str:
    """The name a user's builder's runs are recorded under: its function's name."""
    return builder.rsplit(":", 1)[1]


def register_model(
    builder: str,
    name: str | None = None,
    description: str = "",
    budget_images: int = USER_BUDGET,
    recipe: str = USER_RECIPE,
) -> ModelSpec:
    """Register a user's model ``builder`` (``MODULE:FUNCTION`` or ``file.py:FUNCTION``).

    The builder is imported only when the model is built. Registering the same
    builder twice is allowed; a name taken by another model is a ValueError.
    """
    if not is_builder_reference(builder):
        raise ValueError(f"builder: {builder!r} is not MODULE:FUNCTION or path/to/file.py:FUNCTION")
    builder = canonical_builder(builder)
    name = name or user_model_name(builder)
    spec = ModelSpec(
        name=name,
        builder=builder,
        role=USER,
        description=description or f"a user's model ({builder})",
        budget_images=budget_images,
        recipe=recipe,
    )
    known = SPECS.get(name)
    if known is not None and known.builder != builder:
        raise ValueError(
            f"arch: the name {name!r} is taken by {known.builder}; name your builder "
            f"function otherwise (taken: {model_names()})"
        )
    SPECS[name] = spec
    return spec


def with_role(role: str) -> list[ModelSpec]:
    return [spec for spec in SPECS.values() if spec.role == role]
