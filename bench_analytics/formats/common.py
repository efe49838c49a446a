"""Shared by the readers: options, validation, the per-patient case, units, outage signature."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bench_analytics.errors import BadInputError
from bench_analytics.formats.source import validation_failure
from bench_analytics.metrics import REGISTRY, check_value
from bench_analytics.model import (
    CASE_ID_MAX,
    NAME_MAX,
    CaseResult,
    Count,
    DatasetRef,
    ModelRef,
    Percent,
    Provenance,
    RunResult,
)
from bench_analytics.naming import calls_endpoint, known_model, model_key_for, version_from_name

LEGACY_PROMPT_VERSION = "unversioned"
CaseId = Annotated[str, Field(min_length=1, max_length=CASE_ID_MAX)]
Name = Annotated[str, Field(min_length=1, max_length=NAME_MAX)]  # becomes a key or version


class LegacyModel(BaseModel):
    """Shape of an old-format object: known fields typed, unknown ones kept (``model_extra``)."""

    model_config = ConfigDict(extra="allow", allow_inf_nan=False)


Shape = TypeVar("Shape", bound=BaseModel)


def validated(shape: type[Shape], data: Any, source: str, prefix: tuple[Any, ...] = ()) -> Shape:
    """``data`` validated as ``shape``: the opening of every reader.

    A ValidationError becomes one BadInputError naming the first bad field; ``prefix`` is
    where ``data`` sits in the file (``(3, "metrics")`` for ``[3].metrics``).
    """
    try:
        return shape.model_validate(data)
    except ValidationError as exc:
        raise validation_failure(source, exc, prefix) from None


class PatientIdentity(LegacyModel):
    """The first fields of a per-patient case of the old pipeline."""

    patient_id: CaseId
    patient_name: str | None = None


class LegacyPatientCase(PatientIdentity):
    """A per-patient case of the old pipeline, as both of its writers wrote it.

    Its own fields close a case: counts, the domain-knowledge score (a percentage), the
    error. A writer's further fields sit between the identity and these in the files; a
    reader keeps that order with a second base, ``class Case(LegacyPatientCase, Own)``
    where ``Own(PatientIdentity)`` declares them: pydantic orders fields from the last
    base to the first, and validation reports problems in that order.
    """

    true_positives: Count
    false_positives: Count
    false_negatives: Count
    domain_knowledge_score: Percent | None = None
    error_message: str | None = None

    def to_case(self, *, latency_ms: float | None, details: dict[str, Any]) -> CaseResult:
        """The CaseResult: an error message makes it errored; the score becomes a fraction."""
        score = self.domain_knowledge_score
        return CaseResult(
            case_id=self.patient_id,
            status="error" if self.error_message else "ok",
            tp=self.true_positives,
            fp=self.false_positives,
            fn=self.false_negatives,
            latency_ms=latency_ms,
            error=self.error_message,
            details={"domain_knowledge_score": None if score is None else score / 100, **details},
        )


@dataclass(frozen=True)
class ReadOptions:
    """What the caller knows better than the file: a model key, a dataset version, aliases."""

    model_key: str | None = None
    dataset_version: str | None = None
    aliases: Mapping[str, str] = field(default_factory=dict)
    prices: Mapping[str, Any] = field(default_factory=dict)  # pricing.Price by model name


def model_ref(display_name: str, options: ReadOptions, provider: str | None = None) -> ModelRef:
    """Identity of a model from the name a file shows, honouring an explicit model key."""
    key = options.model_key or model_key_for(display_name, dict(options.aliases))
    known = known_model(key)
    return ModelRef(
        key=key,
        display_name=display_name,
        version=version_from_name(display_name),
        provider=known.provider if known else provider,
    )


def ids_version(prefix: str, case_ids: Iterable[str]) -> str:
    """A dataset version derived from the case ids, so another case set is another version."""
    digest = hashlib.sha256("\n".join(sorted(case_ids)).encode()).hexdigest()[:8]
    return f"{prefix}-{digest}"


def percent_to_fraction(
    source: str, name: str, value: float, conversions: list[str], where: str | None = None
) -> float:
    """Convert a field the old pipeline wrote in percent (0-100) into a fraction."""
    if not 0 <= value <= 100:
        raise BadInputError(
            source,
            f"is a percentage and must lie in [0, 100], got {value}",
            where=where or f"field {name}",
        )
    conversions.append(f"{name}: {value} % -> {value / 100:g}")
    return value / 100


def looks_like_percent(
    value: float, sibling_fraction: float | None, peers: Iterable[float]
) -> bool:
    """Decide the unit of a value whose writer sometimes used percent, sometimes fractions.

    Above 1 it must be percent. Otherwise it is percent when a sibling fraction field says so
    (value/100 is closer to it than value), or when another percent field of the same row
    is above 1 (the same writer wrote both).
    """
    if value > 1:
        return True
    if sibling_fraction is not None and value > 0:
        return abs(value / 100 - sibling_fraction) < abs(value - sibling_fraction)
    return any(peer > 1 for peer in peers)


def outage_signature(
    model: ModelRef, *, found_nothing: bool, expected: int | None, cases: int | None
) -> str | None:
    """Evidence that a legacy run recorded endpoint errors as empty answers, or None.

    The old pipeline swallowed HTTP errors and timeouts and stored them as 'no issues
    found', so an endpoint-backed model that reports nothing at all on cases holding
    issues is an outage, not a model result. Rule-based models run offline and are exempt;
    a case set known to hold no issue is exempt too (finding nothing is then right).
    """
    if not found_nothing or expected == 0 or not calls_endpoint(model.key, model.provider):
        return None
    scope = f" in {cases} cases" if cases else ""
    held = f"while {expected} issues were expected" if expected else "on a set that holds issues"
    return (
        f"suspected endpoint outage: no findings at all{scope} {held} "
        "(the old pipeline stored HTTP errors and timeouts as empty answers)"
    )


LEGACY_RENAMES = {
    "avg_precision": "precision",
    "avg_recall": "recall",
    "avg_f1_score": "f1",
    "avg_latency_ms": "latency_ms",
    "p95_latency_ms": "latency_p95_ms",
    "analysis_cost": "analysis_cost_usd",
    "total_potential_savings": "total_potential_savings_usd",
    "total_missed_savings": "total_missed_savings_usd",
    "avg_savings_per_patient": "avg_savings_per_case_usd",
    "total_issues_detected": "issues_detected",
    "total_issues_expected": "issues_expected",
}
PERCENT_FIELDS = frozenset(
    {
        "domain_knowledge_detection_rate",
        "extraction_accuracy",
        "json_validity_rate",
        "savings_capture_rate",
    }
)


def always_percent(name: str, value: float) -> bool:
    """Unit rule of writers that used percent for every PERCENT_FIELDS entry."""
    return True


def map_legacy_metrics(
    source: str,
    raw: Mapping[str, Any],
    *,
    where: str,
    conversions: list[str],
    is_percent: Callable[[str, float], bool] = always_percent,
) -> tuple[dict[str, float], dict[str, Any]]:
    """Split a legacy mapping into checked metrics (renamed, fractions) and everything else.

    Numbers become metrics under their registry names; percent fields become fractions;
    a registry metric holding a non-number is an error; other values are returned as-is.
    """
    metrics: dict[str, float] = {}
    other: dict[str, Any] = {}
    for name, value in raw.items():
        target = LEGACY_RENAMES.get(name, name)
        field_where = f"field {where}{name}"
        if isinstance(value, bool) or not isinstance(value, int | float):
            if target in REGISTRY and value is not None:
                raise BadInputError(source, f"must be a number, got {value!r}", where=field_where)
            other[name] = value
            continue
        if name in PERCENT_FIELDS and is_percent(name, value):
            value = percent_to_fraction(source, name, value, conversions, where=field_where)
        problem = check_value(target, value)
        if problem:
            raise BadInputError(source, problem, where=field_where)
        metrics[target] = float(value)
    return metrics, other


def legacy_file_run(
    kind: str,
    *,
    model: ModelRef,
    cases: list[CaseResult],
    declared: int,
    generated_at: datetime | None,
    averaging: str,
    metrics: dict[str, float],
    detected: int,
    expected: int,
    source_format: str,
    conversions: list[str],
    extra: dict[str, Any],
    options: ReadOptions,
) -> RunResult:
    """A RunResult from one of the old pipeline's per-case files (documents or patients).

    Those files name no dataset or prompt version: the dataset version is derived from the
    case ids (another case set is another version) and the prompt is 'unversioned'.
    """
    return RunResult(
        model=model,
        dataset=DatasetRef(
            name=f"legacy-{kind}",
            version=options.dataset_version or ids_version(kind, (c.case_id for c in cases)),
            declared_cases=declared,
        ),
        prompt_version=LEGACY_PROMPT_VERSION,
        benchmark_type=kind,
        finished_at=generated_at,
        averaging=averaging,
        metrics=metrics,
        cases=cases,
        outage_evidence=outage_signature(
            model, found_nothing=detected == 0, expected=expected, cases=len(cases)
        ),
        provenance=Provenance(source_format=source_format, unit_conversions=conversions),
        extra={k: v for k, v in extra.items() if v is not None},
    )
