"""A study at a glance: its history, what mattered, its best trials (for notebooks 01-03)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ..specs import USER, get_spec
from .studies import STUDIES
from .study import SEARCH_DIR, counts

BEST_TRIALS = 5


def load_model_study(model: str, search_dir: Path = SEARCH_DIR, name: str | None = None):
    """A model's study from its embedded storage (the one with most trials unless named),
    or None when it has none yet."""
    import optuna

    path = Path(search_dir) / f"{model}.db"
    if not path.is_file():
        return None
    storage = f"sqlite:///{path.resolve()}"
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    summaries = optuna.get_all_study_summaries(storage)
    if name is None:
        if not summaries:
            return None
        name = max(summaries, key=lambda s: s.n_trials).study_name
    return optuna.load_study(study_name=name, storage=storage)


def trial_source(trial) -> str:
    """Where a trial came from: a recorded run's recipe, a declared study's seed trial,
    or the sampler; "void" for a trial declared void (its ``void`` attribute says why)."""
    if "void" in trial.user_attrs:
        return "void"
    if "seeded" in trial.user_attrs:
        return f"seeded ({trial.user_attrs['seeded']})"
    recipe = trial.user_attrs.get("recipe")
    return f"recorded ({recipe})" if recipe else "sampled"


def _best(study, n: int) -> list:
    import optuna

    done = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
    return sorted(done, key=lambda t: -t.value)[:n]


def shared_settings(study, n: int = BEST_TRIALS) -> dict:
    """The settings the ``n`` best trials all share (none until two have completed)."""
    best = _best(study, n)
    if len(best) < 2:
        return {}
    first = best[0].params
    return {k: v for k, v in first.items() if all(t.params.get(k) == v for t in best)}


def best_trials(study, n: int = BEST_TRIALS) -> pd.DataFrame:
    """The ``n`` best completed trials: validation accuracy, source, and the settings
    in which they differ (``shared_settings`` holds the rest)."""
    shared = shared_settings(study, n)
    rows = []
    for trial in _best(study, n):
        differing = {k: v for k, v in sorted(trial.params.items()) if k not in shared}
        settings = settings_text(differing)
        rows.append(
            {
                "trial": trial.number,
                "validation": f"{100 * trial.value:.2f}%",
                "source": trial_source(trial),
                "settings": settings,
            }
        )
    return pd.DataFrame(rows).set_index("trial") if rows else pd.DataFrame()


def settings_text(settings: dict) -> str:
    """Settings as ``name=value``, sorted by name, numbers to three significant digits."""
    return ", ".join(f"{k}={_short(v)}" for k, v in sorted(settings.items()))


def _short(value) -> str:
    if isinstance(value, float):
        return f"{value:.3g}"
    return str(value)


def study_summary(study) -> str:
    """One line: trials by state, how many came from records, the best so far."""
    states = {state.lower(): n for state, n in counts(study).items()}
    trials = study.get_trials(deepcopy=False)
    recorded = sum("record" in t.user_attrs for t in trials)
    seeded = sum(trial_source(t).startswith("seeded") for t in trials)
    tally = ", ".join(f"{n} {state}" for state, n in sorted(states.items()))
    sources = [f"{recorded} from recorded runs"] * bool(recorded)
    sources += [f"{seeded} seeded with hand recipes"] * bool(seeded)
    source = f" ({'; '.join(sources)})" if sources else ""
    best = f"; best validation {100 * study.best_value:.2f}% (trial {study.best_trial.number})"
    return f"study {study.study_name}: {tally}{source}{best}"


# How far below the best trial the history's scale reaches, in points.
SCALE_POINTS = 1.5


def study_figure(study):
    """Optimisation history and the settings' importances (fANOVA, Optuna's default),
    side by side. The history shows recorded, seeded and sampled trials, the best so far, and
    pruned trials at the last validation accuracy they reported; trials far below the
    rest are counted in a note, not allowed to stretch the axis."""
    import numpy as np
    import optuna
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    states = optuna.trial.TrialState
    done = study.get_trials(deepcopy=False, states=(states.COMPLETE,))
    pruned = [
        t
        for t in study.get_trials(deepcopy=False, states=(states.PRUNED,))
        if t.intermediate_values
    ]
    # A bare Figure, as the package's other plots: shown where a notebook returns it, once.
    fig = Figure(figsize=(12, 4.4))
    history, importance = fig.subplots(1, 2)
    numbers = np.array([t.number for t in done])
    values = 100 * np.array([t.value for t in done])
    recorded = np.array(["record" in t.user_attrs for t in done], dtype=bool)
    seeded = np.array(["seeded" in t.user_attrs for t in done], dtype=bool)
    sampled = ~recorded & ~seeded
    series = [
        (numbers[recorded], values[recorded], "recorded run (hand search)", "s", "C0"),
        (numbers[seeded], values[seeded], "seeded (hand recipe)", "D", "C2"),
        (numbers[sampled], values[sampled], "sampled", "o", "C1"),
        (
            np.array([t.number for t in pruned]),
            100 * np.array([t.intermediate_values[t.last_step] for t in pruned]),
            "pruned (where it stopped)",
            "x",
            "0.5",
        ),
    ]
    # The scale spans the trials within SCALE_POINTS of the best; the rest are counted.
    floor = max(values.min(), values.max() - SCALE_POINTS)
    low = floor - 0.1
    below = 0
    for x, y, label, marker, color in series:
        if len(x):
            history.scatter(x, y, marker=marker, s=24, color=color, label=label)
            below += int((y < floor).sum())
    history.step(
        numbers, np.maximum.accumulate(values), where="post", color="k", label="best so far"
    )
    history.set_ylim(low, values.max() + 0.1)
    history.xaxis.set_major_locator(MaxNLocator(integer=True))
    if below:  # a failed recipe stays off the scale, counted here
        history.annotate(
            f"{below} trial(s) below {floor:.1f}%, off the scale",
            xy=(0.01, 0.02),
            xycoords="axes fraction",
            fontsize=8,
            color="0.3",
        )
    history.set(xlabel="trial", ylabel="validation accuracy (%)", title="the study's trials")
    history.legend(loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=4, fontsize=8)
    if len(done) >= 2:
        scores = optuna.importance.get_param_importances(study)
        names = list(scores)[::-1]
        importance.barh(names, [scores[n] for n in names])
    importance.set(
        xlabel="importance (fANOVA)",
        title=f"which settings mattered ({len(done)} completed trials)",
    )
    fig.tight_layout()
    return fig


@dataclass(frozen=True)
class StudyReport:
    """What a notebook shows of a model's study: a summary, its best trials, a figure."""

    text: str
    best: pd.DataFrame | None
    figure: object | None

    def _repr_markdown_(self) -> str:
        table = "" if self.best is None else "\n\n" + self.best.to_markdown()
        return self.text + table


def study_report(model: str, search_dir: Path = SEARCH_DIR) -> StudyReport:
    """The report of the model's study, or the command that starts one."""
    study = load_model_study(model, search_dir)
    if study is None:
        own = [s.name for s in STUDIES.values() if s.model == model]
        spec = get_spec(model)
        arch = spec.builder if spec.role == USER else model
        command = f"--study {own[0]}" if own else f"--arch {arch} --trials 40"
        return StudyReport(
            f"No Optuna study of {model} yet: `fmnist search {command}` "
            "starts one (results/search/).",
            None,
            None,
        )
    if not counts(study).get("COMPLETE"):
        return StudyReport(
            f"study {study.study_name}: {len(study.trials)} trial(s), none completed yet.",
            None,
            None,
        )
    shared = settings_text(shared_settings(study))
    text = f"{study_summary(study)}. The best trials share: {shared or 'nothing'}."
    return StudyReport(text, best_trials(study), study_figure(study))
