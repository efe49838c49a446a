"""One health rule: ``judge`` decides, ``assess`` and local SQL's ``bench_health`` call it."""

from __future__ import annotations

import itertools

import pytest

from bench_analytics import local
from bench_analytics.fixtures import sample_history
from bench_analytics.health import Health, assess, judge
from bench_analytics.local.session import new_connection
from bench_analytics.model import DatasetRef, ModelRef, RunResult


def test_judge_on_per_case_results():
    assert judge(10, 10, "HTTP 503", None, None, None, 0.5) == Health(
        "failed", "10/10 cases failed: HTTP 503", 10, 10
    )
    assert judge(10, 10, None, 10, None, None, 0.5).reason == "10/10 cases failed"
    assert judge(10, 6, "timeout", None, None, None, 0.5) == Health(
        "failed", "6/10 cases failed (60% > 50%): timeout", 10, 6
    )
    assert judge(10, 5, "timeout", None, None, None, 0.5) == Health("healthy", None, 10, 5)
    assert judge(8, 1, None, None, None, "no findings at all", 0.5) == Health(
        "failed", "no findings at all", 8, 1
    )


def test_judge_on_aggregate_only_results():
    assert judge(0, 0, None, 0, 3, None, 0.5) == Health(
        "failed", "no case was evaluated (0 cases)", 0, 0
    )
    assert judge(0, 0, None, 10, 6, None, 0.5) == Health("failed", "6/10 cases failed (60%)", 10, 6)
    assert judge(0, 0, None, 10, 4, None, 0.5) == Health("healthy", None, 10, 4)
    assert judge(0, 0, None, None, None, None, 0.5) == Health("healthy", None, 0, 0)
    assert judge(0, 0, None, None, 2, "", 0.5).status == "healthy"  # empty evidence is none


def test_assess_applies_judge_to_a_run():
    runs = sample_history()
    verdicts = [assess(run, 0.5) for run in runs]
    assert {v.status for v in verdicts} == {"healthy", "failed"}
    for run, verdict in zip(runs, verdicts, strict=True):
        errored = [c for c in run.cases if c.status == "error"]
        first = next((c.error for c in errored if c.error), None)
        expected = judge(len(run.cases), len(errored), first, 100, None, None, 0.5)
        assert verdict == expected


_GRID = list(
    itertools.product(
        (None, 0, 1, 4, 10),  # cases
        (None, 0, 1, 3, 10),  # errors
        (None, "", "HTTP 503"),  # first error
        (None, 0, 10),  # declared
        (None, 0, 2, 7),  # reported
        (None, "", "suspected outage"),  # outage evidence
        (0.0, 0.25, 0.5),  # threshold
    )
)


def test_the_sql_function_is_judge():
    import pyarrow as pa

    names = ("cases", "errors", "first_error", "declared", "reported", "outage", "threshold")
    columns = zip(*_GRID, strict=True)
    grid = pa.table({name: list(values) for name, values in zip(names, columns, strict=True)})
    con = new_connection()
    try:
        con.register("grid", grid)
        rows = con.execute(
            f"SELECT h.status, h.reason, h.case_count, h.error_count "
            f"FROM (SELECT bench_health({', '.join(names)}) AS h FROM grid)"
        ).fetchall()
    finally:
        con.close()
    assert len(rows) == len(_GRID) > 1000
    for args, row in zip(_GRID, rows, strict=True):
        cases, errors, *rest = args
        health = judge(cases or 0, errors or 0, *rest)
        assert row == (health.status, health.reason, health.case_count, health.error_count)


@pytest.mark.parametrize("threshold", [0.5, 0.2])
def test_runs_view_counts_follow_the_rule(tmp_path, threshold):
    """An aggregate-only result declaring 0 cases but reporting errors counts 0 and 0."""
    run = RunResult(
        model=ModelRef(key="agg"),
        dataset=DatasetRef(version="v1", declared_cases=0),
        prompt_version="p",
        reported_errors=3,
    )
    (tmp_path / "r.json").write_bytes(run.to_json())
    with local.connect([tmp_path], threshold=threshold) as session:
        got = session.con.sql("select status, status_reason, case_count, error_count from runs")
        row = got.fetchall()[0]
    verdict = assess(run, threshold)
    assert row == (verdict.status, verdict.reason, verdict.case_count, verdict.error_count)
    assert row == ("failed", "no case was evaluated (0 cases)", 0, 0)
