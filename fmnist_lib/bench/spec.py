"""What one benchmark run does (``BenchSpec``), its checks, and the original's numbers
it is measured against. Pure Python: the package and the report both import it."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from ..config import PRECISIONS
from ..errors import ConfigError
from ..recipes import recipe_settings
from ..reference import ORIGINAL_RESULTS

SIDES = ("original", "project")

# The original's VGG-like model after 10 epochs (docs/original.md), best val_loss checkpoint.
ORIGINAL_TEST_ACCURACY = ORIGINAL_RESULTS["vgg"]["test_accuracy"]
ORIGINAL_BUDGET_IMAGES = ORIGINAL_RESULTS["vgg"]["images_seen"]  # 10 epochs x 144,000 images

# --quick: a CI smoke run of about a minute. Its accuracy target is deliberately
# low and measured on a test subset, so its time-to-accuracy is not comparable.
QUICK = {"subset": 1000, "test_subset": 2000, "max_epochs": 1, "target": 0.50}


@dataclass
class BenchSpec:
    """What one benchmark run does; handed to both sides (as JSON to the subprocess)."""

    quick: bool = False
    subset: int | None = None  # source training images (from 60,000), both sides
    test_subset: int | None = None  # test images the accuracy probe uses (None: all 10,000)
    target: float = ORIGINAL_TEST_ACCURACY
    max_epochs: int | None = None
    max_images: int | None = ORIGINAL_BUDGET_IMAGES  # images seen in training, per side
    time_limit: float | None = None  # seconds of elapsed wall time, per side
    seed: int = 0
    data_dir: str | None = None
    sides: tuple[str, ...] = SIDES
    verbose: bool = True
    # The project side's recipe (fmnist_lib.recipes; None: the original's), schedule
    # length and precision; the original side always trains as the original did.
    project_recipe: str | None = None
    project_epochs: int | None = None
    project_precision: str = "auto"

    @classmethod
    def quick_spec(cls, **overrides) -> BenchSpec:
        return cls(quick=True, max_images=None, **{**QUICK, **overrides})

    def to_dict(self) -> dict:
        data = dataclasses.asdict(self)
        data["sides"] = list(self.sides)
        return data


def _check_caps(spec: BenchSpec) -> None:
    """The data sizes, target and caps: in range, and enough of them to stop a run."""
    if spec.subset is not None and not 100 <= spec.subset <= 60_000:
        raise ConfigError(f"subset: {spec.subset} is out of range; it must be in [100, 60,000]")
    if spec.test_subset is not None and not 100 <= spec.test_subset <= 10_000:
        raise ConfigError(f"test_subset: {spec.test_subset} must be in [100, 10,000]")
    if not 0 < spec.target <= 1:
        raise ConfigError(f"target: {spec.target} must be an accuracy in (0, 1]")
    if spec.max_epochs is not None and spec.max_epochs < 1:
        raise ConfigError(f"max_epochs: {spec.max_epochs} must be at least 1")
    if spec.max_images is not None and spec.max_images < 1:
        raise ConfigError(f"max_images: {spec.max_images} must be at least 1")
    if spec.max_epochs is None and spec.max_images is None and spec.time_limit is None:
        raise ConfigError("give at least one cap: max_epochs, max_images or time_limit")
    if spec.max_epochs is None and spec.max_images is None:
        raise ConfigError("a time limit alone is not enough; also give max_epochs or max_images")


def check_spec(spec: BenchSpec) -> None:
    """ConfigError naming the first setting of ``spec`` that cannot run."""
    _check_caps(spec)
    if spec.project_recipe is not None:
        recipe_settings(spec.project_recipe)  # ConfigError naming the valid recipes
    if spec.project_epochs is not None and spec.project_epochs < 1:
        raise ConfigError(f"project_epochs: {spec.project_epochs} must be at least 1")
    if spec.project_precision not in PRECISIONS:
        raise ConfigError(
            f"project_precision: {spec.project_precision!r}; choose one of {list(PRECISIONS)}"
        )
    unknown = [s for s in spec.sides if s not in SIDES]
    if unknown or not spec.sides:
        raise ConfigError(f"sides: {list(spec.sides)}; choose from {list(SIDES)}")
