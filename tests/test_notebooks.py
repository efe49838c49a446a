"""The committed notebooks run top to bottom on a store with history, and on an empty one."""

from __future__ import annotations

import pytest

from tests.conftest import REPO

nbformat = pytest.importorskip("nbformat", reason="pip install -e '.[notebooks]'")
nbclient = pytest.importorskip("nbclient", reason="pip install -e '.[notebooks]'")

NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))


def _execute(path, cwd):
    notebook = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(
        notebook, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(cwd)}}
    )
    client.execute()
    return "\n".join(
        output.get("text", "") or str(output.get("data", {}).get("text/plain", ""))
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.get("outputs", [])
    )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_a_notebook_runs_on_the_demo_history(path, bench, tmp_path):
    bench.demo()
    printed = _execute(path, tmp_path)
    assert "Traceback" not in printed
    if path.name.startswith("00-"):
        assert "medgemma" in printed and "cases got worse" in printed


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_a_notebook_runs_on_an_empty_store(path, use_db, tmp_path):
    printed = _execute(path, tmp_path)
    assert "run `make demo`" in printed


def test_there_are_notebooks():
    assert NOTEBOOKS
