"""The columns of a case row, defined once (no dependencies: every layer may import it).

The same twelve columns, in this order, are ``benchmark_cases`` after its transaction id
(the store's COPY), the ``cases`` view of local SQL after its run context, the case struct
DuckDB reads from a native file, and the fields of ``model.CaseResult``.
"""

from __future__ import annotations

from typing import Literal, NamedTuple

SqlType = Literal["VARCHAR", "INTEGER", "DOUBLE", "JSON"]


class CaseColumn(NamedTuple):
    """A column: the ``CaseResult`` field, its SQL type, whether it may be NULL.

    Types are spelled as DuckDB spells them; PostgreSQL's table (a migration) has TEXT,
    DOUBLE PRECISION and JSONB for VARCHAR, DOUBLE and JSON.
    """

    name: str
    sql_type: SqlType
    nullable: bool = True


CASE_COLUMNS: tuple[CaseColumn, ...] = (
    CaseColumn("case_id", "VARCHAR", nullable=False),
    CaseColumn("status", "VARCHAR", nullable=False),
    CaseColumn("tp", "INTEGER"),
    CaseColumn("fp", "INTEGER"),
    CaseColumn("fn", "INTEGER"),
    CaseColumn("score", "DOUBLE"),
    CaseColumn("latency_ms", "DOUBLE"),
    CaseColumn("input_tokens", "INTEGER"),
    CaseColumn("output_tokens", "INTEGER"),
    CaseColumn("cost_usd", "DOUBLE"),
    CaseColumn("error", "VARCHAR"),
    CaseColumn("details", "JSON", nullable=False),
)
CASE_COLUMN_NAMES: tuple[str, ...] = tuple(column.name for column in CASE_COLUMNS)
