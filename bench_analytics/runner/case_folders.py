"""Read a case folder: the project's own case files, or patient profiles of the old system.

The old system's profiles come in two generations: ``type`` / ``requires_domain_knowledge``
with documents and CPT codes, and ``issue_type`` / ``domain_knowledge_required`` with a
current visit (procedures, prescriptions). Both become the same Case.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import Field, ValidationError

from bench_analytics.errors import BadInputError
from bench_analytics.formats.common import LegacyModel
from bench_analytics.formats.source import load_source, validation_failure
from bench_analytics.runner.cases import (
    CASE_SCHEMA,
    Case,
    CaseSet,
    Document,
    ExpectedIssue,
    Patient,
    case_set_name,
    parse_case,
)


class _Issue(LegacyModel):
    type: str | None = None
    issue_type: str | None = None
    severity: str | None = None
    description: str | None = None
    cpt_code: str | None = None
    requires_domain_knowledge: bool | None = None
    domain_knowledge_required: bool | None = None


class _Profile(LegacyModel):
    patient_id: str
    name: str | None = None
    demographics: dict[str, Any] = Field(default_factory=dict)
    medical_history: dict[str, Any] = Field(default_factory=dict)
    current_visit: dict[str, Any] | None = None
    documents: list[dict[str, Any]] = Field(default_factory=list)
    expected_issues: list[_Issue]


def _from_profile(data: dict[str, Any], source: str) -> Case:
    try:
        profile = _Profile.model_validate(data)
    except ValidationError as exc:
        raise validation_failure(source, exc) from None
    issues = []
    for index, issue in enumerate(profile.expected_issues):
        kind = issue.type or issue.issue_type
        if not kind:
            raise BadInputError(
                source, "an expected issue needs a type", where=f"field expected_issues[{index}]"
            )
        issues.append(
            ExpectedIssue(
                type=kind,
                severity=issue.severity,
                requires_domain_knowledge=bool(
                    issue.requires_domain_knowledge or issue.domain_knowledge_required
                ),
                cpt_code=issue.cpt_code,
                description=issue.description,
            )
        )
    demo = profile.demographics
    return Case(
        case_id=profile.patient_id,
        patient=Patient(
            name=profile.name,
            age=demo.get("age"),
            sex=demo.get("sex"),
            date_of_birth=demo.get("date_of_birth"),
        ),
        history=profile.medical_history,
        visit=profile.current_visit,
        documents=[
            Document(
                document_id=str(d.get("document_id", f"doc{i}")),
                document_type=str(d.get("document_type", "text")),
                content=str(d.get("content", "")),
            )
            for i, d in enumerate(profile.documents)
        ],
        expected_issues=issues,
    )


def _is_profile(data: Any) -> bool:
    return isinstance(data, dict) and "patient_id" in data and "expected_issues" in data


def read_case_set(path: Path) -> CaseSet:
    """All cases below ``path`` (a folder or one file); other JSON files are ignored."""
    if not path.exists():
        raise BadInputError(str(path), "no such case folder or file")
    files = (
        [path]
        if path.is_file()
        else sorted(p for p in path.rglob("*.json") if p.name != "manifest.json")
    )
    cases: dict[str, Case] = {}
    for file in files:
        data = load_source(file).data
        if isinstance(data, dict) and data.get("schema") == CASE_SCHEMA:
            case = parse_case(data, str(file))
        elif _is_profile(data):
            case = _from_profile(data, str(file))
        else:
            continue
        if case.case_id in cases:
            raise BadInputError(str(file), f"case id '{case.case_id}' appears twice in the set")
        cases[case.case_id] = case
    if not cases:
        raise BadInputError(
            str(path),
            "no cases found",
            hint="expected case files (bench-analytics/case, see `bench-analytics cases "
            "generate`) or patient profiles with expected_issues",
        )
    folder = path if path.is_dir() else path.parent
    return CaseSet(name=case_set_name(folder), cases=list(cases.values()))
