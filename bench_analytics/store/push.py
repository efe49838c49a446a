"""Push: one atomic database transaction per result (log row, cases, metrics, version, pointer).

The gate's comparison is slow (resampling), so it runs before the transaction and its
per-configuration lock. Under the lock the push only checks that the current version is
still the one the gate compared against; when another pusher moved it meanwhile, the
transaction is abandoned (nothing written) and the comparison is made again.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from datetime import datetime
from operator import attrgetter
from typing import Protocol

import orjson
import psycopg

from bench_analytics.canonical import nul_offset
from bench_analytics.case_columns import CASE_COLUMN_NAMES
from bench_analytics.configuration import Configuration
from bench_analytics.errors import BadInputError
from bench_analytics.health import Health, assess
from bench_analytics.metrics import spec_for
from bench_analytics.model import CaseResult, RunResult
from bench_analytics.store.moves import CONFIG_MATCH, lock_configuration, move_pointer, record_event
from bench_analytics.store.records import CurrentSnapshot, GateDecision, PushOutcome
from bench_analytics.store.runs import current_snapshot, record_verdicts

CASE_COLUMNS = ("transaction_id", *CASE_COLUMN_NAMES)
COPY_CASES = f"COPY benchmark_cases ({', '.join(CASE_COLUMNS)}) FROM STDIN"
OPTIMISTIC_ATTEMPTS = 3

# Compares a healthy new run with the current version; None means "not compared".
Gate = Callable[[RunResult, Configuration, CurrentSnapshot], GateDecision | None]


class Interval(Protocol):
    """A headline metric of a run with its interval (``stats.Estimate`` is one)."""

    @property
    def metric(self) -> str: ...
    @property
    def value(self) -> float: ...
    @property
    def low(self) -> float: ...
    @property
    def high(self) -> float: ...
    @property
    def method(self) -> str: ...
    @property
    def n(self) -> int: ...


# The headline intervals of a run, stored with it for the dashboard (None: none stored).
Estimator = Callable[[RunResult], Sequence[Interval]]


class _CurrentMoved(Exception):
    """The current version changed between the comparison and the lock."""


def _existing(conn: psycopg.Connection, sha: str) -> tuple | None:
    return conn.execute(
        """SELECT t.id, s.version, t.status, t.status_reason, s.is_current
           FROM benchmark_transactions t JOIN benchmark_snapshots s ON s.transaction_id = t.id
           WHERE t.content_sha256 = %s""",
        (sha,),
    ).fetchone()


def _insert_transaction(conn: psycopg.Connection, run: RunResult, sha: str, health: Health) -> int:
    provenance = run.provenance
    metrics = run.metrics
    document = run.model_dump(mode="json", by_alias=True, exclude={"cases"})
    row = conn.execute(
        """INSERT INTO benchmark_transactions (
               content_sha256, model_key, model_display_name, model_version, provider,
               dataset_name, dataset_version, prompt_version, benchmark_type, environment,
               commit_sha, branch, run_id, triggered_by, tags, notes,
               run_started_at, run_finished_at, status, status_reason, case_count, error_count,
               f1, "precision", recall, latency_ms, cost_usd,
               source_format, source_name, legacy_id, document)
           VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s,
                   %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s::jsonb)
           RETURNING id""",
        (
            sha,
            run.model.key,
            run.model.display_name,
            run.model.version,
            run.model.provider,
            run.dataset.name,
            run.dataset.version,
            run.prompt_version,
            run.benchmark_type,
            run.environment or "local",
            provenance.commit_sha,
            provenance.branch,
            provenance.run_id,
            provenance.triggered_by,
            provenance.tags,
            provenance.notes,
            run.started_at,
            run.finished_at,
            health.status,
            health.reason,
            health.case_count,
            health.error_count,
            metrics.get("f1"),
            metrics.get("precision"),
            metrics.get("recall"),
            metrics.get("latency_ms"),
            metrics.get("cost_usd"),
            provenance.source_format or "native",
            provenance.source_name,
            provenance.legacy_id,
            _without_nul(
                run.provenance.source_name or run.model.key, orjson.dumps(document)
            ).decode(),
        ),
    ).fetchone()
    assert row is not None
    return int(row[0])


_CASE_VALUES = attrgetter(*CASE_COLUMN_NAMES[:-1])  # every column but details (the last)


def _without_nul(where: str, text: bytes) -> bytes:
    """PostgreSQL text and JSONB cannot hold NUL: refuse it here (nothing is written)."""
    if nul_offset(text) is not None:
        raise BadInputError(where, "holds a NUL character (\\u0000), which PostgreSQL cannot store")
    return text


def content_sha256(run: RunResult) -> str:
    """The run's content hash, refusing (BadInputError) content PostgreSQL cannot store: the
    canonical form holds every case id, error and detail, so one scan covers them all."""
    digest = hashlib.sha256()
    for part in run.canonical_parts():
        _without_nul(run.provenance.source_name or run.model.key, part)
        digest.update(part)
    return digest.hexdigest()


def case_row(transaction_id: int, c: CaseResult) -> tuple[object, ...]:
    """One ``benchmark_cases`` row, in CASE_COLUMNS order."""
    return (transaction_id, *_CASE_VALUES(c), orjson.dumps(c.details).decode())


def copy_cases(conn: psycopg.Connection, transaction_id: int, run: RunResult) -> None:
    """Load the case rows with COPY (never row by row)."""
    with conn.cursor().copy(COPY_CASES) as copy:
        write = copy.write_row
        for case in run.cases:
            write(case_row(transaction_id, case))


def _copy_metrics(conn: psycopg.Connection, transaction_id: int, run: RunResult) -> None:
    with conn.cursor().copy(
        "COPY benchmark_metrics (transaction_id, name, value, unit, direction) FROM STDIN"
    ) as copy:
        for name, value in sorted(run.metrics.items()):
            spec = spec_for(name)
            copy.write_row((transaction_id, name, value, spec.unit, spec.direction))


def _insert_intervals(
    conn: psycopg.Connection, transaction_id: int, intervals: Sequence[Interval]
) -> None:
    finite = [
        (transaction_id, e.metric, e.value, e.low, e.high, e.method, e.n)
        for e in intervals
        if all(v == v and abs(v) != float("inf") for v in (e.value, e.low, e.high))
    ]
    if finite:
        with conn.cursor() as cur:
            cur.executemany(
                """INSERT INTO run_intervals (transaction_id, metric, value, low, high, method, n)
                   VALUES (%s, %s, %s, %s, %s, %s, %s)""",
                finite,
            )


def _newer_than_current(run_at: datetime | None, current: CurrentSnapshot) -> bool:
    return run_at is None or current.run_at is None or run_at >= current.run_at


def _decide(
    health: Health, current: CurrentSnapshot | None, run_at: datetime | None
) -> tuple[bool, str]:
    """(promote?, reason) for a new version, before the gate has its say."""
    if health.status == "failed":
        return False, f"run failed the health check, pointer kept: {health.reason}"
    if current is None:
        return True, "first healthy version of this configuration"
    if not _newer_than_current(run_at, current):
        assert run_at is not None and current.run_at is not None
        return False, (
            f"older than current version {current.version} (run {run_at:%Y-%m-%d %H:%M} < "
            f"{current.run_at:%Y-%m-%d %H:%M}): stored as history, pointer kept"
        )
    return True, f"new healthy version replaces version {current.version}"


def _judge(
    gate: Gate | None,
    run: RunResult,
    config: Configuration,
    health: Health,
    current: CurrentSnapshot | None,
) -> GateDecision | None:
    if gate is None or current is None or health.status != "healthy":
        return None
    if not _newer_than_current(run.run_at, current):
        return None
    return gate(run, config, current)


def push_run(
    conn: psycopg.Connection,
    run: RunResult,
    *,
    source: str,
    failure_threshold: float,
    gate: Gate | None = None,
    estimator: Estimator | None = None,
) -> PushOutcome:
    """Store one result atomically; pushing the same content again changes nothing.

    A healthy run newer than the current version is handed to ``gate`` (outside the lock);
    a decision that says ``hold`` keeps the pointer where it is, with an event saying why.
    ``estimator`` gives the headline intervals stored with the run (computed before the
    transaction, like the gate's comparison).
    """
    config = run.configuration()
    sha = content_sha256(run)
    health = assess(run, failure_threshold)
    intervals: Sequence[Interval] = ()
    if estimator is not None and run.cases and _existing(conn, sha) is None:
        intervals = estimator(run)
    for attempt in range(OPTIMISTIC_ATTEMPTS + 1):
        found = _existing(conn, sha)
        if found:
            return _unchanged(source, run, config, sha, found)
        current = current_snapshot(conn, config)
        decision = _judge(gate, run, config, health, current)
        last = attempt == OPTIMISTIC_ATTEMPTS
        try:
            return _write(
                conn, run, source, config, sha, health, current, decision, gate, last, intervals
            )
        except _CurrentMoved:
            continue
    raise AssertionError("unreachable")  # pragma: no cover


def _unchanged(
    source: str, run: RunResult, config: Configuration, sha: str, found: tuple
) -> PushOutcome:
    tx_id, version, status, reason, is_current = found
    return PushOutcome(
        source,
        tx_id,
        version,
        False,
        status,
        reason,
        is_current,
        None,
        *config,
        commit_sha=run.provenance.commit_sha,
        content_sha256=sha,
    )


def _write(
    conn: psycopg.Connection,
    run: RunResult,
    source: str,
    config: Configuration,
    sha: str,
    health: Health,
    current: CurrentSnapshot | None,
    decision: GateDecision | None,
    gate: Gate | None,
    last_attempt: bool,
    intervals: Sequence[Interval] = (),
) -> PushOutcome:
    with conn.transaction():
        lock_configuration(conn, config)
        found = _existing(conn, sha)
        if found:
            return _unchanged(source, run, config, sha, found)
        now = current_snapshot(conn, config)
        if now != current:
            if not last_attempt:
                raise _CurrentMoved
            current, decision = now, _judge(gate, run, config, health, now)
        tx_id = _insert_transaction(conn, run, sha, health)
        if run.cases:
            copy_cases(conn, tx_id, run)
        if run.metrics:
            _copy_metrics(conn, tx_id, run)
        if intervals:
            _insert_intervals(conn, tx_id, intervals)
        version_row = conn.execute(
            f"SELECT COALESCE(MAX(version), 0) + 1 FROM benchmark_snapshots WHERE {CONFIG_MATCH}",
            config,
        ).fetchone()
        version = int(version_row[0]) if version_row else 1
        promote, reason = _decide(health, current, run.run_at)
        if decision is not None:
            record_verdicts(
                conn,
                tx_id,
                baseline_transaction_id=decision.baseline_transaction_id,
                rule=decision.baseline_rule,
                reason=decision.baseline_reason,
                method=decision.method,
                verdicts=decision.verdicts,
            )
            promote = promote and not decision.hold
            reason = decision.reason or reason
        conn.execute(
            """INSERT INTO benchmark_snapshots (model_key, dataset_version, prompt_version,
                   environment, version, transaction_id, is_current)
               VALUES (%s, %s, %s, %s, %s, %s, false)""",
            (*config, version, tx_id),
        )
        actor = run.provenance.triggered_by or "bench-analytics"
        before = current.version if current else None
        if promote:
            move_pointer(
                conn,
                config,
                "promote",
                from_version=before,
                to_version=version,
                transaction_id=tx_id,
                reason=reason,
                actor=actor,
            )
        else:
            record_event(
                conn,
                config,
                "hold",
                from_version=before,
                to_version=before,
                transaction_id=tx_id,
                reason=reason,
                actor=actor,
            )
    return PushOutcome(
        source,
        tx_id,
        version,
        True,
        health.status,
        health.reason,
        promote,
        "promote" if promote else "hold",
        *config,
        event_reason=reason,
        commit_sha=run.provenance.commit_sha,
        content_sha256=sha,
        gate=decision,
    )
