"""Files of the other formats (old pipeline, table exports): read with the project's readers.

They are few and small, so they go through ``bench_analytics.formats`` (validation, unit
conversion, model names) and their rows are handed to DuckDB as Arrow tables. Run status
comes from ``bench_analytics.health.assess`` with the configured threshold.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from bench_analytics.local.columns import CASES, METRICS, RUNS, Columns

if TYPE_CHECKING:
    import pyarrow as pa

    from bench_analytics.formats.common import ReadOptions
    from bench_analytics.model import RunResult

_ARROW_TYPES = {
    "VARCHAR": "string",
    "JSON": "string",
    "BIGINT": "int64",
    "INTEGER": "int32",
    "DOUBLE": "float64",
    "BOOLEAN": "bool_",
}


def arrow_schema(columns: Columns) -> pa.Schema:
    """The Arrow schema of a view's columns."""
    import pyarrow as pa

    fields = []
    for name, kind in columns:
        if kind == "TIMESTAMPTZ":
            arrow_type = pa.timestamp("us", tz="UTC")
        elif kind == "VARCHAR[]":
            arrow_type = pa.list_(pa.string())
        else:
            arrow_type = getattr(pa, _ARROW_TYPES[kind])()
        fields.append(pa.field(name, arrow_type))
    return pa.schema(fields)


def _context(key: str, run: RunResult) -> dict[str, Any]:
    return {
        "run_key": key,
        "model": run.model.key,
        "dataset_version": run.dataset.version,
        "prompt_version": run.prompt_version,
        "environment": run.environment or "local",
        "run_at": run.run_at,
    }


def _run_row(key: str, run: RunResult, threshold: float) -> dict[str, Any]:
    from bench_analytics.health import assess

    health = assess(run, threshold)
    p = run.provenance
    return {
        **_context(key, run),
        "model_display_name": run.model.display_name,
        "model_version": run.model.version,
        "provider": run.model.provider,
        "dataset_name": run.dataset.name,
        "benchmark_type": run.benchmark_type,
        "commit_sha": p.commit_sha,
        "branch": p.branch,
        "run_id": p.run_id,
        "triggered_by": p.triggered_by,
        "tags": list(p.tags),
        "notes": p.notes,
        "run_started_at": run.started_at,
        "run_finished_at": run.finished_at,
        "status": health.status,
        "status_reason": health.reason,
        "effective_status": health.status,
        "case_count": health.case_count,
        "error_count": health.error_count,
        **{name: run.metrics.get(name) for name in ("f1", "precision", "recall")},
        "latency_ms": run.metrics.get("latency_ms"),
        "cost_usd": run.metrics.get("cost_usd"),
        "source_format": p.source_format or "native",
        "source_name": p.source_name,
    }


def rows_of(
    files: Sequence[Path], threshold: float, options: ReadOptions | None
) -> dict[str, list[dict[str, Any]]]:
    """Rows of the runs, cases and metrics views for files read by the project's readers."""
    from bench_analytics.formats import read_file
    from bench_analytics.metrics import spec_for

    rows: dict[str, list[dict[str, Any]]] = {"runs": [], "cases": [], "metrics": []}
    for path in files:
        runs = read_file(path, "auto", options)
        for index, run in enumerate(runs, 1):
            key = str(path) if len(runs) == 1 else f"{path}#{index}"
            context = _context(key, run)
            rows["runs"].append(_run_row(key, run, threshold))
            for case in run.cases:
                row = case.model_dump(exclude={"details"})
                row["details"] = orjson.dumps(case.details).decode()
                rows["cases"].append({**context, **row})
            for name, value in run.metrics.items():
                spec = spec_for(name)
                rows["metrics"].append(
                    {**context, "name": name, "value": value, "unit": spec.unit}
                    | {"direction": spec.direction}
                )
    return rows


def tables_of(
    files: Sequence[Path], threshold: float, options: ReadOptions | None
) -> dict[str, pa.Table]:
    """The rows of ``rows_of`` as Arrow tables with the views' column types."""
    import pyarrow as pa

    rows = rows_of(files, threshold, options)
    columns = {"runs": RUNS, "cases": CASES, "metrics": METRICS}
    return {
        view: pa.Table.from_pylist(rows[view], schema=arrow_schema(columns[view])) for view in rows
    }
