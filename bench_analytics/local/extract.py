"""Fallback when DuckDB's postgres extension cannot load: copy the store's relations.

Each relation is read with one ``COPY (SELECT …) TO STDOUT (FORMAT csv)`` through psycopg
in a read-only, repeatable-read transaction, and loaded with DuckDB's CSV reader into a
table of the same name under the in-memory catalog ``store.public``, so the ``central``
views are the same SQL in both modes.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from bench_analytics.local.columns import CASE_FIELDS, HEADLINE, ident, literal

if TYPE_CHECKING:
    import duckdb
    import psycopg

_T = "TIMESTAMPTZ"
_V = "VARCHAR"
_RUN_IDENTITY = (
    ("model_display_name", _V),
    ("provider", _V),
    ("benchmark_type", _V),
    ("commit_sha", _V),
    ("branch", _V),
    ("run_id", _V),
    ("triggered_by", _V),
    ("run_started_at", _T),
    ("run_finished_at", _T),
    ("status", _V),
    ("status_reason", _V),
    ("effective_status", _V),
)
_RUN_NUMBERS = HEADLINE
# Relation -> (column, DuckDB type); only the columns the central views use.
RELATIONS: dict[str, tuple[tuple[str, str], ...]] = {
    "transaction_state": (
        ("id", "BIGINT"),
        ("content_sha256", _V),
        ("model_key", _V),
        ("model_version", _V),
        ("dataset_name", _V),
        ("dataset_version", _V),
        ("prompt_version", _V),
        ("environment", _V),
        ("tags", "VARCHAR[]"),
        ("notes", _V),
        *_RUN_IDENTITY,
        *_RUN_NUMBERS,
    ),
    "benchmark_cases": (
        ("transaction_id", "BIGINT"),
        *((name, _V if kind == "JSON" else kind) for name, kind in CASE_FIELDS),
    ),
    "benchmark_metrics": (
        ("transaction_id", "BIGINT"),
        ("name", _V),
        ("value", "DOUBLE"),
        ("unit", _V),
        ("direction", _V),
    ),
    "snapshot_history": (
        ("snapshot_id", "BIGINT"),
        ("model_key", _V),
        ("dataset_version", _V),
        ("prompt_version", _V),
        ("environment", _V),
        ("version", "INTEGER"),
        ("is_current", "BOOLEAN"),
        ("snapshot_created_at", _T),
        ("transaction_id", "BIGINT"),
        *_RUN_IDENTITY,
        ("quarantined", "BOOLEAN"),
        ("quarantine_reason", _V),
        *_RUN_NUMBERS,
    ),
}
ID_COLUMN = {"transaction_state": "id"}  # others filter on transaction_id


def _pg_expr(column: str, kind: str) -> str:
    if kind == "VARCHAR[]":
        return f"array_to_json({ident(column)})::text"
    if column == "details":
        return "details::text"
    return ident(column)


def _duck_expr(column: str, kind: str) -> str:
    if kind == "VARCHAR[]":
        return f"CAST(CAST({ident(column)} AS JSON) AS VARCHAR[])"
    return ident(column)


def create_tables(con: duckdb.DuckDBPyConnection, catalog: str) -> None:
    """Empty tables with the relations' columns (the views bind to them)."""
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {catalog}.public")
    for name, columns in RELATIONS.items():
        body = ", ".join(f"{ident(c)} {kind}" for c, kind in columns)
        con.execute(f"CREATE TABLE {catalog}.public.{name} ({body})")


def _id_filter(name: str, ids: Sequence[int] | None) -> str:
    if ids is None:
        return ""
    listed = ",".join(str(int(i)) for i in ids)
    return f" WHERE {ID_COLUMN.get(name, 'transaction_id')} = ANY('{{{listed}}}'::bigint[])"


def copy_relations(
    pg: psycopg.Connection,
    con: duckdb.DuckDBPyConnection,
    catalog: str,
    names: Iterable[str],
    ids: Sequence[int] | None = None,
) -> None:
    """Load relations from the store into ``catalog.public`` (only the rows of ``ids``)."""
    with tempfile.TemporaryDirectory(prefix="bench-central-") as tmp, pg.transaction():
        pg.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        pg.execute("SET LOCAL TimeZone TO 'UTC'")
        pg.execute("SET LOCAL DateStyle TO 'ISO'")
        pg.execute("SET LOCAL extra_float_digits TO 1")
        for name in names:
            columns = RELATIONS[name]
            path = Path(tmp) / f"{name}.csv"
            select = ", ".join(_pg_expr(c, kind) for c, kind in columns)
            query = f"SELECT {select} FROM {name}{_id_filter(name, ids)}"
            sql = f"COPY ({query}) TO STDOUT (FORMAT csv)"
            with path.open("wb") as out, pg.cursor().copy(sql) as copy:
                for chunk in copy:
                    out.write(chunk)
            csv_types = ", ".join(
                f"{literal(c)}: {literal('VARCHAR' if kind == 'VARCHAR[]' else kind)}"
                for c, kind in columns
            )
            con.execute(
                f"INSERT INTO {catalog}.public.{name} "
                f"SELECT {', '.join(_duck_expr(c, kind) for c, kind in columns)} "
                f"FROM read_csv({literal(str(path))}, columns={{{csv_types}}}, header=false, "
                "auto_detect=false, quote='\"', escape='\"', allow_quoted_nulls=false)"
            )
