"""Benchmark cases: a patient, their documents, and the issues a reviewer expects.

A case set is a folder of case files (``<case_id>.json``, schema 'bench-analytics/case')
with a ``manifest.json``. Its dataset version is derived from the content hash, so a
changed case set is a new dataset version automatically.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any

import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bench_analytics.errors import BadInputError

CASE_SCHEMA = "bench-analytics/case"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class LineItem(_Model):
    """One billed line of a document."""

    cpt_code: str | None = None
    description: str = ""
    date_of_service: str | None = None
    billed_amount: float | None = None


class Document(_Model):
    """A bill, EOB, receipt or note the model reads."""

    document_id: str
    document_type: str = "text"
    content: str = ""
    line_items: list[LineItem] = Field(default_factory=list)


class ExpectedIssue(_Model):
    """An issue a reviewer expects the model to find."""

    type: str
    severity: str | None = None
    category: str | None = None
    requires_domain_knowledge: bool = False
    cpt_code: str | None = None
    description: str | None = None
    expected_savings: float | None = None


class Patient(_Model):
    """Who the documents are about."""

    name: str | None = None
    age: int | None = None
    sex: str | None = None
    date_of_birth: str | None = None


class Case(_Model):
    """One benchmark case."""

    schema_: str = Field(default=CASE_SCHEMA, alias="schema")
    case_id: str = Field(min_length=1)
    patient: Patient = Field(default_factory=Patient)
    history: dict[str, Any] = Field(default_factory=dict)
    visit: dict[str, Any] | None = None
    documents: list[Document] = Field(default_factory=list)
    expected_issues: list[ExpectedIssue] = Field(default_factory=list)

    def codes(self) -> list[tuple[str, str | None]]:
        """(CPT code, date of service) of every line item, or codes found in the text."""
        found = [
            (li.cpt_code, li.date_of_service)
            for d in self.documents
            for li in d.line_items
            if li.cpt_code
        ]
        if found:
            return found
        return [(code, None) for d in self.documents for code in _text_codes(d.content)]


_CODE_IN_TEXT = re.compile(r"(?<![\d.$])(\d{5})(?![\d.])")


def _text_codes(text: str) -> list[str]:
    return _CODE_IN_TEXT.findall(text)


class CaseSet(_Model):
    """A named, versioned set of cases."""

    name: str
    cases: list[Case]

    @property
    def version(self) -> str:
        """'<name>-<first 8 hex of the content hash>'."""
        return f"{self.name}-{self.content_sha256()[:8]}"

    def content_sha256(self) -> str:
        ordered = sorted(self.cases, key=lambda c: c.case_id)
        blob = b"\n".join(
            orjson.dumps(c.model_dump(mode="json", by_alias=True), option=orjson.OPT_SORT_KEYS)
            for c in ordered
        )
        return hashlib.sha256(blob).hexdigest()

    def by_id(self) -> dict[str, Case]:
        return {case.case_id: case for case in self.cases}


def write_case_set(case_set: CaseSet, folder: Path) -> Path:
    """Write one file per case plus manifest.json; returns the folder."""
    folder.mkdir(parents=True, exist_ok=True)
    for case in case_set.cases:
        data = case.model_dump(mode="json", by_alias=True, exclude_none=True)
        (folder / f"{case.case_id}.json").write_bytes(
            orjson.dumps(data, option=orjson.OPT_INDENT_2)
        )
    manifest = {
        "schema": "bench-analytics/case-set",
        "name": case_set.name,
        "version": case_set.version,
        "cases": len(case_set.cases),
    }
    (folder / "manifest.json").write_bytes(orjson.dumps(manifest, option=orjson.OPT_INDENT_2))
    return folder


def parse_case(data: Any, source: str) -> Case:
    """Validate one native case (one clear error naming the field)."""
    from bench_analytics.formats.source import validation_failure

    try:
        return Case.model_validate(data)
    except ValidationError as exc:
        raise validation_failure(source, exc) from None


def case_set_name(folder: Path) -> str:
    """The manifest's name, else the folder's name, as a key."""
    manifest = folder / "manifest.json"
    if manifest.exists():
        try:
            name = orjson.loads(manifest.read_bytes()).get("name")
        except orjson.JSONDecodeError:
            raise BadInputError(str(manifest), "invalid JSON in the case-set manifest") from None
        if name:
            return str(name)
    return re.sub(r"[^a-z0-9._-]+", "-", folder.resolve().name.lower()).strip("-") or "cases"
