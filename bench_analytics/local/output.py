"""Query results out: a rich table for people; CSV, JSON or Parquet written by DuckDB itself."""

from __future__ import annotations

import json
import shutil
import tempfile
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from bench_analytics.errors import UsageError
from bench_analytics.local.columns import literal

if TYPE_CHECKING:
    import duckdb
    from rich.table import Table

FORMATS = ("table", "csv", "json", "parquet")
_BY_SUFFIX = {".csv": "csv", ".json": "json", ".parquet": "parquet", ".pq": "parquet"}
_COPY_OPTIONS = {
    "csv": "FORMAT csv, HEADER true",
    "json": "FORMAT json, ARRAY true",
    "parquet": "FORMAT parquet, COMPRESSION zstd",
}
_NUMERIC = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "FLOAT", "DOUBLE", "DECIMAL")
_VIEW = "_bench_result"


def resolve_format(fmt: str | None, output: Path | None) -> str:
    """The output format: as given, else from the file suffix, else a table."""
    if fmt is None:
        fmt = _BY_SUFFIX.get(output.suffix.lower(), "table") if output else "table"
    fmt = fmt.lower()
    if fmt not in FORMATS:
        raise UsageError(f"--format '{fmt}': choose one of {', '.join(FORMATS)}")
    if fmt == "parquet" and output is None:
        raise UsageError("--format parquet writes a file: add -o FILE.parquet")
    return fmt


def copy_to(
    con: duckdb.DuckDBPyConnection, relation: duckdb.DuckDBPyRelation, fmt: str, path: Path
) -> int:
    """Write the relation to ``path`` with DuckDB's own writer; returns the row count."""
    relation.create_view(_VIEW, replace=True)
    try:
        row = con.execute(
            f"COPY (FROM {_VIEW}) TO {literal(str(path))} ({_COPY_OPTIONS[fmt]})"
        ).fetchone()
    finally:
        con.execute(f"DROP VIEW IF EXISTS {_VIEW}")
    return int(row[0]) if row else 0


def copy_to_stream(
    con: duckdb.DuckDBPyConnection, relation: duckdb.DuckDBPyRelation, fmt: str, stream: TextIO
) -> int:
    """CSV or JSON of the relation on a text stream (written to a temporary file first)."""
    with tempfile.TemporaryDirectory(prefix="bench-sql-") as tmp:
        path = Path(tmp) / f"result.{fmt}"
        rows = copy_to(con, relation, fmt, path)
        with path.open(encoding="utf-8") as handle:
            shutil.copyfileobj(handle, stream)
    stream.flush()
    return rows


def cell(value: Any) -> str:
    """How one value shows in a table."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(round(value, 6))
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date | time | Decimal):
        return str(value)
    if isinstance(value, list | dict | tuple):
        return json.dumps(value, default=str, ensure_ascii=False)
    return str(value)


def table(relation: duckdb.DuckDBPyRelation, max_rows: int) -> tuple[Table, int]:
    """A rich table of the first ``max_rows`` rows, and the total row count."""
    from rich.table import Table
    from rich.text import Text

    types = [str(kind) for kind in relation.types]
    result = Table(show_lines=False, title_justify="left")
    for name, kind in zip(relation.columns, types, strict=True):
        numeric = kind.startswith(_NUMERIC)
        result.add_column(Text(name), justify="right" if numeric else "left", overflow="fold")
    total = 0
    for batch in relation.to_arrow_reader(batch_size=max(1024, max_rows)):
        room = max_rows - total
        if room > 0:
            head = batch.slice(0, room)
            columns = [head.column(i).to_pylist() for i in range(head.num_columns)]
            for values in zip(*columns, strict=True):
                result.add_row(*(Text(cell(v), style="dim" if v is None else "") for v in values))
        total += batch.num_rows
    caption = f"{total:,} row{'' if total == 1 else 's'}"
    if total > max_rows:
        caption += f" ({max_rows:,} shown; --max-rows N, or --format csv -o FILE for all)"
    result.caption = caption
    result.caption_justify = "left"
    return result, total
