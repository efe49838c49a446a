"""The ingest notebook as CI runs it: ``bench-analytics ingest-notebook`` executes
notebooks/10-ingest-results.ipynb with papermill on a real kernel and a real PostgreSQL,
and its exit code is the notebook's verdict."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import fields
from pathlib import Path

import pytest

from bench_analytics.fixtures import sample_history, write_results
from tests.conftest import REALDATA, REPO

pytest.importorskip("papermill", reason="pip install -e '.[notebooks]'")

NOTEBOOK = REPO / "notebooks" / "10-ingest-results.ipynb"
CONFLICTED = "dd6f1dbc__benchmarks_results_aggregated_metrics_openai.json"


def _results(folder: Path, commits: int) -> list[Path]:
    """Result files of the sample history (commit 6 holds a medgemma regression)."""
    return write_results(sample_history(seed=5, commits=commits, patients=40), folder)


def _stored(url: str) -> int:
    from bench_analytics import Bench

    with Bench(url) as bench:
        rows = bench.status().rows or {}
    return rows.get("run_transactions", sum(rows.values()))


def _outputs(path: Path) -> list[dict]:
    notebook = json.loads(path.read_text())
    return [o for cell in notebook["cells"] for o in cell.get("outputs", [])]


def test_good_results_are_pushed_gated_and_reported(use_db, cli, tmp_path):
    files = _results(tmp_path / "results", commits=3)
    done = cli("ingest-notebook", "-i", "results/*.json", "--run-id", "gh 7/1", "-e", "ci")
    assert done.code == 0, done
    assert f"{len(files)} results from {len(files)} files" in done.out
    reports = tmp_path / "reports"
    executed, html = reports / "ingest-gh-7-1.ipynb", reports / "ingest-gh-7-1.html"
    assert executed.is_file() and html.is_file()
    outputs = _outputs(executed)
    assert outputs and not [o for o in outputs if o["output_type"] == "error"]
    page = html.read_text()
    assert "Benchmark ingest" in page and "bokeh" in page.lower()  # verdict and the chart
    verdict = (reports / "verdict.md").read_text()
    assert verdict.startswith("## ✅ Benchmark ingest")
    summary = json.loads((reports / "ingest.json").read_text())
    assert summary["stored"] and not summary["regression"]
    assert {run["environment"] for run in summary["runs"]} == {"ci"}
    stored = _stored(use_db)
    assert stored >= len(files)

    again = cli("ingest-notebook", "-i", "results/*.json", "--run-id", "gh 7/2", "-e", "ci")
    assert again.code == 0, again
    assert f"{len(files)} already stored" in again.out
    assert _stored(use_db) == stored  # idempotent: one set of rows


def test_a_merge_conflicted_file_fails_naming_it_and_stores_nothing(use_db, cli, tmp_path):
    _results(tmp_path / "results", commits=1)
    broken = tmp_path / "results" / "zz-conflicted.json"
    broken.write_text('{\n<<<<<<< HEAD\n  "f1": 0.5\n=======\n  "f1": 0.6\n>>>>>>> main\n}\n')
    done = cli("ingest-notebook", "-i", "results/*.json")
    assert done.code == 2, done
    assert "zz-conflicted.json" in done.err and "merge-conflict" in done.err
    assert "Traceback" not in done.err
    verdict = (tmp_path / "reports" / "verdict.md").read_text()
    assert "failed" in verdict and "zz-conflicted.json" in verdict
    assert "Nothing was stored" in verdict
    assert _stored(use_db) == 0


@pytest.mark.realdata
@pytest.mark.skipif(REALDATA is None, reason="BENCH_REALDATA is not set")
def test_the_old_systems_conflicted_file_is_refused(use_db, cli, tmp_path):
    folder = tmp_path / "artifacts" / "results-openai"
    folder.mkdir(parents=True)
    (folder / CONFLICTED).write_bytes((REALDATA / "seed-results" / CONFLICTED).read_bytes())
    done = cli("ingest-notebook", "-i", "artifacts/**/*.json")
    assert done.code == 2, done
    assert CONFLICTED in done.err and "line" in done.err
    assert _stored(use_db) == 0


def test_a_regression_fails_the_run_only_when_asked(use_db, cli, tmp_path):
    _results(tmp_path / "results", commits=6)
    failed = cli("ingest-notebook", "-i", "results/*.json", "--fail-on-regression")
    assert failed.code == 1, failed
    assert "significant regression" in failed.err and "medgemma" in failed.err
    verdict = (tmp_path / "reports" / "verdict.md").read_text()
    assert verdict.startswith("## ❌") and "regression" in verdict
    rerun = cli("ingest-notebook", "-i", "results/*.json", "--fail-on-regression")
    assert rerun.code == 1, rerun  # a re-run of the red job stays red
    passed = cli("ingest-notebook", "-i", "results/*.json")
    assert passed.code == 0, passed
    assert "1 regression" in passed.out


def test_in_ci_without_a_store_it_validates_warns_and_stores_nothing(cli, tmp_path, monkeypatch):
    monkeypatch.setenv("CI", "true")
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    _results(tmp_path / "results", commits=1)
    done = cli("ingest-notebook", "-i", "results/*.json")
    assert done.code == 0, done
    assert "::warning" in done.out and "not stored" in done.err
    verdict = (tmp_path / "reports" / "verdict.md").read_text()
    assert "Not persisted" in verdict and "(not stored)" in verdict


def test_an_unreachable_store_is_exit_3(cli, tmp_path, monkeypatch):
    monkeypatch.setenv("BENCH_DATABASE_URL", "postgresql://bench@127.0.0.1:9/none")
    _results(tmp_path / "results", commits=1)
    done = cli("ingest-notebook", "-i", "results/*.json")
    assert done.code == 3, done
    assert "127.0.0.1" in done.err or "connect" in done.err.lower()


def test_a_glob_that_matches_nothing_is_bad_input(use_db, cli, tmp_path):
    done = cli("ingest-notebook", "-i", "artifacts/**/*.json")
    assert done.code == 2, done
    assert "artifacts/**/*.json" in done.err and "matches no result files" in done.err
    assert (tmp_path / "reports" / "verdict.md").is_file()


def test_the_reports_folder_must_be_a_folder(use_db, cli, tmp_path):
    (tmp_path / "reports").write_text("not a folder")
    done = cli("ingest-notebook", "-i", "*.json", "--reports-dir", "reports")
    assert done.code == 2 and "is a file" in done.err


def test_papermill_documents_every_parameter():
    from bench_analytics.notebooks import IngestParameters

    shown = subprocess.run(
        [sys.executable, "-m", "papermill", "--help-notebook", str(NOTEBOOK)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert shown.returncode == 0, shown.stderr
    names = [f.name for f in fields(IngestParameters)] + ["report_dir"]
    assert len(names) == 10
    for name in names:
        line = next((x for x in shown.stdout.splitlines() if x.strip().startswith(f"{name}:")), "")
        assert line and "Unknown type" not in line, (name, shown.stdout)
    assert shown.stdout.count("empty") >= 4  # each parameter says what its default means


def test_exit_codes_follow_the_error_raised_in_the_notebook():
    from bench_analytics.notebooks.runner import exit_code_for

    assert exit_code_for("RegressionFound") == 1
    assert exit_code_for("BadInputError") == 2
    assert exit_code_for("UsageError") == 2
    assert exit_code_for("StoreNotConfiguredError") == 3
    assert exit_code_for("OperationalError") == 3
    assert exit_code_for("KeyError") == 4


def test_the_command_has_help_with_examples(cli):
    shown = cli("ingest-notebook", "--help")
    assert shown.code == 0
    assert "--fail-on-regression" in shown.out and "artifacts/**/*.json" in shown.out
