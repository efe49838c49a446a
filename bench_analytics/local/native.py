"""SQL over native result files: DuckDB's ``read_json`` scans them directly, no Python loop.

Run status comes from ``bench_analytics.health.judge`` itself, registered in DuckDB as the
function ``bench_health`` (one call per file); metrics are the file's own, as written.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

from bench_analytics.health import judge
from bench_analytics.local.columns import CASE_FIELDS as CASE_ROW
from bench_analytics.local.columns import (
    CASES,
    METRICS,
    RUNS,
    ident,
    literal,
    select_list,
)

if TYPE_CHECKING:
    import duckdb

MIN_OBJECT_SIZE = 16 * 1024 * 1024

_MODEL = 'STRUCT("key" VARCHAR, display_name VARCHAR, "version" VARCHAR, provider VARCHAR)'
_DATASET = 'STRUCT("name" VARCHAR, "version" VARCHAR, declared_cases BIGINT)'
_PROVENANCE = (
    "STRUCT(commit_sha VARCHAR, branch VARCHAR, run_id VARCHAR, triggered_by VARCHAR, "
    "tags VARCHAR[], notes VARCHAR, source_format VARCHAR, source_name VARCHAR)"
)
_CASE = "STRUCT(" + ", ".join(f"{ident(name)} {kind}" for name, kind in CASE_ROW) + ")"
_CONTEXT = {
    "model": _MODEL,
    "dataset": _DATASET,
    "prompt_version": "VARCHAR",
    "environment": "VARCHAR",
    "started_at": "TIMESTAMPTZ",
    "finished_at": "TIMESTAMPTZ",
}
RUN_FIELDS = {
    **_CONTEXT,
    "benchmark_type": "VARCHAR",
    "metrics": "MAP(VARCHAR, DOUBLE)",
    "reported_errors": "BIGINT",
    "outage_evidence": "VARCHAR",
    "provenance": _PROVENANCE,
    "cases": 'STRUCT(status VARCHAR, "error" VARCHAR)[]',  # enough for the health rule
}
CASE_FIELDS = {**_CONTEXT, "cases": f"{_CASE}[]"}
METRIC_FIELDS = {**_CONTEXT, "metrics": "MAP(VARCHAR, DOUBLE)"}

HEALTH_FUNCTION = "bench_health"
_HEALTH_ARGS = ["BIGINT", "BIGINT", "VARCHAR", "BIGINT", "BIGINT", "VARCHAR", "DOUBLE"]
_HEALTH_RESULT = {
    "status": "VARCHAR",
    "reason": "VARCHAR",
    "case_count": "BIGINT",
    "error_count": "BIGINT",
}


def _health_row(
    cases: int | None,
    errors: int | None,
    first_error: str | None,
    declared: int | None,
    reported: int | None,
    outage: str | None,
    threshold: float,
) -> dict[str, object]:
    return asdict(
        judge(cases or 0, errors or 0, first_error, declared, reported, outage, threshold)
    )


def register_health(con: duckdb.DuckDBPyConnection) -> None:
    """``bench_health(cases, errors, first_error, declared, reported, outage, threshold)``:
    ``bench_analytics.health.judge`` as a DuckDB function returning a STRUCT(status,
    reason, case_count, error_count). Called once per result file, so its cost is nil."""
    import duckdb

    con.create_function(  # type: ignore[call-overload]  # the stubs type parameters narrowly
        HEALTH_FUNCTION,
        _health_row,
        _HEALTH_ARGS,
        duckdb.struct_type(_HEALTH_RESULT),
        null_handling="special",
        side_effects=False,
    )


def _columns_arg(fields: dict[str, str]) -> str:
    return "{" + ", ".join(f"{literal(k)}: {literal(v)}" for k, v in fields.items()) + "}"


def read_json_sql(files: Sequence[Path], fields: dict[str, str]) -> str:
    """``read_json`` over the files with explicit column types (no schema sniffing)."""
    sizes = [path.stat().st_size for path in files]
    limit = max(MIN_OBJECT_SIZE, 2 * max(sizes, default=0) + 1024 * 1024)
    listed = "[" + ", ".join(literal(str(path)) for path in files) + "]"
    return (
        f"read_json({listed}, columns={_columns_arg(fields)}, format='unstructured', "
        f"filename=true, maximum_object_size={limit})"
    )


_HEADLINE = ("f1", "precision", "recall", "latency_ms", "cost_usd")
_CONTEXT_EXPRS = {
    "run_key": "j.filename",
    "model": 'j.model."key"',
    "dataset_version": 'j.dataset."version"',
    "prompt_version": "j.prompt_version",
    "environment": "coalesce(j.environment, 'local')",
    "run_at": "coalesce(j.finished_at, j.started_at)",
}


def runs_sql(files: Sequence[Path], threshold: float) -> str:
    """One row per native file; status and counts from the health rule (``bench_health``)."""
    thr = f"CAST({float(threshold)!r} AS DOUBLE)"
    exprs = {
        **_CONTEXT_EXPRS,
        "model_display_name": "j.model.display_name",
        "model_version": 'j.model."version"',
        "provider": "j.model.provider",
        "dataset_name": 'j.dataset."name"',
        "benchmark_type": "coalesce(j.benchmark_type, 'custom')",
        "commit_sha": "j.provenance.commit_sha",
        "branch": "j.provenance.branch",
        "run_id": "j.provenance.run_id",
        "triggered_by": "j.provenance.triggered_by",
        "tags": "coalesce(j.provenance.tags, [])",
        "notes": "j.provenance.notes",
        "run_started_at": "j.started_at",
        "run_finished_at": "j.finished_at",
        "status": "j._health.status",
        "status_reason": "j._health.reason",
        "effective_status": "j._health.status",
        "case_count": "j._health.case_count",
        "error_count": "j._health.error_count",
        **{name: f"j.metrics[{literal(name)}]" for name in _HEADLINE},
        "source_format": "coalesce(j.provenance.source_format, 'native')",
        "source_name": "coalesce(j.provenance.source_name, parse_filename(j.filename))",
    }
    return f"""SELECT {select_list(RUNS, exprs)}
FROM (
    SELECT r.*,
           {HEALTH_FUNCTION}(
               len(r.cases),
               len(list_filter(r.cases, lambda c: c.status = 'error')),
               list_filter(
                   r.cases, lambda c: c.status = 'error' AND coalesce(c."error", '') <> ''
               )[1]."error",
               r.dataset.declared_cases,
               r.reported_errors,
               r.outage_evidence,
               {thr}
           ) AS _health
    FROM {read_json_sql(files, RUN_FIELDS)} r
) j"""


def cases_sql(files: Sequence[Path]) -> str:
    """One row per case of every native file."""
    exprs = {
        **_CONTEXT_EXPRS,
        "case_id": "j.c.case_id",
        "status": "coalesce(j.c.status, 'ok')",
        **{name: f"j.c.{name}" for name in ("tp", "fp", "fn", "score", "latency_ms")},
        **{name: f"j.c.{name}" for name in ("input_tokens", "output_tokens", "cost_usd")},
        "error": 'j.c."error"',
        "details": "coalesce(j.c.details, '{}')",
    }
    return f"""SELECT {select_list(CASES, exprs)}
FROM (
    SELECT r.filename, r.model, r.dataset, r.prompt_version, r.environment, r.started_at,
           r.finished_at, unnest(r.cases) AS c
    FROM {read_json_sql(files, CASE_FIELDS)} r
) j"""


def metrics_sql(files: Sequence[Path]) -> str:
    """One row per metric of every native file, with unit and direction from the registry."""
    exprs = {
        **_CONTEXT_EXPRS,
        "name": "j.name",
        "value": "j.value",
        "unit": "coalesce(reg.unit, 'unknown')",
        "direction": "coalesce(reg.direction, 'unknown')",
    }
    return f"""SELECT {select_list(METRICS, exprs)}
FROM (
    SELECT r.filename, r.model, r.dataset, r.prompt_version, r.environment, r.started_at,
           r.finished_at, unnest(map_keys(r.metrics)) AS name,
           unnest(map_values(r.metrics)) AS value
    FROM {read_json_sql(files, METRIC_FIELDS)} r
) j
LEFT JOIN _bench.metric_registry reg ON reg.name = j.name"""
