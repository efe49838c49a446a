"""``Bench.ingest``: the library call behind the ingest notebook (glob, validate, push, gate)."""

from __future__ import annotations

import pytest

from bench_analytics.context import PushContext
from bench_analytics.errors import BadInputError, RegressionFound
from bench_analytics.fixtures import sample_history, write_results


@pytest.fixture
def history(tmp_path):
    """The demo history as files: 46 results, an outage and a held regression."""
    return write_results(sample_history(seed=7, commits=10, patients=100), tmp_path / "results")


def test_ingest_pushes_every_file_and_gates_each_against_the_version_before(bench, history):
    report = bench.ingest("results/*.json", context=PushContext(environment="ci"))
    rows = report.runs
    assert len(rows) == len(history) == 46
    assert report.stored and report.regression
    first = [r for r in rows if r.version == 1]
    assert first and all("first version" in r.verdict for r in first)
    assert [r.outcome for r in rows].count("held") == 1
    assert [r.model_key for r in rows if r.verdict.startswith("regression")] == ["medgemma"]
    assert [r.status for r in rows].count("failed") == 1
    failed = next(r for r in rows if r.status == "failed")
    assert failed.outcome == "failed run" and "503" in failed.verdict
    assert {r.environment for r in rows} == {"ci"}
    assert "1 held" in report.headline() and "1 regression" in report.headline()
    with pytest.raises(RegressionFound, match="medgemma"):
        report.raise_for_regression()


def test_a_second_ingest_stores_nothing_and_keeps_the_verdicts(bench, history):
    first = bench.ingest("results/*.json")
    again = bench.ingest("results/*.json")
    assert {r.outcome for r in again.runs} == {"already stored"}
    assert [r.transaction_id for r in again.runs] == [r.transaction_id for r in first.runs]
    assert again.regression and len(again.regressions) == len(first.regressions) == 1


def test_the_markdown_verdict_fits_a_pull_request_comment(bench, history):
    report = bench.ingest("results/*.json")
    text = report.markdown()
    assert text.startswith("## ❌ Benchmark ingest: 46 results from 46 files")
    assert len(text) < 65_536
    assert text.count("\n| ") >= 46  # one table row per result
    assert "### " in text  # the regression's own paired report
    verdict, summary = report.write(bench_dir := history[0].parent.parent / "reports")
    assert verdict.read_text() == text and summary.is_file()
    assert bench_dir.is_dir()


def test_history_filter_names_the_touched_configurations(bench, history):
    report = bench.ingest("results/medgemma*.json")
    where = report.history_filter()
    assert where.models == ("medgemma",)
    _, points = bench.trend("f1", where, bucket="run")
    assert points and {p.model_key for p in points} == {"medgemma"}


def test_another_baseline_is_checked_per_result(bench, history):
    report = bench.ingest("results/openai*.json", baseline="previous")
    assert report.runs and not report.regression
    assert any("no significant change" in r.verdict for r in report.runs)


def test_a_refused_file_stops_the_batch_and_names_it(bench, history):
    (history[0].parent / "broken.json").write_text('{"model": ')
    with pytest.raises(BadInputError, match=r"broken\.json") as raised:
        bench.ingest("results/*.json")
    assert "1 of 47 files refused, nothing was written" in str(raised.value)
    assert not bench.snapshots()


@pytest.mark.parametrize(
    ("pattern", "message"),
    [("", "is empty"), ("nowhere/*.json", "matches no result files"), ("results", "no result")],
)
def test_a_pattern_without_files_is_bad_input(bench, tmp_path, pattern, message):
    (tmp_path / "results").mkdir()
    with pytest.raises(BadInputError, match=message):
        bench.ingest(pattern)


def test_double_star_spans_artifact_folders(bench, tmp_path):
    for name in ("results-openai", "results-gemini"):
        runs = [r for r in sample_history(commits=1, patients=20) if name.endswith(r.model.key)]
        write_results(runs, tmp_path / "artifacts" / name)
    report = bench.ingest("artifacts/**/*.json")
    assert len(report.files) == 3  # gemini v1; openai v1 and its v3-reasoning run
    assert {r.model_key for r in report.runs} == {"openai", "gemini"}


def test_in_ci_without_a_store_results_are_validated_not_stored(tmp_path, monkeypatch):
    from bench_analytics import Bench
    from bench_analytics.config import get_settings

    monkeypatch.setenv("CI", "true")
    get_settings.cache_clear()
    write_results(sample_history(commits=1, patients=20), tmp_path / "results")
    with Bench() as bench:
        report = bench.ingest("results/*.json", context=PushContext(environment="gha"))
    assert not report.stored and "not stored" in (report.warning or "")
    assert {r.outcome for r in report.runs} == {"not stored"}
    assert {r.environment for r in report.runs} == {"gha"}
    assert "Not persisted" in report.markdown()


def test_check_only_gates_against_the_store_and_stores_nothing(bench, history):
    bench.ingest("results/*v1__*.json")  # the history before the change
    stored = bench.status().rows
    report = bench.ingest("results/medgemma__v2*.json", persist=False)
    assert bench.status().rows == stored
    assert not report.stored and (report.warning or "").startswith("Check only")
    assert {r.outcome for r in report.runs} <= {"not stored", "failed run, not stored"}
    assert report.runs and all(r.version is None for r in report.runs)
    assert "Not persisted" in report.markdown()
