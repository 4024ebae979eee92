"""The studies this project runs, as data: model, budget, trials and what each is for.

``fmnist search --study NAME`` runs a declared study with its model and budget;
any other name (or none) makes a study of one's own from the flags.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..experiments import Budget
from ..specs import get_spec

# A quarter of the own model's hour: long enough to rank architectures and recipes,
# short enough for tens of trials; the best two then train the full hour.
OWN_MODEL_PROXY_SECONDS = 900
OWN_MODEL_HOUR_SECONDS = 3600


@dataclass(frozen=True)
class SeedTrial:
    """A trial a declared study trains before its sampled ones, under the same protocol:
    a named recipe (``recipes.py``), at the model's defaults but ``model_options``."""

    recipe: str
    model_options: tuple[tuple[str, int], ...] = ()

    def describe(self) -> str:
        """``cosine-modern-tta`` or ``cosine-modern-tta, width 64``."""
        return ", ".join([self.recipe, *(f"{k} {v}" for k, v in self.model_options)])


@dataclass(frozen=True)
class DeclaredStudy:
    """A study's model, budget, number of finished trials, its question, and how its
    winners are confirmed: at ``confirm_budget`` (None: the study's own), the
    ``confirm_top`` best trials with the first seed, then the best of them with all.
    Its ``seed_trials`` train first: what a hand search found, so the sampler starts
    from it and the study compares it under its own protocol."""

    name: str
    model: str
    budget: Budget
    trials: int
    question: str
    confirm_budget: Budget | None = None
    confirm_top: int = 1
    seed_trials: tuple[SeedTrial, ...] = ()


STUDIES: dict[str, DeclaredStudy] = {
    study.name: study
    for study in (
        DeclaredStudy(
            "vgg-1440000img",
            "vgg",
            Budget(images=get_spec("vgg").budget_images),
            55,  # 40 sampled trials beside the hand search's 15 recorded ones
            "VGG, architecture unchanged, at the original's budget: does a wider recipe "
            "space reach the target, a 3-seed mean of 94.54%?",
        ),
        DeclaredStudy(
            f"resnet-{OWN_MODEL_PROXY_SECONDS}s",
            "resnet",
            Budget(seconds=OWN_MODEL_PROXY_SECONDS),
            30,
            "the own model's width, depth and recipe on a 15-minute proxy of its hour; "
            "the best two then train the full hour for the 95.5% target",
            confirm_budget=Budget(seconds=OWN_MODEL_HOUR_SECONDS),
            confirm_top=2,
            # The hand search's recipe for the own model, at its width and the next.
            seed_trials=(
                SeedTrial("cosine-modern-tta"),
                SeedTrial("cosine-modern-tta", (("width", 64),)),
            ),
        ),
    )
}


def declared(name: str | None) -> DeclaredStudy | None:
    return STUDIES.get(name) if name else None
