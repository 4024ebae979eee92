"""Batch runner for the notebook suite: `fmnist run-notebooks`, built on papermill.

The notebooks in ``notebooks/`` run in name order, each in a fresh ``python3``
kernel whose working directory is the notebooks folder (so their relative paths
work). papermill injects ``PROFILE`` (and ``RUNS_DIR`` when ``--runs-dir`` is
given) after each notebook's ``parameters`` cell; every other parameter passed
must already be in that cell, with a value of the same type, or nothing runs.

Executed copies go to ``runs/notebooks/<profile>/``, beside ``executed.json``, the
record of finished notebooks, and their figures to its ``figures/`` folder
(``$FMNIST_FIGURES_DIR``, when set, wins). Only ``--in-place`` publishes: it rewrites
the sources and sends the figures to the repository's ``figures/``, so any other run
leaves every committed file as it was. A notebook recorded as executed for the same
profile, parameters and source, whose training runs are complete and unchanged since,
is skipped unless ``--force``. The first failing notebook stops the batch: the error
names the notebook and the cell, and the partial executed copy stays for inspection.

The modules, each importing only those listed before it:

* ``suite``: the notebooks, what each trains or reads, where executed copies go;
* ``parameters``: ``-p NAME=VALUE`` and the notebooks' parameters cells;
* ``cells``: the source digest, and cleaning an executed copy to commit it;
* ``staleness``: the ``executed.json`` record and when an entry no longer holds;
* ``execution``: one notebook through papermill in a fresh kernel;
* ``runner``: ``run_suite``, which plans, checks and runs the whole suite.
"""

from .cells import (
    CELL_METADATA_KEYS,
    ERROR_TAG,
    INJECTED_TAG,
    NOTEBOOK_METADATA_KEYS,
    clean_notebook,
    source_digest,
)
from .execution import KERNEL_ARGUMENTS, KERNEL_NAME
from .parameters import notebook_inputs, notebook_parameters, parse_parameter
from .runner import estimate_line, run_suite
from .suite import (
    MANAGED,
    READS,
    RECORD_NAME,
    TRAININGS_PER_ARCH,
    TRAINS,
    Outcome,
    default_out_dir,
    list_notebooks,
    select_notebooks,
    suite_runs,
)

__all__ = [
    "CELL_METADATA_KEYS",
    "ERROR_TAG",
    "INJECTED_TAG",
    "KERNEL_ARGUMENTS",
    "KERNEL_NAME",
    "MANAGED",
    "NOTEBOOK_METADATA_KEYS",
    "READS",
    "RECORD_NAME",
    "TRAININGS_PER_ARCH",
    "TRAINS",
    "Outcome",
    "clean_notebook",
    "default_out_dir",
    "estimate_line",
    "list_notebooks",
    "notebook_inputs",
    "notebook_parameters",
    "parse_parameter",
    "run_suite",
    "select_notebooks",
    "source_digest",
    "suite_runs",
]
