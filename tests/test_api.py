"""The public API: typed results, frames, the gate outside the lock, reads without DDL."""

from __future__ import annotations

from datetime import timedelta

import pandas as pd
import psycopg
import pytest
from psycopg.pq import TransactionStatus

from bench_analytics.api import Bench, StoreNotConfiguredError
from bench_analytics.configuration import Configuration
from bench_analytics.errors import BadInputError, SchemaError, UsageError
from bench_analytics.fixtures import DEMO_START, simulate_run, synthetic_patients
from bench_analytics.store import Store, schema
from bench_analytics.store.cases import CaseChangeRow
from bench_analytics.store.records import CurrentSnapshot, GateDecision, SnapshotRow
from bench_analytics.tables import Table

PATIENTS = synthetic_patients(120, seed=5)


def _run(day: int, model: str = "medgemma", shift: float = 0.0, **kwargs):
    return simulate_run(
        model,
        PATIENTS,
        commit=f"{day:040x}",
        when=DEMO_START + timedelta(days=day),
        shift=shift,
        **kwargs,
    )


def test_every_tabular_result_is_typed_and_becomes_a_frame(bench):
    report = bench.push([("a", _run(0)), ("b", _run(1)), ("c", _run(2, model="openai"))])
    assert isinstance(report.to_frame(), pd.DataFrame) and len(report.to_frame()) == 3
    snapshots = bench.snapshots()
    assert isinstance(snapshots, Table) and snapshots.row_type is SnapshotRow
    assert all(isinstance(row, SnapshotRow) for row in snapshots) and len(snapshots) == 2
    frame = snapshots.to_frame()
    assert list(frame["model_key"]) == ["medgemma", "openai"]
    assert isinstance(snapshots[0].configuration, Configuration)
    assert (
        str(snapshots[0].configuration) == "medgemma/demo-patients-v1/v2-structured/github-actions"
    )
    [history] = bench.history("medgemma")
    assert list(history.versions.to_frame()["version"]) == [1, 2]
    assert list(history.events.to_frame()["event_type"]) == ["promote", "promote"]
    cost = bench.cost(since="all")
    assert set(cost.to_frame()["group"]) == {"medgemma", "openai"}
    comparison = bench.compare("medgemma@1", "medgemma@2")
    verdicts = comparison.to_frame()
    assert {"metric", "delta", "low", "high", "p_adjusted", "decision"} <= set(verdicts.columns)
    assert len(verdicts) == len(comparison.verdicts) == 10
    intervals = bench.show("medgemma@current")
    assert intervals.cases == 120 and "f1" in set(intervals.to_frame()["metric"])
    page = bench.cases("medgemma@1", "medgemma@2", limit=5)
    assert page.rows.row_type is CaseChangeRow and len(page.to_frame()) == 5
    assert page.total == 120 and sum(page.counts.values()) == 120


def test_empty_tables_keep_their_columns(bench):
    frame = bench.snapshots().to_frame()
    assert frame.empty and "model_key" in frame.columns and "f1" in frame.columns


def test_push_takes_files_folders_runs_and_pairs(bench, tmp_path):
    from bench_analytics.fixtures import write_results

    paths = write_results([_run(0), _run(1)], tmp_path / "in")
    report = bench.push(tmp_path / "in")
    assert report.created == 2 and report.stored
    again = bench.push([paths[0], _run(1), ("named", _run(1))])
    assert again.created == 0 and next(p.outcome.source for p in again.pushed).endswith(".json")


def test_a_refused_file_stops_the_batch_unless_skipped(bench, tmp_path):
    from bench_analytics.fixtures import write_results

    write_results([_run(0)], tmp_path / "in")
    (tmp_path / "in" / "broken.json").write_text("{", encoding="utf-8")
    with pytest.raises(BadInputError, match="1 of 2 files: refused; nothing was written") as error:
        bench.push(tmp_path / "in")
    assert "skip_invalid=True" in str(error.value) and "--skip-invalid" not in str(error.value)
    assert error.value.details and "broken.json" in error.value.details[0]
    assert bench.snapshots() == []
    report = bench.push(tmp_path / "in", skip_invalid=True)
    assert report.created == 1 and [r.path.endswith("broken.json") for r in report.refused] == [
        True
    ]


def test_ci_without_a_store_stores_nothing(tmp_path, monkeypatch):
    monkeypatch.setenv("CI", "true")
    with Bench() as bench:
        report = bench.push(("a", _run(0)))
        assert not report.stored and report.pushed == [] and "not set in CI" in report.warning
        with pytest.raises(StoreNotConfiguredError, match="not set in CI"):
            bench.push(("a", _run(0)), require_store=True)
        checked = bench.check(_run(0))
        assert checked.comparison is None and "no baseline" in checked.warning
    assert not (tmp_path / ".bench").exists()  # no embedded server was started


def test_the_gate_runs_before_the_lock(store):
    """The comparison happens outside any transaction, so it holds no advisory lock."""
    seen: list[tuple[TransactionStatus, int]] = []

    def gate(run, config, current: CurrentSnapshot) -> GateDecision | None:
        locks = store.conn.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()"
        ).fetchone()[0]
        seen.append((store.conn.info.transaction_status, locks))
        return None

    store.push([("a", _run(0))], gate=gate)
    store.push([("b", _run(1))], gate=gate)
    assert seen == [(TransactionStatus.IDLE, 0)]  # called once: the first push had no current


def test_the_gate_is_asked_again_when_the_current_version_moved(store, use_db):
    """Another pusher promotes between the comparison and the lock: compare again."""
    store.push([("a", _run(0))])
    compared: list[int] = []

    def gate(run, config, current: CurrentSnapshot) -> GateDecision | None:
        compared.append(current.version)
        if len(compared) == 1:  # meanwhile, someone else pushes a newer version
            with Store.open(use_db) as other:
                other.push([("meanwhile", _run(1))])
        return GateDecision(
            baseline_transaction_id=current.transaction_id,
            baseline_rule="current",
            baseline_reason=f"version {current.version}",
            method="none",
            verdicts=(),
            regressed=(),
            hold=False,
            reason=f"compared with version {current.version}",
        )

    [outcome] = store.push([("b", _run(2))], gate=gate)
    assert compared == [1, 2]
    assert outcome.version == 3 and outcome.current
    assert outcome.event_reason == "compared with version 2"
    event = store.conn.execute(
        "SELECT from_version, to_version FROM snapshot_events ORDER BY id DESC LIMIT 1"
    ).fetchone()
    assert event == (2, 3)


def test_reads_never_migrate(empty_db_url):
    with Bench(empty_db_url) as bench:
        assert bench.snapshots() == [] and bench.cost(since="all") == []
        with pytest.raises(UsageError, match="holds no results yet"):
            bench.history("medgemma")
    with psycopg.connect(empty_db_url) as conn:
        assert schema.current_revision(conn) is None  # still no schema at all


def test_a_schema_older_than_the_package_is_refused_for_reading(empty_db_url):
    with Store.open(empty_db_url, migrate=False) as store:
        schema.upgrade(store.conn, empty_db_url, target="0001")
    with Bench(empty_db_url) as bench, pytest.raises(SchemaError) as refused:
        bench.snapshots()
    assert refused.value.exit_code == 3
    assert "older than this bench-analytics" in str(refused.value)
    assert "bench-analytics db upgrade" in refused.value.render(cli=True)
    with Bench(empty_db_url) as bench:
        bench.push(("a", _run(0)))  # a write migrates
        assert bench.snapshots()[0].version == 1


def test_a_reader_then_a_writer_on_one_session(bench):
    bench.push(("a", _run(0)))
    bench.close()
    assert bench.snapshots()[0].version == 1
    assert bench.store().read_only
    bench.push(("b", _run(1)))
    assert not bench.store().read_only and bench.snapshots()[0].version == 2


def test_library_errors_name_no_command_line_flags(bench):
    bench.push([("a", _run(0)), ("b", _run(1, outage="HTTP 503"))])
    bench.push(("c", _run(0, prompt="v3-reasoning")))
    problems = []
    for call in (
        lambda: bench.rollback("medgemma", 2, prompt="v2-structured"),
        lambda: bench.rollback("medgemma", 1),
        lambda: bench.quarantine(1, reason=" "),
        lambda: bench.cost(since="yesterday"),
        lambda: bench.cost(by="team"),
        lambda: bench.push(("x", _run(0)), model="Bad Key"),
    ):
        with pytest.raises(UsageError) as caught:
            call()
        problems.append(str(caught.value))
    assert len(problems) == 6
    assert [text for text in problems if "--" in text] == []
