"""fmnist search: spaces, studies shared by workers, retries after a killed worker, pruning."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time

import optuna
import pytest

from fmnist_lib import hardware
from fmnist_lib.errors import ConfigError
from fmnist_lib.experiments import Budget
from fmnist_lib.findings.search import confirmations
from fmnist_lib.results import load_results
from fmnist_lib.runs import read_json
from fmnist_lib.search.confirm import confirmation_problems
from fmnist_lib.search.pruning import (
    PRUNERS,
    STARTUP_TRIALS,
    PruningReporter,
    choose_pruner,
    compare_pruners,
    make_pruner,
    report_steps,
)
from fmnist_lib.search.space import (
    RECIPE_SPACE,
    Choice,
    Float,
    check_space,
    params_from_config,
    settings_from_params,
)
from fmnist_lib.search.study import (
    add_recorded_trials,
    make_plan,
    matching_records,
    open_study,
    run_search,
)

from .conftest import call_cli, run_cli

TINY = ("--arch", "arch1", "--subset", "600", "--epochs", "1", "--quiet")


def _study(storage: str, name: str):
    return optuna.load_study(study_name=name, storage=storage)


def _finished(study) -> list:
    states = (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED)
    return study.get_trials(deepcopy=False, states=states)


@pytest.mark.parametrize(
    ("space", "message"),
    [
        ({"learning_rte": Float(1e-4, 1e-2)}, "unknown setting 'learning_rte'"),
        ({"learning_rate": Float(1e-2, 1e-4)}, "must have low < high"),
        ({"weight_decay": Float(0.0, 0.1, log=True)}, "log range needs low > 0"),
        ({"label_smoothing": Float(0.0, 0.9)}, "label_smoothing = 0.9"),
        ({"batch_size": Choice(())}, "must be distinct and not empty"),
        ({"augmentation": Choice(("flip", "blur"))}, "unknown name(s) ['blur']"),
        ({"model.width": Choice((32, 64))}, "not an argument of vgg's builder"),
    ],
)
def test_a_bad_space_fails_before_anything_trains(space, message):
    with pytest.raises(ConfigError, match=None) as err:
        check_space(space, "vgg")
    assert message in str(err.value)


def test_the_own_model_space_varies_width_and_depth():
    plan = make_plan("resnet", 1, storage="sqlite:///:memory:")
    assert {"model.width", "model.blocks"} <= set(plan.space)
    settings = settings_from_params({"model.width": 64, "model.blocks": 3, "augmentation": "none"})
    assert settings == {"model_options": {"width": 64, "blocks": 3}, "augmentation": ()}


def test_recorded_runs_enter_the_study_once(tmp_path):
    records = load_results()
    plan = make_plan("vgg", 40, storage=f"sqlite:///{tmp_path / 's.db'}", verbose=False)
    study = open_study(plan)
    added = add_recorded_trials(study, plan, records)
    assert added >= 10  # the hand search's candidates at the original's budget, seed 0
    assert add_recorded_trials(study, plan, records) == 0
    names = [t.user_attrs["record"] for t in study.trials]
    assert len(names) == len(set(names)) == added
    best = max(study.trials, key=lambda t: t.value)
    record = next(r for r in records if r["name"] == best.user_attrs["record"])
    assert best.value == record["metrics"]["selection_val_accuracy"]
    assert params_from_config(record["config"], RECIPE_SPACE, "vgg") == best.params
    # The original's recipe trains in float32 with a constant rate: inside the space too.
    assert any(t.user_attrs["recipe"] == "original" for t in study.trials)


def test_pruners_compare_on_recorded_curves_and_the_rule_picks_a_safe_one():
    records = [r for r in load_results() if r["model"] == "vgg"]
    curves = [
        {
            "val_accuracy": [h["val_accuracy"] for h in r["history"]],
            "value": r["metrics"]["selection_val_accuracy"],
            "epoch_seconds": 1.0,
        }
        for r in records[:12]
    ]
    rows = compare_pruners(curves, shuffles=3)
    assert [row["pruner"] for row in rows] == list(PRUNERS)
    none = rows[0]
    assert none["pruned"] == 0 and none["saved_share"] == 0 and none["worst_regret_points"] == 0
    chosen = next(row for row in rows if row["pruner"] == choose_pruner(rows))
    assert chosen["regret_points"] == 0 and chosen["saved_share"] >= none["saved_share"]


@pytest.mark.parametrize("epochs", [1, 7, 18, 21, 100, 150])
def test_a_time_budgeted_trial_reports_every_percent_of_its_training(epochs):
    steps = [s for epoch in range(1, epochs + 1) for s in report_steps(epoch, epochs, True)]
    assert steps == list(range(1, 101))
    assert list(report_steps(3, epochs, False)) == [3]


def _feed(study, epochs: int, accuracies: list[float]):
    """One trial of ``epochs`` epochs through PruningReporter; (state, epochs trained)."""
    trial = study.ask()
    reporter = PruningReporter(trial, by_share=True)
    reporter.set_params({"epochs": epochs})
    for epoch, accuracy in enumerate(accuracies):
        try:
            reporter.on_epoch_end(epoch, {"val_accuracy": accuracy})
        except optuna.TrialPruned:
            study.tell(trial, state=optuna.trial.TrialState.PRUNED)
            return "pruned", epoch + 1
    study.tell(trial, accuracies[-1])
    return "complete", len(accuracies)


def test_trials_of_different_lengths_are_pruned_on_a_common_scale():
    """A time budget gives trials 18 and 21 epochs, whose rounded shares of training
    never coincide after the first third; the pruner still compares them at half."""
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(direction="maximize", pruner=make_pruner("median-half", 100))
    for _ in range(STARTUP_TRIALS):
        assert _feed(study, 21, [0.9] * 21) == ("complete", 21)
    assert _feed(study, 18, [0.8] * 18) == ("pruned", 9)  # its first epoch at >= 50%
    assert _feed(study, 18, [0.95] * 18) == ("complete", 18)


def test_a_time_budgeted_study_stays_on_one_kind_of_machine(tmp_path):
    storage = f"sqlite:///{tmp_path / 's.db'}"
    plan = make_plan("arch1", 2, budget=Budget(seconds=60), storage=storage, verbose=False)
    study = open_study(plan)
    machine = study.user_attrs["protocol"]["machine"]
    assert machine.endswith(f"{hardware.cpu_count()} cores")
    assert machine.startswith(hardware.cpu_model())
    protocol = {**study.user_attrs["protocol"], "machine": "Some Other CPU, 64 cores"}
    study.set_user_attr("protocol", protocol)
    with pytest.raises(ConfigError, match="trials ran on Some Other CPU, 64 cores, this machine"):
        open_study(plan)
    # An image budget buys every machine the same images: no machine in its protocol.
    images = make_plan("arch1", 2, storage=storage, verbose=False)
    assert "machine" not in open_study(images).user_attrs["protocol"]


@pytest.fixture(scope="module")
def two_trials(tmp_path_factory):
    """(storage, runs) of a 2-trial study, searched once; the tests below confirm it.

    Confirmation reads the study and writes runs under new names, so the tests can
    share it: each records into a results folder of its own.
    """
    folder = tmp_path_factory.mktemp("two_trials")
    storage, runs = f"sqlite:///{folder / 's.db'}", folder / "runs"
    run_cli("search", *TINY, "--trials", "2", "--storage", storage, "--runs-dir", runs, check_rc=0)
    return storage, runs


def _run_names(runs) -> set[str]:
    return {str(p.relative_to(runs)) for p in runs.glob("*/*")}


@pytest.mark.slow
def test_a_two_trial_study_end_to_end(two_trials, tmp_path):
    storage, runs = two_trials
    study = _study(storage, "arch1-1ep-subset600")
    trials = _finished(study)
    assert len(trials) == 2
    for trial in trials:
        metrics = read_json(
            runs / "arch1-1ep-subset600" / f"trial-{trial.number:04d}" / "metrics.json"
        )
        assert trial.value == metrics["selection_val_accuracy"]  # validation, not test
        assert metrics["test"] is None  # a trial never reads the test set
        assert trial.intermediate_values == {1: pytest.approx(metrics["best_val_accuracy"])}
    # Run again with --confirm: nothing more is searched; the best trial trains the
    # other reference seeds, and all three are recorded as one experiment.
    results = tmp_path / "results"
    (results / "runs").mkdir(parents=True)
    run_cli(
        "search",
        *TINY,
        "--trials",
        "2",
        "--storage",
        storage,
        "--runs-dir",
        runs,
        "--confirm",
        "--results-dir",
        results,
        check_rc=0,
    )
    study = _study(storage, "arch1-1ep-subset600")
    assert len(study.trials) == 2
    confirmed = load_results(results)
    best = study.best_trial.number
    assert sorted(r["name"] for r in confirmed) == [
        f"arch1-1ep-subset600-t{best}-s{seed}" for seed in (0, 1, 2)
    ]
    assert {r["experiment"] for r in confirmed} == {f"arch1-1ep-subset600-t{best}"}
    assert len({r["group"] for r in confirmed}) == 1  # one recipe, three seeds
    seed0 = next(r for r in confirmed if r["config"]["seed"] == 0)
    assert seed0["metrics"]["selection_val_accuracy"] == study.best_value
    assert all(0 < r["metrics"]["test"]["accuracy"] <= 1 for r in confirmed)  # scored at last
    # Each record matches the trial it confirms; a tampered one is named.
    assert all(confirmation_problems(r, storage) == [] for r in confirmed)
    # Confirmation runs are their trial's, never recorded trials of a study at their budget;
    # the same run under a recipe of its own would be one.
    same_budget = Budget(images=seed0["metrics"]["images_seen"])
    plan = make_plan("arch1", 2, same_budget, subset=600, storage=storage, verbose=False)
    assert matching_records(plan, confirmed) == []
    assert len(matching_records(plan, [{**seed0, "recipe": "own"}])) == 1
    tampered = {**seed0, "experiment": "arch1-1ep-subset600-t99", "group": "0" * 12}
    assert confirmation_problems(tampered, storage) == [
        f"{seed0['name']}: experiment arch1-1ep-subset600-t99, the trial's is "
        f"arch1-1ep-subset600-t{best}",
        f"{seed0['name']}: its settings differ from trial {best}'s",
    ]


def _worker(storage, runs, trials, seed, *extra, quiet=True):
    tiny = TINY if quiet else TINY[:-1]  # TINY ends with --quiet
    args = ["search", *tiny, "--trials", trials, "--storage", storage, "--runs-dir", runs]
    return subprocess.Popen(
        [sys.executable, "-m", "fmnist_lib", *map(str, [*args, "--seed", seed, *extra])],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


@pytest.mark.slow
def test_two_workers_share_one_study_without_duplicates(tmp_path):
    storage = f"sqlite:///{tmp_path / 's.db'}"
    workers = [_worker(storage, tmp_path / "runs", 4, seed, quiet=False) for seed in (1, 2)]
    outputs = [w.communicate(timeout=900)[0] for w in workers]
    assert [w.returncode for w in workers] == [0, 0], outputs
    study = _study(storage, "arch1-1ep-subset600")
    finished = _finished(study)
    # Each worker checks the count before it starts a trial: N, or one more when
    # both start the last one at once.
    assert 4 <= len(finished) <= 5
    assert len({t.number for t in study.trials}) == len(study.trials)
    run_dirs = [t.user_attrs["run_dir"] for t in study.trials]
    assert len(set(run_dirs)) == len(run_dirs)
    # Each worker reports the trials it ran, not the study's latest.
    reported = [set(map(int, re.findall(r"^trial (\d+): ", out, flags=re.M))) for out in outputs]
    assert not reported[0] & reported[1]
    assert reported[0] | reported[1] == {t.number for t in finished}


@pytest.mark.slow
def test_a_killed_workers_trial_is_retried_and_resumes(tmp_path):
    storage = f"sqlite:///{tmp_path / 's.db'}"
    runs = tmp_path / "runs"
    # Sampler seed 9 draws a gentle first recipe (lr 3e-4, weight decay 0.025): this
    # test is about the retry, and a recipe that can diverge to NaN on 540 images would
    # fail the retried trial for a reason of its own.
    longer = ("--epochs", "6", "--heartbeat", "1", "3", "--seed", "9")
    tiny = list(TINY)
    del tiny[4:6]  # the one-epoch budget; this trial trains six
    name = "arch1-6ep-subset600"
    history = runs / name / "trial-0000" / "history.json"

    def start(trials, output=subprocess.DEVNULL):
        args = ["search", *tiny, *longer, "--trials", trials, "--storage", storage]
        return subprocess.Popen(
            [sys.executable, "-m", "fmnist_lib", *map(str, args), "--runs-dir", str(runs)],
            stdout=output,
            stderr=subprocess.STDOUT,
            text=True,
        )

    victim = start(1)
    deadline = time.monotonic() + 300
    while not (history.exists() and len(read_json(history)) >= 2):
        assert victim.poll() is None and time.monotonic() < deadline, "the trial never got going"
        time.sleep(0.5)
    os.kill(victim.pid, signal.SIGKILL)
    victim.wait()
    done_before = len(read_json(history))
    time.sleep(4)  # past the grace period: the trial's heartbeat has stopped
    survivor = start(1, output=subprocess.PIPE)
    output, _ = survivor.communicate(timeout=600)
    assert survivor.returncode == 0, output[-3000:]  # the worker's own words on a failure
    study = _study(storage, name)
    states = [t.state.name for t in study.trials]
    assert states == ["FAIL", "COMPLETE"], (states, output[-3000:])
    retry = study.trials[1]
    assert retry.system_attrs["failed_trial"] == 0
    assert retry.params == study.trials[0].params
    assert retry.user_attrs["run_dir"] == study.trials[0].user_attrs["run_dir"]
    metrics = read_json(history.parent / "metrics.json")
    assert metrics["resumed_from_epoch"] >= 1 and done_before >= 2
    assert [row["epoch"] for row in read_json(history)] == list(range(1, 7))


def test_the_findings_section_reads_the_committed_search(tmp_path):
    from fmnist_lib.findings.search import search_section
    from fmnist_lib.search.study import SEARCH_DIR

    assert search_section([], tmp_path) == []  # no search, no section
    lines = "\n".join(search_section(load_results(), SEARCH_DIR))
    comparison = read_json(SEARCH_DIR / "pruners-vgg-1440000img.json")
    assert f"Chosen: **{comparison['chosen']}**" in lines
    for row in comparison["rows"]:
        assert f"| {row['pruner']} " in lines
    assert "**The study of vgg**" in lines


def test_declared_studies_make_valid_plans_and_the_cli_names_them(capsys):
    from fmnist_lib.search.studies import STUDIES

    for name, study in STUDIES.items():
        plan = make_plan(study.model, study.trials, budget=study.budget, storage="sqlite://")
        assert plan.study_name == name  # its default name: model and budget
    assert STUDIES["resnet-900s"].budget.seconds == 900
    assert STUDIES["resnet-900s"].confirm_budget.seconds == 3600  # the best two, for the hour
    assert STUDIES["resnet-900s"].confirm_top == 2
    code, _, err = call_cli(capsys, "search", "--trials", "3")
    assert code == 2 and "--arch required" in err and "resnet-900s" in err
    code, _, err = call_cli(capsys, "search", "--study", "vgg-1440000img", "--arch", "arch1")
    assert code == 2 and "a study of vgg, not arch1" in err


def test_a_declared_studys_seed_trials_are_queued_once_and_train_first(tmp_path, capsys):
    """The own model's study trains the hand search's recipe (at width 48 and 64) under
    its own protocol before the sampler's trials; a seed outside the space fails early."""
    from fmnist_lib.search.space import suggest
    from fmnist_lib.search.studies import STUDIES, SeedTrial
    from fmnist_lib.search.study import enqueue_seed_trials

    with pytest.raises(ConfigError, match="'cosine-modern-tta, width 40'.*outside the search"):
        make_plan(
            "resnet",
            30,
            storage="sqlite://",
            seed_trials=(SeedTrial("cosine-modern-tta", (("width", 40),)),),
        )
    with pytest.raises(ConfigError, match="unknown recipe 'cosine-moden'"):
        make_plan("resnet", 30, storage="sqlite://", seed_trials=(SeedTrial("cosine-moden"),))
    storage = f"sqlite:///{tmp_path / 'resnet.db'}"
    # The CLI queues the declared study's seeds; a worker past its timeout trains none.
    code, _, _ = call_cli(
        capsys, "search", "--study", "resnet-900s", "--storage", storage, "--timeout", "0"
    )
    study = _study(storage, "resnet-900s")
    assert code == 0 and [t.state.name for t in study.trials] == ["WAITING", "WAITING"]
    assert [t.user_attrs["seeded"] for t in study.trials] == [
        "cosine-modern-tta",
        "cosine-modern-tta, width 64",
    ]
    declared = STUDIES["resnet-900s"]
    plan = make_plan(
        "resnet",
        declared.trials,
        budget=declared.budget,
        storage=storage,
        study="resnet-900s",
        seed_trials=declared.seed_trials,
        verbose=False,
    )
    study = open_study(plan)
    assert enqueue_seed_trials(study, plan) == 0  # queued once, whichever worker comes next
    first = study.ask()
    params = suggest(first, plan.space)
    assert params == plan.seed_trials[0][1]
    assert settings_from_params(params)["model_options"] == {"width": 48, "blocks": 2}
    assert params["learning_rate"] == 2e-3 and params["augmentation"] == "flip+translate+erase"
    second = study.ask()
    assert suggest(second, plan.space)["model.width"] == 64
    # A seed trial declared void (its run was disturbed) is queued again, once.
    study._storage.set_trial_user_attr(second._trial_id, "void", "disturbed")
    study.tell(second, state=optuna.trial.TrialState.FAIL)
    assert enqueue_seed_trials(study, plan) == 1 and enqueue_seed_trials(study, plan) == 0
    assert study.trials[-1].user_attrs == {"seeded": "cosine-modern-tta, width 64"}
    # A study that holds its trials queues none; one that wants more queues them all.
    other = f"sqlite:///{tmp_path / 'other.db'}"
    plans = [
        make_plan(
            "resnet",
            trials,
            budget=declared.budget,
            storage=other,
            study="resnet-900s",
            seed_trials=declared.seed_trials,
            verbose=False,
        )
        for trials in (1, 30)
    ]
    study = open_study(plans[0])
    study.tell(study.ask(), 0.9)
    assert enqueue_seed_trials(study, plans[0]) == 0
    assert enqueue_seed_trials(study, plans[1]) == 2


def test_a_worker_past_its_timeout_starts_no_trial_and_the_help_names_every_pruner(
    tmp_path, capsys
):
    with pytest.raises(ConfigError, match="timeout: -1 must be a number of seconds >= 0"):
        make_plan("arch1", 2, storage="sqlite://", timeout=-1)
    storage = f"sqlite:///{tmp_path / 's.db'}"
    plan = make_plan("arch1", 2, subset=600, storage=storage, timeout=0, runs_dir=tmp_path)
    study = run_search(plan)
    assert study.trials == [] and not any(tmp_path.glob("*/trial-*"))
    assert "timeout: 0 s passed; this worker starts no new trial" in capsys.readouterr().out
    code, out, _ = call_cli(capsys, "search", "--help")
    help_text = " ".join(out.split())
    assert code == 0
    assert all(name in help_text for name in PRUNERS)
    assert "--timeout SECONDS" in help_text


def test_the_study_report_draws_the_committed_vgg_study(tmp_path):
    import sqlite3

    from fmnist_lib.paths import RESULTS_DIR
    from fmnist_lib.search.figures import SCALE_POINTS, study_report

    # A consistent copy: a worker beside the tests may be writing the committed file.
    with sqlite3.connect(RESULTS_DIR / "search" / "vgg.db") as source:
        with sqlite3.connect(tmp_path / "vgg.db") as copy:
            source.backup(copy)
    report = study_report("vgg", tmp_path)
    study = optuna.load_study(
        study_name="vgg-1440000img", storage=f"sqlite:///{tmp_path / 'vgg.db'}"
    )
    recorded = sum("record" in t.user_attrs for t in study.trials)
    assert f"({recorded} from recorded runs)" in report.text and recorded >= 10
    assert len(report.best) <= 5 and report.best["validation"].str.endswith("%").all()
    history, importance = report.figure.axes
    labels = history.get_legend_handles_labels()[1]
    assert labels[:2] == ["recorded run (hand search)", "sampled"] and "best so far" in labels
    pruned = optuna.trial.TrialState.PRUNED
    if any(t.state == pruned and t.intermediate_values for t in study.trials):
        assert "pruned (where it stopped)" in labels
    best = 100 * study.best_value
    assert history.get_ylim()[0] >= best - SCALE_POINTS - 0.2  # a failed recipe stays off it
    assert len(importance.patches) == len(study.best_params)  # one bar per setting
    empty = study_report("arch1", tmp_path)
    assert empty.figure is None and empty.text.startswith("No Optuna study of arch1 yet")


@pytest.mark.slow
def test_a_proxy_studys_best_trials_are_confirmed_at_another_budget(two_trials, tmp_path, capsys):
    storage, runs = two_trials
    results = tmp_path / "results"
    (results / "runs").mkdir(parents=True)
    common = ("--trials", "2", "--storage", storage, "--runs-dir", runs, "--results-dir", results)
    before = _run_names(runs)
    code, _, err = call_cli(capsys, "search", *TINY, *common, "--confirm-top", "2")
    assert code == 2 and "go with --confirm" in err
    code, _, err = call_cli(capsys, "search", *TINY, *common, "--confirm", "--confirm-top", "2")
    assert code == 2 and "needs --confirm-budget" in err
    assert _run_names(runs) == before and load_results(results) == []  # nothing trained
    run_cli(
        "search",
        *TINY,
        *common,
        "--confirm",
        "--confirm-budget",
        "epochs:2",
        "--confirm-top",
        "2",
        check_rc=0,
    )
    study = _study(storage, "arch1-1ep-subset600")
    confirmed = {r["name"]: r for r in load_results(results)}
    # Both trials trained seed 0 at the new budget; the better of them on validation
    # there trained seeds 1 and 2: four runs, each recorded once.
    seed0 = {t.number: f"arch1-1ep-subset600-t{t.number}-2ep-s0" for t in study.trials}
    assert set(seed0.values()) <= set(confirmed) and len(confirmed) == 4
    winner = max(seed0, key=lambda n: confirmed[seed0[n]]["metrics"]["selection_val_accuracy"])
    others = {f"arch1-1ep-subset600-t{winner}-2ep-s{seed}" for seed in (1, 2)}
    assert others <= set(confirmed)
    for record in confirmed.values():
        assert record["config"]["epochs"] == 2 and record["metrics"]["test"]["accuracy"] > 0
    assert confirmed[seed0[winner]]["recipe"] == f"search:arch1-1ep-subset600#{winner}"
    assert all(confirmation_problems(r, storage) == [] for r in confirmed.values())
    # The findings list each confirmed trial once: the winner with all three seeds.
    table = confirmations(study, list(confirmed.values())).set_index("trial")
    assert set(table["experiment"]) == {name.removesuffix("-s0") for name in seed0.values()}
    assert table.loc[str(winner), "test accuracy"].endswith("(3)")
    assert all(cell.endswith("(1)") for cell in table.drop(str(winner))["test accuracy"])
    assert set(table.drop(str(winner))["target"]) == {
        f"not chosen: trial {winner} was better on validation"
    }
    assert not table.loc[str(winner), "target"].startswith("not chosen")


def test_the_findings_say_what_pruning_saved_and_why_trials_failed():
    from fmnist_lib.findings.search import failures, pruning_saved

    study = optuna.create_study(direction="maximize")
    curve = {epoch: 0.8 + epoch / 1000 for epoch in range(1, 28)}
    distributions = {"learning_rate": optuna.distributions.FloatDistribution(1e-4, 1e-2)}

    def add(state, steps, **attrs):
        values = {k: v for k, v in curve.items() if k <= steps}
        study.add_trial(
            optuna.trial.create_trial(
                params={"learning_rate": 1e-3},
                distributions=distributions,
                value=values[steps] if state == "COMPLETE" else None,
                intermediate_values=values,
                state=getattr(optuna.trial.TrialState, state),
                user_attrs=attrs,
            )
        )

    assert pruning_saved(study) == ""  # nothing finished, nothing to say
    add("COMPLETE", 27, recipe="cosine")  # a recorded run: not the pruner's to stop
    add("COMPLETE", 27)
    assert pruning_saved(study) == ""  # nothing pruned yet: nothing saved to speak of
    add("PRUNED", 14)
    add("PRUNED", 13)
    # 27 + 14 + 13 of 3 x 27 epochs: two thirds trained, a third saved; the pruned two
    # stopped at 13/27 and 14/27 of theirs.
    assert pruning_saved(study) == (
        "Pruning stopped 2 of the 3 trials the study trained, at 48–52% of their training; "
        "all 3 together ran 67% of the epochs they would have run to the end, saving 33% of "
        "the study's training."
    )
    # Failed trials are explained: a killed worker's trial is retried, a void one says why.
    assert failures(study) == ""
    add("FAIL", 3)
    assert failures(study) == "Its one failed trial was not retried."
    study.add_trial(
        optuna.trial.create_trial(
            params={"learning_rate": 1e-3},
            distributions=distributions,
            value=curve[27],
            intermediate_values=curve,
            system_attrs={"failed_trial": 4},
        )
    )
    add("FAIL", 27, void="entered twice")
    add("FAIL", 2)
    assert failures(study) == (
        "Of its 3 failed trials, 1 stopped when a worker was killed mid-trial, and was "
        "retried with the same settings; trial 6 is void (entered twice); 1 failed and was "
        "not retried."
    )
    assert pruning_saved(study).startswith("Pruning stopped 2 of the 4 trials the study trained")


def test_a_time_budgeted_study_without_recorded_runs_reads_in_findings_and_notebooks(tmp_path):
    """The own model's study has no hand search to stand beside: the findings and the
    notebooks' report say what it has (its budget, machine, best trial) and no more."""
    from fmnist_lib.findings.search import search_section
    from fmnist_lib.search.figures import study_report

    assert "`fmnist search --study resnet-900s`" in study_report("resnet", tmp_path).text
    study = optuna.create_study(
        study_name="resnet-900s",
        storage=f"sqlite:///{tmp_path / 'resnet.db'}",
        direction="maximize",
    )
    machine = "AMD EPYC (AVX-512 BF16), 2 cores"
    study.set_user_attr(
        "protocol", {"model": "resnet", "base": {"budget_seconds": 900}, "machine": machine}
    )
    study.ask()  # a worker's first trial, still running
    report = study_report("resnet", tmp_path)
    assert report.text == "study resnet-900s: 1 trial(s), none completed yet."
    assert report.figure is None
    started = "\n".join(search_section([], tmp_path)).split("**The study of resnet**")[1]
    assert started.startswith(" (resnet-900s): 1 trial (1 running).")
    assert "best trials" not in started and "confirmed" not in started
    distributions = {
        "learning_rate": optuna.distributions.FloatDistribution(1e-4, 1e-2, log=True),
        "model.width": optuna.distributions.IntDistribution(32, 96, step=16),
    }
    for width, final, state, steps in [
        (64, 0.93, "COMPLETE", 100),
        (80, 0.94, "COMPLETE", 100),
        (96, 0.92, "COMPLETE", 100),
        (48, 0.90, "PRUNED", 50),
    ]:
        study.add_trial(
            optuna.trial.create_trial(
                params={"learning_rate": 2e-3, "model.width": width},
                distributions=distributions,
                value=final if state == "COMPLETE" else None,
                intermediate_values={s: final - (100 - s) / 2000 for s in range(1, steps + 1)},
                state=getattr(optuna.trial.TrialState, state),
            )
        )
    study.set_user_attr("notes", ["Its first trials ran elsewhere."])
    page = "\n".join(search_section([], tmp_path)).split("**The study of resnet**")[1]
    assert page.startswith(" (resnet-900s): 5 trials (3 complete, 1 running, 1 pruned).")
    assert f"Each trial trains for 15 minutes on {machine}. Its first trials ran" in page
    assert "The best sampled trial (trial 2) scores 94.00% on validation." in page
    assert "of the time budgets" in page and "hand search" not in page
    assert "`fmnist search --study resnet-900s --confirm` trains its 2 best trials for 60 min" in (
        page
    )
    report = study_report("resnet", tmp_path)
    assert "recorded" not in report.text and "best validation 94.00% (trial 2)" in report.text
    labels = report.figure.axes[0].get_legend_handles_labels()[1]
    assert "sampled" in labels and not any("hand search" in label for label in labels)
    # The hand recipe, seeded into the study, stands beside the best sampled trial.
    study.add_trial(
        optuna.trial.create_trial(
            params={"learning_rate": 2e-3, "model.width": 48},
            distributions=distributions,
            value=0.935,
            intermediate_values={s: 0.935 - (100 - s) / 2000 for s in range(1, 101)},
            user_attrs={"seeded": "cosine-modern-tta"},
        )
    )
    page = "\n".join(search_section([], tmp_path)).split("**The study of resnet**")[1]
    assert (
        "Trial 5 is seeded with the hand search's recipe (cosine-modern-tta), trained under "
        "the same protocol." in page
    )
    assert (
        "The best sampled trial (trial 2) scores 94.00% on validation against 93.50% for "
        "the seeded trial 5." in page
    )
    assert "Pruning stopped 1 of the 5 trials the study trained" in page
    report = study_report("resnet", tmp_path)
    assert "(1 seeded with hand recipes)" in report.text
    assert "seeded (hand recipe)" in report.figure.axes[0].get_legend_handles_labels()[1]
    assert "seeded (cosine-modern-tta)" in set(report.best["source"])
