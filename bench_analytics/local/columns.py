"""The columns of the SQL views, the same on every source (files, pulled Parquet, the store).

Each source supplies one SQL expression per column; ``select_list`` casts them to the
shared types, so a query written against one source runs unchanged on the others.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from bench_analytics.case_columns import CASE_COLUMNS

Columns = Sequence[tuple[str, str]]

HEADLINE: Columns = (
    ("case_count", "INTEGER"),
    ("error_count", "INTEGER"),
    ("f1", "DOUBLE"),
    ("precision", "DOUBLE"),
    ("recall", "DOUBLE"),
    ("latency_ms", "DOUBLE"),
    ("cost_usd", "DOUBLE"),
    ("source_format", "VARCHAR"),
    ("source_name", "VARCHAR"),
    ("pushed_at", "TIMESTAMPTZ"),  # NULL for result files
)

RUNS: Columns = (
    ("run_key", "VARCHAR"),  # joins runs, metrics and cases: file path, or transaction id
    ("transaction_id", "BIGINT"),  # NULL for result files
    ("content_sha256", "VARCHAR"),  # NULL for result files
    ("model", "VARCHAR"),
    ("model_display_name", "VARCHAR"),
    ("model_version", "VARCHAR"),
    ("provider", "VARCHAR"),
    ("dataset_name", "VARCHAR"),
    ("dataset_version", "VARCHAR"),
    ("prompt_version", "VARCHAR"),
    ("benchmark_type", "VARCHAR"),
    ("environment", "VARCHAR"),
    ("commit_sha", "VARCHAR"),
    ("branch", "VARCHAR"),
    ("run_id", "VARCHAR"),
    ("triggered_by", "VARCHAR"),
    ("tags", "VARCHAR[]"),
    ("notes", "VARCHAR"),
    ("run_started_at", "TIMESTAMPTZ"),
    ("run_finished_at", "TIMESTAMPTZ"),
    ("run_at", "TIMESTAMPTZ"),
    ("status", "VARCHAR"),
    ("status_reason", "VARCHAR"),
    ("effective_status", "VARCHAR"),
    *HEADLINE,
)

_RUN_CONTEXT: Columns = (
    ("run_key", "VARCHAR"),
    ("transaction_id", "BIGINT"),
    ("model", "VARCHAR"),
    ("dataset_version", "VARCHAR"),
    ("prompt_version", "VARCHAR"),
    ("environment", "VARCHAR"),
    ("run_at", "TIMESTAMPTZ"),
)

# the columns of benchmark_cases after its transaction id: the one definition, in DuckDB types
CASE_FIELDS: Columns = tuple((column.name, column.sql_type) for column in CASE_COLUMNS)

CASES: Columns = (*_RUN_CONTEXT, *CASE_FIELDS)

METRICS: Columns = (
    *_RUN_CONTEXT,
    ("name", "VARCHAR"),
    ("value", "DOUBLE"),
    ("unit", "VARCHAR"),
    ("direction", "VARCHAR"),
)

HISTORY: Columns = (
    ("snapshot_id", "BIGINT"),
    ("model", "VARCHAR"),
    ("dataset_version", "VARCHAR"),
    ("prompt_version", "VARCHAR"),
    ("environment", "VARCHAR"),
    ("version", "INTEGER"),
    ("is_current", "BOOLEAN"),
    ("snapshot_created_at", "TIMESTAMPTZ"),
    ("run_key", "VARCHAR"),
    ("transaction_id", "BIGINT"),
    ("model_display_name", "VARCHAR"),
    ("provider", "VARCHAR"),
    ("benchmark_type", "VARCHAR"),
    ("commit_sha", "VARCHAR"),
    ("branch", "VARCHAR"),
    ("run_id", "VARCHAR"),
    ("triggered_by", "VARCHAR"),
    ("run_started_at", "TIMESTAMPTZ"),
    ("run_finished_at", "TIMESTAMPTZ"),
    ("run_at", "TIMESTAMPTZ"),
    ("status", "VARCHAR"),
    ("status_reason", "VARCHAR"),
    ("effective_status", "VARCHAR"),
    ("quarantined", "BOOLEAN"),
    ("quarantine_reason", "VARCHAR"),
    *HEADLINE,
)

VIEWS: dict[str, Columns] = {"runs": RUNS, "metrics": METRICS, "cases": CASES}
STORE_VIEWS: dict[str, Columns] = {**VIEWS, "history": HISTORY}


def ident(name: str) -> str:
    """A quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def literal(text: str) -> str:
    """A quoted SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def select_list(columns: Columns, exprs: Mapping[str, str]) -> str:
    """``CAST(expr AS type) AS name`` for every column; a column without expression is NULL."""
    unknown = set(exprs) - {name for name, _ in columns}
    if unknown:
        raise ValueError(f"expressions for unknown columns: {sorted(unknown)}")
    return ",\n       ".join(
        f"CAST({exprs.get(name, 'NULL')} AS {kind}) AS {ident(name)}" for name, kind in columns
    )


def passthrough(columns: Columns, alias: str = "") -> dict[str, str]:
    """Expressions that take every column from a relation that already has the names."""
    prefix = f"{alias}." if alias else ""
    return {name: prefix + ident(name) for name, _ in columns}


def empty_select(columns: Columns) -> str:
    """A query with the columns and their types, and no rows."""
    return f"SELECT {select_list(columns, {})} WHERE false"
