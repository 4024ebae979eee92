"""Batch runner for the notebook suite (papermill). Being written."""


def add_parser(sub):
    """Register `fmnist run-notebooks` (not yet)."""
