"""The gate through the public API: holds on real regressions, records verdicts, rolls back."""

from __future__ import annotations

from datetime import timedelta

import psycopg
import pytest

from bench_analytics.baselines import resolve_baseline
from bench_analytics.config import Settings
from bench_analytics.errors import UsageError
from bench_analytics.fixtures import DEMO_START, simulate_run, synthetic_patients
from bench_analytics.store import ConfigFilter
from tests import samples

PATIENTS = synthetic_patients(150, seed=21)
MEDGEMMA = ConfigFilter(model="medgemma")


def _run(day: int, shift: float = 0.0, **kwargs):
    return simulate_run(
        "medgemma",
        PATIENTS,
        commit=f"{day:040x}",
        when=DEMO_START + timedelta(days=day),
        shift=shift,
        **kwargs,
    )


def _push(bench, *runs, **kwargs):
    return bench.push([(f"r{i}", run) for i, run in enumerate(runs)], **kwargs).pushed


def _verdicts(bench, transaction_id):
    return (
        bench.store()
        .conn.execute(
            "SELECT metric, decision, gated, baseline_rule, baseline_transaction_id, method "
            "FROM gate_verdicts WHERE transaction_id = %s ORDER BY id",
            (transaction_id,),
        )
        .fetchall()
    )


def test_a_significant_regression_holds_the_pointer(bench):
    [first] = _push(bench, _run(0))
    [held] = _push(bench, _run(1, shift=-0.35))
    outcome = held.outcome
    assert outcome.created and outcome.status == "healthy"
    assert not outcome.current and outcome.event == "hold" and outcome.held
    assert outcome.event_reason.startswith("held: significant regression vs version 1: f1")
    assert {v.metric for v in held.regressions} >= {"f1", "recall"}
    assert held.comparison is not None and held.comparison.method == "paired"
    assert bench.snapshots()[0].version == 1
    verdicts = _verdicts(bench, outcome.transaction_id)
    assert len(verdicts) == 10
    assert ("f1", "regression", True, "current", first.outcome.transaction_id, "paired") in verdicts


def test_force_and_the_setting_promote_anyway(bench):
    _push(bench, _run(0))
    [forced] = _push(bench, _run(1, shift=-0.35), force=True)
    assert forced.outcome.current and forced.outcome.event == "promote"
    assert "promoted despite a significant regression" in forced.outcome.event_reason
    assert "(forced)" in forced.outcome.event_reason
    bench.settings = Settings(hold_on_regression=False)
    [allowed] = _push(bench, _run(2, shift=-0.7))
    assert allowed.outcome.current
    assert "BENCH_HOLD_ON_REGRESSION=false" in allowed.outcome.event_reason


def test_no_regression_promotes_and_records_verdicts(bench):
    _push(bench, _run(0))
    [better] = _push(bench, _run(1, shift=0.2))
    assert better.outcome.current and better.regressions == []
    decisions = {m: d for m, d, *_ in _verdicts(bench, better.outcome.transaction_id)}
    assert decisions["recall"] == "improvement"


def test_auto_rollback_returns_to_the_last_good_version(bench):
    _push(bench, _run(0), _run(1))
    _push(bench, _run(2, shift=-0.35), force=True)
    assert bench.snapshots()[0].version == 3
    move = bench.auto_rollback("medgemma", reason="bad prompt")
    assert (move.event, move.from_version, move.to_version) == ("rollback", 3, 2)
    reason = bench.store().conn.execute(
        "SELECT reason FROM snapshot_events ORDER BY id DESC LIMIT 1"
    )
    assert (
        "auto: newest healthy version without a significant regression (bad prompt)"
        in (reason.fetchone()[0])
    )
    again = bench.auto_rollback("medgemma")
    assert again.event is None and "already" in again.message


def test_auto_rollback_without_any_good_version(bench):
    _push(bench, _run(0, outage="HTTP 503"))
    with pytest.raises(UsageError, match="no healthy version"):
        bench.auto_rollback("medgemma")


def test_pins_choose_the_baseline(bench):
    _push(bench, *(_run(d) for d in range(3)))
    store = bench.store()
    config = store.resolve(MEDGEMMA)
    with pytest.raises(UsageError, match="no pinned baseline"):
        resolve_baseline(store, config, "pinned")
    bench.pin("medgemma", 1, reason="release")
    assert resolve_baseline(store, config, "pinned").view.label == "medgemma@1"
    bench.pin("medgemma", None, reason="done")
    with pytest.raises(UsageError, match="no pinned baseline"):
        resolve_baseline(store, config, "pinned")
    with pytest.raises(UsageError, match="version 9 does not exist"):
        bench.pin("medgemma", 9, reason="x")
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        store.conn.execute("DELETE FROM baseline_pins")


def test_check_of_a_stored_run_never_uses_itself(bench):
    _push(bench, *(_run(d) for d in range(3)))
    result = bench.check(_run(2))
    assert result.comparison is not None
    assert "version 2" in result.comparison.baseline_reason
    assert "before the candidate" in result.comparison.baseline_reason


def test_check_of_a_failed_run_is_not_compared(bench):
    _push(bench, _run(0))
    result = bench.check(_run(1, outage="HTTP 503"))
    assert result.comparison is None and not result.regression
    assert "failed the health check" in result.note


def _aggregate_row(i: int, f1: float) -> dict:
    return samples.export_row(
        f"id-{i}",
        f"2026-02-0{1 + i // 24}T{i % 24:02d}:00:00+00:00",
        "OpenAI GPT-4",
        model_provider="openai",
        metrics={
            "f1": f1,
            "recall": f1,
            "precision": f1,
            "latency_ms": 1000 + i,
            "total_documents": 16,
        },
    )


def test_history_fallback_without_per_case_data(bench, tmp_path):
    rows = [_aggregate_row(i, 0.40 + 0.01 * (i % 3)) for i in range(6)]
    pushed = bench.push(samples.write(tmp_path / "e.json", rows)).outcomes
    assert [o.event for o in pushed] == ["promote"] * 6  # too little history to hold
    recorded = (
        bench.store()
        .conn.execute("SELECT transaction_id, method, metric FROM gate_verdicts ORDER BY id")
        .fetchall()
    )
    # versions 2-5 had fewer than 5 healthy versions behind them: compared, nothing tested
    assert {tx for tx, _, _ in recorded} == {pushed[5].transaction_id}
    assert {method for _, method, _ in recorded} == {"history"}
    assert {metric for _, _, metric in recorded} == {"f1", "precision", "recall", "latency_ms"}
    [drop] = bench.push(samples.write(tmp_path / "d.json", [_aggregate_row(7, 0.20)])).outcomes
    assert not drop.current
    verdicts = _verdicts(bench, drop.transaction_id)
    assert ("f1", "regression", True, "current", pushed[-1].transaction_id, "history") in verdicts
