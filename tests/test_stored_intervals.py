"""The headline intervals stored with each run at push: exactly what ``show`` gives for
small runs, a clustered normal interval close to the bootstrap for large ones, none for
failed or caseless runs, computed once per content."""

from __future__ import annotations

import pytest

from bench_analytics.fixtures import synthetic_patients
from tests.demo_store import PATIENTS, run_after, shown_intervals, stored_intervals, transaction_ids
from tests.samples import monitoring_result, write

HEADLINE = ("f1", "precision", "recall", "pass_rate", "latency_ms")


# --- intervals stored at push ---------------------------------------------------------


def test_a_small_run_stores_exactly_the_intervals_show_gives(bench):
    [tx] = transaction_ids(bench.push(("small", run_after())))
    stored, shown = stored_intervals(bench, tx), shown_intervals(bench, tx)
    assert set(HEADLINE) <= set(stored)
    for metric in HEADLINE:
        value, low, high, method, n = stored[metric]
        assert (value, low, high) == pytest.approx(shown[metric][:3], abs=1e-12), metric
        assert (method, n) == (shown[metric][3], len(PATIENTS))
        assert low <= value <= high


def test_a_large_run_stores_a_clustered_normal_interval_close_to_the_bootstrap(bench):
    patients = synthetic_patients(2000, seed=11)
    [tx] = transaction_ids(bench.push(("large", run_after(patients=patients))))
    stored, shown = stored_intervals(bench, tx), shown_intervals(bench, tx)
    for metric in ("f1", "precision", "recall", "latency_ms"):
        value, low, high, method, n = stored[metric]
        assert method == "normal approximation clustered by case" and n == 2000
        assert shown[metric][3].startswith("bootstrap")
        assert value == pytest.approx(shown[metric][0], abs=1e-9)
        tolerance = 0.01 if metric != "latency_ms" else 0.001 * value  # ms: 0.1 %
        assert abs(low - shown[metric][1]) < tolerance, (metric, low, shown[metric])
        assert abs(high - shown[metric][2]) < tolerance, (metric, high, shown[metric])
        assert high - low > 0
    assert stored["pass_rate"][3] == "Wilson"
    assert stored["pass_rate"][:3] == pytest.approx(shown["pass_rate"][:3], abs=1e-12)


def test_intervals_do_not_depend_on_the_order_of_the_cases(bench):
    """A stored run's cases come back in whatever order the table holds them; the file
    may list them in any order: the resamples (and so the interval) must not change."""
    run = run_after()
    [tx] = transaction_ids(bench.push(("sorted", run)))
    shuffled = run.model_copy(update={"cases": list(reversed(run.cases))})
    stored, in_memory = stored_intervals(bench, tx), shown_intervals(bench, shuffled)
    for metric in HEADLINE:
        assert stored[metric][:3] == pytest.approx(in_memory[metric][:3], abs=1e-12), metric


def test_failed_and_caseless_runs_store_no_score_intervals(bench, tmp_path):
    [failed] = transaction_ids(bench.push(("down", run_after(outage="HTTP 503"))))
    stored = stored_intervals(bench, failed)
    # nothing a chart would draw; at most the success rate (0 of 40, Jeffreys)
    assert set(stored) <= {"success_rate"}, stored
    if stored:
        assert stored["success_rate"][0] == 0.0
    aggregate = write(tmp_path / "monitoring.json", monitoring_result())
    [caseless] = transaction_ids(bench.push(aggregate))
    assert stored_intervals(bench, caseless) == {}
    assert bench.store().conn.execute("SELECT count(*) FROM run_intervals").fetchone()[0] == len(
        stored
    )


def test_the_same_content_pushed_twice_stores_no_second_set(bench, monkeypatch):
    from bench_analytics.stats import intervals

    calls: list[int] = []
    real = intervals.headline_intervals

    def counted(table, **kwargs):
        calls.append(table.n)
        return real(table, **kwargs)

    monkeypatch.setattr(intervals, "headline_intervals", counted)
    run = run_after()
    [first] = transaction_ids(bench.push(("a.json", run)))
    before = stored_intervals(bench, first)
    again = bench.push(("renamed.json", run.model_copy(deep=True)))
    assert not again.outcomes[0].created and again.outcomes[0].transaction_id == first
    assert calls == [len(PATIENTS)]  # not even computed a second time
    assert stored_intervals(bench, first) == before
    count = bench.store().conn.execute("SELECT count(*) FROM run_intervals").fetchone()[0]
    assert count == len(before)
