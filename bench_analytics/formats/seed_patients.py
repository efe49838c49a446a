"""Reader for the old pipeline's patient results: ``patient_benchmark_<model>.json``."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field

from bench_analytics.formats.common import (
    LegacyModel,
    LegacyPatientCase,
    Name,
    PatientIdentity,
    ReadOptions,
    legacy_file_run,
    map_legacy_metrics,
    model_ref,
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

NAME = "seed-patients"
CASES_FIELD = "individual_results"  # where the per-case rows are (for messages)
DESCRIPTION = "old pipeline patient results (patient_benchmark_<model>.json)"


class _AnalysisFields(PatientIdentity):
    documents_analyzed: Count | None = None
    analysis_latency_ms: NonNegativeNumber | None = None
    expected_issues: list[dict[str, Any]] = Field(default_factory=list)
    detected_issues: list[dict[str, Any]] = Field(default_factory=list)


class PatientCase(LegacyPatientCase, _AnalysisFields):
    """One entry of ``individual_results`` (the analysis fields between identity and scores)."""


class PatientResults(LegacyModel):
    model_name: Name
    total_patients: Count
    successful_analyses: Count | None = None
    avg_precision: Rate
    avg_recall: Rate
    avg_f1_score: Rate
    domain_knowledge_detection_rate: Percent | None = None
    avg_latency_ms: NonNegativeNumber | None = None
    generated_at: datetime | None = None
    domain_breakdown: dict[str, Any] | None = None
    advanced_metrics: dict[str, Any] | None = None
    individual_results: list[PatientCase]


def matches(data: Any) -> bool:
    """A dict with per-patient results and a patient total."""
    return isinstance(data, dict) and "individual_results" in data and "total_patients" in data


def _case(patient: PatientCase) -> CaseResult:
    extra = dict(patient.model_extra or {})
    extra.pop("model_name", None)
    return patient.to_case(
        latency_ms=patient.analysis_latency_ms,
        details={
            "patient_name": patient.patient_name,
            "documents_analyzed": patient.documents_analyzed,
            "expected_issues": patient.expected_issues,
            "detected_issues": patient.detected_issues,
            **extra,
        },
    )


def read(source: Source, options: ReadOptions) -> list[RunResult]:
    """One RunResult for the file."""
    doc = validated(PatientResults, source.data, source.name)
    conversions: list[str] = []
    headline = {
        name: getattr(doc, name)
        for name in (
            "avg_precision",
            "avg_recall",
            "avg_f1_score",
            "avg_latency_ms",
            "domain_knowledge_detection_rate",
        )
        if getattr(doc, name) is not None
    }
    top_level = {k: v for k, v in (doc.model_extra or {}).items()}
    metrics, other = map_legacy_metrics(
        source.name, {**headline, **top_level}, where="", conversions=conversions
    )
    if doc.advanced_metrics:
        advanced, advanced_other = map_legacy_metrics(
            source.name, doc.advanced_metrics, where="advanced_metrics.", conversions=conversions
        )
        metrics.update(advanced)
        other["advanced_metrics"] = advanced_other or None
    if any(p.domain_knowledge_score is not None for p in doc.individual_results):
        conversions.append("individual_results[*].domain_knowledge_score: % -> fraction")

    extra = {"successful_analyses": doc.successful_analyses, **other}
    if doc.domain_breakdown is not None:
        extra["domain_breakdown"] = doc.domain_breakdown
    return [
        legacy_file_run(
            "patients",
            model=model_ref(doc.model_name, options),
            cases=[_case(patient) for patient in doc.individual_results],
            declared=doc.total_patients,
            generated_at=doc.generated_at,
            averaging="macro",
            metrics=metrics,
            detected=sum(len(p.detected_issues) for p in doc.individual_results),
            expected=sum(len(p.expected_issues) for p in doc.individual_results),
            source_format=NAME,
            conversions=conversions,
            extra=extra,
            options=options,
        )
    ]
