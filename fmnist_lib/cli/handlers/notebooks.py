"""Runs `fmnist run-notebooks`."""

from __future__ import annotations

import argparse

from ...notebooks import parse_parameter, run_suite


def run_notebooks_command(args: argparse.Namespace) -> int:
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
