"""Score detections against expected issues: matching, per-case counts, breakdowns."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from bench_analytics.model import CaseResult
from bench_analytics.runner.cases import Case, ExpectedIssue
from bench_analytics.runner.codes import ISSUE_TYPES, canonical_issue_type


def _code(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip().upper()
    return text or None


def normalise_detection(raw: dict[str, Any]) -> dict[str, Any]:
    """A detected issue in one shape: type as given, canonical type, code, summary."""
    kind = raw.get("type") or raw.get("issue_type") or raw.get("category")
    code = raw.get("code") or raw.get("cpt_code") or raw.get("cpt")
    return {
        "type": None if kind is None else str(kind),
        "canonical": canonical_issue_type(None if kind is None else str(kind)),
        "code": _code(code),
        "summary": str(raw.get("summary") or raw.get("description") or "")[:500],
    }


def _compatible(expected: ExpectedIssue, detected: dict[str, Any]) -> bool:
    if canonical_issue_type(expected.type) != detected["canonical"]:
        return False
    want, got = _code(expected.cpt_code), detected["code"]
    return want is None or got is None or want == got


def match(
    expected: Sequence[ExpectedIssue], detected: Sequence[dict[str, Any]]
) -> list[int | None]:
    """For each expected issue, the index of the detection that finds it (or None).

    A detection finds an issue when their normalised types agree and their codes agree
    (or one side gives none). Detections with the exact code are used first; each
    detection finds at most one issue.
    """
    taken: set[int] = set()
    result: list[int | None] = [None] * len(expected)
    for exact in (True, False):
        for i, issue in enumerate(expected):
            if result[i] is not None:
                continue
            for j, found in enumerate(detected):
                if j in taken or not _compatible(issue, found):
                    continue
                if exact and not (found["code"] and found["code"] == _code(issue.cpt_code)):
                    continue
                result[i] = j
                taken.add(j)
                break
    return result


def score_case(case: Case, raw_detections: Sequence[dict[str, Any]]) -> tuple[int, int, int, dict]:
    """(tp, fp, fn, details) of one answered case."""
    detected = [normalise_detection(raw) for raw in raw_detections]
    pairs = match(case.expected_issues, detected)
    tp = sum(p is not None for p in pairs)
    details = {
        "expected": [
            {
                "type": canonical_issue_type(issue.type),
                "code": issue.cpt_code,
                "category": issue.category
                or ISSUE_TYPES.get(canonical_issue_type(issue.type), ("other", False, ()))[0],
                "domain_knowledge": issue.requires_domain_knowledge,
                "found": pair is not None,
            }
            for issue, pair in zip(case.expected_issues, pairs, strict=True)
        ],
        "detected": detected,
    }
    return tp, len(detected) - tp, len(case.expected_issues) - tp, details


def breakdowns(cases: Sequence[CaseResult]) -> tuple[dict[str, float], dict[str, Any]]:
    """Recall by category and by need of domain knowledge (metrics), and by issue type."""
    totals: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    by_type: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for case in cases:
        if case.status != "ok":
            continue
        for issue in case.details.get("expected", []):
            found = int(bool(issue.get("found")))
            for key in (
                f"recall_{issue.get('category') or 'other'}",
                "domain_recall" if issue.get("domain_knowledge") else "generic_recall",
            ):
                totals[key][0] += found
                totals[key][1] += 1
            by_type[issue.get("type") or "other"][0] += found
            by_type[issue.get("type") or "other"][1] += 1
    metrics = {key: found / total for key, (found, total) in totals.items() if total}
    table = {
        kind: {"expected": total, "found": found, "recall": found / total}
        for kind, (found, total) in sorted(by_type.items())
    }
    return metrics, table
