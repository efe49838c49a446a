"""Reader for the old monitoring JSON: model/dataset/prompt versions plus aggregate ``metrics``."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bench_analytics.formats.common import (
    LegacyModel,
    Name,
    ReadOptions,
    map_legacy_metrics,
    model_ref,
    validated,
)
from bench_analytics.formats.source import Source
from bench_analytics.model import Count, DatasetRef, Provenance, RunResult

NAME = "seed-monitoring"
CASES_FIELD = "metrics"  # where the per-case rows are (for messages)
DESCRIPTION = "old monitoring JSON (model_version, dataset_version, prompt_version, metrics)"


class MonitoringResult(LegacyModel):
    model_version: Name
    dataset_version: Name
    prompt_version: Name
    model_provider: str | None = None
    dataset_size: Count | None = None
    timestamp: datetime | None = None
    metrics: dict[str, Any]


def matches(data: Any) -> bool:
    """A dict with the three version fields and a metrics mapping, without a row id."""
    return (
        isinstance(data, dict)
        and isinstance(data.get("metrics"), dict)
        and {"model_version", "dataset_version", "prompt_version"} <= data.keys()
        and "individual_results" not in data
    )


def read(source: Source, options: ReadOptions) -> list[RunResult]:
    """One aggregate-only RunResult (no cases)."""
    doc = validated(MonitoringResult, source.data, source.name)
    conversions: list[str] = []
    metrics, other = map_legacy_metrics(
        source.name, doc.metrics, where="metrics.", conversions=conversions
    )
    extra: dict[str, Any] = {**(doc.model_extra or {})}
    if other:
        extra["metrics"] = other
    return [
        RunResult(
            model=model_ref(doc.model_version, options, provider=doc.model_provider),
            dataset=DatasetRef(
                version=options.dataset_version or doc.dataset_version,
                declared_cases=doc.dataset_size,
            ),
            prompt_version=doc.prompt_version,
            benchmark_type="aggregate",
            finished_at=doc.timestamp,
            metrics=metrics,
            provenance=Provenance(source_format=NAME, unit_conversions=conversions),
            extra=extra,
        )
    ]
