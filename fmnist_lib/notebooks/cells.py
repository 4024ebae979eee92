"""A notebook's cells: the digest that says whether its source changed, and the cleaning
that makes an executed copy fit to commit."""

from __future__ import annotations

import hashlib
import json

INJECTED_TAG = "injected-parameters"
ERROR_TAG = "papermill-error-cell-tag"
# What a committed notebook may carry: anything else is volatile or personal.
NOTEBOOK_METADATA_KEYS = ("kernelspec", "language_info")
CELL_METADATA_KEYS = ("tags",)


def source_digest(nb) -> str:
    """SHA-256 of a notebook's cell types and sources (outputs and metadata excluded)."""
    cells = [
        [c.cell_type, c.source]
        for c in nb.cells
        if INJECTED_TAG not in c.get("metadata", {}).get("tags", [])
    ]
    return hashlib.sha256(json.dumps(cells).encode()).hexdigest()


def clean_notebook(nb):
    """An executed notebook fit to commit: no injected cell, no volatile metadata.

    Drops papermill's injected-parameters and error-marker cells, keeps only the
    kernelspec and language_info of the notebook's metadata and only non-empty
    tags of each cell's, and renumbers the execution counts from 1.
    """
    nb.cells = [
        c
        for c in nb.cells
        if not {INJECTED_TAG, ERROR_TAG} & set(c.get("metadata", {}).get("tags", []))
    ]
    for key in list(nb.metadata):
        if key not in NOTEBOOK_METADATA_KEYS:
            del nb.metadata[key]
    count = 0
    for cell in nb.cells:
        for key in list(cell.metadata):
            if key not in CELL_METADATA_KEYS or not cell.metadata[key]:
                del cell.metadata[key]
        if cell.cell_type != "code":
            continue
        if cell.execution_count is not None:
            count += 1
            cell.execution_count = count
        for output in cell.outputs:
            if output.get("output_type") == "execute_result":
                output["execution_count"] = cell.execution_count
    return nb
