"""Reader for the project's own result format (JSON Schema: ``bench-analytics schema``)."""

from __future__ import annotations

from typing import Any

from bench_analytics.errors import BadInputError
from bench_analytics.formats.common import ReadOptions, validated
from bench_analytics.formats.source import Source
from bench_analytics.model import SCHEMA_VERSION, RunResult

NAME = "native"
CASES_FIELD = "cases"  # where the per-case rows are (for messages)
DESCRIPTION = "bench-analytics result format (schema 'bench-analytics/result')"
SCHEMA_NAME = "bench-analytics/result"


def matches(data: Any) -> bool:
    """A dict that says it is a bench-analytics result."""
    return isinstance(data, dict) and data.get("schema") == SCHEMA_NAME


def read(source: Source, options: ReadOptions) -> list[RunResult]:
    """The RunResult in the file; an explicit model key or dataset version overrides it."""
    version = source.data.get("schema_version")
    if isinstance(version, int) and version > SCHEMA_VERSION:
        raise BadInputError(
            source.name,
            f"written with result schema version {version}; this release reads up to "
            f"{SCHEMA_VERSION}",
            where="field schema_version",
            hint="upgrade bench-analytics",
        )
    run = validated(RunResult, source.data, source.name)
    if options.model_key:
        run = run.model_copy(
            update={"model": run.model.model_copy(update={"key": options.model_key})}
        )
    if options.dataset_version:
        dataset = run.dataset.model_copy(update={"version": options.dataset_version})
        run = run.model_copy(update={"dataset": dataset})
    if not run.provenance.source_format:
        provenance = run.provenance.model_copy(update={"source_format": NAME})
        run = run.model_copy(update={"provenance": provenance})
    return [run]
