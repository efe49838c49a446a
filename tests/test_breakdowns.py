"""What the notebooks break results down by (``Bench.misses``, ``.latency``, ``.frontier``) on
a real store with the demo history, checked against the per-case rows computed here; and
the shared charts (``bench_analytics.charts``) on those rows."""

from __future__ import annotations

import ast
import subprocess
import sys
from collections import Counter

import holoviews as hv
import numpy as np
import pytest

from bench_analytics import charts
from bench_analytics.api import Bench, RunFilter
from bench_analytics.errors import UsageError
from tests.conftest import REPO
from tests.demo_store import run_after

V2 = "v2-structured"
GHA = "github-actions"


def _expected_issues(bench: Bench, transaction_id: int) -> list[dict]:
    """Every expected issue of the answered cases of one run, from its case rows."""
    page = bench.cases(f"tx:{transaction_id}", status="ok", limit=10_000)
    return [issue for row in page.rows for issue in row.details.get("expected", [])]


# --- misses ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("by", "key"),
    [
        ("issue_type", lambda issue: issue["type"]),
        ("category", lambda issue: issue["category"]),
        (
            "domain_knowledge",
            lambda issue: "domain knowledge" if issue["domain_knowledge"] else "generic",
        ),
    ],
)
def test_misses_count_the_expected_issues_of_every_current_version(demo, by, key):
    rows = list(demo.misses(by=by))
    current = {r.transaction_id: r for r in demo.current() if r.transaction_id}
    assert {r.transaction_id for r in rows} == set(current)
    for transaction_id in current:
        issues = _expected_issues(demo, transaction_id)
        expected = Counter(key(i) for i in issues)
        missed = Counter(key(i) for i in issues if not i["found"])
        mine = [r for r in rows if r.transaction_id == transaction_id]
        assert {r.group: r.expected for r in mine} == dict(expected)
        assert {r.group: r.missed for r in mine} == {g: missed.get(g, 0) for g in expected}
        for r in mine:
            assert r.by == by and r.found + r.missed == r.expected
            assert r.recall == pytest.approx(r.found / r.expected)
            assert 0 <= r.recall_low <= r.recall <= r.recall_high <= 1
        assert [r.missed for r in mine] == sorted((r.missed for r in mine), reverse=True)


def test_misses_interval_is_wilson_as_the_package_computes_it(demo):
    from bench_analytics.stats.intervals import wilson

    for r in demo.misses(by="category"):
        low, high = wilson(r.found, r.expected)
        assert (r.recall_low, r.recall_high) == (pytest.approx(low), pytest.approx(high))


def test_misses_are_narrowed_by_the_filter_and_reach_the_frame(demo):
    where = RunFilter(models=("medgemma",), prompts=(V2,), environments=(GHA,))
    rows = demo.misses(where, by="issue_type")
    assert {r.model_key for r in rows} == {"medgemma"} and len({r.version for r in rows}) == 1
    frame = rows.to_frame()
    assert list(frame.columns[:4]) == [
        "model_key",
        "dataset_version",
        "prompt_version",
        "environment",
    ]
    assert frame["missed"].sum() == sum(r.missed for r in rows) > 0


def test_an_errored_case_is_not_a_miss(bench):
    run = run_after("openai", error_rate=0.3)  # timeouts, under the failure threshold
    [outcome] = bench.push(run).outcomes
    assert outcome.current
    errored = [c for c in run.cases if c.status == "error"]
    assert errored and all(c.details["expected"] for c in errored if c.details["expected"])
    answered = sum(len(c.details["expected"]) for c in run.cases if c.status == "ok")
    rows = bench.misses(by="category")
    assert sum(r.expected for r in rows) == answered
    assert sum(r.found for r in rows) == sum(c.tp or 0 for c in run.cases if c.status == "ok")


# --- latency --------------------------------------------------------------------------


def test_latency_per_run_gives_the_percentiles_of_its_cases(demo):
    [history] = demo.history("gemini", prompt=V2)
    points = {
        p.at: p for p in demo.latency(RunFilter(models=("gemini",), prompts=(V2,)), bucket="run")
    }
    healthy = [v for v in history.versions if v.effective_status == "healthy"]
    assert set(points) == {v.run_at for v in healthy}  # the outage has no point
    for version in healthy:
        cases = demo.cases(f"tx:{version.transaction_id}", limit=10_000).rows
        latencies = [c.latency_ms for c in cases if c.latency_ms is not None]
        point = points[version.run_at]
        assert (point.runs, point.cases) == (1, len(latencies))
        p50, p90, p99 = np.percentile(latencies, [50, 90, 99])
        assert (point.p50_ms, point.p90_ms, point.p99_ms) == (
            pytest.approx(p50),
            pytest.approx(p90),
            pytest.approx(p99),
        )
        assert point.mean_ms == pytest.approx(np.mean(latencies))


def test_latency_per_day_pools_the_cases_of_every_healthy_run_of_a_model(demo):
    daily = demo.latency(bucket="day")
    assert {p.model_key for p in daily} == {"baseline", "gemini", "medgemma", "openai"}
    for point in daily:
        assert point.at.hour == 0 and point.cases == 100 * point.runs
        assert point.p50_ms <= point.p90_ms <= point.p99_ms
    # baseline answers in milliseconds, medgemma in seconds
    medians = {p.model_key: p.p50_ms for p in daily}
    assert medians["baseline"] < 10 < 1000 < medians["medgemma"]
    weekly = demo.latency(bucket="week")
    assert sum(p.cases for p in weekly) == sum(p.cases for p in daily)


# --- frontier -------------------------------------------------------------------------


def test_frontier_marks_the_versions_no_cheaper_one_matches(demo):
    rows = list(demo.frontier())
    priced = [r for r in demo.current() if r.status == "healthy" and r.cost_usd and r.f1]
    assert {r.transaction_id for r in rows} == {r.transaction_id for r in priced}
    assert [r.cost_usd for r in rows] == sorted(r.cost_usd for r in rows)
    for row in rows:
        beaten = any(
            o.transaction_id != row.transaction_id
            and (o.cost_usd, -o.f1) <= (row.cost_usd, -row.f1)
            and o.f1 >= row.f1
            for o in rows
        )
        assert row.on_frontier == (not beaten), row
        assert row.cost_per_case_usd == pytest.approx(row.cost_usd / row.case_count)
        assert row.f1_low is not None and row.f1_low <= row.f1 <= row.f1_high
    assert rows[0].on_frontier and rows[0].model_key == "medgemma"  # the cheapest is the best


def test_frontier_follows_the_filter(demo):
    rows = demo.frontier(RunFilter(models=("gemini", "openai"), prompts=(V2,)))
    assert [(r.model_key, r.on_frontier) for r in rows] == [("openai", True), ("gemini", True)]


# --- an empty store, bad arguments ------------------------------------------------------


def test_an_empty_store_gives_empty_tables_and_bad_arguments_are_refused(bench):
    assert len(bench.misses()) == 0 and list(bench.misses().to_frame().columns)
    assert len(bench.latency()) == 0 and len(bench.frontier()) == 0
    with pytest.raises(UsageError, match="choose one of issue_type, category"):
        bench.misses(by="model")
    with pytest.raises(UsageError, match="choose one of run, day, week, month"):
        bench.latency(bucket="commit")


# --- the shared charts -----------------------------------------------------------------


def test_the_charts_draw_the_rows_and_give_none_when_there_is_nothing(demo):
    where = RunFilter(prompts=(V2,), environments=(GHA,))
    drawn = {
        "misses": charts.misses_chart(list(demo.misses(where))),
        "latency": charts.latency_chart(charts.latency_frame(list(demo.latency(where)))),
        "frontier": charts.frontier_chart(charts.frontier_frame(list(demo.frontier(where)))),
        "forest": charts.forest(list(demo.current(where))),
        "spend": charts.spend_chart(list(demo.cost(since="all")), "model"),
    }
    for name, chart in drawn.items():
        assert chart is not None, name
        hv.renderer("bokeh").get_plot(chart)  # draws without error
    assert charts.misses_chart([]) is None and charts.forest([]) is None
    assert charts.latency_chart(charts.latency_frame([])) is None
    assert charts.frontier_chart(charts.frontier_frame([])) is None
    assert charts.trend_chart(charts.points_frame([]), "f1") is None
    assert charts.precision_recall_chart(charts.precision_recall_frame({})) is None
    assert charts.spend_chart([], "model") is None


def test_the_precision_recall_chart_has_the_intervals_of_show(demo):
    [row] = demo.current(RunFilter(models=("medgemma",), prompts=(V2,), environments=(GHA,)))
    shown = demo.show(f"tx:{row.transaction_id}")
    frame = charts.precision_recall_frame({"medgemma": shown.estimates})
    by_metric = {e.metric: e for e in shown.estimates}
    assert frame.loc[0, "recall_low"] == by_metric["recall"].low
    assert frame.loc[0, "precision_high"] == by_metric["precision"].high
    hv.renderer("bokeh").get_plot(charts.precision_recall_chart(frame))


def test_numbers_in_tables_never_use_scientific_notation():
    assert [charts.number(x) for x in (1.0, 0.6667, 5777.97, 0.000322, 3.7e-6, 5.08)] == [
        "1",
        "0.6667",
        "5,778",
        "0.000322",
        "0.000004",
        "5.08",
    ]


def test_the_charts_import_no_panel_dashboard_store_or_api():
    """HoloViews' bokeh backend loads Panel for itself; the charts never use it."""
    for path in (REPO / "bench_analytics" / "charts").glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        imported = [
            name
            for node in ast.walk(tree)
            for name in (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
        ]
        assert not [n for n in imported if n.split(".")[0] == "panel"], path.name
        assert not [n for n in imported if n.startswith(FACES)], path.name
    code = (
        "import sys, bench_analytics.charts; "
        f"print(sorted(m for m in sys.modules if m.startswith({FACES!r})))"
    )
    found = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert found.stdout.strip() == "[]"


FACES = ("bench_analytics.dashboard", "bench_analytics.store", "bench_analytics.api")
