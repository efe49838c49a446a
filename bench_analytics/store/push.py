"""Push: one atomic database transaction per result (log row, cases, metrics, version, pointer)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

import orjson
import psycopg

from bench_analytics.config import Settings
from bench_analytics.health import Health, assess
from bench_analytics.metrics import spec_for
from bench_analytics.model import CaseResult, RunResult

CASE_COLUMNS = (
    "transaction_id",
    "case_id",
    "status",
    "tp",
    "fp",
    "fn",
    "score",
    "latency_ms",
    "input_tokens",
    "output_tokens",
    "cost_usd",
    "error",
    "details",
)
COPY_CASES = f"COPY benchmark_cases ({', '.join(CASE_COLUMNS)}) FROM STDIN"

if TYPE_CHECKING:
    from bench_analytics.comparison import Comparison


@dataclass(frozen=True)
class PushOutcome:
    """What happened to one result."""

    source: str
    transaction_id: int
    version: int
    created: bool
    status: str
    status_reason: str | None
    current: bool
    event: str | None
    model_key: str
    dataset_version: str
    prompt_version: str
    environment: str
    event_reason: str | None = None
    baseline: str | None = None
    regressions: list[dict] = field(default_factory=list)
    commit_sha: str | None = None

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def lock_configuration(conn: psycopg.Connection, config: tuple[str, str, str, str]) -> None:
    """Serialise everything that allocates versions or moves the pointer of one configuration."""
    conn.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 7))", ("\x1f".join(config),))


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
            orjson.dumps(document).decode(),
        ),
    ).fetchone()
    assert row is not None
    return row[0]


def case_row(transaction_id: int, c: CaseResult) -> tuple:
    """One ``benchmark_cases`` row, in CASE_COLUMNS order."""
    return (
        transaction_id,
        c.case_id,
        c.status,
        c.tp,
        c.fp,
        c.fn,
        c.score,
        c.latency_ms,
        c.input_tokens,
        c.output_tokens,
        c.cost_usd,
        c.error,
        orjson.dumps(c.details).decode(),
    )


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


def _current(conn: psycopg.Connection, config: tuple[str, str, str, str]) -> tuple | None:
    """(snapshot id, version, run time, transaction id) of the current snapshot."""
    return conn.execute(
        """SELECT s.id, s.version, COALESCE(t.run_finished_at, t.run_started_at), t.id
           FROM benchmark_snapshots s JOIN benchmark_transactions t ON t.id = s.transaction_id
           WHERE (s.model_key, s.dataset_version, s.prompt_version, s.environment)
                 = (%s, %s, %s, %s) AND s.is_current""",
        config,
    ).fetchone()


def _decide(health: Health, current: tuple | None, run_at: datetime | None) -> tuple[bool, str]:
    """(promote?, reason) for a new version."""
    if health.status == "failed":
        return False, f"run failed the health check, pointer kept: {health.reason}"
    if current is None:
        return True, "first healthy version of this configuration"
    current_at = current[2]
    if run_at is not None and current_at is not None and run_at < current_at:
        return False, (
            f"older than current version {current[1]} (run {run_at:%Y-%m-%d %H:%M} < "
            f"{current_at:%Y-%m-%d %H:%M}): stored as history, pointer kept"
        )
    return True, f"new healthy version replaces version {current[1]}"


def _gate(
    conn: psycopg.Connection,
    run: RunResult,
    tx_id: int,
    config: tuple[str, str, str, str],
    current: tuple,
    settings: Settings,
) -> Comparison:
    """Compare the new run with the current snapshot and record the verdicts."""
    from bench_analytics import gate
    from bench_analytics.comparison import RunView

    baseline = gate.resolve_baseline(conn, config, "current")
    assert baseline is not None and baseline.transaction_id == current[3]
    candidate = RunView.from_run(run, f"{config[0]} (new)")
    comparison = gate.evaluate(conn, candidate, config, baseline, settings, exclude=tx_id)
    gate.record(conn, tx_id, baseline, comparison)
    return comparison


def push_run(
    conn: psycopg.Connection,
    run: RunResult,
    *,
    settings: Settings,
    source: str,
    force: bool = False,
) -> PushOutcome:
    """Store one result atomically; pushing the same content again changes nothing.

    A healthy run is compared with the current snapshot; a significant regression of a
    gated metric keeps the pointer where it is (unless ``force``), with an event saying why.
    """
    config = run.configuration()
    sha = run.content_sha256()
    health = assess(run, settings.failure_threshold)
    actor = run.provenance.triggered_by or "bench-analytics"
    commit = run.provenance.commit_sha
    with conn.transaction():
        lock_configuration(conn, config)
        found = _existing(conn, sha)
        if found:
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
                commit_sha=commit,
            )
        tx_id = _insert_transaction(conn, run, sha, health)
        if run.cases:
            copy_cases(conn, tx_id, run)
        if run.metrics:
            _copy_metrics(conn, tx_id, run)
        version_row = conn.execute(
            """SELECT COALESCE(MAX(version), 0) + 1 FROM benchmark_snapshots
               WHERE (model_key, dataset_version, prompt_version, environment)
                     = (%s, %s, %s, %s)""",
            config,
        ).fetchone()
        version = version_row[0] if version_row else 1
        current = _current(conn, config)
        promote, reason = _decide(health, current, run.run_at)
        comparison = None
        if promote and current is not None:
            comparison = _gate(conn, run, tx_id, config, current, settings)
            if comparison.regressions():
                from bench_analytics.gate import summary

                text = summary(comparison)
                if settings.hold_on_regression and not force:
                    promote = False
                    reason = f"held: significant regression vs version {current[1]}: {text}"
                else:
                    why = "--force" if force else "BENCH_HOLD_ON_REGRESSION=false"
                    reason = (
                        f"promoted despite a significant regression vs version {current[1]} "
                        f"({why}): {text}"
                    )
        if promote and current:
            conn.execute(
                "UPDATE benchmark_snapshots SET is_current = false WHERE id = %s", (current[0],)
            )
        conn.execute(
            """INSERT INTO benchmark_snapshots (model_key, dataset_version, prompt_version,
                   environment, version, transaction_id, is_current)
               VALUES (%s, %s, %s, %s, %s, %s, %s)""",
            (*config, version, tx_id, promote),
        )
        event = "promote" if promote else "hold"
        conn.execute(
            """INSERT INTO snapshot_events (model_key, dataset_version, prompt_version,
                   environment, event_type, from_version, to_version, transaction_id,
                   reason, actor)
               VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)""",
            (
                *config,
                event,
                current[1] if current else None,
                version if promote else (current[1] if current else None),
                tx_id,
                reason,
                actor,
            ),
        )
    return PushOutcome(
        source,
        tx_id,
        version,
        True,
        health.status,
        health.reason,
        promote,
        event,
        *config,
        event_reason=reason,
        baseline=comparison.baseline_reason if comparison else None,
        regressions=[v.as_dict() for v in comparison.regressions()] if comparison else [],
        commit_sha=commit,
    )
