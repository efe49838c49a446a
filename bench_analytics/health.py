"""Was it the model or the endpoint? A run is 'failed' when the endpoint, not the model, failed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from bench_analytics.model import RunResult

Status = Literal["healthy", "failed"]


@dataclass(frozen=True)
class Health:
    """The verdict of the health rule, with the numbers behind it."""

    status: Status
    reason: str | None
    case_count: int
    error_count: int


def assess(run: RunResult, threshold: float) -> Health:
    """Apply the health rule: errored share above ``threshold``, no successful case, or outage."""
    if run.cases:
        total = len(run.cases)
        errors = sum(1 for case in run.cases if case.status == "error")
        first_error = next((c.error for c in run.cases if c.status == "error" and c.error), None)
        detail = f": {first_error}" if first_error else ""
        if errors == total:
            return Health("failed", f"{errors}/{total} cases failed{detail}", total, errors)
        if errors / total > threshold:
            return Health(
                "failed",
                f"{errors}/{total} cases failed ({errors / total:.0%} > {threshold:.0%}){detail}",
                total,
                errors,
            )
    else:
        total = run.dataset.declared_cases or 0
        errors = run.reported_errors or 0
        if run.dataset.declared_cases == 0:
            return Health("failed", "no case was evaluated (0 cases)", 0, 0)
        if total and errors / total > threshold:
            return Health(
                "failed", f"{errors}/{total} cases failed ({errors / total:.0%})", total, errors
            )
    if run.outage_evidence:
        return Health("failed", run.outage_evidence, total, errors)
    return Health("healthy", None, total, errors)
