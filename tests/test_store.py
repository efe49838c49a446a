"""The store's data model, tried against a real PostgreSQL: it must hold when attacked."""

from __future__ import annotations

from datetime import timedelta

import psycopg
import pytest

from bench_analytics.errors import UsageError
from bench_analytics.fixtures import DEMO_START, simulate_run, synthetic_patients
from bench_analytics.store import ConfigFilter

PATIENTS = synthetic_patients(30, seed=3)


def _run(model="openai", day=0, **kwargs):
    return simulate_run(
        model, PATIENTS, commit=f"{day:040d}", when=DEMO_START + timedelta(days=day), **kwargs
    )


def _count(store, table):
    return store.conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def test_push_writes_every_table_in_one_go(store):
    run = _run()
    [outcome] = store.push([("a.json", run)])
    assert outcome.created and outcome.current and outcome.version == 1
    assert outcome.event == "promote"
    assert _count(store, "benchmark_transactions") == 1
    assert _count(store, "benchmark_cases") == len(run.cases)
    assert _count(store, "benchmark_metrics") == len(run.metrics)
    assert _count(store, "benchmark_snapshots") == 1
    assert _count(store, "snapshot_events") == 1
    row = store.conn.execute(
        "SELECT f1, status, case_count, commit_sha, document->'cases' FROM benchmark_transactions"
    ).fetchone()
    assert row[0] == pytest.approx(run.metrics["f1"])
    assert row[1:4] == ("healthy", len(run.cases), run.provenance.commit_sha)
    assert row[4] is None  # cases live in benchmark_cases, not twice
    unit, direction = store.conn.execute(
        "SELECT unit, direction FROM benchmark_metrics WHERE name = 'latency_ms'"
    ).fetchone()
    assert (unit, direction) == ("ms", "lower")


def test_same_content_twice_is_a_no_op(store):
    run = _run()
    first = store.push([("a.json", run)])[0]
    again = store.push([("renamed.json", run.model_copy(deep=True))])[0]
    assert not again.created
    assert (again.transaction_id, again.version) == (first.transaction_id, first.version)
    assert _count(store, "benchmark_transactions") == 1
    assert _count(store, "snapshot_events") == 1


def test_versions_are_contiguous_and_one_is_current(store):
    outcomes = store.push([(f"{d}.json", _run(day=d)) for d in range(5)])
    assert [o.version for o in outcomes] == [1, 2, 3, 4, 5]
    rows = store.conn.execute(
        "SELECT version, is_current FROM benchmark_snapshots ORDER BY version"
    ).fetchall()
    assert rows == [(1, False), (2, False), (3, False), (4, False), (5, True)]


def test_batches_are_pushed_in_run_order(store):
    outcomes = store.push([("late.json", _run(day=3)), ("early.json", _run(day=1))])
    assert [(o.source, o.version) for o in outcomes] == [("early.json", 1), ("late.json", 2)]


def test_failed_run_is_stored_but_never_current(store):
    store.push([("ok.json", _run(day=0))])
    [outcome] = store.push([("down.json", _run(day=1, outage="HTTP 503"))])
    assert outcome.created and outcome.status == "failed" and not outcome.current
    assert outcome.version == 2 and outcome.event == "hold"
    assert "30/30 cases failed: HTTP 503" in outcome.status_reason
    [snap] = store.snapshots()
    assert snap.version == 1
    event = store.conn.execute(
        "SELECT event_type, reason FROM snapshot_events ORDER BY id DESC LIMIT 1"
    ).fetchone()
    assert event[0] == "hold" and "health check" in event[1]


def test_first_run_failed_leaves_no_current(store):
    store.push([("down.json", _run(outage="HTTP 503"))])
    [snap] = store.snapshots()
    assert snap.version is None and snap.versions == 1 and snap.unhealthy == 1


def test_backfilled_older_run_keeps_the_pointer(store):
    store.push([("new.json", _run(day=5))])
    [outcome] = store.push([("old.json", _run(day=2))])
    assert outcome.version == 2 and not outcome.current and outcome.event == "hold"
    assert store.snapshots()[0].version == 1


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE benchmark_transactions SET f1 = 0.99",
        "DELETE FROM benchmark_transactions",
        "TRUNCATE benchmark_transactions CASCADE",
        "UPDATE benchmark_cases SET tp = 9",
        "DELETE FROM benchmark_cases",
        "UPDATE benchmark_metrics SET value = 1",
        "DELETE FROM benchmark_metrics",
        "DELETE FROM snapshot_events",
        "UPDATE snapshot_events SET reason = 'x'",
        "DELETE FROM benchmark_snapshots",
        "UPDATE benchmark_snapshots SET version = 7",
        "UPDATE benchmark_snapshots SET transaction_id = transaction_id + 1000",
        "TRUNCATE benchmark_snapshots CASCADE",
    ],
)
def test_the_log_cannot_be_edited(store, statement):
    store.push([("a.json", _run())])
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        store.conn.execute(statement)
    assert _count(store, "benchmark_transactions") == 1


def test_annotations_are_append_only(store):
    [outcome] = store.push([("a.json", _run())])
    store.quarantine(outcome.transaction_id, reason="outage", actor="t")
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        store.conn.execute("DELETE FROM transaction_annotations")


def test_two_current_rows_are_impossible(store):
    store.push([(f"{d}.json", _run(day=d)) for d in range(2)])
    with pytest.raises(psycopg.errors.UniqueViolation):
        store.conn.execute("UPDATE benchmark_snapshots SET is_current = true")


def test_duplicate_version_is_impossible(store):
    [outcome] = store.push([("a.json", _run())])
    other = store.push([("b.json", _run(day=1))])[0]
    with pytest.raises(psycopg.errors.UniqueViolation):
        store.conn.execute(
            """INSERT INTO benchmark_snapshots (model_key, dataset_version, prompt_version,
                   environment, version, transaction_id)
               SELECT model_key, dataset_version, prompt_version, environment, 1, %s
               FROM benchmark_snapshots WHERE transaction_id = %s""",
            (other.transaction_id + 100, outcome.transaction_id),
        )


def test_configurations_are_separate(store):
    store.push(
        [
            ("a.json", _run()),
            ("b.json", _run(prompt="v3-reasoning")),
            ("c.json", _run(model="medgemma")),
            ("d.json", _run(environment="local")),
        ]
    )
    snaps = store.snapshots()
    assert len(snaps) == 4 and all(s.version == 1 for s in snaps)
    assert len(store.snapshots(ConfigFilter(model="openai"))) == 3
    assert len(store.snapshots(ConfigFilter(environment="local"))) == 1


def test_rollback_moves_the_pointer_with_an_event(store):
    store.push([(f"{d}.json", _run(day=d)) for d in range(3)])
    move = store.rollback(ConfigFilter(model="openai"), 1, reason="v3 leaks PHI", actor="alice")
    assert (move.event, move.from_version, move.to_version) == ("rollback", 3, 1)
    assert store.snapshots()[0].version == 1
    event = store.conn.execute(
        "SELECT event_type, from_version, to_version, reason, actor FROM snapshot_events "
        "ORDER BY id DESC LIMIT 1"
    ).fetchone()
    assert event == ("rollback", 3, 1, "v3 leaks PHI", "alice")
    forward = store.rollback(ConfigFilter(model="openai"), 3, reason=None, actor="alice")
    assert forward.event == "checkout"
    again = store.rollback(ConfigFilter(model="openai"), 3, reason=None, actor="alice")
    assert again.event is None and "already current" in again.message


def test_rollback_refuses_failed_runs_unless_forced(store):
    store.push([("ok.json", _run(day=0)), ("down.json", _run(day=1, outage="HTTP 503"))])
    with pytest.raises(UsageError, match="unless forced") as refused:
        store.rollback(ConfigFilter(model="openai"), 2, reason=None, actor="a")
    assert "force=True" in str(refused.value) and "--force" not in str(refused.value)
    assert refused.value.render(cli=True).endswith("(pass --force)")
    move = store.rollback(ConfigFilter(model="openai"), 2, reason="debug", actor="a", force=True)
    assert move.to_version == 2
    reason = store.conn.execute(
        "SELECT reason FROM snapshot_events ORDER BY id DESC LIMIT 1"
    ).fetchone()[0]
    assert "forced" in reason


def test_rollback_errors_name_the_choices(store):
    store.push([("a.json", _run()), ("b.json", _run(prompt="v3-reasoning"))])
    with pytest.raises(UsageError, match="matches 2 configurations") as caught:
        store.rollback(ConfigFilter(model="openai"), 1, reason=None, actor="a")
    assert "prompt=v3-reasoning" in str(caught.value)
    assert "--prompt v3-reasoning" in caught.value.render(cli=True)
    with pytest.raises(UsageError, match="models: openai"):
        store.rollback(ConfigFilter(model="nobody"), 1, reason=None, actor="a")
    with pytest.raises(UsageError, match="version 9 does not exist"):
        store.rollback(
            ConfigFilter(model="openai", prompt="v2-structured"), 9, reason=None, actor="a"
        )


def test_quarantine_returns_the_pointer_to_the_previous_healthy_version(store):
    outcomes = store.push([(f"{d}.json", _run(day=d)) for d in range(3)])
    store.push([("down.json", _run(day=3, outage="HTTP 503"))])  # version 4, failed
    latest = outcomes[-1]
    move = store.quarantine(latest.transaction_id, reason="endpoint outage", actor="bob")
    assert (move.event, move.from_version, move.to_version) == ("quarantine", 3, 2)
    [snap] = store.snapshots()
    assert snap.version == 2
    history = store.history(ConfigFilter(model="openai"))[0].versions
    assert history[2].effective_status == "quarantined"
    assert history[2].quarantine_reason == "endpoint outage"
    again = store.quarantine(latest.transaction_id, reason="again", actor="bob")
    assert again.event is None and "already quarantined" in again.message
    with pytest.raises(UsageError, match="unless forced"):
        store.rollback(ConfigFilter(model="openai"), 3, reason=None, actor="a")


def test_quarantine_of_the_only_version_clears_the_pointer(store):
    [outcome] = store.push([("a.json", _run())])
    move = store.quarantine(outcome.transaction_id, reason="bad run", actor="a")
    assert move.to_version is None
    assert store.snapshots()[0].version is None


def test_quarantine_of_history_keeps_the_pointer_and_release_undoes_it(store):
    outcomes = store.push([(f"{d}.json", _run(day=d)) for d in range(2)])
    move = store.quarantine(outcomes[0].transaction_id, reason="outage", actor="a")
    assert move.event is None and "pointer unchanged" in move.message
    released = store.quarantine(
        outcomes[0].transaction_id, reason="false alarm", actor="a", release=True
    )
    assert "released" in released.message
    kinds = store.conn.execute("SELECT kind FROM transaction_annotations ORDER BY id").fetchall()
    assert kinds == [("quarantine",), ("release",)]
    store.rollback(ConfigFilter(model="openai"), 1, reason=None, actor="a")


def test_quarantine_needs_a_reason_and_a_real_transaction(store):
    with pytest.raises(UsageError, match="no transaction 99"):
        store.quarantine(99, reason="x", actor="a")
    [outcome] = store.push([("a.json", _run())])
    with pytest.raises(UsageError, match="a reason is required") as caught:
        store.quarantine(outcome.transaction_id, reason="  ", actor="a")
    assert "--reason" in caught.value.render(cli=True)


def test_history_lists_versions_and_events(store):
    store.push([(f"{d}.json", _run(day=d)) for d in range(2)])
    [found] = store.history(ConfigFilter(model="openai"))
    assert found.configuration.model == "openai"
    assert [v.version for v in found.versions] == [1, 2]
    assert [v.is_current for v in found.versions] == [False, True]
    assert [e.event_type for e in found.events] == ["promote", "promote"]
    frame = found.versions.to_frame()
    assert list(frame["version"]) == [1, 2] and "effective_status" in frame.columns


def test_status_counts(store):
    store.push([("a.json", _run())])
    info = store.status()
    assert info.revision == info.head and info.up_to_date
    assert info.rows is not None and info.rows["benchmark_transactions"] == 1
    assert not info.embedded
