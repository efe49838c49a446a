"""The in-memory result model every reader produces: ``RunResult`` with its ``CaseResult``s."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from operator import attrgetter
from types import NoneType
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    Strict,
    StrictInt,
    field_validator,
    model_validator,
)

from bench_analytics.canonical import canonical, objects_json, sorted_keys
from bench_analytics.case_columns import CASE_COLUMNS
from bench_analytics.configuration import Configuration
from bench_analytics.metrics import check_value

SCHEMA_ID = "https://bench-analytics.dev/schemas/result-v1.json"
SCHEMA_VERSION: Literal[1] = 1
KEY_PATTERN = r"^[a-z0-9][a-z0-9._-]*$"
# What the store can index and hold: its count columns are INTEGER, and a B-tree index row
# must stay under about 2,700 bytes, so the identity (model key, dataset and prompt
# versions, environment: one index, up to 4 bytes a character) and case ids are bounded.
INT32_MAX = 2_147_483_647
NAME_MAX = 200  # model key, dataset/prompt version, environment, metric names (characters)
CASE_ID_MAX = 512


Number = Annotated[float, Strict()]  # ints are fine; strings and booleans are not
NonNegativeNumber = Annotated[Number, Field(ge=0)]
Count = Annotated[StrictInt, Field(ge=0, le=INT32_MAX)]
MetricName = Annotated[str, Field(max_length=NAME_MAX)]
Rate = Annotated[Number, Field(ge=0, le=1, description="A fraction in [0, 1].")]
Percent = Annotated[Number, Field(ge=0, le=100, description="A percentage in [0, 100].")]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, populate_by_name=True)


class ModelRef(_Strict):
    """Which model ran: a stable key plus how it was displayed and versioned at the time."""

    key: str = Field(
        pattern=KEY_PATTERN, max_length=NAME_MAX, description="Stable key, e.g. 'medgemma'."
    )
    display_name: str | None = Field(default=None, description="Name as shown at the time.")
    version: str | None = Field(default=None, description="Model version or checkpoint.")
    provider: str | None = Field(default=None, description="Who serves it: openai, google …")


class DatasetRef(_Strict):
    """Which case set was run."""

    name: str | None = None
    version: str = Field(min_length=1, max_length=NAME_MAX)
    declared_cases: Count | None = Field(
        default=None, description="How many cases the source says it ran."
    )


class Provenance(_Strict):
    """Where a result came from. Not part of the content hash."""

    commit_sha: str | None = None
    branch: str | None = None
    run_id: str | None = None
    triggered_by: str | None = None
    tags: list[str] = Field(default_factory=list)
    notes: str | None = None
    source_format: str | None = None
    source_name: str | None = None
    legacy_id: str | None = Field(default=None, description="Id in the system it came from.")
    unit_conversions: list[str] = Field(default_factory=list)


class CaseResult(_Strict):
    """One case (document, patient, sample) of a run."""

    case_id: str = Field(min_length=1, max_length=CASE_ID_MAX)
    status: Literal["ok", "error"] = Field(
        default="ok", description="'error' when the endpoint failed, not the model."
    )
    tp: Count | None = None
    fp: Count | None = None
    fn: Count | None = None
    score: Number | None = None
    latency_ms: NonNegativeNumber | None = None
    input_tokens: Count | None = None
    output_tokens: Count | None = None
    cost_usd: NonNegativeNumber | None = None
    error: str | None = None
    details: dict[str, Any] = Field(default_factory=dict)

    @field_validator("details")
    @classmethod
    def _canonical_details(cls, details: dict[str, Any]) -> dict[str, Any]:
        return canonical(details) if details else details


# What a validated case holds, field by field (pydantic and orjson write these alike); the
# fields are the case columns (tests/test_case_columns.py).
_PYTHON_TYPES: dict[str, type] = {"VARCHAR": str, "INTEGER": int, "DOUBLE": float, "JSON": dict}
_CASE_TYPES: dict[str, frozenset[type]] = {
    column.name: frozenset((_PYTHON_TYPES[column.sql_type], NoneType))
    if column.nullable
    else frozenset((_PYTHON_TYPES[column.sql_type],))
    for column in CASE_COLUMNS
}


_CASES_SLOT = b',"cases":[],"reported_errors":'
_CASE_ID = attrgetter("case_id")


class RunResult(_Strict):
    """One benchmark run: identity, headline metrics and per-case results."""

    schema_: Literal["bench-analytics/result"] = Field(
        default="bench-analytics/result", alias="schema"
    )
    schema_version: Literal[1] = SCHEMA_VERSION
    model: ModelRef
    dataset: DatasetRef
    prompt_version: str = Field(min_length=1, max_length=NAME_MAX)
    benchmark_type: str = Field(default="custom", min_length=1)
    environment: str | None = Field(default=None, max_length=NAME_MAX)
    started_at: datetime | None = None
    finished_at: datetime | None = None
    averaging: Literal["micro", "macro"] | None = Field(
        default=None, description="How f1/precision/recall were averaged over cases."
    )
    metrics: dict[MetricName, Number] = Field(default_factory=dict)
    cases: list[CaseResult] = Field(default_factory=list)
    reported_errors: Count | None = Field(
        default=None, description="Errored cases stated by an aggregate-only source."
    )
    outage_evidence: str | None = Field(
        default=None, description="Why a reader judged that the endpoint, not the model, failed."
    )
    provenance: Provenance = Field(default_factory=Provenance)
    extra: dict[str, Any] = Field(default_factory=dict)

    @field_validator("started_at", "finished_at")
    @classmethod
    def _utc(cls, value: datetime | None) -> datetime | None:
        """Naive times are taken as UTC; every time is stored in UTC."""
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)

    @field_validator("metrics")
    @classmethod
    def _metric_values(cls, metrics: dict[str, float]) -> dict[str, float]:
        for name, value in metrics.items():
            problem = check_value(name, value)
            if problem:
                raise ValueError(f"metric '{name}' {problem}")
        return dict(sorted(metrics.items()))

    @field_validator("extra")
    @classmethod
    def _canonical_extra(cls, extra: dict[str, Any]) -> dict[str, Any]:
        return canonical(extra)

    @model_validator(mode="after")
    def _unique_cases(self) -> RunResult:
        if len(set(map(_CASE_ID, self.cases))) == len(self.cases):
            return self
        seen: set[str] = set()
        for index, case in enumerate(self.cases):
            if case.case_id in seen:
                raise ValueError(f"cases[{index}]: case_id '{case.case_id}' appears twice")
            seen.add(case.case_id)
        return self

    @property
    def run_at(self) -> datetime | None:
        """When the run happened (finish, else start)."""
        return self.finished_at or self.started_at

    def canonical_parts(self) -> tuple[bytes, ...]:
        """``canonical_json`` in pieces (so the hash needs no copy of a large document).

        Fields serialise in declaration order and case details were key-sorted when the
        cases were validated; the run-level dicts are sorted here (they may have been
        replaced with ``model_copy``). Pydantic's serialiser defines the form; the cases,
        nearly all of the bytes, are written by orjson when that gives the same bytes.
        """
        cases = sorted(self.cases, key=_CASE_ID)
        update: dict[str, Any] = {
            "metrics": dict(sorted(self.metrics.items())),
            "extra": sorted_keys(self.extra),
        }
        body = objects_json(cases, CaseResult, _CASE_TYPES)
        if body is not None:
            head = self.model_copy(update={**update, "cases": []})
            text = head.model_dump_json(by_alias=True, exclude={"provenance"}).encode()
            before, slot, after = text.partition(_CASES_SLOT)
            if slot and _CASES_SLOT not in after:
                return before, b',"cases":', body, b',"reported_errors":', after
        content = self.model_copy(update={**update, "cases": cases})
        return (content.model_dump_json(by_alias=True, exclude={"provenance"}).encode(),)

    def canonical_json(self) -> bytes:
        """The content as canonical JSON: provenance left out, cases in id order."""
        return b"".join(self.canonical_parts())

    def content_sha256(self) -> str:
        """SHA-256 of the canonical form: equal results have equal hashes."""
        digest = hashlib.sha256()
        for part in self.canonical_parts():
            digest.update(part)
        return digest.hexdigest()

    def to_json(self) -> bytes:
        """The native file form (indented, provenance included)."""
        return self.model_dump_json(by_alias=True, indent=2).encode() + b"\n"

    def configuration(self) -> Configuration:
        """(model key, dataset version, prompt version, environment)."""
        return Configuration(
            self.model.key,
            self.dataset.version,
            self.prompt_version,
            self.environment or "local",
        )
