"""Set-up files agree with each other, and the README's commands are the ones CI runs."""

from __future__ import annotations

import re
import tomllib

from fmnist_lib.paths import PROJECT_ROOT


def _name(requirement: str) -> str:
    return re.split(r"[<>=!;\[ ]", requirement.strip(), maxsplit=1)[0].lower().replace("_", "-")


def test_environment_yml_names_the_same_packages_as_pyproject():
    project = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())["project"]
    wanted = {_name(r) for r in project["dependencies"]}
    wanted |= {_name(r) for r in project["optional-dependencies"]["dev"]}
    wanted -= {"tensorflow"}  # pyproject picks tensorflow-cpu on Linux x86-64, as conda does here
    env = (PROJECT_ROOT / "environment.yml").read_text()
    pip_section = env.split("- pip:", 1)[1]
    listed = {_name(line.split("- ", 1)[1]) for line in pip_section.splitlines() if "- " in line}
    assert "-e .[dev]" in pip_section
    listed.discard("-e .")
    listed.discard("-e")
    assert listed == wanted


def test_readme_opens_with_two_commands_and_ci_runs_the_test_one():
    readme = (PROJECT_ROOT / "README.md").read_text()
    first_block = re.search(r"```(?:bash|sh)\n(.*?)```", readme, re.S).group(1)
    commands = [line for line in first_block.splitlines() if line and not line.startswith("#")]
    assert len(commands) == 2, commands
    ci = (PROJECT_ROOT / ".ci" / "run").read_text()
    assert commands[1].split("#")[0].strip() in ci


def test_no_sys_path_hacks_anywhere():
    hack = re.compile(r"sys\.path\.(insert|append|extend)|sys\.path\s*\+?=|PYTHONPATH")
    sources = [
        *PROJECT_ROOT.glob("fmnist_lib/**/*.py"),
        *PROJECT_ROOT.glob("tests/*.py"),
        *PROJECT_ROOT.glob("notebooks/*.ipynb"),
        PROJECT_ROOT / "Makefile",
    ]
    for path in sources:
        if path.name != "test_packaging.py":
            assert not hack.search(path.read_text()), path


def test_every_package_of_the_source_tree_is_installed():
    setuptools = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    found = {
        ".".join(init.parent.relative_to(PROJECT_ROOT).parts)
        for init in PROJECT_ROOT.glob("fmnist_lib/**/__init__.py")
    }
    assert set(setuptools["packages"]) == found
