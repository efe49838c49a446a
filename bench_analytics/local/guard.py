"""The read-only rule: DuckDB's own parser classifies every statement before anything runs.

Allowed: queries (SELECT, WITH, FROM, VALUES, TABLE, SHOW, DESCRIBE, SUMMARIZE, PIVOT with
an IN list, PRAGMAs that read) and EXPLAIN of those. Everything else — INSERT, UPDATE,
DELETE, CREATE, DROP, ALTER, COPY, ATTACH, DETACH, INSTALL, LOAD, SET, USE, EXPORT,
IMPORT, PREPARE/EXECUTE, transactions, CALL — is refused, and so is a query that calls a
function which writes (``postgres_execute``) or attaches (``postgres_attach``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from typing import TYPE_CHECKING, Any

from bench_analytics.errors import BadInputError

if TYPE_CHECKING:
    import duckdb

ALLOWED = "queries (SELECT, WITH, FROM, VALUES, SHOW, DESCRIBE, SUMMARIZE, EXPLAIN)"
DENIED_FUNCTIONS = frozenset(
    {"postgres_execute", "postgres_attach", "postgres_configure_pool", "checkpoint"}
    | {"force_checkpoint", "sqlite_attach"}
)
_EXPLAIN = re.compile(
    r"^(?:\s|--[^\n]*\n|/\*.*?\*/)*EXPLAIN\s+(?:ANALY[SZ]E\s+|\([^)]*\)\s*)?",
    re.IGNORECASE | re.DOTALL,
)
_HINTS = {
    "COPY": "to save a result use --format csv|json|parquet -o FILE",
    "ATTACH": "use --central for the store, --path for files",
    "LOAD": "extensions are loaded by bench-analytics itself; nothing is installed",
}


class SqlError(BadInputError):
    """A statement DuckDB cannot parse or run; the message is DuckDB's (with LINE and caret)."""

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__("sql", message.strip(), hint=hint)


class ReadOnlyError(SqlError):
    """A statement that would write (or cannot be checked without running it)."""


@cache
def _parser() -> duckdb.DuckDBPyConnection:
    """A private connection used only to serialise statements (never runs user SQL)."""
    import duckdb

    return duckdb.connect(config={"autoinstall_known_extensions": False})


def split(sql: str) -> list[duckdb.Statement]:
    """The statements of ``sql``, parsed by DuckDB; parse errors keep DuckDB's message."""
    import duckdb

    try:
        statements = duckdb.extract_statements(sql)
    except duckdb.ParserException as exc:
        raise SqlError(str(exc)) from None
    except duckdb.Error as exc:  # IMPORT DATABASE reads files while parsing, and others
        first = str(exc).strip().splitlines()[0]
        raise ReadOnlyError(
            f"this statement cannot be checked without running it ({first})",
            hint=f"only {ALLOWED} run here; nothing was run",
        ) from None
    if not statements:
        raise SqlError("no SQL statement given", hint="write a query, e.g. select * from runs")
    return statements


def check_read_only(sql: str) -> list[duckdb.Statement]:
    """The statements of ``sql`` when all of them only read; else ReadOnlyError."""
    statements = split(sql)
    for number, statement in enumerate(statements, 1):
        _check(statement, number, len(statements))
    return statements


def _snippet(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= 60 else flat[:57] + "..."


def _check(statement: duckdb.Statement, number: int, total: int) -> None:
    kind = statement.type.name
    where = f"statement {number} of {total}" if total > 1 else "the statement"
    if kind == "EXPLAIN":
        inner = _EXPLAIN.sub("", statement.query, count=1)
        for part in split(inner):
            _check(part, number, total)
        return
    if kind != "SELECT":
        hint = _HINTS.get(kind, f"only {ALLOWED} run here")
        raise ReadOnlyError(
            f"{where} is {kind} ({_snippet(statement.query)}), which is not read-only",
            hint=f"{hint}; nothing was run",
        )
    denied = sorted(called_functions(statement.query) & DENIED_FUNCTIONS)
    if denied:
        raise ReadOnlyError(
            f"{where} calls {', '.join(denied)}, which writes or attaches",
            hint=f"only {ALLOWED} run here; nothing was run",
        )


def _ast(sql: str) -> dict[str, Any] | None:
    """DuckDB's JSON serialisation of a SELECT statement, or None when it has none."""
    text = _parser().execute("SELECT json_serialize_sql(?)", [sql]).fetchone()
    tree = json.loads(text[0]) if text else None
    return None if not tree or tree.get("error") else tree


def _walk(node: Any, visit: Any) -> None:
    if isinstance(node, dict):
        visit(node)
        for value in node.values():
            _walk(value, visit)
    elif isinstance(node, list):
        for value in node:
            _walk(value, visit)


def called_functions(sql: str) -> set[str]:
    """Names of the functions a statement calls (lower case)."""
    tree = _ast(sql)
    if tree is None:  # PRAGMA and friends have no serialisation: look at the words
        words = re.findall(r"\b([A-Za-z_][A-Za-z0-9_]*)\s*\(", sql)
        return {word.lower() for word in words}
    found: set[str] = set()

    def visit(node: dict[str, Any]) -> None:
        if "function_name" in node:
            found.add(str(node["function_name"]).lower())

    _walk(tree, visit)
    return found


def referenced_tables(sql: str) -> set[tuple[str, str, str]] | None:
    """(catalog, schema, name) of every table a SELECT statement names; None when unknown."""
    tree = _ast(sql)
    if tree is None:
        return None
    found: set[tuple[str, str, str]] = set()

    def visit(node: dict[str, Any]) -> None:
        if node.get("type") == "BASE_TABLE":
            parts = (node.get("catalog_name"), node.get("schema_name"), node["table_name"])
            found.add(tuple(str(part or "").lower() for part in parts))  # type: ignore[arg-type]

    _walk(tree, visit)
    return found


@contextmanager
def sql_errors(number: int = 1, total: int = 1) -> Iterator[None]:
    """DuckDB errors become SqlError with DuckDB's message (LINE and caret kept)."""
    import duckdb

    try:
        yield
    except duckdb.Error as exc:
        prefix = f"statement {number} of {total}: " if total > 1 else ""
        raise SqlError(prefix + str(exc)) from None
