"""The benchmark report: derived numbers per side, ratios between the sides, JSON and markdown.

The report states what was measured and the ratios, project versus original;
the project's goals for those ratios, and how to read a report against them,
are in docs/benchmark.md. Pure Python.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from ..runs import atomic_write_bytes, write_json
from .spec import ORIGINAL_TEST_ACCURACY, BenchSpec

SCHEMA = "fmnist-bench/1"


def _ratio(a, b):
    return a / b if a is not None and b not in (None, 0) else None


def summarize_side(raw: dict, flops: dict, peaks: dict) -> dict:
    """Add the derived numbers (images/s, GFLOP/s, fraction of peak, time-to-accuracy)."""
    if raw.get("status") != "ok":
        return raw
    epochs = raw["epochs"]
    steady_images = sum(e["steady_images"] for e in epochs)
    steady_seconds = sum(e["steady_seconds"] for e in epochs)
    train_seconds = sum(e["train_seconds"] for e in epochs)
    images_seen = epochs[-1]["images_seen"] if epochs else 0
    ips = steady_images / steady_seconds if steady_seconds else None
    ips_all = images_seen / train_seconds if train_seconds else None
    gflops = ips * flops["training_flops_per_image"] / 1e9 if ips else None
    peak = peaks.get(raw.get("precision", "float32")) or peaks["float32"]
    target_key = f"{raw['target']:.4f}"
    reached = raw["milestones"].get(target_key)
    out = dict(raw)
    out.update(
        {
            "epochs_run": len(epochs),
            "images_seen": images_seen,
            "train_seconds": train_seconds,
            "images_per_second": ips,
            "images_per_second_incl_first_batches": ips_all,
            "gflops": gflops,
            "peak_gflops": peak["gflops"],
            "fraction_of_peak": gflops / peak["gflops"] if gflops else None,
            "final_test_accuracy": epochs[-1]["test_accuracy"] if epochs else None,
            "best_test_accuracy": max((e["test_accuracy"] for e in epochs), default=None),
            "time_to_accuracy": {
                "target": raw["target"],
                "reached": reached is not None,
                "seconds": reached["seconds"] if reached else None,
                "epoch": reached["epoch"] if reached else None,
                "images_seen": reached["images_seen"] if reached else None,
                "searched_seconds": raw["wall_seconds"],
                "searched_images": images_seen,
            },
        }
    )
    return out


def compute_ratios(original: dict, project: dict) -> dict:
    """Project versus original; every ratio > 1 means the project is better."""
    if original.get("status") != "ok" or project.get("status") != "ok":
        missing = [s["pipeline"] for s in (original, project) if s.get("status") != "ok"]
        return {"available": False, "reason": f"not measured: {', '.join(missing)} did not run"}
    o_tta, p_tta = original["time_to_accuracy"], project["time_to_accuracy"]
    if o_tta["reached"] and p_tta["reached"]:
        tta = {"value": o_tta["seconds"] / p_tta["seconds"], "bound": None}
    elif p_tta["reached"]:
        tta = {
            "value": None,
            "bound": f">= {o_tta['searched_seconds'] / p_tta['seconds']:.2f} "
            "(original not reached within its cap)",
        }
    elif o_tta["reached"]:
        tta = {
            "value": None,
            "bound": f"<= {o_tta['seconds'] / p_tta['searched_seconds']:.2f} "
            "(project not reached within its cap)",
        }
    else:
        tta = {"value": None, "bound": None, "reason": "neither side reached the target"}
    milestones = {
        key: original["milestones"][key]["seconds"] / project["milestones"][key]["seconds"]
        for key in sorted(set(original["milestones"]) & set(project["milestones"]))
    }
    return {
        "available": True,
        "preprocessing_speedup": _ratio(
            original["preprocessing"]["total_seconds"], project["preprocessing"]["total_seconds"]
        ),
        "images_per_second": _ratio(project["images_per_second"], original["images_per_second"]),
        "gflops": _ratio(project["gflops"], original["gflops"]),
        "time_to_accuracy_speedup": tta,
        "time_to_milestone_speedup": milestones,
    }


def build_report(
    spec: BenchSpec, sides: dict, machine: dict, peaks: dict, flops: dict, command: str
) -> dict:
    """The whole report: settings, machine, each side with its derived numbers, ratios, notes."""
    summarized = {name: summarize_side(side, flops, peaks) for name, side in sides.items()}
    ratios = compute_ratios(summarized["original"], summarized["project"])
    notes = []
    if spec.quick:
        notes.append(
            f"--quick: {spec.subset:,} source images, {spec.max_epochs} epoch(s), accuracy "
            f"probed on {spec.test_subset:,} test images with a lowered target of "
            f"{spec.target:.2%}: time-to-accuracy here is a smoke test, NOT comparable to the "
            f"original's {ORIGINAL_TEST_ACCURACY:.2%}."
        )
    for side in summarized.values():
        if side.get("status") != "ok":
            notes.append(f"{side['pipeline']} pipeline {side['status']}: {side['reason']}")
    notes.append(
        "Time-to-accuracy: wall time from the start of preprocessing (data loading included; "
        "Python/TensorFlow import time excluded) through model building, training and each "
        "pipeline's own validation pass, until the test accuracy checked after an epoch first "
        "reaches the target; the test check itself is not counted. Checkpoint, TensorBoard "
        "and run-directory I/O are left out on both sides."
    )
    notes.append(
        "Training images/s: steady state, from the timestamps of the training batches, leaving "
        "out the first batch of every epoch (graph tracing, iterator start); excludes validation."
    )
    notes.append(
        "The sides ran one after the other, not at the same time; the load average "
        "at each side's start and end shows what else was running on the machine."
    )
    return {
        "schema": SCHEMA,
        "created": datetime.now().isoformat(timespec="seconds"),
        "command": command,
        "mode": "quick" if spec.quick else "full",
        "spec": spec.to_dict(),
        "machine": machine,
        "peak": peaks,
        "flops": flops,
        "target": {
            "accuracy": spec.target,
            "source": "original VGG-like, 10 epochs, test accuracy "
            f"{ORIGINAL_TEST_ACCURACY:.2%} (docs/original.md)"
            if spec.target == ORIGINAL_TEST_ACCURACY
            else f"lowered target (not the original's {ORIGINAL_TEST_ACCURACY:.2%})",
            "evaluated_on": f"{spec.test_subset or 10_000:,} test images after every epoch",
        },
        "pipelines": summarized,
        "ratios": ratios,
        "notes": notes,
    }


def _fmt(value, pattern="{:,.1f}", missing="n/a"):
    return missing if value is None else pattern.format(value)


def _side_cell(side: dict, value) -> str:
    """``value(side)`` for a side that ran, else its status (skipped, failed)."""
    return value(side) if side.get("status") == "ok" else side.get("status", "n/a")


def _field(key: str, pattern: str = "{:,.1f}"):
    return lambda side: _fmt(side.get(key), pattern)


def _tta_text(side: dict) -> str:
    tta = side["time_to_accuracy"]
    if tta["reached"]:
        return f"{tta['seconds']:,.1f} s (epoch {tta['epoch']}, {tta['images_seen']:,} images)"
    return (
        f"not reached ({tta['searched_seconds']:,.1f} s, {tta['searched_images']:,} images "
        f"searched; best {side['best_test_accuracy']:.2%})"
    )


def _tta_ratio(ratios: dict) -> str:
    """The time-to-accuracy speedup, or its bound when one side missed the target."""
    if not ratios.get("available", False):
        return "n/a"
    tta = ratios["time_to_accuracy_speedup"]
    return f"{tta['value']:.2f}x" if tta["value"] is not None else tta.get("bound") or "n/a"


def _metric_rows(report: dict) -> list[tuple]:
    """The main table's rows: (metric, original, project, project vs original)."""
    orig, proj = report["pipelines"]["original"], report["pipelines"]["project"]
    ratios = report["ratios"]
    ok = ratios.get("available", False)

    def both(label, value, versus=""):
        return (label, _side_cell(orig, value), _side_cell(proj, value), versus)

    def ratio(key, pattern="{:.2f}x"):
        return _fmt(ratios.get(key), pattern) if ok else "n/a"

    target = report["target"]["accuracy"]
    tta_ratio = _tta_ratio(ratios)
    return [
        (
            "pipeline",
            orig.get("description", "tf.keras 2, offline augmentation"),
            proj.get("description", "Keras 3"),
            "",
        ),
        both("training images per epoch", _field("n_train", "{:,}")),
        both(
            "preprocessing (s)",
            lambda side: _fmt(side["preprocessing"]["total_seconds"]),
            f"{ratio('preprocessing_speedup')} faster" if ok else "n/a",
        ),
        both(
            "training images/s (steady)",
            _field("images_per_second", "{:,.0f}"),
            ratio("images_per_second"),
        ),
        both("achieved GFLOP/s", _field("gflops"), ratio("gflops")),
        both("fraction of peak", _field("fraction_of_peak", "{:.1%}")),
        both(
            f"time to {target:.2%} test accuracy",
            _tta_text,
            f"{tta_ratio} faster" if ok and tta_ratio != "n/a" else tta_ratio,
        ),
        both("epochs run / images seen", lambda s: f"{s['epochs_run']} / {s['images_seen']:,}"),
        both("last test accuracy", _field("final_test_accuracy", "{:.2%}")),
        ("stopped because", orig.get("stop_reason", "n/a"), proj.get("stop_reason", "n/a"), ""),
    ]


def _milestone_lines(report: dict) -> list[str]:
    """The table of times to the lower accuracies both sides reached; none if no ratios."""
    ratios = report["ratios"]
    if not (ratios.get("available", False) and ratios["time_to_milestone_speedup"]):
        return []
    orig, proj = report["pipelines"]["original"], report["pipelines"]["project"]
    lines = [
        "Time to lower test accuracies (project vs original, > 1 = project faster):",
        "",
        "| test accuracy | original (s) | project (s) | speedup |",
        "|---|---|---|---|",
    ]
    for key, value in ratios["time_to_milestone_speedup"].items():
        lines.append(
            f"| {float(key):.2%} | {orig['milestones'][key]['seconds']:,.1f} | "
            f"{proj['milestones'][key]['seconds']:,.1f} | {value:.2f}x |"
        )
    lines.append("")
    return lines


def _side_note(name: str, side: dict) -> str:
    """One side's preprocessing steps, model setup, load average and versions."""
    pre = ", ".join(
        f"{k.replace('_seconds', '')} {v:.1f} s"
        for k, v in side["preprocessing"].items()
        if k != "total_seconds"
    )
    return (
        f"- {name}: preprocessing {pre}; model setup {side['setup_seconds']:.1f} s; "
        f"load average {side['load_average']['start'][0]:.2f} at start, "
        f"{side['load_average']['end'][0]:.2f} at end; versions "
        + ", ".join(f"{k} {v}" for k, v in side["versions"].items())
    )


def _note_lines(report: dict) -> list[str]:
    """How the numbers were got: peak, FLOPs, target, each side that ran, the notes."""
    peak = report["peak"]["float32"]
    flops = report["flops"]
    lines = [
        "The project's goals for these ratios, and how to read them: docs/benchmark.md.",
        "",
        f"- Peak (float32): {peak['gflops']:,.1f} GFLOP/s = {peak['cores']} cores x "
        f"{peak['clock_ghz']:.3f} GHz x {peak['flops_per_cycle_per_core']} FLOPs/cycle/core "
        f"({peak['formula']}).",
        f"- VGG-like FLOPs per training image: {flops['training_flops_per_image'] / 1e6:,.1f} "
        f"MFLOP (forward {flops['forward_flops_per_image']:,} FLOPs x 3; {flops['method']}).",
        f"- Target: {report['target']['source']}; {report['target']['evaluated_on']}.",
    ]
    for name, side in report["pipelines"].items():
        if side.get("status") == "ok":
            lines.append(_side_note(name, side))
    return lines + [f"- {note}" for note in report["notes"]]


def render_markdown(report: dict) -> str:
    """The report as markdown: the comparison table, the milestone table, then the notes."""
    machine = report["machine"]
    lines = [
        f"# fmnist bench ({report['mode']})",
        "",
        f"Command: `{report['command']}`  ",
        f"Created: {report['created']}  ",
        f"Machine: {machine['cpu']}, {machine['cores']} cores, {machine['platform']}",
        "",
        "| metric | original (tf.keras 2) | this project (Keras 3) | project vs original |",
        "|---|---|---|---|",
        *(f"| {a} | {b} | {c} | {d} |" for a, b, c, d in _metric_rows(report)),
        "",
    ]
    lines += _milestone_lines(report)
    lines += _note_lines(report)
    return "\n".join(lines) + "\n"


def write_report(report: dict, out_dir) -> tuple[Path, Path]:
    out_dir = Path(out_dir)
    json_path, md_path = out_dir / "bench.json", out_dir / "bench.md"
    write_json(json_path, report)
    atomic_write_bytes(md_path, render_markdown(report).encode())
    return json_path, md_path
