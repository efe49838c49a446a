"""Read-side queries: configurations, current snapshots, versions, events, transactions."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, TypeVar

import psycopg
from psycopg.rows import BaseRowFactory, RowMaker, class_row

from bench_analytics.configuration import Configuration
from bench_analytics.errors import UsageError
from bench_analytics.store.moves import CONFIG_MATCH
from bench_analytics.store.records import (
    EventRow,
    SnapshotRow,
    TransactionInfo,
    VersionRow,
)
from bench_analytics.tables import Record, Table

R = TypeVar("R", bound=Record)


@dataclass(frozen=True)
class ConfigFilter:
    """Narrow the configurations: None means any."""

    model: str | None = None
    dataset: str | None = None
    prompt: str | None = None
    environment: str | None = None

    def where(self, prefix: str = "") -> tuple[str, list[Any]]:
        clauses, params = [], []
        for column, value in (
            ("model_key", self.model),
            ("dataset_version", self.dataset),
            ("prompt_version", self.prompt),
            ("environment", self.environment),
        ):
            if value is not None:
                clauses.append(f"{prefix}{column} = %s")
                params.append(value)
        return (" AND ".join(clauses) or "true"), params

    def describe(self) -> str:
        parts = [f"{name}={value}" for name, value in vars(self).items() if value is not None]
        return ", ".join(parts) if parts else "the filter"


def rows(conn: psycopg.Connection, row_type: type[R], sql: str, params: Any = ()) -> Table[R]:
    """Run a query whose column names are the fields of ``row_type``."""
    with conn.cursor(row_factory=_records(row_type)) as cur:
        return Table(row_type, cur.execute(sql, params).fetchall())


def _records(row_type: type[R]) -> BaseRowFactory[R]:
    """Rows as ``row_type``: by position when the columns come in the order of its fields
    (about twice as fast over many rows), else by name."""
    fields = [f.name for f in dataclasses.fields(row_type) if f.init]  # type: ignore[arg-type]

    def factory(cursor: Any) -> RowMaker[R]:
        names = [column.name for column in cursor.description or ()]
        if names == fields:
            return lambda values: row_type(*values)
        return class_row(row_type)(cursor)

    return factory


def configurations(conn: psycopg.Connection, selector: ConfigFilter) -> list[Configuration]:
    """Every configuration with at least one version that matches the filter."""
    where, params = selector.where()
    found = conn.execute(
        f"""SELECT DISTINCT model_key, dataset_version, prompt_version, environment
            FROM benchmark_snapshots WHERE {where} ORDER BY 1, 2, 3, 4""",
        params,
    ).fetchall()
    return [Configuration(*row) for row in found]


def resolve_configuration(conn: psycopg.Connection, selector: ConfigFilter) -> Configuration:
    """The one configuration a call means, or a UsageError that lists the choices."""
    found = configurations(conn, selector)
    if len(found) == 1:
        return found[0]
    if not found:
        models = [
            row[0]
            for row in conn.execute(
                "SELECT DISTINCT model_key FROM benchmark_snapshots ORDER BY 1"
            ).fetchall()
        ]
        known = ", ".join(models) if models else "none yet"
        raise UsageError(f"no stored versions match {selector.describe()} (models: {known})")
    choices = "; ".join(f"dataset={d} prompt={p} environment={e}" for _, d, p, e in found)
    flags = "; ".join(f"--dataset {d} --prompt {p} --environment {e}" for _, d, p, e in found)
    raise UsageError(
        f"{selector.describe()} matches {len(found)} configurations",
        hint=f"name one: {choices}",
        cli_hint=f"pick one with {flags}",
    )


def current_snapshots(conn: psycopg.Connection, selector: ConfigFilter) -> Table[SnapshotRow]:
    """One row per configuration: its current snapshot, or no current with version counts."""
    where, params = selector.where("c.")
    # versions counted per configuration from the snapshots alone; the unhealthy ones among
    # the few runs that failed or carry a quarantine mark (not a join of every version)
    return rows(
        conn,
        SnapshotRow,
        f"""WITH versions AS (
                SELECT model_key, dataset_version, prompt_version, environment,
                       count(*)::int AS versions
                FROM benchmark_snapshots GROUP BY 1, 2, 3, 4),
            unhealthy AS (
                SELECT s.model_key, s.dataset_version, s.prompt_version, s.environment,
                       count(*)::int AS unhealthy
                FROM transaction_state t JOIN benchmark_snapshots s ON s.transaction_id = t.id
                WHERE t.effective_status <> 'healthy'
                  AND t.id IN (SELECT id FROM benchmark_transactions WHERE status <> 'healthy'
                               UNION ALL
                               SELECT transaction_id FROM transaction_annotations
                               WHERE kind = 'quarantine')
                GROUP BY 1, 2, 3, 4),
            configs AS (
                SELECT v.*, COALESCE(u.unhealthy, 0) AS unhealthy
                FROM versions v LEFT JOIN unhealthy u
                     USING (model_key, dataset_version, prompt_version, environment))
            SELECT c.model_key, c.dataset_version, c.prompt_version, c.environment,
                   c.versions, c.unhealthy, h.version, h.transaction_id, h.model_display_name,
                   h.f1, h."precision", h.recall, h.latency_ms, h.cost_usd,
                   h.effective_status, h.commit_sha, h.branch, h.case_count,
                   COALESCE(h.run_finished_at, h.run_started_at, h.pushed_at) AS run_at
            FROM configs c
            LEFT JOIN current_snapshots h USING (model_key, dataset_version, prompt_version,
                                                 environment)
            WHERE {where}
            ORDER BY c.model_key, c.dataset_version, c.prompt_version, c.environment""",
        params,
    )


def versions(conn: psycopg.Connection, config: Configuration) -> Table[VersionRow]:
    """Every version of a configuration, oldest first."""
    return rows(
        conn,
        VersionRow,
        f"""SELECT version, is_current, transaction_id, model_display_name, effective_status,
                   status_reason, quarantine_reason, f1, "precision", recall, latency_ms,
                   cost_usd, case_count, error_count, commit_sha, branch, triggered_by,
                   COALESCE(run_finished_at, run_started_at) AS run_at, pushed_at, source_name
            FROM snapshot_history WHERE {CONFIG_MATCH} ORDER BY version""",
        config,
    )


def events(conn: psycopg.Connection, config: Configuration) -> Table[EventRow]:
    """Every move (or deliberate non-move) of the current pointer, oldest first."""
    return rows(
        conn,
        EventRow,
        f"""SELECT id, event_type, from_version, to_version, transaction_id, reason, actor,
                   created_at
            FROM snapshot_events WHERE {CONFIG_MATCH} ORDER BY id""",
        config,
    )


def transaction(conn: psycopg.Connection, transaction_id: int) -> TransactionInfo:
    """One log row with its snapshot (UsageError when there is none)."""
    found = rows(
        conn,
        TransactionInfo,
        """SELECT t.id, t.model_key, t.dataset_version, t.prompt_version, t.environment,
                  t.effective_status, t.quarantined, s.version, s.is_current
           FROM transaction_state t JOIN benchmark_snapshots s ON s.transaction_id = t.id
           WHERE t.id = %s""",
        (transaction_id,),
    )
    if not found:
        raise UsageError(f"no transaction {transaction_id} in the store")
    return found[0]


STORE_TABLES = (
    "benchmark_transactions",
    "benchmark_cases",
    "benchmark_metrics",
    "benchmark_snapshots",
    "snapshot_events",
    "transaction_annotations",
    "gate_verdicts",
    "baseline_pins",
    "run_intervals",
)


def counts(conn: psycopg.Connection) -> dict[str, int]:
    """Row counts of the main tables (for the store's status)."""
    sql = " UNION ALL ".join(f"SELECT '{t}', count(*) FROM {t}" for t in STORE_TABLES)
    return {name: count for name, count in conn.execute(sql).fetchall()}
