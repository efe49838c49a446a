"""The read-only rule: DuckDB's own parser classifies every statement before anything runs.

Allowed: queries (SELECT, WITH, FROM, VALUES, TABLE, SHOW, DESCRIBE, SUMMARIZE, PIVOT with
an IN list, PRAGMAs that read) and EXPLAIN of those. Everything else — INSERT, UPDATE,
DELETE, CREATE, DROP, ALTER, COPY, ATTACH, DETACH, INSTALL, LOAD, SET, USE, EXPORT,
IMPORT, PREPARE/EXECUTE, transactions, CALL — is refused, and so is a query that calls a
function in ``REFUSED_FUNCTIONS``: those that reach a PostgreSQL server past the rule
(``postgres_query``, ``postgres_execute``, ``postgres_scan`` …), run SQL given as text
(``query``), attach, write or change settings. Calls are found in DuckDB's own syntax tree
(``json_serialize_sql``); a statement DuckDB cannot serialise (CALL) is read token by
token with DuckDB's own tokenizer, and so is the statement an EXPLAIN explains.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from typing import TYPE_CHECKING, Any

from bench_analytics.errors import BadInputError

if TYPE_CHECKING:
    import duckdb

ALLOWED = "queries (SELECT, WITH, FROM, VALUES, SHOW, DESCRIBE, SUMMARIZE, EXPLAIN)"
_TO_SERVER = (
    "sends SQL text straight to the store's PostgreSQL server, where this rule cannot see it"
)
_CONNECTS = "opens a connection of its own to a PostgreSQL server, as any user it names"
_AS_TEXT = "runs SQL given as text, which this rule cannot check"
_SETTINGS = "changes the session's settings (like SET)"
# name -> why it is refused; every call of one of them refuses the whole statement
REFUSED_FUNCTIONS: dict[str, str] = {
    "postgres_query": _TO_SERVER,
    "postgres_execute": _TO_SERVER,
    "postgres_scan": _CONNECTS,
    "postgres_scan_pushdown": _CONNECTS,
    "postgres_attach": "attaches a PostgreSQL database (writable, as any user it names)",
    "postgres_configure_pool": "reconfigures the connections to the store",
    "query": _AS_TEXT,
    "json_execute_serialized_sql": _AS_TEXT,
    "sqlite_attach": "attaches a database",
    "checkpoint": "writes to the database",
    "force_checkpoint": "writes to the database",
    "enable_profiling": _SETTINGS,
    "disable_profiling": _SETTINGS,
    "enable_logging": _SETTINGS,
    "disable_logging": _SETTINGS,
    "truncate_duckdb_logs": _SETTINGS,
}
DENIED_FUNCTIONS = frozenset(REFUSED_FUNCTIONS)
_REACH = {name for name in REFUSED_FUNCTIONS if name.startswith("postgres_")} | {
    name for name, why in REFUSED_FUNCTIONS.items() if why == _AS_TEXT
}
_INSTEAD = (
    "write the query itself: the store is in the central.* views, its raw tables are "
    "store.public.<table>; nothing was run"
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

    return duckdb.connect(
        config={"autoinstall_known_extensions": False, "autoload_known_extensions": False}
    )


def split(sql: str) -> list[duckdb.Statement]:
    """The statements of ``sql``, parsed by DuckDB; parse errors keep DuckDB's message."""
    import duckdb

    try:  # on the private connection: parsing folds PRAGMA arguments, never autoloading
        statements = _parser().extract_statements(sql)
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
        for part in split(_explained(statement.query)):
            _check(part, number, total)
        return
    if kind == "SELECT":
        _refuse_calls(where, called_functions(statement.query))
    if kind == "CALL":
        _refuse_calls(f"{where} is CALL ({_snippet(statement.query)}) and", _words(statement.query))
    if kind != "SELECT":
        hint = _HINTS.get(kind, f"only {ALLOWED} run here")
        raise ReadOnlyError(
            f"{where} is {kind} ({_snippet(statement.query)}), which is not read-only",
            hint=f"{hint}; nothing was run",
        )


def _refuse_calls(where: str, names: set[str]) -> None:
    """ReadOnlyError naming each refused function among ``names``, and why it is refused."""
    denied = sorted(names & DENIED_FUNCTIONS)
    if not denied:
        return
    hint = _INSTEAD if _REACH & set(denied) else f"only {ALLOWED} run here; nothing was run"
    if len(denied) == 1:
        raise ReadOnlyError(
            f"{where} calls {denied[0]}, which {REFUSED_FUNCTIONS[denied[0]]}", hint=hint
        )
    reasons = ", ".join(f"{name} ({REFUSED_FUNCTIONS[name]})" for name in denied)
    raise ReadOnlyError(f"{where} calls {reasons}", hint=hint)


def _tokens(sql: str) -> list[tuple[str, str]]:
    """(kind, text) of each token of ``sql`` by DuckDB's own tokenizer (comments dropped).

    Identifiers and keywords are lower case, without their quotes; operators and
    constants are kept as written.
    """
    import duckdb

    spans = duckdb.tokenize(sql)
    words = {duckdb.token_type.identifier, duckdb.token_type.keyword}
    tokens = []
    for index, (start, kind) in enumerate(spans):
        end = spans[index + 1][0] if index + 1 < len(spans) else len(sql)
        text = sql[start:end]  # may run on into a comment: the tokenizer skips those
        if kind in words:
            text = _word(text)
        elif kind == duckdb.token_type.operator:  # an operator never holds -- or /*
            text = text.split(None, 1)[0].split("--", 1)[0].split("/*", 1)[0]
        tokens.append((kind.name, text))
    return tokens


def _words(sql: str) -> set[str]:
    """Every identifier and keyword of ``sql`` (lower case, unquoted)."""
    return {text for kind, text in _tokens(sql) if kind in {"identifier", "keyword"}}


def _word(text: str) -> str:
    """The identifier or keyword at the start of ``text``, unquoted, in lower case."""
    if text.startswith('"'):
        end = 1
        while end < len(text):
            if text[end] == '"' and text[end + 1 : end + 2] != '"':
                break
            end += 2 if text[end] == '"' else 1
        return text[1:end].replace('""', '"').lower()
    end = 0
    while end < len(text) and (text[end].isalnum() or text[end] in "_$"):
        end += 1
    return text[:end].lower()


def _explained(query: str) -> str:
    """The statement that ``EXPLAIN [ANALYZE] [(options)] statement`` explains."""
    import duckdb

    spans = duckdb.tokenize(query)
    tokens = _tokens(query)
    index = 1  # tokens[0] is EXPLAIN
    if index < len(tokens) and tokens[index][1] in {"analyze", "analyse"}:
        index += 1
    if index < len(tokens) and tokens[index] == ("operator", "("):
        depth = 0
        while index < len(tokens):
            kind, text = tokens[index]
            index += 1
            if kind == "operator":
                depth += text.count("(") - text.count(")")
                if depth <= 0:
                    break
    return query[spans[index][0] :] if index < len(spans) else ""


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
    """Names of the functions a statement calls (lower case); for a statement DuckDB cannot
    serialise (PRAGMA), every identifier and keyword in it (a superset)."""
    tree = _ast(sql)
    if tree is None:  # PRAGMA has no serialisation: every word of it, to be safe
        return _words(sql)
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
