"""Reader for the old pipeline's document results: ``aggregated_metrics_<model>.json``."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import StrictBool

from bench_analytics.formats.common import (
    CaseId,
    LegacyModel,
    Name,
    ReadOptions,
    legacy_file_run,
    model_ref,
    percent_to_fraction,
    validated,
)
from bench_analytics.formats.source import Source
from bench_analytics.model import (
    CaseResult,
    Count,
    NonNegativeNumber,
    Percent,
    Rate,
    RunResult,
)

NAME = "seed-documents"
CASES_FIELD = "individual_results"  # where the per-case rows are (for messages)
DESCRIPTION = "old pipeline document results (aggregated_metrics_<model>.json)"


class DocumentCase(LegacyModel):
    document_name: CaseId
    document_type: str | None = None
    extraction_success: StrictBool = True
    extraction_latency_ms: NonNegativeNumber | None = None
    pipeline_latency_ms: NonNegativeNumber | None = None
    input_tokens: Count | None = None
    output_tokens: Count | None = None
    total_tokens: Count | None = None
    issues_detected: Count = 0
    issues_expected: Count = 0
    true_positives: Count
    false_positives: Count
    false_negatives: Count
    json_valid: StrictBool = True
    error_message: str | None = None


class DocumentResults(LegacyModel):
    model_name: Name
    total_documents: Count
    successful_extractions: Count | None = None
    extraction_accuracy: Percent | None = None
    issue_precision: Rate
    issue_recall: Rate
    issue_f1_score: Rate
    json_validity_rate: Percent | None = None
    avg_input_tokens: NonNegativeNumber | None = None
    avg_output_tokens: NonNegativeNumber | None = None
    avg_total_tokens: NonNegativeNumber | None = None
    avg_extraction_latency_ms: NonNegativeNumber | None = None
    avg_pipeline_latency_ms: NonNegativeNumber | None = None
    generated_at: datetime | None = None
    individual_results: list[DocumentCase]


def matches(data: Any) -> bool:
    """A dict with per-document results and a document total."""
    return (
        isinstance(data, dict)
        and "individual_results" in data
        and ("total_documents" in data or "issue_f1_score" in data)
    )


def _case(doc: DocumentCase) -> CaseResult:
    failed = doc.error_message is not None or not doc.extraction_success or not doc.json_valid
    reason = doc.error_message or (
        "extraction failed" if not doc.extraction_success else "answer was not valid JSON"
    )
    return CaseResult(
        case_id=doc.document_name,
        status="error" if failed else "ok",
        tp=doc.true_positives,
        fp=doc.false_positives,
        fn=doc.false_negatives,
        latency_ms=doc.pipeline_latency_ms,
        input_tokens=doc.input_tokens,
        output_tokens=doc.output_tokens,
        error=reason if failed else None,
        details={
            "document_type": doc.document_type,
            "issues_expected": doc.issues_expected,
            "issues_detected": doc.issues_detected,
            "extraction_latency_ms": doc.extraction_latency_ms,
            **(doc.model_extra or {}),
        },
    )


def read(source: Source, options: ReadOptions) -> list[RunResult]:
    """One RunResult for the file."""
    doc = validated(DocumentResults, source.data, source.name)
    conversions: list[str] = []
    metrics: dict[str, float] = {
        "precision": doc.issue_precision,
        "recall": doc.issue_recall,
        "f1": doc.issue_f1_score,
    }
    for field in ("extraction_accuracy", "json_validity_rate"):
        value = getattr(doc, field)
        if value is not None:
            metrics[field] = percent_to_fraction(source.name, field, value, conversions)
    for field in ("avg_input_tokens", "avg_output_tokens", "avg_total_tokens"):
        if getattr(doc, field) is not None:
            metrics[field] = getattr(doc, field)
    if doc.avg_pipeline_latency_ms is not None:
        metrics["latency_ms"] = doc.avg_pipeline_latency_ms
    if doc.avg_extraction_latency_ms is not None:
        metrics["extraction_latency_ms"] = doc.avg_extraction_latency_ms

    cases = [_case(item) for item in doc.individual_results]
    return [
        legacy_file_run(
            "documents",
            model=model_ref(doc.model_name, options),
            cases=cases,
            declared=doc.total_documents,
            generated_at=doc.generated_at,
            averaging="micro",
            metrics=metrics,
            detected=sum(item.issues_detected for item in doc.individual_results),
            expected=sum(item.issues_expected for item in doc.individual_results),
            source_format=NAME,
            conversions=conversions,
            extra={"successful_extractions": doc.successful_extractions, **(doc.model_extra or {})},
            options=options,
        )
    ]
