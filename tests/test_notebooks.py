"""The notebook suite: structure of the committed notebooks, the papermill batch
runner (`fmnist run-notebooks`), and nbval regression of the committed outputs.

The slow tests share one temporary workspace, a clone of this checkout: the suite
runs once in it as `make reproduce PROFILE=smoke` (three 2,000-image, one-epoch
trainings), which must leave the clone's committed files as they were, and nbval
re-executes copies of the committed notebooks beside the same runs folder, so the
trained runs are reused rather than trained twice. Tests that run notebooks here
send figures to a temporary folder ($FMNIST_FIGURES_DIR), never to figures/.
"""

from __future__ import annotations

import ast
import contextlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

from fmnist_lib import findings, results
from fmnist_lib import notebooks as runner
from fmnist_lib.cli import main
from fmnist_lib.errors import UsageError
from fmnist_lib.paths import PROJECT_ROOT
from fmnist_lib.runs import read_json, set_status, suite_run_dir

NOTEBOOKS_DIR = PROJECT_ROOT / "notebooks"
SUITE = ["00_explore", "01_arch1", "02_arch2", "03_vgg", "04_evaluation"]
SANITIZE_CFG = NOTEBOOKS_DIR / "nbval_sanitize.cfg"
CHECK_MARK = "# NBVAL_CHECK_OUTPUT"
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"


def load(name: str):
    return nbformat.read(NOTEBOOKS_DIR / f"{name}.ipynb", as_version=4)


def code_cells(nb):
    return [c for c in nb.cells if c.cell_type == "code"]


def parameters_cell(nb):
    (cell,) = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    return cell


def parameter_values(cell) -> dict:
    values = {}
    for node in ast.parse(cell.source).body:
        assert isinstance(node, ast.Assign) and len(node.targets) == 1, ast.dump(node)
        (target,) = node.targets
        assert isinstance(target, ast.Name) and target.id.isupper(), target
        values[target.id] = ast.literal_eval(node.value)  # plain values only
    return values


def python_source(cell) -> str:
    """A code cell's source with IPython magics blanked, parseable by ast."""
    return "\n".join(
        "" if line.lstrip().startswith("%") else line for line in cell.source.split("\n")
    )


def constants(nb) -> dict:
    """Plain UPPERCASE values a notebook's code cells assign (ARCH, ARCHS, ...)."""
    values = {}
    for cell in code_cells(nb):
        for node in ast.parse(python_source(cell)).body:
            if isinstance(node, ast.Assign) and len(node.targets) == 1:
                (target,) = node.targets
                if isinstance(target, ast.Name) and target.id.isupper():
                    with contextlib.suppress(ValueError):
                        values[target.id] = ast.literal_eval(node.value)
    return values


def saved_figures(nb) -> set[str]:
    """The names a notebook saves figures under; f-strings filled with its constants."""
    names = set()
    for cell in code_cells(nb):
        for f, name in re.findall(r'save_fig\(fig, (f?)"([^"]+)"\)', cell.source):
            names.add(name.format(**constants(nb)) if f else name)
    return names


def output_text(output) -> str:
    if output.output_type == "stream":
        return output.text
    if output.output_type == "error":
        return "\n".join(output.traceback)
    return "\n".join(v for k, v in output.get("data", {}).items() if isinstance(v, str))


@pytest.fixture(autouse=True)
def figures_tmp(tmp_path_factory, monkeypatch):
    folder = tmp_path_factory.getbasetemp() / "figures"
    monkeypatch.setenv("FMNIST_FIGURES_DIR", str(folder))
    return folder


def git(cwd: Path, *args: str) -> str:
    command = ["git", "-c", "user.name=test", "-c", "user.email=test@invalid", *args]
    return subprocess.run(command, cwd=cwd, check=True, capture_output=True, text=True).stdout


@pytest.fixture(scope="module")
def workspace(tmp_path_factory) -> Path:
    """A clone of this checkout as it stands: its tracked and new files (not the ignored
    .venv or runs/), committed in a fresh repository, so `git status` there starts clean.

    Uncommitted edits are the code under test, so the clone takes the working tree,
    not HEAD. Its runs/ (ignored there too) will hold the training runs and, in
    runs/notebooks/smoke, the executed copies and their figures.
    """
    root = tmp_path_factory.mktemp("suite") / "clone"
    listed = git(PROJECT_ROOT, "ls-files", "-z", "--cached", "--others", "--exclude-standard")
    for name in filter(None, listed.split("\0")):
        source = PROJECT_ROOT / name
        if source.is_file():  # a file deleted but not yet committed is left out
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, root / name)
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "the checkout under test")
    return root


def clone_env() -> dict:
    """The environment of a plain shell: figures go where the runner decides."""
    return {k: v for k, v in os.environ.items() if k != "FMNIST_FIGURES_DIR"}


# What a notebook run could write to in this checkout; a study running beside the
# tests writes its storage under results/search, which is no run's business.
RUN_OUTPUTS = ("notebooks", "figures", "results", ":!results/search")


def checkout_state() -> tuple[str, str]:
    """This checkout's `git status` and changes where a run writes, to see it left them be."""
    return (
        git(PROJECT_ROOT, "status", "--porcelain", "--", *RUN_OUTPUTS),
        git(PROJECT_ROOT, "diff", "HEAD", "--", *RUN_OUTPUTS),
    )


def smoke_out(root: Path) -> Path:
    return root / "runs" / "notebooks" / "smoke"


def run_notebooks_cli(capsys, *args) -> tuple[int, str, str]:
    rc = main(["run-notebooks", *map(str, args)])
    captured = capsys.readouterr()
    return rc, captured.out, captured.err


# --- the committed notebooks (fast: no kernel) ---------------------------------


def test_suite_is_the_five_notebooks_in_order():
    assert runner.list_notebooks(NOTEBOOKS_DIR) == SUITE


@pytest.mark.parametrize("name", SUITE)
def test_structure(name):
    nb = load(name)
    assert nb.metadata.kernelspec.name == "python3"
    assert nb.cells[0].cell_type == "markdown" and nb.cells[0].source.startswith("# ")
    cells = code_cells(nb)
    # Versions and hardware first: one import block, then the library's header.
    *imports, header = ast.parse(python_source(cells[0])).body
    assert imports and all(isinstance(n, (ast.Import, ast.ImportFrom)) for n in imports)
    assert ast.unparse(header).startswith("print(hardware.header("), cells[0].source
    # Exactly one parameters cell, plain UPPERCASE values, followed by a code cell
    # that derives what depends on them.
    tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1
    values = parameter_values(tagged[0])
    assert "SEED" in values
    following = nb.cells[nb.cells.index(tagged[0]) + 1]
    assert following.cell_type == "code" and "parameters" not in following.metadata.get("tags", [])
    # An interactive run gets the quick profile; the runner and nbval inject smoke.
    if name in runner.TRAINS or name in runner.READS:
        assert values["PROFILE"] == "quick" and values["RUNS_DIR"] == "../runs"
    for cell in nb.cells:
        assert "sys.path" not in cell.source
    for cell in cells:
        tree = ast.parse(python_source(cell))
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                assert node.end_lineno - node.lineno <= 2, f"{name}: {node.name} is too long"
            if isinstance(node, ast.ImportFrom):
                assert node.level == 0, f"{name}: relative import"
            if isinstance(node, ast.Call) and getattr(node.func, "attr", "") in ("fit", "predict"):
                assert any(k.arg == "verbose" for k in node.keywords), "keep Keras quiet"
        # Every figure made in a cell is also saved.
        if re.search(r"\bfig = plots\.", cell.source):
            assert "save_fig(fig," in cell.source, cell.source


def test_the_runner_knows_what_each_notebook_trains_and_reads():
    """The runner's TRAINS and READS (staleness, refusing incomplete runs) name the
    runs the notebooks really train (their ARCH) and read (their ARCHS)."""
    trained = tuple(arch for archs in runner.TRAINS.values() for arch in archs)
    for name in SUITE:
        values = constants(load(name))
        assert runner.TRAINS.get(name, ()) == ((values["ARCH"],) if "ARCH" in values else ())
        # A notebook that reads runs without training one reads every run 01-03 train.
        reads = "ARCH" not in values and any(
            "suite_run_dir(RUNS_DIR" in c.source for c in code_cells(load(name))
        )
        assert runner.READS.get(name, ()) == (trained if reads else ())
    # 01-03 are one notebook for three architectures: only ARCH and the prose differ.
    trainers = [code_cells(load(name)) for name in runner.TRAINS]
    for cells in zip(*trainers, strict=True):
        sources = {
            re.sub(r'^ARCH = "\w+"(  # .*)?$', "ARCH = ...", c.source, flags=re.M) for c in cells
        }
        assert len(sources) == 1, sources


def test_the_explore_header_loads_no_keras():
    """00_explore's first cell prints versions and hardware without loading Keras."""
    setup = python_source(code_cells(load("00_explore"))[0])
    check = "import sys\nassert not {'keras', 'tensorflow', 'jax'} & set(sys.modules), sys.modules"
    env = {**os.environ, "MPLBACKEND": "Agg"}
    proc = subprocess.run(
        [sys.executable, "-c", f"{setup}\n{check}"], capture_output=True, text=True, env=env
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.startswith("versions: python ") and "machine: " in proc.stdout


@pytest.mark.parametrize("name", SUITE)
def test_no_stray_metadata(name):
    """Committed notebooks carry outputs of one clean, in-order run, and nothing else.

    "Stray" means whatever is volatile, personal or tool-specific: notebook
    metadata beyond kernelspec and language_info (papermill's record, widget
    state, ...), cell metadata beyond non-empty tags (execution timings, papermill
    durations, collapsed/scrolled, ...), papermill's injected-parameters or error
    cells, widget outputs, error outputs, and absolute paths of this machine.
    """
    nb = load(name)
    assert set(nb.metadata) <= set(runner.NOTEBOOK_METADATA_KEYS)
    counts = []
    for cell in nb.cells:
        assert set(cell.metadata) <= set(runner.CELL_METADATA_KEYS), cell.metadata
        assert set(cell.metadata.get("tags", ["parameters"])) <= {"parameters"}
        if cell.cell_type != "code":
            continue
        counts.append(cell.execution_count)
        for output in cell.outputs:
            assert output.output_type != "error", output_text(output)
            assert WIDGET_MIME not in output.get("data", {})
            text = output_text(output)
            assert str(PROJECT_ROOT) not in text and "/tmp/" not in text, text[:300]
    assert counts == list(range(1, len(counts) + 1)), "not executed once, top to bottom"


# One output above this is a runaway log or an oversized figure: the largest today
# is a full-width PNG of about 0.4 MB, and a notebook should stay readable on GitHub.
MAX_OUTPUT_BYTES = 1_000_000


def empty_html(html: str) -> bool:
    """True for text/html with nothing to show (Keras 3's summary leaves ``<pre></pre>``)."""
    return not re.sub(r"</?pre[^>]*>", "", html).strip()


@pytest.mark.parametrize("name", SUITE)
def test_outputs_are_free_of_stderr_empty_html_and_oversized_outputs(name):
    """What the committed notebooks show is the analysis: no library logs on stderr
    (`fmnist run-notebooks` keeps C++ logs out), no empty HTML (use
    `summaries.model_summary`, not `model.summary`), no output over MAX_OUTPUT_BYTES."""
    problems = []
    for index, cell in enumerate(code_cells(load(name)), start=1):
        for output in cell.outputs:
            if output.get("name") == "stderr":
                problems.append(f"cell {index}: stderr {output.text[:120]!r}")
            html = output.get("data", {}).get("text/html")
            if html is not None and empty_html(html):
                problems.append(f"cell {index}: empty text/html {html[:60]!r}")
            size = len(json.dumps(output))
            if size > MAX_OUTPUT_BYTES:
                problems.append(f"cell {index}: an output of {size:,} bytes")
    assert not problems, "\n".join(problems)


def readme_parameters() -> dict[str, dict[str, str]]:
    """docs/reference.md's "Notebook parameters" table as {notebook: {name: default}}."""
    text = (PROJECT_ROOT / "docs" / "reference.md").read_text()
    section = text.split("### Notebook parameters", 1)[1].split("\n#", 1)[0]
    table: dict[str, dict[str, str]] = {}
    for row in re.findall(r"^\| (\w+) \| `(\w+)` \| `([^`]*)` \|", section, flags=re.M):
        notebook, parameter, default = row
        table.setdefault(notebook, {})[parameter] = default
    return table


def test_readme_lists_every_notebook_parameter_with_its_default():
    documented = readme_parameters()
    declared = {}
    for name in SUITE:
        cell = runner.notebook_parameters(NOTEBOOKS_DIR / f"{name}.ipynb")
        declared[name] = {parameter: spec["default"] for parameter, spec in cell.items()}
    assert documented == declared


@pytest.mark.parametrize("name", SUITE)
def test_checked_cells_are_deterministic_text(name):
    checked = [c for c in code_cells(load(name)) if c.source.startswith(CHECK_MARK)]
    assert checked, f"{name} has no {CHECK_MARK} cell"
    for cell in checked:
        assert cell.outputs, cell.source
        for output in cell.outputs:
            assert "image/png" not in output.get("data", {})
            assert not re.search(r"\d+ms/step|\d+s/step|seconds", output_text(output))


def test_committed_figures_match_the_notebooks():
    """figures/ holds exactly what the notebooks save: nothing missing, nothing stale."""
    names = set().union(*(saved_figures(load(name)) for name in SUITE))
    committed = {p.stem for p in (PROJECT_ROOT / "figures").glob("*.png")}
    assert names and names == committed, (sorted(names - committed), sorted(committed - names))


# --- TensorFlow's C++ logs -------------------------------------------------------

TF_NOTICES = ("absl::InitializeLog", "oneDNN custom operations", "cpu_feature_guard")


def test_importing_the_package_keeps_tensorflow_notices_off_stderr():
    """Any process that imports fmnist_lib, then TensorFlow through it, shows none of
    TensorFlow's start-up notices; other lines written meanwhile still get through."""
    code = (
        "import os, fmnist_lib, tensorflow\n"
        "from fmnist_lib import quiet, models\n"
        "print(quiet.passed_through('I0 port.cc:153] oneDNN custom operations are on\\n"
        "real error\\n'), end='')"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("TF_CPP")}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert not [n for n in TF_NOTICES if n in proc.stderr], proc.stderr
    assert proc.stdout == "real error\n"


def forward_fd_output_in_kernels(monkeypatch) -> None:
    """Kernels started from here forward file descriptor 2 as a notebook's would: ipykernel
    skips that when $PYTEST_CURRENT_TEST is set, which kernels would inherit."""
    monkeypatch.delenv("PYTEST_CURRENT_TEST", raising=False)


@pytest.mark.slow
def test_an_interactive_kernel_shows_no_tensorflow_logs(tmp_path, monkeypatch):
    """A notebook kernel as JupyterLab starts it (file descriptor 2 forwarded into the
    notebook, no runner) shows no stderr from loading Keras or Optuna after fmnist_lib."""
    from nbclient import NotebookClient

    nb = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_code_cell("from fmnist_lib import hardware"),
            nbformat.v4.new_code_cell(
                "from fmnist_lib.models import build_model\nimport optuna  # loads tqdm.auto"
            ),
            nbformat.v4.new_code_cell("import os\n_ = os.write(2, b'C-level line\\n')"),
            nbformat.v4.new_code_cell("import sys\nsys.stderr.flush()"),
        ]
    )
    forward_fd_output_in_kernels(monkeypatch)
    for key in [k for k in os.environ if k.startswith("TF_CPP")]:
        monkeypatch.delenv(key)
    client = NotebookClient(
        nb, kernel_name=runner.KERNEL_NAME, resources={"metadata": {"path": tmp_path}}
    )
    client.execute()
    first, second, *control = (c.outputs for c in nb.cells)
    assert first == [] and second == [], second
    # The kernel does forward C-level output (its pipe is read by a thread, so the
    # line may come with the next cell): the quiet import is what keeps Keras silent.
    assert "".join(o.get("text", "") for outputs in control for o in outputs) == "C-level line\n"


# --- validation before anything runs -------------------------------------------


def test_unknown_parameter_fails_early(capsys, tmp_path):
    rc, _, err = run_notebooks_cli(capsys, "-p", "EPOCHS=3", "--out", tmp_path / "out")
    assert rc == 2
    assert "'EPOCHS' is not in the parameters cell of 00_explore.ipynb" in err
    assert "SEED" in err  # lists the valid ones
    assert not (tmp_path / "out").exists()  # nothing ran
    with pytest.raises(UsageError, match="NOPE.*04_evaluation.*GALLERY_SIZE"):
        runner.run_suite(only=["04_evaluation"], parameters={"NOPE": 1}, progress=False)


def test_parameter_type_and_managed_parameters_are_checked(capsys, tmp_path):
    rc, _, err = run_notebooks_cli(capsys, "-p", "SEED=abc", "--out", tmp_path)
    assert rc == 2 and "SEED" in err and "int" in err
    rc, _, err = run_notebooks_cli(capsys, "-p", "PROFILE=full", "--out", tmp_path)
    assert rc == 2 and "--profile" in err
    rc, _, err = run_notebooks_cli(capsys, "-p", "no-equals-sign", "--out", tmp_path)
    assert rc == 2 and "NAME=VALUE" in err


def test_unknown_only_name_lists_valid_names(capsys, tmp_path):
    rc, _, err = run_notebooks_cli(capsys, "--only", "05_nope", "--out", tmp_path)
    assert rc == 2
    assert "05_nope" in err and ", ".join(SUITE) in err


def test_evaluation_refuses_an_incomplete_suite_run(capsys, tmp_path):
    run_dir = suite_run_dir(tmp_path / "runs", "smoke", "arch2", None, 0)
    run_dir.mkdir(parents=True)
    set_status(run_dir, "running")
    rc, _, err = run_notebooks_cli(
        capsys, "--only", "04_evaluation", "--runs-dir", tmp_path / "runs", "--out", tmp_path
    )
    assert rc == 1
    assert "04_evaluation.ipynb reads the run" in err and "not a completed run" in err


def test_evaluation_works_from_results_alone(capsys, tmp_path, monkeypatch):
    """A fresh clone has results/ but no runs: 04_evaluation still runs, training nothing."""
    monkeypatch.setenv("FMNIST_FIGURES_DIR", str(tmp_path / "figures"))
    rc, out, err = run_notebooks_cli(
        capsys, "--only", "04_evaluation", "--runs-dir", tmp_path / "none", "--out", tmp_path
    )
    assert rc == 0, err
    assert not (tmp_path / "none").exists()
    executed = nbformat.read(tmp_path / "04_evaluation.ipynb", as_version=4)
    text = "\n".join(
        output.get("text", "") for cell in executed.cells for output in cell.get("outputs", [])
    )
    best = results.best_record(results.load_results())
    assert f"best model: {best['name']}" in text and "no runs here" in text
    saved = {p.stem for p in (tmp_path / "figures").glob("*.png")}
    # The learning curves of all seeds come from results/ too.
    expected = {"best_model_tsne", "best_model_misclassified", "reliability_diagram"}
    assert expected | {"learning_curves_all"} <= saved


# --- small synthetic notebooks: failure, in-place --------------------------------


def make_notebook(path: Path, *sources: str, parameters: str | None = None) -> None:
    """A notebook of code cells, each carrying a stale output from an earlier run."""
    cells = []
    if parameters is not None:
        cell = nbformat.v4.new_code_cell(parameters)
        cell.metadata["tags"] = ["parameters"]
        cells.append(cell)
    for source in sources:
        stale = nbformat.v4.new_output("stream", name="stdout", text="stale output\n")
        cells.append(nbformat.v4.new_code_cell(source, outputs=[stale], execution_count=9))
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nbformat.write(nb, path)


@pytest.mark.slow
def test_failing_notebook_stops_the_batch(capsys, tmp_path):
    folder, out = tmp_path / "nb", tmp_path / "out"
    folder.mkdir()
    make_notebook(folder / "a_ok.ipynb", "print('fine')")
    make_notebook(
        folder / "b_fails.ipynb", "print('before')", "raise ValueError('boom')", "print('after')"
    )
    make_notebook(folder / "c_later.ipynb", "print('never')")

    rc, _, err = run_notebooks_cli(capsys, "--notebooks-dir", folder, "--out", out)
    assert rc == 1
    assert "b_fails.ipynb failed in cell In [2]" in err
    assert "raise ValueError('boom')" in err and "ValueError: boom" in err
    assert f"Partial executed copy kept: {out / 'b_fails.ipynb'}" in err
    partial = nbformat.read(out / "b_fails.ipynb", as_version=4)
    first, second, third = code_cells(partial)
    assert first.outputs[0].text == "before\n"
    assert second.outputs[0].output_type == "error" and second.outputs[0].ename == "ValueError"
    assert third.execution_count is None and not third.outputs  # never reached, no stale output
    assert not (out / "c_later.ipynb").exists()
    record = json.loads((out / runner.RECORD_NAME).read_text())["notebooks"]
    assert record["a_ok"]["status"] == "completed"
    assert record["b_fails"]["status"] == "failed" and "boom" in record["b_fails"]["error"]
    assert "c_later" not in record

    # A rerun skips what succeeded and retries the failed notebook.
    rc, out_text, err = run_notebooks_cli(
        capsys, "--notebooks-dir", folder, "--out", out, "--dry-run"
    )
    assert rc == 0
    assert re.search(r"a_ok +skipped", out_text)
    assert re.search(r"b_fails +would run: last attempt failed", out_text)
    assert re.search(r"c_later +would run: not executed yet", out_text)


@pytest.mark.slow
def test_c_level_logs_stay_out_of_the_executed_notebook(capsys, tmp_path, monkeypatch):
    """A library writing to file descriptor 2 (TensorFlow's C++ logs) does not reach
    the notebook; Python's own stderr still does, so real warnings stay visible."""
    forward_fd_output_in_kernels(monkeypatch)
    folder, out = tmp_path / "nb", tmp_path / "out"
    folder.mkdir()
    make_notebook(
        folder / "x.ipynb",
        "import os, sys\n_ = os.write(2, b'C-level log line\\n')",
        "print('python stderr', file=sys.stderr)",
    )
    rc, _, _ = run_notebooks_cli(capsys, "--notebooks-dir", folder, "--out", out)
    assert rc == 0
    first, second = code_cells(nbformat.read(out / "x.ipynb", as_version=4))
    assert first.outputs == []
    assert [(o.name, o.text) for o in second.outputs] == [("stderr", "python stderr\n")]


@pytest.mark.slow
def test_in_place_writes_clean_sources(capsys, tmp_path, monkeypatch):
    folder, out = tmp_path / "nb", tmp_path / "out"
    folder.mkdir()
    make_notebook(
        folder / "x.ipynb",
        "print(PROFILE, SEED)",
        "SEED * 2",
        "import os\nprint(os.environ['FMNIST_FIGURES_DIR'])",
        parameters='PROFILE = "smoke"\nSEED = 0',
    )
    # Only a publishing run's kernels send their figures to the figures/ beside the
    # notebooks' folder: the committed ones, for this checkout's notebooks.
    monkeypatch.delenv("FMNIST_FIGURES_DIR")
    rc, out_text, _ = run_notebooks_cli(
        capsys, "--notebooks-dir", folder, "--out", out, "--in-place", "--profile", "full",
        "-p", "SEED=3",
    )  # fmt: skip
    assert rc == 0
    assert f"figures in {tmp_path / 'figures'}" in out_text
    source = nbformat.read(folder / "x.ipynb", as_version=4)
    # The parameters cell keeps its own values; outputs are from the injected ones.
    assert source.cells[0].source == 'PROFILE = "smoke"\nSEED = 0'
    assert len(source.cells) == 4
    assert [c.execution_count for c in source.cells] == [1, 2, 3, 4]
    assert source.cells[1].outputs[0].text == "full 3\n"
    assert source.cells[2].outputs[0]["execution_count"] == 3
    assert source.cells[3].outputs[0].text == f"{tmp_path / 'figures'}\n"
    assert "FMNIST_FIGURES_DIR" not in os.environ  # restored after the run
    assert set(source.metadata) <= {"kernelspec", "language_info"}
    assert all(set(c.metadata) <= {"tags"} for c in source.cells)
    # The executed copy in --out keeps papermill's record.
    copy = nbformat.read(out / "x.ipynb", as_version=4)
    assert "papermill" in copy.metadata
    assert any("injected-parameters" in c.metadata.get("tags", []) for c in copy.cells)


# --- the real suite, once, in the smoke profile ------------------------------------


@pytest.fixture(scope="module")
def executed_suite(workspace):
    """`make reproduce PROFILE=smoke` in the clone, once; return the CompletedProcess.

    A first look changes no committed file: afterwards `git status` in the clone is
    clean (its notebooks, figures/ and results/ as they were). The package is the
    editable install of this checkout (the same files as the clone's), and this
    checkout's state is unchanged too, so a write aimed at the package's own folder
    instead of the run's would show.
    """
    env = clone_env()
    before = checkout_state()
    # `-o setup`: the clone has no .venv of its own; BIN is this checkout's.
    proc = subprocess.run(
        ["make", "-o", "setup", "reproduce", "PROFILE=smoke", f"BIN={Path(sys.executable).parent}"],
        cwd=workspace,
        capture_output=True,
        text=True,
        timeout=1200,
        env=env,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert git(workspace, "status", "--porcelain") == "", "a smoke run changed committed files"
    assert checkout_state() == before, "a smoke run in the clone wrote into this checkout"
    return proc


@pytest.mark.slow
def test_every_notebook_executes_in_order_in_the_smoke_profile(executed_suite, workspace, tmp_path):
    assert executed_suite.returncode == 0, executed_suite.stderr[-3000:]
    lines = [line for line in executed_suite.stdout.splitlines() if " executed in " in line]
    assert [line.split()[0] for line in lines] == SUITE  # in order, each timed
    out = smoke_out(workspace)
    whole = json.loads((out / runner.RECORD_NAME).read_text())
    last_run = whole["last_run"]  # the README's suite-duration line reads this
    assert last_run["profile"] == "smoke" and last_run["executed"] == SUITE
    assert last_run["skipped"] == [] and last_run["wall_seconds"] > 0
    assert set(last_run["machine"]) == {"cpu", "cores", "bf16"}
    # `make time-quick` keeps such a record as results/suite/quick.json for the README.
    (tmp_path / "suite").mkdir()
    shutil.copy(out / runner.RECORD_NAME, tmp_path / "suite" / "quick.json")
    timed = findings.first_look_sentence(tmp_path)
    assert f"ran all {len(SUITE)} notebooks in " in timed
    assert f"on {last_run['machine']['cpu']}, {last_run['machine']['cores']} cores" in timed
    record = whole["notebooks"]
    headers = set()
    for name in SUITE:
        nb = nbformat.read(out / f"{name}.ipynb", as_version=4)
        header = "".join(o.get("text", "") for o in code_cells(nb)[0].outputs)
        headers.update(re.findall(r"code: git commit (\S+)", header))
        for cell in code_cells(nb):
            assert all(o.output_type != "error" for o in cell.outputs), name
        assert record[name]["status"] == "completed" and record[name]["profile"] == "smoke"
        injected = [c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", [])]
        if name in runner.TRAINS or name in runner.READS:
            # RUNS_DIR keeps its default, ../runs: the clone's runs/
            assert injected[0].source.strip().endswith('PROFILE = "smoke"')
    # One commit in every header: the installed code's, as the run started.
    assert headers == {last_run["git_commit"]}
    code = last_run["git_commit"].removesuffix("-dirty")
    git(PROJECT_ROOT, "cat-file", "-e", f"{code}^{{commit}}")  # a commit of this checkout
    suite_runs = runner.suite_runs(workspace / "runs", "smoke", ("arch1", "arch2", "vgg"), 0)
    for run_dir in suite_runs:
        assert json.loads((run_dir / "status.json").read_text())["state"] == "completed"
    # The suite trained every run itself: its wall time includes their training.
    training = last_run["training"]
    assert training["runs"] == training["trained"] == len(suite_runs) == 6
    assert training["train_seconds"] == pytest.approx(
        sum(read_json(d / "metrics.json")["train_seconds"] for d in suite_runs)
    )
    # The figures sit beside the executed copies; figures/ keeps the committed ones.
    figures = {p.name for p in (out / "figures").glob("*.png")}
    expected = {"class_sprite.png", "arch1_learning_curves.png", "learning_curves_all.png"}
    assert expected | {"best_model_misclassified.png", "best_model_tsne.png"} <= figures
    assert f"figures in {out / 'figures'}" in executed_suite.stdout


@pytest.mark.slow
def test_rerun_skips_what_is_up_to_date(executed_suite, workspace, capsys, tmp_path):
    assert executed_suite.returncode == 0
    common = ["--out", smoke_out(workspace), "--notebooks-dir", workspace / "notebooks"]
    copies = {p: p.stat().st_mtime_ns for p in smoke_out(workspace).glob("*.ipynb")}
    rc, out, _ = run_notebooks_cli(capsys, *common)
    assert rc == 0
    assert len(re.findall(r"skipped: already executed for smoke", out)) == len(SUITE)
    assert {p: p.stat().st_mtime_ns for p in copies} == copies

    # Another profile, a new parameter value, or --force: everything would run.
    rc, out, _ = run_notebooks_cli(capsys, *common, "--dry-run", "--force", "--only", "00_explore")
    assert re.search(r"00_explore +would run: --force", out)
    rc, out, _ = run_notebooks_cli(capsys, *common, "--dry-run", "-p", "SEED=1")
    assert out.count("parameters changed") == len(SUITE)

    # A retrained run invalidates the notebooks that train or read it.
    status = suite_run_dir(workspace / "runs", "smoke", "arch1", None, 0) / "status.json"
    stat = status.stat()
    os.utime(status, (stat.st_atime, stat.st_mtime + 3600))
    try:
        rc, out, _ = run_notebooks_cli(capsys, *common, "--dry-run")
    finally:
        os.utime(status, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    stale = {line.split()[0] for line in out.splitlines() if "would run: run " in line}
    assert stale == {"01_arch1", "04_evaluation"}

    # So does a record added to results/, for the notebook that reads results/.
    record = next((workspace / "results" / "runs").glob("*.json"))
    stat = record.stat()
    os.utime(record, (stat.st_atime, time.time() + 3600))
    try:
        rc, out, _ = run_notebooks_cli(capsys, *common, "--dry-run")
    finally:
        os.utime(record, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    stale = {line.split()[0] for line in out.splitlines() if "would run: results " in line}
    assert stale == {"04_evaluation"}

    # An edited notebook source is run again; the others stay skipped. The copy sits
    # beside the clone's runs/ and results/, as its notebooks do.
    copy_dir = workspace / "edited_notebooks"
    shutil.copytree(workspace / "notebooks", copy_dir)
    nb = nbformat.read(copy_dir / "00_explore.ipynb", as_version=4)
    nb.cells[0].source += "\n\nEdited."
    nbformat.write(nb, copy_dir / "00_explore.ipynb")
    rc, out, _ = run_notebooks_cli(capsys, *common[:2], "--dry-run", "--notebooks-dir", copy_dir)
    assert re.search(r"00_explore +would run: notebook source changed", out)
    assert out.count("skipped: already executed") == len(SUITE) - 1


@pytest.mark.slow
def test_nbval_on_the_committed_notebooks(workspace, tmp_path):
    """`pytest --nbval-lax` on copies of the committed notebooks.

    The copies, set to the smoke profile, sit beside the workspace's runs folder,
    so their RUNS_DIR ("../runs") reuses the runs trained above when that test ran first.
    """
    copy_dir = workspace / "nbval_notebooks"
    shutil.rmtree(copy_dir, ignore_errors=True)
    copy_dir.mkdir()
    for name in SUITE:
        nb = load(name)
        cell = parameters_cell(nb)
        # The copies run in the smoke profile, as the runner injects it in CI.
        cell.source = cell.source.replace('PROFILE = "quick"', 'PROFILE = "smoke"')
        nbformat.write(nb, copy_dir / f"{name}.ipynb")
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q"]
        + ["--nbval-lax", "--nbval-sanitize-with", str(SANITIZE_CFG), str(copy_dir)],
        capture_output=True,
        text=True,
        timeout=1200,
        cwd=tmp_path,
        env={**os.environ, "FMNIST_FIGURES_DIR": str(tmp_path / "figures")},
    )
    assert proc.returncode == 0, proc.stdout[-5000:]
    assert re.search(rf"\b{sum(len(code_cells(load(n))) for n in SUITE)} passed", proc.stdout)
