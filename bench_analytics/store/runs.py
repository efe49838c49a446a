"""Stored runs as inputs to a comparison: versions by rule, pins, healthy history, verdicts."""

from __future__ import annotations

from collections.abc import Sequence

import psycopg

from bench_analytics.configuration import Configuration
from bench_analytics.errors import UsageError
from bench_analytics.store.moves import CONFIG_MATCH
from bench_analytics.store.queries import rows
from bench_analytics.store.records import (
    CurrentSnapshot,
    HealthyHeadline,
    StoredRun,
    VerdictRecord,
)

NO_VERSION = 2**31 - 1


def stored_run(conn: psycopg.Connection, transaction_id: int) -> StoredRun:
    """Metrics, averaging, content hash and case rows of one stored run."""
    row = conn.execute(
        """SELECT content_sha256, document->>'averaging', document->'extra'
           FROM benchmark_transactions WHERE id = %s""",
        (transaction_id,),
    ).fetchone()
    if row is None:
        raise UsageError(f"no transaction {transaction_id} in the store")
    metrics: dict[str, float] = dict(
        conn.execute(
            "SELECT name, value FROM benchmark_metrics WHERE transaction_id = %s",
            (transaction_id,),
        ).fetchall()
    )
    cases = conn.execute(
        """SELECT case_id, status, tp, fp, fn, latency_ms, cost_usd, score FROM benchmark_cases
           WHERE transaction_id = %s""",
        (transaction_id,),
    ).fetchall()
    return StoredRun(transaction_id, row[0], row[1] or "micro", metrics, cases, row[2] or {})


def current_snapshot(conn: psycopg.Connection, config: Configuration) -> CurrentSnapshot | None:
    """The current version of a configuration (what a push compares against), or None."""
    found = rows(
        conn,
        CurrentSnapshot,
        """SELECT s.id AS snapshot_id, s.version,
                  COALESCE(t.run_finished_at, t.run_started_at) AS run_at,
                  t.id AS transaction_id
           FROM benchmark_snapshots s JOIN benchmark_transactions t ON t.id = s.transaction_id
           WHERE (s.model_key, s.dataset_version, s.prompt_version, s.environment)
                 = (%s, %s, %s, %s) AND s.is_current""",
        config,
    )
    return found[0] if found else None


def newest_version(
    conn: psycopg.Connection, config: Configuration, condition: str, params: Sequence[object] = ()
) -> tuple[int, int] | None:
    """(transaction id, version) of the newest version meeting ``condition`` (SQL), or None."""
    row = conn.execute(
        f"""SELECT transaction_id, version FROM snapshot_history
            WHERE {CONFIG_MATCH} AND {condition}
            ORDER BY version DESC LIMIT 1""",
        (*config, *params),
    ).fetchone()
    return (row[0], row[1]) if row else None


def version(conn: psycopg.Connection, config: Configuration, number: int) -> tuple[int, int]:
    """(transaction id, version) of one version; UsageError when it does not exist."""
    found = newest_version(conn, config, "version = %s", (number,))
    if found is None:
        raise UsageError(f"version {number} does not exist for {config}")
    return found


def current_version(
    conn: psycopg.Connection, config: Configuration, *, excluding: int | None = None
) -> tuple[int, int] | None:
    """The current version, unless it is transaction ``excluding``."""
    return newest_version(
        conn, config, "is_current AND transaction_id IS DISTINCT FROM %s", (excluding,)
    )


def previous_healthy(
    conn: psycopg.Connection, config: Configuration, *, below: int = NO_VERSION
) -> tuple[int, int] | None:
    """The newest healthy version below ``below``."""
    return newest_version(conn, config, "effective_status = 'healthy' AND version < %s", (below,))


def pinned_version(conn: psycopg.Connection, config: Configuration) -> int | None:
    """The version pinned as baseline (the newest pin row; None when unpinned or never)."""
    row = conn.execute(
        f"SELECT version FROM baseline_pins WHERE {CONFIG_MATCH} ORDER BY id DESC LIMIT 1",
        config,
    ).fetchone()
    return row[0] if row else None


def is_current(conn: psycopg.Connection, transaction_id: int) -> bool:
    row = conn.execute(
        "SELECT is_current FROM benchmark_snapshots WHERE transaction_id = %s", (transaction_id,)
    ).fetchone()
    return bool(row and row[0])


def find_by_content(conn: psycopg.Connection, sha256: str) -> tuple[int, int] | None:
    """(transaction id, version) of the stored run with this content hash, or None."""
    row = conn.execute(
        """SELECT t.id, s.version FROM benchmark_transactions t
           JOIN benchmark_snapshots s ON s.transaction_id = t.id WHERE t.content_sha256 = %s""",
        (sha256,),
    ).fetchone()
    return (row[0], row[1]) if row else None


def healthy_headlines(
    conn: psycopg.Connection, config: Configuration, *, excluding: int | None, window: int
) -> list[HealthyHeadline]:
    """Headline metrics of the last ``window`` healthy versions, oldest first."""
    found = rows(
        conn,
        HealthyHeadline,
        f"""SELECT * FROM (
                SELECT version, f1, "precision", recall, latency_ms, cost_usd
                FROM snapshot_history
                WHERE {CONFIG_MATCH} AND effective_status = 'healthy'
                  AND transaction_id IS DISTINCT FROM %s
                ORDER BY version DESC LIMIT %s) recent
            ORDER BY version""",
        (*config, excluding, window),
    )
    return list(found)


def record_verdicts(
    conn: psycopg.Connection,
    transaction_id: int,
    *,
    baseline_transaction_id: int | None,
    rule: str,
    reason: str,
    method: str,
    verdicts: Sequence[VerdictRecord],
) -> None:
    """Store every verdict with the baseline it was made against (append-only)."""
    with conn.cursor() as cur:
        cur.executemany(
            """INSERT INTO gate_verdicts (transaction_id, baseline_transaction_id, baseline_rule,
                   baseline_reason, method, metric, baseline_value, candidate_value, delta,
                   ci_low, ci_high, p_value, p_adjusted, threshold, mde, decision, gated, n)
               VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)""",
            [
                (
                    transaction_id,
                    baseline_transaction_id,
                    rule,
                    reason,
                    method,
                    v.metric,
                    v.baseline_value,
                    v.candidate_value,
                    v.delta,
                    v.ci_low,
                    v.ci_high,
                    v.p_value,
                    v.p_adjusted,
                    v.threshold,
                    v.mde,
                    v.decision,
                    v.gated,
                    v.n,
                )
                for v in verdicts
            ],
        )
