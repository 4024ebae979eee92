"""Records, groups, choices and verdicts: rules on small fixture records, and one
consistency check of the committed results/ as a whole."""

from __future__ import annotations

import dataclasses
import json
import math
import re

import numpy as np
import pytest

from fmnist_lib import findings, readme, records, results, selection, summaries, tables, verdict
from fmnist_lib.config import TrainConfig, profile_config
from fmnist_lib.errors import ConfigError
from fmnist_lib.experiments import EXPERIMENTS, declaration_problems, run_index
from fmnist_lib.paths import PROJECT_ROOT, RESULTS_DIR
from fmnist_lib.recipes import recipe_settings
from fmnist_lib.runs import RunError, read_json, recipe_slug, set_status, suite_run_dir
from fmnist_lib.specs import SPECS, Target

XEON = {"cpu": "Xeon", "cores": 2, "bf16": True, "gpus": [], "keras_backend": "tensorflow"}
EPYC = {**XEON, "cpu": "EPYC", "bf16": False}


def fixture(name, arch, seed, test, val=None, experiment="study", recipe="custom", **settings):
    """A schema-valid record of a run that never trained: what the tables read."""
    hardware = settings.pop("hardware", XEON)
    seconds = settings.pop("train_seconds", 1.0)
    images = settings.pop("images_seen", 100)
    config = TrainConfig(arch=arch, seed=seed, **settings).to_dict()
    metrics = {
        "arch": arch,
        "seed": seed,
        "epochs": config["epochs"] or 1,
        "images_seen": images,
        "train_seconds": seconds,
        "precision": "float32",
        "best_val_accuracy": test if val is None else val,
        "selection_val_accuracy": test if val is None else val,
        "hardware": hardware,
        "params": {"trainable": 1},
        "test": {"accuracy": test},
        "finished": "2026-12-01T00:00:00",
    }
    run = {"config": config, "history": [], "metrics": metrics}
    return records.make_record(name, experiment, recipe, run)


# --- the committed results/ as a whole --------------------------------------------


def test_committed_results_validate_and_match_their_declarations():
    from fmnist_lib.recipes import is_study_recipe
    from fmnist_lib.search.confirm import confirmation_problems

    committed = results.load_results()  # validates every record
    assert committed, "results/runs holds the reference runs"
    # A run is declared by the registry, or by the study trial it confirms.
    confirmed = [r for r in committed if is_study_recipe(r["recipe"])]
    for record in committed:
        check = confirmation_problems if record in confirmed else declaration_problems
        assert check(record) == []
    declared = set(run_index())
    assert {r["name"] for r in committed if r not in confirmed} <= declared
    # the registry's improvement is what the recipe rule chooses from the records
    for model in SPECS:
        search = selection.recipe_search(model, committed)
        if search:
            assert search["chosen"] == search["declared"], model
    fast = read_json(RESULTS_DIR / "fast-schedule" / "vgg.json")
    scores = {int(k.split()[0]): v for k, v in fast["validation_accuracy"].items()}
    assert selection.fast_schedule(scores) == fast["chosen_epochs"]


def test_readme_results_page_and_findings_match_results_dir():
    """README's section, results/README.md, docs/findings.md and docs/reference.md's
    models table are what `fmnist results readme` writes from results/."""
    assert readme.out_of_date() == [], "run `fmnist results readme`"


def test_readme_is_a_users_page():
    text = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    assert len(text.splitlines()) <= 200
    section = text.split(readme.START, 1)[1].split(readme.END, 1)[0]
    bullets = [line for line in section.splitlines() if line.startswith("* ")]
    assert 1 <= len(bullets) <= 6
    header = next(line for line in section.splitlines() if line.startswith("| model"))
    assert header.count("|") - 1 <= 7
    for command in (
        "fmnist train --arch examples/small_cnn.py:small_cnn --seeds 0 1 2 --record",
        "fmnist search --arch examples/small_cnn.py:small_cnn --trials 20",
        "fmnist run-notebooks --only 04_evaluation",
    ):
        assert f"\n{command}\n" in text, command
    # The one number the README states by hand: a user's model's budget, as trained.
    assert f"{profile_config('vgg', 'full').images_seen:,} images seen" in text
    for link in re.findall(r"\]\(((?:docs|results|figures|examples|notebooks)/[^)#]*)", text):
        assert (PROJECT_ROOT / link).exists(), link


def test_no_committed_file_holds_an_absolute_path():
    for path in [*RESULTS_DIR.rglob("*.json")]:
        assert str(PROJECT_ROOT) not in path.read_text(encoding="utf-8"), path


# --- records and groups -------------------------------------------------------------

OTHER_VALUES = {
    "arch": "arch2",
    "epochs": 3,
    "batch_size": 125,
    "optimizer": "sgd",
    "learning_rate": 0.003,
    "lr_schedule": "cosine",
    "warmup_epochs": 1.0,
    "label_smoothing": 0.1,
    "weight_decay": 0.05,
    "ema_momentum": 0.99,
    "augmentation": ("flip",),
    "cutmix": 0.5,
    "val_fraction": 0.2,
    "subset": 5000,
    "deterministic": True,
    "tta_flip": True,
    "strategy": "mirrored",
    "model_options": {"width": 64},
    "augment_strength": 1.5,
}


def test_configs_differing_in_any_single_setting_never_share_a_group():
    base = TrainConfig(epochs=2)
    metrics = {"precision": "float32", "hardware": XEON}
    key = records.record_group(base.to_dict(), metrics)
    shaping = [
        f.name for f in dataclasses.fields(TrainConfig) if f.name not in records.PER_RUN_FIELDS
    ]
    for field in shaping:
        if field in ("budget_images", "budget_seconds", "precision", "builder"):
            continue  # checked below: they replace the epochs, are read as they ran, or name arch
        changed = base.replace(**{field: OTHER_VALUES[field]}).to_dict()
        assert records.record_group(changed, metrics) != key, field
    own = TrainConfig(arch="examples/small_cnn.py:small_cnn", epochs=2).to_dict()
    assert records.record_group(own, metrics) != key
    by_images = TrainConfig(budget_images=100_000).to_dict()
    assert records.record_group(by_images, metrics) != key
    timed = TrainConfig(budget_seconds=60).to_dict()
    assert records.record_group(timed, metrics) != records.record_group(
        TrainConfig(budget_seconds=90).to_dict(), metrics
    )
    # the precision that ran, and for a time budget the machine kind, are part of it
    assert records.record_group(base.to_dict(), {**metrics, "precision": "mixed_bfloat16"}) != key
    assert records.record_group(timed, metrics) != records.record_group(
        timed, {**metrics, "hardware": EPYC}
    )
    # seeds, names and folders are not; nor a time budget's fitted epochs
    for field, value in {"seed": 7, "run_name": "x", "out_dir": "elsewhere", "verbose": 0}.items():
        assert records.record_group(base.replace(**{field: value}).to_dict(), metrics) == key
    fitted = {**timed, "epochs": 40}
    assert records.record_group(fitted, metrics) == records.record_group(timed, metrics)


def test_a_record_that_departs_from_the_schema_is_named():
    record = fixture("a0", "arch1", 0, 0.9)
    assert records.problems(record) == []
    assert "group" in records.problems({**record, "group": "0" * 16})[0]
    missing = {**record, "metrics": {k: v for k, v in record["metrics"].items() if k != "test"}}
    assert records.problems(missing) == ["metrics.test: missing"]
    assert records.problems({**record, "schema_version": 1}) == ["schema_version 1, expected 2"]
    absolute = {**record, "metrics": {**record["metrics"], "command": f"{PROJECT_ROOT}/x train"}}
    assert records.problems(absolute) == ["holds an absolute path"]
    with pytest.raises(RunError, match="a0: experiment: expected str"):
        records.validate({**record, "experiment": None})
    assert records.relative_paths({"c": f"{PROJECT_ROOT}/fmnist_lib/x.py -f /tmp/k.json"}) == {
        "c": "fmnist_lib/x.py -f k.json"
    }


def test_add_run_records_a_run_with_its_experiment(trained_run, tmp_path):
    with pytest.raises(RunError, match="not a run of a declared experiment"):
        results.add_run(trained_run, tmp_path)
    path = results.add_run(trained_run, tmp_path, experiment="tiny-study")
    record = read_json(path)
    assert record["experiment"] == "tiny-study" and record["recipe"] == "custom"
    assert record["schema_version"] == records.SCHEMA_VERSION and records.problems(record) == []
    arrays = np.load(path.with_suffix(".npz"))
    assert arrays["probs"].shape == (10000, 10) and arrays["probs"].dtype == np.float16
    assert not list(tmp_path.rglob("*.keras"))
    page = readme.results_page(tmp_path)
    assert "| arch1 " in page and "tiny-study" in page and "| Shirt " in page


def test_incomplete_runs_are_not_added(tmp_path):
    run_dir = tmp_path / "half"
    run_dir.mkdir()
    set_status(run_dir, "running")
    with pytest.raises(RunError, match="not completed"):
        results.add_run(run_dir, tmp_path / "results", experiment="x")


def test_results_readme_check_names_the_stale_file(tmp_path):
    stale = tmp_path / "project-README.md"
    stale.write_text("x\n<!-- results:start -->\nold\n<!-- results:end -->\n")
    (tmp_path / "runs").mkdir()
    generated = [stale, tmp_path / "README.md", tmp_path / "docs" / "findings.md"]
    assert readme.out_of_date(stale, tmp_path) == generated
    assert readme.update_readme(stale, tmp_path) == generated
    assert readme.out_of_date(stale, tmp_path) == []
    (tmp_path / "docs" / "findings.md").write_text("edited by hand\n")
    assert readme.out_of_date(stale, tmp_path) == [tmp_path / "docs" / "findings.md"]
    with pytest.raises(ValueError, match="results:start"):
        readme.render_readme("no markers", tmp_path)


def _reproduction(arch, tests, **settings):
    return [
        _trained(
            fixture(f"{arch}-full-s{seed}", arch, seed, test, experiment=f"{arch}-full", **settings)
        )
        for seed, test in enumerate(tests)
    ]


def _trained(record, margin=0.9):
    """A fixture record with what the findings read of a run: its kept epoch, its last
    epoch's accuracies and, for a time budget, the margin it was fitted with."""
    record["metrics"].update(
        best_epoch=1, time_budget={"margin": margin, "measured_images_per_second": 1000.0}
    )
    record["history"] = [{"epoch": 1, "accuracy": 0.99, "val_accuracy": 0.95}]
    return record


def test_a_reproduction_row_gets_no_improvement_target(tmp_path):
    """A reproduction is judged against the original, never against the target that the
    improvement aims at: in the README's headline, the results page and the findings."""
    records = _reproduction("arch1", [0.880, 0.881, 0.882], augmentation=())
    headline = readme.headline_table(records).set_index("model")
    assert headline.loc["arch1", "improvement target"] == "—"
    assert headline.loc["arch1", "reproduction"].endswith("**not matched**")
    row = next(line for line in readme._summary_lines(records, {}) if "| arch1-full " in line)
    assert "reproduction: **not matched**" in row and "≥" not in row
    assert "target" not in summaries.findings(records)
    text = findings.page(records, {}, tmp_path)
    assert "## Does the reproduction match the original?" in text
    assert "**not matched**" in text and "better recipe" not in text
    bullets = findings.abstract(records, tmp_path)
    assert len(bullets) == 1 and "0 of 1 reproductions match" in bullets[0]


def test_findings_read_the_records_they_are_given(tmp_path):
    """Every section of the findings appears only with the records it reads, and its
    numbers follow the records."""
    assert findings.page([], {}, tmp_path).startswith("# Findings")
    assert findings.abstract([], tmp_path) == []
    repro = _reproduction("vgg", [0.935, 0.936, 0.934])
    hour = [
        _trained(
            fixture(
                f"r{s}",
                "resnet",
                s,
                0.950 + s / 1000,
                experiment="resnet-1h",
                recipe="cosine-modern-tta",
                budget_seconds=3600,
                train_seconds=3000,
            )
        )
        for s in range(3)
    ]
    text = findings.page(repro + hour, {}, tmp_path)
    assert "95.10% ± 0.10 (3)" in text and "**missed**" in text
    assert "## What does this project's own model reach in its hour?" in text
    assert "0 of the 3 timed runs overran" in text
    bullets = findings.abstract(repro + hour, tmp_path)
    assert len(bullets) == 2 and "scores 95.10% ± 0.10 (3)" in bullets[1]
    # resnet's curve by images seen is its hand recipe's: a study's trial trains another.
    searched = _trained(
        fixture(
            "resnet-900s-t5-3600s-s0",
            "resnet",
            0,
            0.97,
            experiment="resnet-900s-t5-3600s",
            recipe="search:resnet-900s#5",
            budget_seconds=3600,
            train_seconds=3000,
            images_seen=200,
            label_smoothing=0.17,
        )
    )
    text = findings.page(repro + hour + [searched], {}, tmp_path)
    curve = next(line for line in text.splitlines() if line.startswith("resnet with its own"))
    assert "(resnet-1h)" in curve and "resnet-900s" not in curve


# --- choices on validation ---------------------------------------------------------


def test_choices_follow_validation_never_test():
    runs = [
        fixture("a0", "arch1", 0, 0.90, val=0.91),
        fixture("a1", "arch1", 1, 0.98, val=0.90),  # the luckiest test score
        fixture("b0", "arch1", 0, 0.95, val=0.89, batch_size=32),
    ]
    assert results.representatives(runs)["arch1"]["name"] == "a0"
    assert results.best_record(runs)["name"] == "a0"
    table = results.summary(runs).set_index("recipe")
    assert table.loc["adam, constant lr, rotate+flip", "seeds"] == 2
    assert math.isclose(table.loc["adam, constant lr, rotate+flip", "val_mean"], 0.905)


def test_a_mean_over_fewer_seeds_does_not_outrank_a_full_one():
    full = [fixture(f"f{s}", "vgg", s, 0.93, val=0.94) for s in range(3)]
    lucky = fixture("l0", "vgg", 0, 0.90, val=0.99, batch_size=32)
    assert results.representatives([*full, lucky])["vgg"]["name"] == "f0"
    assert results.representatives([lucky])["vgg"]["name"] == "l0"


def test_the_recipe_rule_keeps_the_first_of_equals_and_the_fast_schedule_the_shortest():
    assert selection.choose_recipe([("a", 0.9), ("b", 0.95), ("c", 0.95)]) == "b"
    assert selection.choose_recipe([("a", 0.9)]) == "a"
    with pytest.raises(ValueError):
        selection.choose_recipe([])
    assert selection.fast_schedule({3: 0.90, 6: 0.95, 14: 0.96}) == 6
    assert selection.fast_schedule({3: 0.90, 6: 0.93, 14: 0.93}) == 6  # none reaches: best
    assert selection.fast_schedule({3: 0.95, 4: 0.96}, threshold=0.94) == 3


def test_recipe_search_reads_the_registrys_candidates_in_order():
    def seed0(exp_id, val):
        e = EXPERIMENTS[exp_id]
        return fixture(e.run_id(0), e.model, 0, 0.9, val=val, experiment=e.id, recipe=e.recipe)

    runs = [seed0("arch1-cosine", 0.93), seed0("arch1-cosine-b32", 0.93)]
    search = selection.recipe_search("arch1", runs)
    assert search["chosen"] == "cosine" and search["declared"] == "cosine-b32"
    assert selection.recipe_search("arch1", []) is None


def test_time_budget_groups_span_seeds_with_different_epochs_on_one_machine_kind():
    hour = [
        fixture(f"h{s}", "resnet", s, 0.94, budget_seconds=3600, epochs=80 + s) for s in range(2)
    ]
    other = fixture("e0", "resnet", 0, 0.95, budget_seconds=3600, epochs=90, hardware=EPYC)
    table = tables.time_budget_runs([*hour, other])
    assert sorted(table["seeds"]) == [1, 2] and len(table) == 2
    histories = tables.time_budget_histories([*hour, other])
    assert len(histories) == 2


# --- verdicts ------------------------------------------------------------------------


def test_spread_is_computed_in_one_place():
    result = verdict.spread([0.90, 0.92, 0.94])
    assert math.isclose(result.mean, 0.92) and math.isclose(result.sd, 0.02)
    assert result.describe() == "92.00% ± 2.00 (3)"
    assert verdict.spread([0.9]).describe() == "90.00% (1)" and verdict.spread([]).n == 0


def test_target_verdicts_met_missed_open_and_gpu():
    target = Target(0.95)
    assert verdict.target_verdict(target, verdict.spread([0.96] * 3)).state == verdict.MET
    assert verdict.target_verdict(target, verdict.spread([0.94] * 3)).state == verdict.MISSED
    opened = verdict.target_verdict(target, verdict.spread([0.99]))
    assert opened.state == verdict.OPEN and "open (1 of 3 seeds)" in opened.text
    hour = Target(0.95, max_train_seconds=3600)
    assert verdict.target_verdict(hour, verdict.spread([0.96] * 3), 4000).state == "missed"
    assert verdict.target_verdict(hour, verdict.spread([0.96] * 3), 3500).state == "met"
    on_gpu = verdict.target_verdict(hour, verdict.spread([0.96] * 3), 100, on_gpu=True)
    assert on_gpu.state == verdict.NOT_APPLICABLE


def test_a_reproduction_matches_within_the_spread_across_machines():
    tight = verdict.spread([0.9080, 0.9081, 0.9082])  # seeds far closer than machines differ
    match = verdict.reproduction_match(0.9092, tight, ["AMD EPYC"])
    assert match.matched and "AMD EPYC" in match.text
    assert not verdict.reproduction_match(0.9200, tight, ["AMD EPYC"]).matched


def test_findings_and_tables_read_one_verdict():
    own = [fixture("r0", "resnet96", 0, 0.96, budget_seconds=900, train_seconds=900)]
    text = summaries.findings(own)
    assert "open (1 of 3 seeds)" in text and "missed" not in text
    headline = tables.headline(own)
    assert headline.loc["resnet96", "verdict"] == verdict.OPEN


# --- the evaluation's tables: one seed's images with its epochs, users' models -------


def test_the_headline_reads_images_and_epochs_from_one_seed():
    hour = [
        fixture(f"h{s}", "resnet", s, 0.94, budget_seconds=3600, epochs=e, images_seen=n)
        for s, e, n in ((0, 109, 5_886_000), (1, 102, 5_508_000), (2, 104, 5_616_000))
    ]
    row = tables.headline(hour).loc["resnet"]
    assert (row["images seen"], row["epochs"]) == (5_508_000, 102)
    assert tables.fewest_images(hour) == (5_508_000, 102)
    assert tables.headline_view(hour).loc["resnet", "images seen (epochs)"] == "5,508,000 (102)"


def test_a_reproduction_alone_gets_no_target():
    runs = [
        fixture(f"a{s}", "arch1", s, 0.908, experiment="arch1-full", recipe="original-noaug")
        for s in range(3)
    ]
    row = tables.headline(runs).loc["arch1"]
    assert row["reproduction seeds"] == 3 and row["target"] == "" and row["verdict"] == ""
    view = tables.headline_view(runs).loc["arch1"]
    assert view["target"] == "—" and view["reproduction"].endswith("matched")


@pytest.fixture
def user_runs(tmp_path):
    """Records of a user's model the registry does not know, beside a reference model's,
    with test predictions in a results folder of their own."""
    builder = "my_models.py:mynet"
    runs = [fixture(f"mynet-s{s}", "mynet", s, 0.93 + s / 100, builder=builder) for s in range(2)]
    SPECS.pop("mynet")  # registered while the config was checked; unknown from here on
    runs.append(fixture("ref-s0", "arch1", 0, 0.90))
    y_true = np.arange(100) % 10
    for i, record in enumerate(runs):
        probs = np.eye(10)[np.where(np.arange(100) < 80 + 5 * i, y_true, (y_true + 1) % 10)]
        folder = tmp_path / "runs"
        folder.mkdir(exist_ok=True)
        np.savez(folder / f"{record['name']}.npz", probs=probs.astype(np.float16), y_true=y_true)
    return runs, tmp_path


def test_a_users_model_stands_beside_the_references(user_runs):
    runs, results_dir = user_runs
    assert tables.models_shown(runs) == ["arch1", "mynet"]
    headline = tables.headline(runs)
    assert headline.loc["mynet", "role"] == "user" and headline.loc["mynet", "target"] == ""
    assert headline.loc["mynet", "improvement seeds"] == 2
    view = tables.headline_view(runs)
    assert "nan" not in view.to_string().lower() and view.loc["mynet", "role"] == "user"
    mcnemar = tables.mcnemar_comparisons(runs, {}, results_dir)
    (row,) = mcnemar.to_dict("records")
    assert row["model A"] == "mynet · custom" and row["model B"] == "arch1 · custom"
    assert row["run A"] == "mynet-s1" and "p (Holm)" in row  # the seed best on validation
    assert list(tables.mcnemar_view(mcnemar)["model A"]) == ["mynet · custom"]
    assert "mynet · custom" in tables.calibration_runs(runs, {})
    robust = {"name": "mynet-s1", "arch": "mynet", "clean_accuracy": 0.9}
    assert list(tables.robustness_shown([robust], runs, {})) == ["mynet · custom"]
    assert "mynet" in tables.recipe_curves(runs)


def test_the_evaluations_views_of_the_committed_results_read_at_a_glance():
    committed = results.load_results()
    searches = results.recipe_searches(records=committed)
    for view in (
        tables.headline_view(committed),
        tables.groups_view(committed),
        tables.longer_view(committed),
        tables.mcnemar_view(tables.mcnemar_comparisons(committed, searches)),
    ):
        assert len(view) <= 22
        text = view.to_string()
        assert "nan" not in text.lower() and "**" not in text
    resnet96 = tables.headline_view(committed).loc["resnet96", "target"]
    assert resnet96.endswith("open (1 of 3 seeds)")
    # the chosen recipe's seed stands for an architecture with a recipe search
    standing = tables.standing_runs(committed, searches)
    assert standing["vgg"]["recipe"] == searches["vgg"]["chosen"]


def test_a_study_recipe_links_to_the_search_findings_not_the_recipe_table():
    from fmnist_lib.recipes import study_recipe, study_trial

    name = study_recipe("resnet-900s", 12)
    assert study_trial(name) == ("resnet-900s", 12)
    with pytest.raises(ValueError, match="not a study recipe"):
        study_trial("cosine-flip-ls")
    hour = [
        fixture(
            f"resnet-900s-t12-3600s-s{s}",
            "resnet",
            s,
            0.955,
            experiment="resnet-900s-t12-3600s",
            recipe=name,
            budget_seconds=3600,
            train_seconds=3500,
            epochs=90,
            model_options={"width": 64, "blocks": 2},
        )
        for s in range(3)
    ]
    cell = readme.headline_table(hour).set_index("model").loc["resnet", "improvement: recipe"]
    target = f"docs/findings.md#{findings.anchor(findings.SEARCH_TITLE)}"
    assert cell == f"[{name}]({target})"
    # The anchor is the one GitHub gives the committed page's heading.
    page = (PROJECT_ROOT / "docs" / "findings.md").read_text(encoding="utf-8")
    assert f"## {findings.SEARCH_TITLE}\n" in page
    assert findings.anchor(findings.SEARCH_TITLE) == "what-does-the-search-on-optuna-add"


def test_a_confirmed_study_trial_replaces_the_improvement_only_by_beating_it_on_validation(
    tmp_path,
):
    from fmnist_lib.experiments import IMPROVEMENT
    from fmnist_lib.recipes import study_recipe

    declared = next(e for e in EXPERIMENTS.values() if e.model == "vgg" and e.role == IMPROVEMENT)
    images = 1_458_000
    name = study_recipe("vgg-1440000img", 40)

    def runs_with_trial(val0, seeds=3, images_seen=images):
        return [
            fixture(
                declared.run_id(s),
                "vgg",
                s,
                0.94,
                val=0.95,
                experiment=declared.id,
                recipe=declared.recipe,
                images_seen=images,
            )
            for s in range(3)
        ] + [
            fixture(
                f"vgg-1440000img-t40-s{s}",
                "vgg",
                s,
                0.90,
                val=val0 if s == 0 else 0.5,
                experiment="vgg-1440000img-t40",
                recipe=name,
                images_seen=images_seen,
                batch_size=128,
            )
            for s in range(seeds)
        ]

    def improvement(*args, **kwargs):
        return tables.improvement_runs(runs_with_trial(*args, **kwargs), "vgg")

    label, runs = improvement(0.951)
    assert label == name and len(runs) == 3
    # Chosen on seed 0's validation accuracy, never on the test set (0.90 here).
    assert improvement(0.949)[0] == declared.recipe
    assert improvement(0.951, seeds=2)[0] == declared.recipe  # not yet confirmed
    assert improvement(0.951, images_seen=700_000)[0] == declared.recipe  # another budget
    # The recipe search chooses it too, so every view of the model reads the same runs.
    recorded = runs_with_trial(0.951)
    search = results.recipe_searches(records=recorded)["vgg"]
    assert search["chosen"] == name and search["runs"][name] == "vgg-1440000img-t40-s0"
    assert search["confirm_runs"] == ["vgg-1440000img-t40-s1", "vgg-1440000img-t40-s2"]
    assert "beat " + declared.recipe in search["rule"]
    assert tables.standing_runs(recorded, {"vgg": search})["vgg"]["name"] == (
        "vgg-1440000img-t40-s0"
    )
    assert results.recipe_searches(records=runs_with_trial(0.949))["vgg"]["chosen"] == (
        declared.recipe
    )
    # Its kind in the time figure follows from its name, read from no results directory.
    kinds = tables.time_accuracy_runs(recorded, {"vgg": search}).set_index("name")["kind"]
    assert kinds["vgg-1440000img-t40-s0"] == "chosen recipe"
    assert kinds[declared.run_id(0)] == "other candidate"
    # Its settings are read from its records, so a notebook trains it by name.
    with pytest.raises(ConfigError, match="--study vgg-1440000img --confirm"):
        recipe_settings(name, tmp_path)
    (tmp_path / "runs").mkdir()
    for record in recorded:
        (tmp_path / "runs" / f"{record['name']}.json").write_text(json.dumps(record))
    assert recipe_settings(name, tmp_path)["batch_size"] == 128
    assert recipe_settings(name, tmp_path)["augmentation"] == TrainConfig().augmentation
    # The notebooks keep its run under a name a shell need not quote.
    assert suite_run_dir("runs", "full", "vgg", name).name == "vgg-search-vgg-1440000img-t40-s0"


def test_a_recipe_names_the_network_size_a_study_chose():
    from fmnist_lib.results import recipe

    config = {"arch": "resnet", "model_options": {"width": 80, "blocks": 3}, "cutmix": 0.5}
    assert recipe(config).startswith("network blocks 3, width 80, adam, constant lr")
    assert "CutMix 0.5" in recipe(config)
    assert not recipe({"arch": "resnet"}).startswith("network")  # the model's own size


def test_result_files_have_names_every_file_system_accepts(tmp_path):
    """A study's trial recipe (``search:<study>#<N>``) names suite runs and their
    robustness records through ``recipe_slug``: ':' cannot be checked out on Windows."""
    assert recipe_slug("search:vgg-1440000img#48") == "search-vgg-1440000img-t48"
    assert recipe_slug(None) == "original" and recipe_slug("cosine-b32") == "cosine-b32"
    run = suite_run_dir(tmp_path, "full", "vgg", "search:vgg-1440000img#48", 1)
    assert run.name == "vgg-search-vgg-1440000img-t48-s1"
    odd = [p for p in RESULTS_DIR.rglob("*") if not re.fullmatch(r"[A-Za-z0-9._+-]+", p.name)]
    assert odd == []


def test_the_suite_sentence_says_whether_the_suite_trained_its_runs(tmp_path):
    """A full suite run over runs already trained took minutes, not the hour of
    training: the findings say which it was, from the suite record."""
    from fmnist_lib.findings import suite_sentence
    from fmnist_lib.runs import write_json

    run = {"profile": "full", "wall_seconds": 480, "executed": ["00_explore", "01_arch1"]}
    run |= {"skipped": [], "git_commit": "c" * 40}
    run["machine"] = {"cpu": "AMD EPYC", "cores": 2, "bf16": True}
    cases = {
        (6, 6): "ran in 8 min on AMD EPYC, 2 cores, with native bf16 (code at cccccccccccc), "
        "71 min of it training its 6 runs.",
        (6, 0): "on its 6 training runs already complete (their training took 71 min): "
        "the notebooks' own analysis only.",
        (6, 2): "training 2 of its 6 runs (all 6 took 71 min to train).",
    }
    for (runs, trained), words in cases.items():
        run["training"] = {"runs": runs, "trained": trained, "train_seconds": 4260.0}
        write_json(tmp_path / "suite" / "full.json", {"notebooks": {}, "last_run": run})
        assert suite_sentence(tmp_path).endswith(words)
    del run["training"]  # a record from before the suite counted its training
    write_json(tmp_path / "suite" / "full.json", {"notebooks": {}, "last_run": run})
    assert suite_sentence(tmp_path).endswith("(code at cccccccccccc).")


def test_a_suite_robustness_record_of_a_study_trial_is_shown_under_its_recipe():
    """The record's file name carries the recipe's slug; the label comes from the recipe
    the record names, so the standing recipe's robustness is shown."""
    records = results.load_results()
    searches = results.recipe_searches(records=records)
    standing = tables.standing_runs(records, searches)["vgg"]["recipe"]
    assert standing.startswith("search:")  # a trial of VGG's study stands for it
    record = {"name": f"vgg-{recipe_slug(standing)}-suite-full", "arch": "vgg"}
    shown = tables.robustness_shown([record | {"recipe": standing}], records, searches)
    assert list(shown) == [f"vgg · {standing}"]
    original = {"name": "vgg-original-suite-full", "arch": "vgg"}  # named by its file only
    assert list(tables.robustness_shown([original], records, searches)) == ["vgg · original"]
