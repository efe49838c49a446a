"""The committed notebooks: stored without outputs, and each analysis notebook runs top to
bottom with papermill on a real kernel — on the demo history (printing what the store
holds) and on an empty store (saying how to fill it). ``10-ingest-results.ipynb`` has its
own tests (tests/test_ingest_notebook.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench_analytics import charts
from bench_analytics.api import Bench, RunFilter
from bench_analytics.fixtures import sample_history, write_results
from tests.conftest import REPO

nbformat = pytest.importorskip("nbformat", reason="pip install -e '.[notebooks]'")
papermill = pytest.importorskip("papermill", reason="pip install -e '.[notebooks]'")

# Kernels are heavy: the notebook runs share one xdist worker, one after another.
pytestmark = pytest.mark.xdist_group("notebooks")

NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))
ANALYSES = [path for path in NOTEBOOKS if not path.name.startswith("10-")]
EMPTY_STORE = "run `make demo`"
V2 = "v2-structured"
GHA = "github-actions"


def execute(path: Path, cwd: Path) -> str:
    """Run the notebook in ``cwd`` (papermill raises on a failing cell); its printed text."""
    out = cwd / f"executed-{path.name}"
    papermill.execute_notebook(
        str(path),
        str(out),
        kernel_name="python3",
        cwd=str(cwd),
        progress_bar=False,
        start_timeout=120,
    )
    executed = nbformat.read(out, as_version=4)
    assert not [o for c in executed.cells for o in c.get("outputs", []) if o.output_type == "error"]
    return "\n".join(
        output.get("text", "") or str(output.get("data", {}).get("text/plain", ""))
        for cell in executed.cells
        if cell.cell_type == "code"
        for output in cell.get("outputs", [])
    )


def _expected(name: str, bench: Bench, cwd: Path) -> list[str]:
    """Text a notebook prints from the demo history, computed here through the library."""
    medgemma = RunFilter(models=("medgemma",), prompts=(V2,), environments=(GHA,))
    [current] = bench.current(medgemma)
    f1 = charts.number(current.f1)
    if name.startswith("00-"):
        return ["medgemma", "cases got worse"]
    if name.startswith("20-"):
        return [f1, "openai against medgemma: paired over 100 cases", "regression", "v1 against"]
    if name.startswith("30-"):
        worse = bench.cases("medgemma@2", "medgemma@3", prompt=V2, change="worse", limit=1)
        outage = bench.failed_runs(RunFilter(models=("gemini",)))[0].reason
        return [
            f"{worse.total} cases got worse from medgemma@2 to medgemma@3",
            "gender_mismatch",
            "domain knowledge",
            outage,
        ]
    if name.startswith("40-"):
        spend = {row.group: row for row in bench.cost(since="all", by="model")}
        [best] = [r for r in bench.frontier(medgemma)]
        return [charts.number(spend["gemini"].cost_usd), "p99_ms", str(best.on_frontier)]
    if name.startswith("50-"):
        write_results(sample_history(), cwd / "benchmarks" / "results")  # what `make demo` writes
        return ["current_snapshots", "newer_than_current", "gender_mismatch", f1]
    raise AssertionError(f"say what {name} should print on the demo history")


@pytest.mark.parametrize("path", ANALYSES, ids=lambda p: p.name)
def test_a_notebook_runs_on_the_demo_history(path, demo, tmp_path):
    expected = _expected(path.name, demo, tmp_path)
    printed = execute(path, tmp_path)
    assert EMPTY_STORE not in printed
    missing = [text for text in expected if text not in printed]
    assert not missing, f"{path.name} did not print {missing}"


@pytest.mark.parametrize("path", ANALYSES, ids=lambda p: p.name)
def test_a_notebook_runs_on_an_empty_store(path, use_db, tmp_path):
    printed = execute(path, tmp_path)
    assert EMPTY_STORE in printed
    if path.name.startswith("50-"):
        assert "No result files" in printed


def test_there_are_notebooks():
    assert NOTEBOOKS and ANALYSES
    names = {path.name for path in NOTEBOOKS}
    for name in (
        "20-compare-models.ipynb",
        "30-failure-analysis.ipynb",
        "40-cost-and-latency.ipynb",
        "50-sql-playground.ipynb",
    ):
        assert name in names


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_a_committed_notebook_holds_no_outputs(path):
    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)
    for number, cell in enumerate(notebook.cells, 1):
        if cell.cell_type == "code":
            assert cell.get("outputs") == [], f"{path.name}: cell {number} has outputs"
            assert cell.get("execution_count") is None, f"{path.name}: cell {number} was run"
    assert notebook.metadata["kernelspec"]["name"] == "python3"


@pytest.mark.parametrize("path", ANALYSES, ids=lambda p: p.name)
def test_an_analysis_notebook_has_one_cell_of_parameters_first(path):
    """What an analyst edits is the first code cell (tagged for papermill -p)."""
    notebook = nbformat.read(path, as_version=4)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    if path.name.startswith("00-"):
        return  # the quickstart has nothing to configure
    assert "parameters" in code[0].metadata.get("tags", [])
    assert all("parameters" not in cell.metadata.get("tags", []) for cell in code[1:])
