"""The `fmnist` command: every subcommand is registered here; each handler builds
its inputs and calls the module that does the work.

Exit status: 0 success, 1 runtime failure (clear message), 2 usage error.
Nothing heavy is imported before a handler runs, so `fmnist --help` and
`fmnist COMMAND --help` load neither TensorFlow nor Keras.
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
from pathlib import Path

from .config import PROFILES
from .errors import ConfigError, DataError, NotebookError, RunError, TrainingError, UsageError
from .paths import PROJECT_ROOT
from .recipes import RECIPES

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # keep TensorFlow's C++ chatter off the CLI


def _add_train(sub):
    p = sub.add_parser(
        "train",
        help="train a model and evaluate it on the test set",
        description="Train one architecture, pick the checkpoint with the best validation "
        "loss, evaluate it once on the 10,000 test images, and write a run directory "
        "(model.keras, history.json, metrics.json, config.json, TensorBoard logs).",
    )
    p.add_argument(
        "--arch",
        default=None,
        help="model name: arch1, arch2, vgg (the original's) or resnet, resnet64, resnet96 "
        "(ours); default vgg",
    )
    p.add_argument(
        "--profile",
        choices=PROFILES,
        default=None,
        help="start from a profile: full = the original's budget of images seen "
        "(resnet and its wider versions: the one-hour budget and their own recipe), "
        "smoke = 2,000 images for 1 epoch; other options override it",
    )
    p.add_argument(
        "--recipe",
        help=f"a named training recipe (fmnist_lib/recipes.py: {', '.join(RECIPES)}); "
        "the options below override it",
    )
    p.add_argument("--epochs", type=int, help="epochs (default 10, or from --budget-images)")
    p.add_argument(
        "--budget-images",
        type=int,
        help="images seen in training; sets the epochs for the training split",
    )
    p.add_argument(
        "--budget-seconds",
        type=float,
        help="seconds of training: the epochs are fitted to the rate measured on this "
        "machine when training starts (instead of --epochs or --budget-images)",
    )
    p.add_argument("--batch-size", type=int, help="batch size (default 250, as the original)")
    p.add_argument("--optimizer", help="adam (default), rmsprop or sgd")
    p.add_argument(
        "--lr",
        type=float,
        dest="learning_rate",
        help="learning rate (default: adam 1e-3, rmsprop 5e-4, sgd 0.05)",
    )
    p.add_argument("--lr-schedule", help="constant (default) or cosine")
    p.add_argument("--warmup-epochs", type=float, help="linear warm-up length for cosine")
    p.add_argument("--label-smoothing", type=float, help="label smoothing in [0, 0.5]")
    p.add_argument(
        "--weight-decay",
        type=float,
        help="decoupled weight decay in [0, 1] on the kernels (default 0: none)",
    )
    p.add_argument(
        "--ema-momentum",
        type=float,
        help="validate, checkpoint and test a moving average of the weights with this "
        "momentum in (0, 1), e.g. 0.998 (default: none)",
    )
    p.add_argument(
        "--augment",
        dest="augmentation",
        help="comma-separated augmentations from rotate, flip, translate, erase, "
        "or none (default rotate,flip as the original)",
    )
    p.add_argument(
        "--cutmix",
        type=float,
        help="share in [0, 1] of training images given a patch of another image of their "
        "batch, labels mixed by area (CutMix; default 0: none)",
    )
    p.add_argument(
        "--val-fraction",
        type=float,
        help="validation share of the training images, in (0, 0.5] (default 0.1)",
    )
    p.add_argument("--seed", type=int, help="random seed (default 0)")
    p.add_argument(
        "--subset", type=int, help="use a stratified subset of N training images (quick runs)"
    )
    p.add_argument("--precision", help="auto (default), float32, mixed_bfloat16, mixed_float16")
    p.add_argument(
        "--deterministic",
        action="store_true",
        default=None,
        help="turn on TensorFlow op determinism (slower, bit-reproducible)",
    )
    p.add_argument(
        "--tta-flip",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="average the test predictions over each image and its mirror "
        "(default: on with --profile for the resnets, off otherwise)",
    )
    p.add_argument("--strategy", help="tf.distribute strategy: default, mirrored, multiworker")
    p.add_argument("--out", dest="out_dir", help="folder for run directories (default runs/)")
    p.add_argument("--run-name", help="run directory name (default ARCH-sSEED-TIMESTAMP)")
    p.add_argument("--data-dir", help="folder with the four Fashion-MNIST .gz files")
    p.add_argument("--quiet", action="store_true", help="no progress bar or messages")
    p.add_argument(
        "--resume",
        metavar="DIR",
        help="continue the interrupted run in DIR from its last completed epoch",
    )
    p.set_defaults(handler=_train)


def _train(args) -> int:
    import dataclasses

    from .config import TrainConfig, profile_config
    from .runs import read_json
    from .training import summarize_run, train

    settings = {
        f.name: getattr(args, f.name)
        for f in dataclasses.fields(TrainConfig)
        if getattr(args, f.name, None) is not None
    }
    if args.recipe:
        from .recipes import recipe_settings

        settings = {**recipe_settings(args.recipe), **settings}
    if args.quiet:
        settings["verbose"] = 0
    if args.resume:
        run_dir = Path(args.resume)
        if not (run_dir / "config.json").exists():
            raise UsageError(f"--resume {run_dir}: no run there (config.json missing)")
        if args.recipe or set(settings) - {"verbose"}:
            raise UsageError("--resume takes no other training options: the run keeps its own")
        saved = read_json(run_dir / "config.json")
        config = TrainConfig.from_dict({**saved, "verbose": settings.get("verbose", 1)})
        run_dir = train(config, run_dir=run_dir, resume=True)
    else:
        if args.profile:
            if args.profile != "smoke":
                # The profiles' compact epoch lines are for notebooks; a terminal keeps its bar.
                settings.setdefault("verbose", 1)
            config = profile_config(settings.pop("arch", "vgg"), args.profile, **settings)
        else:
            config = TrainConfig.from_dict(settings)
        run_dir = train(config)
    if not args.quiet:
        from .metrics import format_report
        from .runs import load_run

        print(format_report(load_run(run_dir)["metrics"]["test"]))
        print(f"Run directory: {run_dir}")
        print(summarize_run(run_dir))
    return 0


def _add_evaluate(sub):
    p = sub.add_parser(
        "evaluate",
        help="test accuracy and per-class report of a saved model",
        description="Evaluate a saved model on the 10,000 Fashion-MNIST test images.",
    )
    p.add_argument("--model", required=True, help="a model.keras file or a run directory")
    p.add_argument("--data-dir", help="folder with the four Fashion-MNIST .gz files")
    p.set_defaults(handler=_evaluate)


def _evaluate(args) -> int:
    from .data import load_fashion_mnist, to_model_input
    from .metrics import evaluate_probabilities, format_report
    from .runs import load_trained_model
    from .training import predict_probabilities

    model, tta_flip = load_trained_model(args.model)
    _, (x_test, y_test) = load_fashion_mnist(args.data_dir)
    probs = predict_probabilities(model, to_model_input(x_test), tta_flip=tta_flip)
    print(format_report(evaluate_probabilities(y_test, probs)))
    return 0


def _add_predict(sub):
    p = sub.add_parser(
        "predict",
        help="classify image files (top-3 classes each)",
        description="Classify image files of any size and colour: each is read with "
        "scikit-image, turned grayscale, resized to 28x28 and inverted when its background "
        "is light. Prints the top classes with probabilities; exits 1 if any file failed.",
    )
    p.add_argument("--model", required=True, help="a model.keras file or a run directory")
    p.add_argument("images", nargs="+", metavar="IMAGE", help="image files (PNG, JPEG, ...)")
    p.add_argument("--top", type=int, default=3, help="how many classes to show (default 3)")
    p.set_defaults(handler=_predict)


def _predict(args) -> int:
    from .predict import predict_files
    from .runs import load_trained_model

    if not 1 <= args.top <= 10:
        raise UsageError(f"--top: {args.top} is out of range; it must be between 1 and 10")
    model, tta_flip = load_trained_model(args.model)
    failed = 0
    for result in predict_files(model, args.images, top=args.top, tta_flip=tta_flip):
        if result.error:
            failed += 1
            print(f"{result.path}: ERROR {result.error}", file=sys.stderr)
        else:
            ranked = ", ".join(f"{name} {p:.3f}" for name, p in result.top)
            print(f"{result.path}: {ranked}")
    if failed:
        print(
            f"fmnist: {failed} of {len(args.images)} file(s) could not be classified",
            file=sys.stderr,
        )
    return 1 if failed else 0


def _add_baselines(sub):
    p = sub.add_parser(
        "baselines",
        help="classical scikit-learn baselines on the test set",
        description="Logistic regression and a random forest on all 60,000 training images, "
        "an RBF SVM (C=10) on a stratified 10,000-image subset; each evaluated on the 10,000 "
        "test images. Writes one JSON file.",
    )
    p.add_argument(
        "--only",
        nargs="+",
        metavar="NAME",
        help="logistic_regression, random_forest, svc_rbf_c10 (default all)",
    )
    p.add_argument("--train-size", type=int, help="training images for every model (quick runs)")
    p.add_argument("--out", default="results/baselines.json", help="output JSON file")
    p.set_defaults(handler=_baselines)


def _baselines(args) -> int:
    from .baselines import BASELINES, run_baselines
    from .runs import write_json

    unknown = sorted(set(args.only or []) - set(BASELINES))
    if unknown:
        raise UsageError(f"--only: unknown baseline(s) {unknown}; valid: {sorted(BASELINES)}")
    if args.train_size is not None and not 100 <= args.train_size <= 60000:
        raise UsageError(f"--train-size: {args.train_size} is out of range (100 to 60,000)")
    results = run_baselines(args.only, args.train_size)
    write_json(args.out, results)
    for name, record in results.items():
        print(
            f"{name:<20} test accuracy {record['test']['accuracy']:.4f} "
            f"({record['train_size']:,} training images, fit {record['fit_seconds']:.0f} s)"
        )
    print(f"Wrote {args.out}")
    return 0


def _add_results(sub):
    p = sub.add_parser(
        "results",
        help="copy finished runs into results/ and regenerate the README tables",
        description="`add RUN_DIR...` copies completed runs (config, history, metrics, test "
        "probabilities; never weights) into results/runs/. `embed RUN_DIR` writes a t-SNE map "
        "of the run's penultimate features on the test set to results/embeddings/. `readme` "
        "regenerates the README's results section (the headline) and results/README.md (all "
        "runs) from results/; with --check it only says whether both are up to date.",
    )
    p.add_argument("action", choices=["add", "embed", "readme"])
    p.add_argument("runs", nargs="*", metavar="RUN_DIR", help="run directories (add, embed)")
    p.add_argument("--check", action="store_true", help="readme: exit 1 if it is out of date")
    p.add_argument(
        "--size",
        type=int,
        help="embed: a stratified sample of this many test images (default all 10,000)",
    )
    p.add_argument("--seed", type=int, default=0, help="embed: t-SNE and sampling seed")
    p.add_argument(
        "--name", help="add: the record's name (one run only; default: the run directory's name)"
    )
    p.set_defaults(handler=_results)


def _results(args) -> int:
    from . import readme, results

    if args.action == "add":
        if not args.runs:
            raise UsageError("results add: name at least one run directory")
        if args.name and len(args.runs) > 1:
            raise UsageError("results add: --name takes a single run directory")
        for run_dir in args.runs:
            print(f"added {results.add_run(run_dir, name=args.name)}")
        return 0
    if args.action == "embed":
        from .embedding import embed_run

        if not args.runs:
            raise UsageError("results embed: name at least one run directory")
        if args.size is not None and args.size < 100:
            raise UsageError(f"--size: expected at least 100 test images, got {args.size}")
        for run_dir in args.runs:
            target = results.embedding_path(Path(run_dir).name)
            print(f"t-SNE of {run_dir} ({args.size or 10_000:,} test images)...", flush=True)
            print(f"wrote {embed_run(run_dir, target, size=args.size, seed=args.seed)}")
        return 0
    if args.runs:
        raise UsageError("results readme takes no run directories")
    readme_path = PROJECT_ROOT / "README.md"
    if args.check:
        stale = readme.out_of_date(readme_path)
        for path in stale:
            print(f"{path.name} in {path.parent.name}/ is out of date: run `fmnist results readme`")
        if stale:
            return 1
        print("README results section and results/README.md match results/")
        return 0
    changed = readme.update_readme(readme_path)
    for path in changed:
        print(f"updated {path}")
    if not changed:
        print("README results section and results/README.md already up to date")
    return 0


def _add_run_notebooks(sub):
    p = sub.add_parser(
        "run-notebooks",
        help="execute the notebook suite in order (papermill)",
        description="Execute notebooks/ in name order with papermill (kernel python3, run "
        "from the notebooks folder), injecting PROFILE and RUNS_DIR. Executed copies go to "
        "--out; the sources stay untouched unless --in-place. Notebooks already executed "
        "for the profile, with complete training runs, are skipped unless --force. A "
        "failing notebook stops the batch (exit 1) and keeps its partial executed copy.",
    )
    p.add_argument(
        "--profile",
        choices=PROFILES,
        default="smoke",
        help="smoke (default): 2,000 images for 1 epoch per model, minutes in all; "
        "full: the original's training budget, hours on a CPU",
    )
    p.add_argument(
        "--only",
        nargs="+",
        action="extend",
        metavar="NAME",
        help="run only these notebooks (e.g. 00_explore 04_evaluation), in suite order",
    )
    p.add_argument(
        "--out",
        metavar="DIR",
        help="folder for executed copies and executed.json (default runs/notebooks/PROFILE)",
    )
    p.add_argument(
        "--runs-dir",
        metavar="DIR",
        help="folder of training runs, injected as RUNS_DIR (default: the notebooks' ../runs)",
    )
    p.add_argument(
        "--in-place",
        action="store_true",
        help="also write each executed notebook back over its source, cleaned for "
        "committing (no injected-parameters cell, no papermill metadata)",
    )
    p.add_argument("--force", action="store_true", help="rerun notebooks even if up to date")
    p.add_argument(
        "--no-estimate",
        action="store_true",
        help="full profile: skip the short speed measurement that estimates the training time",
    )
    p.add_argument(
        "-p",
        "--parameter",
        dest="parameters",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="another notebook parameter, e.g. -p SEED=1; it must exist in the "
        "parameters cell of every notebook run",
    )
    p.add_argument(
        "--notebooks-dir", metavar="DIR", help="run the notebooks of this folder instead"
    )
    p.add_argument("--dry-run", action="store_true", help="say what would run and why; run nothing")
    p.set_defaults(handler=_run_notebooks)


def _run_notebooks(args: argparse.Namespace) -> int:
    from .notebooks import parse_parameter, run_suite

    extra = dict(parse_parameter(text) for text in args.parameters)
    run_suite(
        profile=args.profile,
        only=args.only,
        out_dir=args.out,
        runs_dir=args.runs_dir,
        in_place=args.in_place,
        force=args.force,
        parameters=extra,
        notebooks_dir=args.notebooks_dir,
        dry_run=args.dry_run,
        progress=True,
        estimate=args.profile == "full" and not args.no_estimate,
    )
    return 0


def _add_robustness(sub):
    p = sub.add_parser(
        "robustness",
        help="accuracy of saved models on corrupted test images",
        description="Score each run's saved model (no training) on corrupted copies of the "
        "test images: noise, blur, contrast, brightness, JPEG, rotation, translation, "
        "occlusion, mirror image and inverted contrast, at severities 1 (mild) to 5, as the "
        "run scored itself (flip TTA when trained with it). Writes one JSON record per run. "
        "The families and their levels are listed in docs/robustness.md.",
    )
    p.add_argument("runs", nargs="+", metavar="RUN_DIR", help="run directories (model.keras)")
    p.add_argument("--families", help="comma-separated corruption families (default all)")
    p.add_argument(
        "--severities",
        default="1,2,3,4,5",
        help="comma-separated severities from 0 (the clean images) to 5 (default 1,2,3,4,5)",
    )
    p.add_argument(
        "--test-subset",
        type=int,
        metavar="N",
        help="score a stratified subset of N test images (100 to 10,000; default all)",
    )
    p.add_argument("--seed", type=int, default=0, help="subset and corruption seed (default 0)")
    p.add_argument("--out", help="folder for the records (default results/robustness/)")
    p.add_argument("--data-dir", help="folder with the four Fashion-MNIST .gz files")
    p.add_argument("--quiet", action="store_true", help="no progress bar or messages")
    p.set_defaults(handler=_robustness)


def _robustness(args) -> int:
    from . import robustness

    families = None
    if args.families is not None:
        families = [name.strip() for name in args.families.split(",") if name.strip()]
    severities = []
    for item in args.severities.split(","):
        try:
            severities.append(int(item))
        except ValueError:
            raise UsageError(
                f"--severities: {item.strip()!r} is not a whole number; valid severities are "
                f"0 to {robustness.MAX_SEVERITY}"
            ) from None
    # Everything is checked before the first model is scored: a bad argument leaves no file.
    try:
        run_dirs = robustness.check_runs(args.runs)
        families, severities = robustness.check_request(families, severities, args.test_subset)
    except ValueError as err:
        raise UsageError(str(err)) from None
    out = Path(args.out) if args.out else robustness.ROBUSTNESS_DIR
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out}: expected a folder for the records, found a file")
    for run_dir in run_dirs:
        record = robustness.score_run(
            run_dir,
            families,
            severities,
            test_subset=args.test_subset,
            seed=args.seed,
            data_dir=args.data_dir,
            progress=not args.quiet,
        )
        path = robustness.write_record(record, out)
        if not args.quiet:
            worst = record["worst_family"]
            print(
                f"{record['name']}: clean {record['clean_accuracy']:.4f}, mean corruption "
                f"{record['mean_corruption_accuracy']:.4f}, worst {worst['name']} "
                f"{worst['accuracy']:.4f} ({record['seconds']:.0f} s); wrote {path}"
            )
    return 0


def _add_throughput(sub):
    p = sub.add_parser(
        "throughput",
        help="training images/s of variants of the pipeline, interleaved",
        description="Train the same model on the same batches in several variants, in rotated "
        "rounds, and report the median steady-state training images/s of each (JSON + "
        "markdown). With no axis given: with and without the default augmentation. Each "
        "axis given multiplies the variants (every combination).",
    )
    p.add_argument("--arch", default="vgg", help="model name (default vgg)")
    p.add_argument(
        "--steps", type=int, default=20, help="training steps per round, at least 2 (default 20)"
    )
    p.add_argument("--rounds", type=int, default=3, help="rounds per variant (default 3)")
    p.add_argument(
        "--precisions", nargs="+", metavar="POLICY", help="precision policies to compare"
    )
    p.add_argument(
        "--batch-norm",
        nargs="+",
        metavar="IMPL",
        help="batch-norm layers to compare: keras (Keras' own) and/or fused (this project's)",
    )
    p.add_argument(
        "--xla",
        nargs="+",
        choices=["on", "off"],
        help="compare model.compile(jit_compile=True) and/or False",
    )
    p.add_argument(
        "--augment-in",
        nargs="+",
        choices=["model", "pipeline"],
        help="where the augmentation runs: layers inside the model and/or a tf.data map",
    )
    p.add_argument(
        "--augment",
        help="comma-separated augmentation for every variant (default: the model's profile's, "
        "or none for the default comparison)",
    )
    p.add_argument("--out", default="runs/throughput.json", help="JSON report path")
    p.set_defaults(handler=_throughput)


def _throughput(args) -> int:
    from .models import BATCH_NORMS
    from .runs import write_json
    from .throughput import markdown, measure, variant_grid

    if not 2 <= args.steps <= 10_000 or not 1 <= args.rounds <= 100:
        # a rate is timed between batches, so a round needs two
        raise UsageError("--steps must be 2..10,000 and --rounds 1..100")
    unknown = sorted(set(args.batch_norm or ()) - set(BATCH_NORMS))
    if unknown:
        raise UsageError(f"--batch-norm: unknown {unknown}; valid: {sorted(BATCH_NORMS)}")
    axes = (args.precisions, args.batch_norm, args.xla, args.augment_in)
    chosen = None
    if any(axes) or args.augment is not None:
        augmentation = None
        if args.augment is not None:
            augmentation = [a for a in args.augment.split(",") if a and a != "none"]
        chosen = variant_grid(
            args.precisions or (),
            args.batch_norm or (),
            [x == "on" for x in args.xla or ()],
            args.augment_in or (),
            augmentation,
        )
    try:
        report = measure(args.arch, chosen, steps=args.steps, rounds=args.rounds)
    except ValueError as err:  # a bad model, precision or batch-norm name
        raise UsageError(str(err)) from None
    command = ["fmnist", "throughput", "--arch", args.arch]
    command += ["--steps", str(args.steps), "--rounds", str(args.rounds)]
    for option, values in (
        ("--precisions", args.precisions),
        ("--batch-norm", args.batch_norm),
        ("--xla", args.xla),
        ("--augment-in", args.augment_in),
    ):
        command += [option, *values] if values else []
    command += ["--augment", args.augment] if args.augment is not None else []
    report["command"] = shlex.join([*command, "--out", str(args.out)])
    write_json(args.out, report)
    print(f"{markdown(report)}\nWrote {args.out}")
    return 0


def _add_bench(sub):
    from .bench import (
        ORIGINAL_BUDGET_IMAGES,
        ORIGINAL_TEST_ACCURACY,
        QUICK,
        SIDES,
    )

    p = sub.add_parser(
        "bench",
        help="the original's pipeline and this project's, side by side",
        description="Train the VGG-like model with the original's pipeline (tf.keras 2, offline "
        "augmentation into 3x the data, split after augmenting; needs tf-keras) and with this "
        "project's (Keras 3, on-the-fly augmentation), one after the other on this machine. "
        "Reports preprocessing time, training images/s, achieved GFLOP/s and fraction of peak, "
        f"and the time until the test accuracy first reaches {ORIGINAL_TEST_ACCURACY:.2%} "
        "(the original's 10-epoch VGG result), as JSON and markdown (bench.json, bench.md).",
    )
    p.add_argument(
        "--quick",
        action="store_true",
        help=f"CI smoke run of about a minute: {QUICK['subset']:,} source images, "
        f"{QUICK['max_epochs']} epoch, a lowered target of {QUICK['target'] * 100:g}%% on "
        f"{QUICK['test_subset']:,} test images (time-to-accuracy not comparable)",
    )
    p.add_argument("--out", default="runs/bench", help="report folder (default runs/bench)")
    p.add_argument(
        "--sides",
        default=",".join(SIDES),
        help="comma-separated sides to run: original, project (default both)",
    )
    p.add_argument("--max-epochs", type=int, help="at most this many epochs per side")
    p.add_argument(
        "--max-images",
        type=int,
        help="at most this many training images seen per side (default "
        f"{ORIGINAL_BUDGET_IMAGES:,}, the original's 10-epoch budget; none with "
        "--quick)",
    )
    p.add_argument(
        "--time-limit",
        type=float,
        help="stop a side after the epoch in which its elapsed time passes this many seconds",
    )
    p.add_argument(
        "--target", type=float, help=f"test accuracy to reach (default {ORIGINAL_TEST_ACCURACY})"
    )
    p.add_argument(
        "--subset", type=int, help="use N of the 60,000 training images (stratified) on both sides"
    )
    p.add_argument("--test-subset", type=int, help="probe accuracy on N test images (default all)")
    p.add_argument(
        "--project-recipe",
        help="the project side's training recipe (fmnist_lib/recipes.py; default: the "
        "original's, Adam at a constant rate with rotate+flip)",
    )
    p.add_argument(
        "--project-epochs",
        type=int,
        help="the project side's schedule length in epochs (a cosine schedule needs it; "
        "default: as many as the caps allow)",
    )
    p.add_argument(
        "--project-precision",
        default="auto",
        help="the project side's precision policy (default auto: this machine's default)",
    )
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--data-dir", help="folder with the four Fashion-MNIST .gz files")
    p.add_argument("--quiet", action="store_true", help="no progress lines")
    p.set_defaults(handler=_bench)


# The bench options that become BenchSpec fields only when given.
_BENCH_CAPS = (
    "max_epochs",
    "max_images",
    "time_limit",
    "target",
    "subset",
    "test_subset",
    "project_recipe",
    "project_epochs",
)


def _bench_spec(args):
    from .bench import BenchSpec

    sides = tuple(s.strip() for s in args.sides.split(",") if s.strip())
    overrides = {key: getattr(args, key) for key in _BENCH_CAPS if getattr(args, key) is not None}
    overrides["project_precision"] = args.project_precision
    common = {
        "seed": args.seed,
        "data_dir": args.data_dir,
        "sides": sides,
        "verbose": not args.quiet,
    }
    try:
        if args.quick:
            return BenchSpec.quick_spec(**common, **overrides)
        return BenchSpec(**common, **overrides)
    except TypeError as err:  # pragma: no cover - argparse guards the names
        raise ConfigError(str(err)) from None


def _bench_command(args) -> str:
    """The command, rebuilt from the parsed options (however it was started)."""
    from .bench import SIDES

    parts = ["fmnist", "bench"]
    if args.quick:
        parts.append("--quick")
    for key in ("sides", *_BENCH_CAPS, "project_precision", "seed", "data_dir", "out"):
        value = getattr(args, key)
        defaults = {"sides": ",".join(SIDES), "seed": 0, "out": "runs/bench"}
        default = {**defaults, "project_precision": "auto"}.get(key)
        if value is not None and value != default:
            parts += [f"--{key.replace('_', '-')}", str(value)]
    if args.quiet:
        parts.append("--quiet")
    return shlex.join(parts)


def _bench(args) -> int:
    from .bench import INSTALL_HINT, check_spec, render_markdown, run_bench, tf_keras_available

    spec = _bench_spec(args)
    check_spec(spec)
    if "original" in spec.sides and not tf_keras_available():
        print(
            f"fmnist bench: tf-keras is not installed: the original pipeline will be skipped. "
            f"Install it with: {INSTALL_HINT}",
            file=sys.stderr,
        )
    report = run_bench(spec, args.out, command=_bench_command(args))
    print(render_markdown(report))
    print(f"Report: {' and '.join(report['paths'])}")
    failed = [side for side in report["pipelines"].values() if side.get("status") == "failed"]
    for side in failed:
        message = f"the {side['pipeline']} pipeline failed: {side['reason']}"
        print(f"fmnist bench: {message}\n{side.get('stderr_tail', '')}", file=sys.stderr)
    return 1 if failed else 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="fmnist", description="Fashion-MNIST CNN benchmark: train, evaluate, predict."
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for add in (
        _add_train,
        _add_evaluate,
        _add_predict,
        _add_baselines,
        _add_results,
        _add_robustness,
        _add_run_notebooks,
        _add_bench,
        _add_throughput,
    ):
        add(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.handler(args)
    except (UsageError, ConfigError) as err:
        print(f"fmnist {args.command}: error: {err}", file=sys.stderr)
        return 2
    except (DataError, RunError, TrainingError, NotebookError, OSError, RuntimeError) as err:
        print(f"fmnist {args.command}: failed: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"fmnist {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
