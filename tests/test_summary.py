"""Metrics computed from cases, and the metric registry's checks."""

from __future__ import annotations

import pytest

from bench_analytics.metrics import check_value, spec_for
from bench_analytics.model import CaseResult
from bench_analytics.summary import metrics_from_cases, with_case_metrics


def _cases():
    return [
        CaseResult(case_id="a", tp=2, fp=0, fn=0, latency_ms=100, cost_usd=0.01, input_tokens=10),
        CaseResult(case_id="b", tp=0, fp=1, fn=2, latency_ms=300, cost_usd=0.03, input_tokens=30),
        CaseResult(case_id="c", status="error", latency_ms=5000, error="HTTP 503"),
    ]


def test_micro_and_macro():
    m = metrics_from_cases(_cases())
    assert m["precision_micro"] == pytest.approx(2 / 3)
    assert m["recall_micro"] == pytest.approx(0.5)
    assert m["f1_micro"] == pytest.approx(2 * (2 / 3) * 0.5 / (2 / 3 + 0.5))
    assert m["recall_macro"] == pytest.approx(0.5)  # (1 + 0) / 2 answered cases
    assert m["error_count"] == 1 and m["error_rate"] == pytest.approx(1 / 3)
    assert m["latency_ms"] == 200  # errored cases do not count
    assert m["latency_p95_ms"] == pytest.approx(290)
    assert m["cost_usd"] == pytest.approx(0.04)
    assert m["cost_per_detected_issue_usd"] == pytest.approx(0.02)
    assert m["input_tokens"] == 40


def test_reported_values_win():
    merged = with_case_metrics({"f1": 0.9}, _cases(), "micro")
    assert merged["f1"] == 0.9
    assert merged["recall"] == pytest.approx(0.5)


def test_no_cases_no_metrics():
    assert metrics_from_cases([]) == {}


def test_registry_checks():
    assert check_value("f1", 1.7) == "is a rate and must lie in [0, 1], got 1.7"
    assert check_value("latency_ms", -1) == "cannot be negative, got -1"
    assert check_value("my_metric", -5) is None
    assert "finite" in check_value("f1", float("nan"))
    assert spec_for("latency_ms").direction == "lower"
    assert spec_for("brand_new").direction == "unknown"


def test_case_metrics_lists_every_metric_the_cases_can_give():
    from bench_analytics.fixtures import simulate_run, synthetic_patients
    from bench_analytics.summary import CASE_METRICS, metrics_from_cases

    run = simulate_run("openai", synthetic_patients(30, seed=1), error_rate=0.2)
    assert set(metrics_from_cases(run.cases)) == CASE_METRICS


def test_a_result_reporting_every_metric_is_taken_as_it_is():
    from bench_analytics.fixtures import simulate_run, synthetic_patients
    from bench_analytics.summary import with_case_metrics

    run = simulate_run("openai", synthetic_patients(30, seed=1))
    reported = {**run.metrics, "f1": 0.5}  # a reported value wins either way
    assert with_case_metrics(reported, run.cases, "micro") == reported
    partial = {"f1": 0.5}
    completed = with_case_metrics(partial, run.cases, "micro")
    assert completed["f1"] == 0.5 and completed["recall"] == run.metrics["recall_micro"]
