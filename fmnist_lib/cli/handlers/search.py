"""Runs `fmnist search`."""

from __future__ import annotations

from pathlib import Path

from ...errors import UsageError
from ...experiments import Budget
from ...paths import RESULTS_DIR
from ...results import load_results
from ...runs import write_json
from ...search.confirm import confirm
from ...search.pruning import choose_pruner, compare_pruners, curves_from_records, pruner_table
from ...search.studies import STUDIES, declared
from ...search.study import SEARCH_DIR, make_plan, matching_records, run_search


def parse_budget(text: str | None, epochs: int | None, flag: str = "--budget") -> Budget | None:
    """``images:N``, ``epochs:N`` or ``seconds:N`` as a Budget (``--epochs N`` is epochs:N)."""
    if text is None:
        return None if epochs is None else Budget(epochs=epochs)
    if epochs is not None:
        raise UsageError(f"{flag} and --epochs are two budgets; give one of them")
    kind, _, value = text.partition(":")
    kinds = {"images": int, "epochs": int, "seconds": float}
    try:
        budget = Budget(**{kind: kinds[kind](value)})
    except (KeyError, ValueError):
        raise UsageError(f"{flag} {text!r}: expected images:N, epochs:N or seconds:N") from None
    if min(v for v in (budget.images, budget.epochs, budget.seconds) if v is not None) <= 0:
        raise UsageError(f"{flag} {text!r}: the budget must be positive")
    return budget


def _declared_settings(args) -> tuple[str, int, Budget | None]:
    """(arch, trials, budget): the flags, or what the study named by --study declares."""
    study = declared(args.study)
    budget = parse_budget(args.budget, args.epochs)
    if study is None:
        missing = [
            flag
            for flag, value in (("--arch", args.arch), ("--trials", args.trials))
            if value is None
        ]
        if missing:
            raise UsageError(
                f"{' and '.join(missing)} required, unless --study names a declared study "
                f"({', '.join(STUDIES)})"
            )
        return args.arch, args.trials, budget
    if args.arch not in (None, study.model):
        raise UsageError(f"--study {study.name} is a study of {study.model}, not {args.arch}")
    return study.model, args.trials or study.trials, budget or study.budget


def search_command(args) -> int:
    arch, trials, budget = _declared_settings(args)
    confirm_budget, confirm_top = _confirm_settings(args)  # checked before anything trains
    options = {"verbose": not args.quiet, "sampler_seed": args.seed}
    if args.pruner:
        options["pruner"] = args.pruner
    if args.runs_dir:
        options["runs_dir"] = Path(args.runs_dir)
    if args.heartbeat:
        options["heartbeat"] = tuple(args.heartbeat)
    if args.timeout is not None:
        options["timeout"] = args.timeout
    study = declared(args.study)
    if study is not None:
        options["seed_trials"] = study.seed_trials
    plan = make_plan(
        arch,
        trials,
        budget=budget,
        subset=args.subset,
        storage=args.storage,
        study=args.study,
        **options,
    )
    results_dir = Path(args.results_dir) if args.results_dir else RESULTS_DIR
    records = load_results(results_dir)
    if args.compare_pruners:
        curves = curves_from_records(r for r, _ in matching_records(plan, records, any_seed=True))
        rows = compare_pruners(curves)
        chosen = choose_pruner(rows)
        path = SEARCH_DIR / f"pruners-{plan.study_name}.json"
        write_json(path, {"study": plan.study_name, "rows": rows, "chosen": chosen})
        print(pruner_table(rows))
        print(f"chosen: {chosen}; written: {path}")
        return 0
    run_search(plan, records)
    if args.confirm:
        for path in confirm(plan, results_dir, budget=confirm_budget, top=confirm_top):
            print(f"Recorded: {path}")
    return 0


def _confirm_settings(args) -> tuple[Budget | None, int]:
    """(budget, top) of --confirm: the flags, else what a declared study says."""
    study = declared(args.study)
    budget = parse_budget(args.confirm_budget, None, flag="--confirm-budget")
    if budget is None and study is not None:
        budget = study.confirm_budget
    top = args.confirm_top or (study.confirm_top if study is not None else 1)
    if (args.confirm_budget or args.confirm_top) and not args.confirm:
        raise UsageError("--confirm-budget and --confirm-top go with --confirm")
    if top < 1:
        raise UsageError(f"--confirm-top {top}: must be at least 1")
    if top > 1 and budget is None:
        raise UsageError("--confirm-top above 1 needs --confirm-budget (another budget)")
    return budget, top
