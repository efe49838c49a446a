"""Reader for exports of the old ``benchmark_transactions`` table (JSON arrays of rows).

This is the migration path: every row becomes one RunResult that keeps the row's commit,
branch, environment, actor and time, so history order and commits survive the move.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Annotated, Any

from pydantic import Field

from bench_analytics.errors import BadInputError
from bench_analytics.formats.common import (
    LegacyModel,
    LegacyPatientCase,
    Name,
    PatientIdentity,
    ReadOptions,
    looks_like_percent,
    map_legacy_metrics,
    model_ref,
    outage_signature,
    validated,
)
from bench_analytics.formats.source import Source
from bench_analytics.model import (
    NAME_MAX,
    CaseResult,
    Count,
    DatasetRef,
    NonNegativeNumber,
    Provenance,
    RunResult,
)

NAME = "supabase-export"
CASES_FIELD = "metrics.patient_results"  # where the per-case rows are (for messages)
DESCRIPTION = "export of the old benchmark_transactions table (JSON array of rows)"

_ROW_KEYS = {"id", "created_at", "model_version", "metrics"}
_PERCENT_SIBLINGS = {"domain_knowledge_detection_rate": "domain_recall"}


class _LatencyField(PatientIdentity):
    latency_ms: NonNegativeNumber | None = None


class ExportedCase(LegacyPatientCase, _LatencyField):
    """One entry of a row's ``metrics.patient_results`` (latency between identity and scores)."""


class ExportedRow(LegacyModel):
    id: str
    created_at: datetime
    commit_sha: str | None = None
    branch_name: str | None = None
    model_version: Name
    model_provider: str | None = None
    dataset_version: Name
    dataset_size: Count | None = None
    prompt_version: Annotated[str, Field(max_length=NAME_MAX)] | None = None
    environment: Annotated[str, Field(max_length=NAME_MAX)] | None = None
    run_id: str | None = None
    triggered_by: str | None = None
    metrics: dict[str, Any]
    duration_seconds: NonNegativeNumber | None = None
    error_count: Count | None = None
    success_count: Count | None = None
    tags: list[str] | None = None
    notes: str | None = None
    benchmark_type: str | None = None


def matches(data: Any) -> bool:
    """A non-empty list of objects that carry the old table's columns."""
    return (
        isinstance(data, list)
        and bool(data)
        and all(isinstance(row, dict) and row.keys() >= _ROW_KEYS for row in data)
    )


def _unit_rule(raw: dict[str, Any]) -> Callable[[str, float], bool]:
    peers = [
        v
        for k, v in raw.items()
        if k in _PERCENT_SIBLINGS.keys() | {"savings_capture_rate"} and isinstance(v, int | float)
    ]

    def is_percent(name: str, value: float) -> bool:
        sibling = raw.get(_PERCENT_SIBLINGS.get(name, ""))
        sibling = sibling if isinstance(sibling, int | float) else None
        return looks_like_percent(value, sibling, peers)

    return is_percent


def _cases(source: str, index: int, raw: Any) -> list[CaseResult]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise BadInputError(
            source, "must be a list", where=f"field [{index}].metrics.patient_results"
        )
    cases = []
    for position, item in enumerate(raw):
        where = (index, "metrics", "patient_results", position)
        case = validated(ExportedCase, item, source, where)
        details = {"patient_name": case.patient_name, **(case.model_extra or {})}
        cases.append(case.to_case(latency_ms=case.latency_ms, details=details))
    return cases


def _started(source: str, index: int, row: ExportedRow) -> datetime | None:
    """When the run started: its creation time minus its duration."""
    if not row.duration_seconds:
        return None
    try:
        return row.created_at - timedelta(seconds=row.duration_seconds)
    except (OverflowError, ValueError):
        raise BadInputError(
            source,
            f"is not a possible duration, got {row.duration_seconds} seconds",
            where=f"field [{index}].duration_seconds",
        ) from None


def _row(source: str, index: int, raw: dict[str, Any], options: ReadOptions) -> RunResult:
    row = validated(ExportedRow, raw, source, (index,))
    raw_metrics = dict(row.metrics)
    cases = _cases(source, index, raw_metrics.pop("patient_results", None))
    conversions: list[str] = []
    metrics, other = map_legacy_metrics(
        source,
        raw_metrics,
        where=f"[{index}].metrics.",
        conversions=conversions,
        is_percent=_unit_rule(raw_metrics),
    )
    if metrics.get("latency_p95_ms") == 0 and metrics.get("latency_ms", 0) > 0:
        del metrics["latency_p95_ms"]
        conversions.append("p95_latency_ms: 0.0 dropped (not measured; the mean is above 0)")
    declared = row.dataset_size
    if declared is None:
        declared = next(
            (int(metrics[k]) for k in ("total_documents", "total_patients") if k in metrics), None
        )
    tracked = bool(row.error_count or row.success_count)
    model = model_ref(row.model_version, options, provider=row.model_provider)
    if cases:
        found_nothing = sum((c.tp or 0) + (c.fp or 0) for c in cases) == 0
        expected: int | None = sum((c.tp or 0) + (c.fn or 0) for c in cases)
    else:
        found_nothing = (
            metrics.get("recall") == 0
            and metrics.get("precision") == 0
            and metrics.get("issues_detected", 0) == 0
        )
        expected = int(metrics.get("issues_expected", 0)) or None
    started = _started(source, index, row)
    return RunResult(
        model=model,
        dataset=DatasetRef(
            version=options.dataset_version or row.dataset_version, declared_cases=declared
        ),
        prompt_version=row.prompt_version or "unversioned",
        benchmark_type=row.benchmark_type or "standard",
        environment=row.environment,
        started_at=started,
        finished_at=row.created_at,
        metrics=metrics,
        cases=cases,
        reported_errors=row.error_count if tracked else None,
        outage_evidence=outage_signature(
            model, found_nothing=found_nothing, expected=expected, cases=declared
        ),
        provenance=Provenance(
            commit_sha=row.commit_sha,
            branch=row.branch_name,
            run_id=row.run_id,
            triggered_by=row.triggered_by,
            tags=row.tags or [],
            notes=row.notes,
            source_format=NAME,
            legacy_id=row.id,
            unit_conversions=conversions,
        ),
        extra={k: v for k, v in {**other, **(row.model_extra or {})}.items() if v is not None},
    )


def read(source: Source, options: ReadOptions) -> list[RunResult]:
    """One RunResult per row, in the order of the rows."""
    return [_row(source.name, i, raw, options) for i, raw in enumerate(source.data)]
