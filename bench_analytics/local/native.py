"""SQL over native result files: DuckDB's ``read_json`` scans them directly, no Python loop.

Run status is computed in SQL by macros equivalent to ``bench_analytics.health.assess``
(same rule, same threshold, same reason text); metrics are the file's own, as written.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from bench_analytics.local.columns import CASES, METRICS, RUNS, literal, select_list

MIN_OBJECT_SIZE = 16 * 1024 * 1024

_MODEL = 'STRUCT("key" VARCHAR, display_name VARCHAR, "version" VARCHAR, provider VARCHAR)'
_DATASET = 'STRUCT("name" VARCHAR, "version" VARCHAR, declared_cases BIGINT)'
_PROVENANCE = (
    "STRUCT(commit_sha VARCHAR, branch VARCHAR, run_id VARCHAR, triggered_by VARCHAR, "
    "tags VARCHAR[], notes VARCHAR, source_format VARCHAR, source_name VARCHAR)"
)
_CASE = (
    "STRUCT(case_id VARCHAR, status VARCHAR, tp INTEGER, fp INTEGER, fn INTEGER, "
    "score DOUBLE, latency_ms DOUBLE, input_tokens INTEGER, output_tokens INTEGER, "
    'cost_usd DOUBLE, "error" VARCHAR, details JSON)'
)
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

# The health rule of bench_analytics.health.assess, in SQL. n: cases in the file; total and
# errors: case counts (or the declared/reported ones of an aggregate-only result).
HEALTH_MACROS = """
CREATE OR REPLACE MACRO _bench.pct(x) AS
    CAST(CAST(round_even(x * 100, 0) AS BIGINT) AS VARCHAR) || '%';
CREATE OR REPLACE MACRO _bench.health_status(n, total, errors, declared, outage, thr) AS CASE
    WHEN n > 0 AND errors = total THEN 'failed'
    WHEN n > 0 AND errors / total > thr THEN 'failed'
    WHEN n = 0 AND declared = 0 THEN 'failed'
    WHEN n = 0 AND total > 0 AND errors / total > thr THEN 'failed'
    WHEN coalesce(outage, '') <> '' THEN 'failed'
    ELSE 'healthy' END;
CREATE OR REPLACE MACRO _bench.health_reason(n, total, errors, declared, outage, first, thr) AS CASE
    WHEN n > 0 AND errors = total
        THEN errors || '/' || total || ' cases failed' || coalesce(': ' || first, '')
    WHEN n > 0 AND errors / total > thr
        THEN errors || '/' || total || ' cases failed (' || _bench.pct(errors / total) || ' > '
             || _bench.pct(thr) || ')' || coalesce(': ' || first, '')
    WHEN n = 0 AND declared = 0 THEN 'no case was evaluated (0 cases)'
    WHEN n = 0 AND total > 0 AND errors / total > thr
        THEN errors || '/' || total || ' cases failed (' || _bench.pct(errors / total) || ')'
    WHEN coalesce(outage, '') <> '' THEN outage
    END;
"""


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
    """One row per native file."""
    thr = f"CAST({float(threshold)!r} AS DOUBLE)"
    health = "j._n, j._total, j._errors, j.dataset.declared_cases, j.outage_evidence"
    status = f"_bench.health_status({health}, {thr})"
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
        "status": status,
        "status_reason": f"_bench.health_reason({health}, j._first, {thr})",
        "effective_status": status,
        "case_count": "j._total",
        "error_count": "j._errors",
        **{name: f"j.metrics[{literal(name)}]" for name in _HEADLINE},
        "source_format": "coalesce(j.provenance.source_format, 'native')",
        "source_name": "coalesce(j.provenance.source_name, parse_filename(j.filename))",
    }
    return f"""SELECT {select_list(RUNS, exprs)}
FROM (
    SELECT r.*,
           coalesce(len(r.cases), 0) AS _n,
           CASE WHEN coalesce(len(r.cases), 0) > 0 THEN len(r.cases)
                ELSE coalesce(r.dataset.declared_cases, 0) END AS _total,
           CASE WHEN coalesce(len(r.cases), 0) > 0
                THEN len(list_filter(r.cases, lambda c: c.status = 'error'))
                ELSE coalesce(r.reported_errors, 0) END AS _errors,
           list_filter(
               r.cases, lambda c: c.status = 'error' AND coalesce(c."error", '') <> ''
           )[1]."error" AS _first
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
