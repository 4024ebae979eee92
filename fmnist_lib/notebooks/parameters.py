"""The parameters papermill injects: parsed from ``-p NAME=VALUE`` and checked against
each notebook's ``parameters`` cell before anything runs."""

from __future__ import annotations

import ast
from pathlib import Path

from ..errors import UsageError
from .suite import MANAGED, READS, TRAINS


def parse_parameter(text: str) -> tuple[str, object]:
    """``NAME=VALUE`` -> (NAME, value); VALUE is a Python literal or else a string."""
    name, sep, raw = text.partition("=")
    name = name.strip()
    if not sep or not name.isidentifier():
        raise UsageError(f"-p {text!r}: expected NAME=VALUE, e.g. -p SEED=1")
    try:
        value = ast.literal_eval(raw)
    except (ValueError, SyntaxError):
        value = raw
    return name, value


def notebook_parameters(path: Path) -> dict[str, dict]:
    """The parameters cell of a notebook as {name: papermill's description}."""
    # Heavy (seconds to import each): loaded when a notebook is read, not with the package.
    import nbformat
    import papermill

    nb = nbformat.read(path, as_version=4)
    tagged = [c for c in nb.cells if "parameters" in c.get("metadata", {}).get("tags", [])]
    if len(tagged) > 1:
        raise UsageError(
            f"{path.name}: {len(tagged)} cells are tagged 'parameters'; papermill "
            "overrides only the first, so a notebook must have exactly one"
        )
    if not tagged:
        return {}
    return papermill.inspect_notebook(str(path))


def default_value(name: str, spec: dict, notebook: str):
    """The default of a parameter in the parameters cell, which must be a plain literal."""
    try:
        return ast.literal_eval(spec["default"])
    except (ValueError, SyntaxError):
        raise UsageError(
            f"{notebook}: parameter {name} = {spec['default']} is not a plain value; "
            "a parameters cell holds literals only (derive values in the next cell)"
        ) from None


def _same_type(value, default) -> bool:
    if default is None:
        return True
    if isinstance(default, bool) or isinstance(value, bool):
        return type(value) is type(default)
    if isinstance(default, float):
        return isinstance(value, (int, float))
    return isinstance(value, type(default))


def _checked_extra(name: str, declared: dict[str, dict], key: str, value):
    """One ``-p`` value for notebook ``name``: declared there, and of its default's type."""
    if key in MANAGED:
        option = "--profile" if key == "PROFILE" else "--runs-dir"
        raise UsageError(f"-p {key}: set it with {option}")
    if key not in declared:
        valid = ", ".join(declared) or "none"
        raise UsageError(
            f"parameter {key!r} is not in the parameters cell of {name}.ipynb "
            f"(its parameters: {valid}); use --only to pick notebooks that take it"
        )
    default = default_value(key, declared[key], name)
    if not _same_type(value, default):
        raise UsageError(
            f"parameter {key}: {name}.ipynb expects {type(default).__name__} values "
            f"(default {default!r}), got {value!r}"
        )
    return value


def notebook_inputs(
    name: str, declared: dict[str, dict], profile: str, runs_dir: Path | None, extra: dict
) -> dict:
    """The parameters to inject into one notebook, checked against its parameters cell."""
    needs_runs = name in TRAINS or name in READS
    missing = [p for p in MANAGED if p not in declared]
    if needs_runs and missing:
        raise UsageError(
            f"{name}: trains or reads runs, so its parameters cell must define {missing}"
        )
    values = {}
    if "PROFILE" in declared:
        values["PROFILE"] = profile
    if runs_dir is not None and "RUNS_DIR" in declared:
        values["RUNS_DIR"] = str(runs_dir)
    for key, value in extra.items():
        values[key] = _checked_extra(name, declared, key, value)
    for key, spec in declared.items():
        default_value(key, spec, name)  # a parameters cell holds plain values only
    return values


def folder_parameter(
    nb_dir: Path, declared: dict, values: dict, name: str, key: str
) -> Path | None:
    """A folder parameter's value: the override, else the default relative to the notebook."""
    if key in values:
        return Path(values[key])
    if key not in declared:
        return None
    return (nb_dir / default_value(key, declared[key], name)).resolve()
