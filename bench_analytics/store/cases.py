"""Per-case rows of one stored run, or of two side by side; filtered and paged in SQL."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import psycopg

from bench_analytics.errors import UsageError
from bench_analytics.store.queries import rows
from bench_analytics.tables import Record, Table

if TYPE_CHECKING:
    import pandas as pd

Change = Literal["worse", "better", "same", "error", "added", "removed"]
CHANGES: tuple[str, ...] = ("worse", "better", "same", "error", "added", "removed")

# Per-case F1 with the clean-case rule (a clean case answered clean scores 1); the score
# where a format has no counts; nothing for an errored case.
_F1 = """CASE WHEN {c}.status <> 'ok' THEN NULL
    WHEN {c}.tp IS NULL OR {c}.fp IS NULL OR {c}.fn IS NULL THEN {c}.score
    WHEN {c}.tp + {c}.fp + {c}.fn = 0 THEN 1.0
    ELSE 2.0 * {c}.tp / (2 * {c}.tp + {c}.fp + {c}.fn) END"""


@dataclass(frozen=True)
class CaseFilter:
    """Which cases to list; None means any. ``change`` applies to two runs only."""

    status: Literal["ok", "error"] | None = None
    issue_type: str | None = None
    category: str | None = None
    domain_knowledge: bool | None = None
    search: str | None = None
    change: tuple[str, ...] | None = None

    def where(self, details: str, status: str | None) -> tuple[str, list[Any]]:
        """SQL conditions over a ``details`` JSONB expression and a status column."""
        clauses: list[str] = []
        params: list[Any] = []
        if self.status is not None and status is not None:
            clauses.append(f"{status} = %s")
            params.append(self.status)
        if self.issue_type is not None:
            clauses.append(
                f"""({details}->'expected' @> jsonb_build_array(%s::text)
                    OR {details}->'expected' @> jsonb_build_array(jsonb_build_object(
                       'type', %s::text))
                    OR {details}->'expected_issues' @> jsonb_build_array(jsonb_build_object(
                       'type', %s::text)))"""
            )
            params += [self.issue_type] * 3
        if self.category is not None:
            clauses.append(
                f"""{details}->'expected' @> jsonb_build_array(jsonb_build_object(
                    'category', %s::text))"""
            )
            params.append(self.category)
        if self.domain_knowledge is not None:
            needs = f"""({details}->'expected' @> '[{{"domain_knowledge": true}}]'
                OR jsonb_typeof({details}->'domain_knowledge') = 'array'
                   AND jsonb_array_length({details}->'domain_knowledge') > 0
                OR {details}->'expected_issues' @> '[{{"requires_domain_knowledge": true}}]')"""
            clauses.append(needs if self.domain_knowledge else f"NOT COALESCE({needs}, false)")
        return " AND ".join(clauses) or "true", params


@dataclass(frozen=True)
class CaseRow(Record):
    """One case of one run."""

    case_id: str
    status: str
    tp: int | None
    fp: int | None
    fn: int | None
    f1: float | None
    score: float | None
    latency_ms: float | None
    input_tokens: int | None
    output_tokens: int | None
    cost_usd: float | None
    error: str | None
    details: dict[str, Any]


@dataclass(frozen=True)
class CaseChangeRow(Record):
    """One case in two runs: what each run did and how it changed."""

    case_id: str
    change: str
    delta_f1: float | None
    baseline_status: str | None
    candidate_status: str | None
    baseline_tp: int | None
    baseline_fp: int | None
    baseline_fn: int | None
    candidate_tp: int | None
    candidate_fp: int | None
    candidate_fn: int | None
    baseline_f1: float | None
    candidate_f1: float | None
    baseline_latency_ms: float | None
    candidate_latency_ms: float | None
    baseline_error: str | None
    candidate_error: str | None
    baseline_details: dict[str, Any] | None
    candidate_details: dict[str, Any] | None


@dataclass(frozen=True)
class CasePage(Record):
    """One page of case rows and how many rows the filter matches in all."""

    rows: Table[CaseRow] | Table[CaseChangeRow]
    total: int
    offset: int
    limit: int
    counts: dict[str, int]

    def to_frame(self) -> pd.DataFrame:
        return self.rows.to_frame()

    def __len__(self) -> int:
        return len(self.rows)


def _page(limit: int, offset: int) -> None:
    if limit < 1 or offset < 0:
        raise UsageError(f"a page needs limit >= 1 and offset >= 0 (got {limit}, {offset})")


def run_cases(
    conn: psycopg.Connection,
    transaction_id: int,
    where: CaseFilter,
    *,
    limit: int = 50,
    offset: int = 0,
) -> CasePage:
    """The cases of one run, in case-id order."""
    _page(limit, offset)
    condition, params = _one_run_condition(where)
    found = rows(
        conn,
        CaseRow,
        f"""SELECT case_id, status, tp, fp, fn, {_F1.format(c="c")} AS f1, score, latency_ms,
                   input_tokens, output_tokens, cost_usd, error, details
            FROM benchmark_cases c
            WHERE transaction_id = %s AND {condition}
            ORDER BY case_id LIMIT %s OFFSET %s""",
        (transaction_id, *params, limit, offset),
    )
    counts = _bucket_counts(conn, transaction_id, None, where)
    return CasePage(found, sum(counts.values()), offset, limit, counts)


def _one_run_condition(where: CaseFilter) -> tuple[str, list[Any]]:
    condition, params = where.where("details", "status")
    if where.search:
        condition += " AND case_id ILIKE %s"
        params.append(f"%{where.search}%")
    return condition, params


def compare_cases(
    conn: psycopg.Connection,
    baseline_id: int,
    candidate_id: int,
    where: CaseFilter,
    *,
    limit: int = 50,
    offset: int = 0,
) -> CasePage:
    """The cases of two runs side by side: the ones that got worse first, the largest drop
    first; then errors, improvements, unchanged, and cases only one run has."""
    _page(limit, offset)
    if where.change is not None:
        unknown = set(where.change) - set(CHANGES)
        if unknown:
            raise UsageError(f"unknown change {sorted(unknown)}: choose from {', '.join(CHANGES)}")
    inner, params = _joined(baseline_id, candidate_id, where)
    change_filter = ""
    if where.change is not None:
        change_filter = "WHERE change = ANY(%s)"
        params.append(list(where.change))
    found = rows(
        conn,
        CaseChangeRow,
        f"""SELECT case_id, change, delta_f1, baseline_status, candidate_status,
                   baseline_tp, baseline_fp, baseline_fn, candidate_tp, candidate_fp,
                   candidate_fn, baseline_f1, candidate_f1, baseline_latency_ms,
                   candidate_latency_ms, baseline_error, candidate_error, baseline_details,
                   candidate_details
            FROM ({inner}) j {change_filter}
            ORDER BY array_position(%s::text[], change), delta_f1 NULLS LAST, case_id
            LIMIT %s OFFSET %s""",
        (*params, list(CHANGES), limit, offset),
    )
    counts = _bucket_counts(conn, baseline_id, candidate_id, where)
    total = sum(n for change, n in counts.items() if where.change is None or change in where.change)
    return CasePage(found, total, offset, limit, counts)


def _joined(baseline_id: int, candidate_id: int, where: CaseFilter) -> tuple[str, list[Any]]:
    condition, params = where.where("COALESCE(c.details, b.details)", None)
    status = ""
    if where.status is not None:
        status = " AND (b.status = %s OR c.status = %s)"
        params += [where.status, where.status]
    if where.search:
        status += " AND COALESCE(c.case_id, b.case_id) ILIKE %s"
        params.append(f"%{where.search}%")
    sql = f"""
        SELECT COALESCE(c.case_id, b.case_id) AS case_id,
               CASE WHEN c.case_id IS NULL THEN 'removed'
                    WHEN b.case_id IS NULL THEN 'added'
                    WHEN b.status <> 'ok' OR c.status <> 'ok' THEN 'error'
                    WHEN {_F1.format(c="c")} < {_F1.format(c="b")} THEN 'worse'
                    WHEN {_F1.format(c="c")} > {_F1.format(c="b")} THEN 'better'
                    ELSE 'same' END AS change,
               {_F1.format(c="c")} - {_F1.format(c="b")} AS delta_f1,
               b.status AS baseline_status, c.status AS candidate_status,
               b.tp AS baseline_tp, b.fp AS baseline_fp, b.fn AS baseline_fn,
               c.tp AS candidate_tp, c.fp AS candidate_fp, c.fn AS candidate_fn,
               {_F1.format(c="b")} AS baseline_f1, {_F1.format(c="c")} AS candidate_f1,
               b.latency_ms AS baseline_latency_ms, c.latency_ms AS candidate_latency_ms,
               b.error AS baseline_error, c.error AS candidate_error,
               b.details AS baseline_details, c.details AS candidate_details
        FROM (SELECT * FROM benchmark_cases WHERE transaction_id = %s) b
        FULL JOIN (SELECT * FROM benchmark_cases WHERE transaction_id = %s) c
             ON c.case_id = b.case_id
        WHERE {condition}{status}"""
    return sql, [baseline_id, candidate_id, *params]


def _bucket_counts(
    conn: psycopg.Connection, first: int, second: int | None, where: CaseFilter
) -> dict[str, int]:
    """Matching cases per status (one run) or per change (two runs), before paging."""
    if second is None:
        condition, params = _one_run_condition(where)
        found = conn.execute(
            f"""SELECT status, count(*) FROM benchmark_cases
                WHERE transaction_id = %s AND {condition} GROUP BY status""",
            (first, *params),
        ).fetchall()
    else:
        inner, params = _joined(first, second, where)
        found = conn.execute(
            f"SELECT change, count(*) FROM ({inner}) j GROUP BY change", params
        ).fetchall()
    return {str(key): int(count) for key, count in found}
