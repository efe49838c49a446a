"""Generate a realistic synthetic case set (seeded, any size, clean cases included).

Each patient gets demographics, history, medications and a billing statement with CPT
lines (plus a pharmacy receipt when they take medicines). About a quarter of the cases
are clean; the others carry one to three issues of the kinds reviewers flag: duplicate
charges, excessive charges, upcoding, sex- or age-inappropriate procedures, drug
interactions and service dates before birth.
"""

from __future__ import annotations

import random
from datetime import date, timedelta

from bench_analytics.runner.cases import Case, CaseSet, Document, ExpectedIssue, LineItem, Patient
from bench_analytics.runner.codes import (
    COMMON,
    CONDITIONS,
    FEMALE_ONLY,
    INTERACTIONS,
    ISSUE_TYPES,
    MALE_ONLY,
    OTHER_MEDICATIONS,
    PEDIATRIC_MAX_AGE,
    PROCEDURES,
)

FIRST = {
    "F": ("Maria", "Aisha", "Emily", "Grace", "Hana", "Ingrid", "Lucia", "Nora", "Priya", "Zoe"),
    "M": (
        "Ahmed",
        "Bruno",
        "Carlos",
        "David",
        "Ethan",
        "Hiroshi",
        "Jonas",
        "Kwame",
        "Liam",
        "Omar",
    ),
}
LAST = (
    "Anders",
    "Bauer",
    "Costa",
    "Dubois",
    "Evans",
    "Fischer",
    "Garcia",
    "Haddad",
    "Ito",
    "Jensen",
    "Kowalski",
    "Lopez",
    "Mensah",
    "Novak",
    "Okafor",
    "Petrov",
    "Quinn",
    "Rossi",
)
FACILITIES = (
    "Lakeside Medical Center",
    "Northgate Clinic",
    "St. Brigid Hospital",
    "Riverbend Family Practice",
    "Summit Health Partners",
)
TODAY = date(2026, 3, 1)


def _issue(
    kind: str, code: str | None, description: str, savings: float | None, severity: str = "high"
) -> ExpectedIssue:
    category, domain, _ = ISSUE_TYPES[kind]
    return ExpectedIssue(
        type=kind,
        severity=severity,
        category=category,
        requires_domain_knowledge=domain,
        cpt_code=code,
        description=description,
        expected_savings=savings,
    )


def _line(code: str, when: date, factor: float = 1.0) -> LineItem:
    description, price = PROCEDURES[code]
    return LineItem(
        cpt_code=code,
        description=description,
        date_of_service=when.isoformat(),
        billed_amount=round(price * factor, 2),
    )


def _statement(
    case_id: str, patient: Patient, facility: str, lines: list[LineItem], note: str
) -> Document:
    rows = [
        f"{facility.upper()} - PATIENT STATEMENT",
        f"Account {case_id}",
        f"Patient: {patient.name} | DOB: {patient.date_of_birth} | Sex: {patient.sex}",
        "",
        "DATE        CODE   DESCRIPTION                                          AMOUNT",
    ]
    for li in lines:
        rows.append(
            f"{li.date_of_service}  {li.cpt_code}  {li.description:<52} ${li.billed_amount:>9.2f}"
        )
    total = sum(li.billed_amount or 0 for li in lines)
    rows += ["", f"TOTAL CHARGES: ${total:.2f}"]
    if note:
        rows += ["", f"Provider note: {note}"]
    return Document(
        document_id=f"{case_id}_statement",
        document_type="medical_bill",
        content="\n".join(rows),
        line_items=lines,
    )


def _patient(rng: random.Random) -> Patient:
    sex = rng.choice("FM")
    age = rng.choice(
        [
            rng.randint(1, 6),
            rng.randint(7, 17),
            rng.randint(18, 64),
            rng.randint(18, 64),
            rng.randint(65, 92),
        ]
    )
    born = TODAY - timedelta(days=age * 365 + rng.randint(0, 364))
    name = f"{rng.choice(FIRST[sex])} {rng.choice(LAST)}"
    return Patient(name=name, age=age, sex=sex, date_of_birth=born.isoformat())


def _inject(
    kind: str,
    rng: random.Random,
    patient: Patient,
    lines: list[LineItem],
    meds: list[str],
    when: date,
) -> tuple[ExpectedIssue | None, str]:
    """Add one issue of ``kind`` to the lines or medications; returns (issue, visit note)."""
    if kind == "duplicate_charge":
        line = rng.choice(lines)
        lines.append(line.model_copy())
        return _issue(
            kind,
            line.cpt_code,
            f"{line.cpt_code} billed twice on {when}",
            line.billed_amount,
            "medium",
        ), ""
    if kind == "excessive_charge":
        index = rng.randrange(len(lines))
        code = lines[index].cpt_code
        assert code is not None  # every generated line has a code
        typical = PROCEDURES[code][1]
        lines[index] = _line(code, when, factor=rng.choice((3.5, 4.0, 5.0)))
        return _issue(
            kind,
            code,
            f"{code} billed far above the typical ${typical}",
            round((lines[index].billed_amount or 0.0) - typical, 2),
            "medium",
        ), ""
    if kind == "upcoding":
        lines[:] = [li for li in lines if li.cpt_code not in {"99213", "99214", "99215"}]
        lines.insert(0, _line("99215", when))
        return _issue(
            kind, "99215", "high-complexity visit billed for a 10-minute follow-up", 160.0
        ), "Brief 10-minute follow-up, no changes to management."
    if kind == "gender_mismatch":
        code = rng.choice(sorted(MALE_ONLY if patient.sex == "F" else FEMALE_ONLY))
        lines.append(_line(code, when))
        return _issue(
            kind,
            code,
            f"{PROCEDURES[code][0]} billed for a {patient.sex} patient",
            PROCEDURES[code][1],
            "critical",
        ), ""
    if kind == "age_inappropriate":
        code = rng.choice(
            [c for c, oldest in PEDIATRIC_MAX_AGE.items() if (patient.age or 0) > oldest]
        )
        lines.append(_line(code, when))
        return _issue(
            kind,
            code,
            f"{PROCEDURES[code][0]} billed for a {patient.age}-year-old",
            PROCEDURES[code][1],
            "high",
        ), ""
    if kind == "drug_interaction":
        first, second, risk = rng.choice(INTERACTIONS)
        meds[:0] = [first, second]
        return _issue(
            kind, None, f"{first.split()[0]} with {second.split()[0]}: {risk}", None, "critical"
        ), ""
    if kind == "temporal_violation":
        index = rng.randrange(len(lines))
        assert patient.date_of_birth is not None  # generated patients have one
        before = date.fromisoformat(patient.date_of_birth) - timedelta(days=rng.randint(30, 900))
        lines[index] = lines[index].model_copy(update={"date_of_service": before.isoformat()})
        return _issue(
            kind,
            lines[index].cpt_code,
            "service dated before the patient's birth",
            lines[index].billed_amount,
            "high",
        ), ""
    raise ValueError(kind)


def generate_case(index: int, seed: int) -> Case:
    """Case number ``index`` of the set generated with ``seed``."""
    rng = random.Random(f"case-{seed}-{index}")
    case_id = f"P{index:04d}"
    patient = _patient(rng)
    when = TODAY - timedelta(days=rng.randint(10, 300))
    lines = [_line(code, when) for code in rng.sample(COMMON, rng.randint(2, 4))]
    meds = rng.sample(OTHER_MEDICATIONS, rng.randint(0, 2))
    history = {"conditions": rng.sample(CONDITIONS, rng.randint(0, 3)), "allergies": []}
    kinds = [
        k
        for k in ISSUE_TYPES
        if k != "age_inappropriate" or (patient.age or 0) > min(PEDIATRIC_MAX_AGE.values())
    ]
    count = rng.choices((0, 1, 2, 3), weights=(25, 40, 25, 10))[0]
    issues, notes = [], []
    for kind in rng.sample(kinds, count):
        issue, note = _inject(kind, rng, patient, lines, meds, when)
        issues.append(issue)
        notes.append(note)
    history["medications"] = meds
    documents = [
        _statement(case_id, patient, rng.choice(FACILITIES), lines, " ".join(n for n in notes if n))
    ]
    if meds:
        receipt = "\n".join(
            ["PHARMACY RECEIPT", f"Patient: {patient.name}", *[f"Rx: {m}" for m in meds]]
        )
        documents.append(
            Document(
                document_id=f"{case_id}_pharmacy", document_type="pharmacy_receipt", content=receipt
            )
        )
    return Case(
        case_id=case_id,
        patient=patient,
        history=history,
        visit={"date": when.isoformat(), "medications_reviewed": meds},
        documents=documents,
        expected_issues=issues,
    )


def generate_case_set(patients: int, seed: int, name: str | None = None) -> CaseSet:
    """A case set of ``patients`` cases; the same arguments always give the same set."""
    cases = [generate_case(i, seed) for i in range(1, patients + 1)]
    return CaseSet(name=name or f"synthetic-s{seed}-n{patients}", cases=cases)
