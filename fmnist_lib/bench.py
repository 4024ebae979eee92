"""The side-by-side benchmark. Being written."""


def add_parser(sub):
    """Register `fmnist bench` (not yet)."""
