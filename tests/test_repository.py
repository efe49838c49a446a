"""The repository keeps its promises: two commands, lint-clean code, valid workflows."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

BIN = Path(sys.executable).parent


def test_readme_opens_with_the_two_commands():
    head = "\n".join((REPO / "README.md").read_text().splitlines()[:40])
    assert "make demo" in head and "make test" in head


def test_make_help_lists_every_target():
    done = subprocess.run(
        ["make", "-s", "help"], cwd=REPO, capture_output=True, text=True, check=True
    )
    listed = set(re.findall(r"\x1b\[36m([a-z-]+)\s*\x1b\[0m", done.stdout))
    assert {"demo", "test", "lint", "bench", "install", "clean", "help"} <= listed


def test_ci_entry_point_calls_make_test():
    text = (REPO / ".ci" / "run").read_text()
    assert "make test" in text
    assert (REPO / ".ci" / "run").stat().st_mode & 0o111


def test_ruff_is_clean():
    ruff = BIN / "ruff"
    if not ruff.exists():
        pytest.fail("ruff is a dev dependency: pip install -e '.[dev]'")
    done = subprocess.run(
        [str(ruff), "check", "--no-cache", "."], cwd=REPO, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_workflows_are_valid():
    checker = BIN / "check-jsonschema"
    workflows = sorted((REPO / ".github" / "workflows").glob("*.yml"))
    assert workflows
    done = subprocess.run(
        [str(checker), "--builtin-schema", "vendor.github-workflows", *map(str, workflows)],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def _dirty_cells(notebook: dict) -> list[int]:
    """Indexes of code cells that carry outputs or an execution count."""
    return [
        i
        for i, cell in enumerate(notebook["cells"])
        if cell["cell_type"] == "code" and (cell.get("outputs") or cell.get("execution_count"))
    ]


def test_the_output_check_finds_outputs():
    clean = {"cells": [{"cell_type": "code", "outputs": [], "execution_count": None}]}
    ran = {"cells": [{"cell_type": "markdown"}, {"cell_type": "code", "execution_count": 3}]}
    printed = {"cells": [{"cell_type": "code", "outputs": [{"output_type": "stream"}]}]}
    assert (_dirty_cells(clean), _dirty_cells(ran), _dirty_cells(printed)) == ([], [1], [0])


def test_notebooks_are_committed_without_outputs():
    notebooks = [
        path
        for path in sorted((REPO / "notebooks").rglob("*.ipynb"))
        if ".ipynb_checkpoints" not in path.parts
    ]
    assert notebooks, "the notebooks folder holds no notebook"
    for notebook in notebooks:
        dirty = _dirty_cells(json.loads(notebook.read_text()))
        assert not dirty, f"{notebook.name}: clear the outputs of cells {dirty}"


def test_no_real_data_copied_into_the_repository():
    tracked = subprocess.run(["git", "ls-files"], cwd=REPO, capture_output=True, text=True)
    if tracked.returncode != 0 or shutil.which("git") is None:
        pytest.skip("not a git checkout")
    for name in tracked.stdout.splitlines():
        assert "__benchmarks_results_" not in name and "supabase_transactions" not in name


def test_cli_start_up_imports_no_heavy_library():
    """--help and --version stay fast: heavy libraries load inside the commands that need them."""
    code = (
        "import sys, bench_analytics.cli; "
        "print(' '.join(sorted(m for m in sys.modules if m.split('.')[0] in "
        "{'psycopg', 'duckdb', 'numpy', 'pandas', 'scipy', 'httpx', 'apprise', 'sqlalchemy'} "
        "or m == 'bench_analytics.model')))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == ""


def test_import_layers_are_kept():
    """formats -> store -> analysis -> api -> faces: no import runs back up (import-linter)."""
    done = subprocess.run(
        [str(BIN / "lint-imports"), "--no-cache"], cwd=REPO, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr
    kept = re.search(r"Contracts: (\d+) kept, (\d+) broken", done.stdout)
    assert kept and int(kept.group(1)) >= 3 and kept.group(2) == "0", done.stdout[-500:]


def test_types_check():
    """mypy over the package, as `make lint` runs it (its cache is .mypy_cache, ignored)."""
    done = subprocess.run(
        [str(BIN / "mypy")],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr


def test_every_path_in_the_repository_checks_out_anywhere():
    """No file or folder name holds a character Windows or macOS cannot keep (HELM's run
    folders are named with ':'; fixtures use '_' instead)."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    assert listed
    bad = [path for path in listed if re.search(r'[:*?"<>|\\]', path)]
    assert not bad, bad
