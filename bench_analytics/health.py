"""Was it the model or the endpoint? A run is 'failed' when the endpoint, not the model, failed.

``judge`` is the rule, over plain numbers; ``assess`` applies it to a RunResult, and local
SQL registers the same function in DuckDB (``local.session``), so there is one rule.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from bench_analytics.model import RunResult

Status = Literal["healthy", "failed"]


@dataclass(frozen=True)
class Health:
    """The verdict of the health rule, with the numbers behind it."""

    status: Status
    reason: str | None
    case_count: int
    error_count: int


def judge(
    cases: int,
    errors: int,
    first_error: str | None,
    declared: int | None,
    reported: int | None,
    outage: str | None,
    threshold: float,
) -> Health:
    """The health rule: errored share above ``threshold``, no successful case, or outage.

    ``cases``: per-case results in the run (0 for an aggregate-only result), ``errors``
    those that errored, ``first_error`` the first non-empty error text among them;
    ``declared`` and ``reported``: the case and error counts an aggregate-only source
    states; ``outage``: a reader's evidence that the endpoint failed.
    """
    if cases:
        total = cases
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
        total = declared or 0
        errors = reported or 0
        if declared == 0:
            return Health("failed", "no case was evaluated (0 cases)", 0, 0)
        if total and errors / total > threshold:
            return Health(
                "failed", f"{errors}/{total} cases failed ({errors / total:.0%})", total, errors
            )
    if outage:
        return Health("failed", outage, total, errors)
    return Health("healthy", None, total, errors)


def assess(run: RunResult, threshold: float) -> Health:
    """Apply the health rule to a run."""
    errored = [case for case in run.cases if case.status == "error"]
    return judge(
        cases=len(run.cases),
        errors=len(errored),
        first_error=next((case.error for case in errored if case.error), None),
        declared=run.dataset.declared_cases,
        reported=run.reported_errors,
        outage=run.outage_evidence,
        threshold=threshold,
    )
