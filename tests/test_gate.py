"""The gate in the store: holds on real regressions, records verdicts, rolls back, pins."""

from __future__ import annotations

from datetime import timedelta

import psycopg
import pytest

from bench_analytics.config import Settings
from bench_analytics.errors import UsageError
from bench_analytics.fixtures import DEMO_START, simulate_run, synthetic_patients
from bench_analytics.gate import check_run, resolve_baseline
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


def _verdicts(store, transaction_id):
    return store.conn.execute(
        "SELECT metric, decision, gated, baseline_rule, baseline_transaction_id, method "
        "FROM gate_verdicts WHERE transaction_id = %s ORDER BY id",
        (transaction_id,),
    ).fetchall()


def test_a_significant_regression_holds_the_pointer(store):
    first = store.push([("a", _run(0))])[0]
    [held] = store.push([("b", _run(1, shift=-0.35))])
    assert held.created and held.status == "healthy"
    assert not held.current and held.event == "hold"
    assert held.event_reason.startswith("held: significant regression vs version 1: f1")
    assert {r["metric"] for r in held.regressions} >= {"f1", "recall"}
    assert store.snapshots()[0]["version"] == 1
    verdicts = _verdicts(store, held.transaction_id)
    assert len(verdicts) == 10
    assert ("f1", "regression", True, "current", first.transaction_id, "paired") in verdicts


def test_force_and_the_setting_promote_anyway(store):
    store.push([("a", _run(0))])
    [forced] = store.push([("b", _run(1, shift=-0.35))], force=True)
    assert forced.current and forced.event == "promote"
    assert "promoted despite a significant regression" in forced.event_reason
    assert "--force" in forced.event_reason
    store.settings = Settings(hold_on_regression=False)
    [allowed] = store.push([("c", _run(2, shift=-0.7))])
    assert allowed.current and "BENCH_HOLD_ON_REGRESSION=false" in allowed.event_reason


def test_no_regression_promotes_and_records_verdicts(store):
    store.push([("a", _run(0))])
    [better] = store.push([("b", _run(1, shift=0.2))])
    assert better.current and better.regressions == []
    decisions = {m: d for m, d, *_ in _verdicts(store, better.transaction_id)}
    assert decisions["recall"] == "improvement"


def test_auto_rollback_returns_to_the_last_good_version(store):
    store.push([("a", _run(0)), ("b", _run(1))])
    store.push([("c", _run(2, shift=-0.35))], force=True)
    assert store.snapshots()[0]["version"] == 3
    move = store.auto_rollback(MEDGEMMA, reason="bad prompt", actor="ci")
    assert (move.event, move.from_version, move.to_version) == ("rollback", 3, 2)
    reason = store.conn.execute("SELECT reason FROM snapshot_events ORDER BY id DESC LIMIT 1")
    assert (
        "auto: newest healthy version without a significant regression (bad prompt)"
        in (reason.fetchone()[0])
    )
    again = store.auto_rollback(MEDGEMMA, reason=None, actor="ci")
    assert again.event is None and "already" in again.message


def test_auto_rollback_without_any_good_version(store):
    store.push([("down", _run(0, outage="HTTP 503"))])
    with pytest.raises(UsageError, match="no healthy version"):
        store.auto_rollback(MEDGEMMA, reason=None, actor="ci")


def test_pins_choose_the_baseline(store):
    store.push([(str(d), _run(d)) for d in range(3)])
    config = store.resolve(MEDGEMMA)
    with pytest.raises(UsageError, match="no pinned baseline"):
        resolve_baseline(store.conn, config, "pinned")
    store.pin(MEDGEMMA, 1, reason="release", actor="a")
    assert resolve_baseline(store.conn, config, "pinned").view.label == "medgemma@1"
    store.pin(MEDGEMMA, None, reason="done", actor="a")
    with pytest.raises(UsageError, match="no pinned baseline"):
        resolve_baseline(store.conn, config, "pinned")
    with pytest.raises(UsageError, match="version 9 does not exist"):
        store.pin(MEDGEMMA, 9, reason="x", actor="a")
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        store.conn.execute("DELETE FROM baseline_pins")


def test_check_of_a_stored_run_never_uses_itself(store):
    store.push([(str(d), _run(d)) for d in range(3)])
    current = _run(2)
    result = check_run(store.conn, current, "x.json", "current", store.settings)
    assert "version 2" in result.comparison.baseline_reason
    assert "before the candidate" in result.comparison.baseline_reason


def test_check_of_a_failed_run_is_not_compared(store):
    store.push([("a", _run(0))])
    result = check_run(store.conn, _run(1, outage="HTTP 503"), "x.json", "current", store.settings)
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


def test_history_fallback_without_per_case_data(store, tmp_path):
    from bench_analytics.formats import read_file

    rows = [_aggregate_row(i, 0.40 + 0.01 * (i % 3)) for i in range(6)]
    runs = read_file(samples.write(tmp_path / "e.json", rows))
    outcomes = store.push([("e", run) for run in runs])
    assert [o.event for o in outcomes] == ["promote"] * 6  # too little history to hold
    methods = {row[0] for row in store.conn.execute("SELECT DISTINCT method FROM gate_verdicts")}
    assert methods <= {"none", "history"}
    [drop] = store.push(
        [("drop", read_file(samples.write(tmp_path / "d.json", [_aggregate_row(7, 0.20)]))[0])]
    )
    assert not drop.current
    verdicts = _verdicts(store, drop.transaction_id)
    assert ("f1", "regression", True, "current", outcomes[-1].transaction_id, "history") in verdicts
