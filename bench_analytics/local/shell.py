"""The interactive SQL shell (``bench-analytics sql`` on a terminal), like DuckDB's own CLI.

Statements end with ``;`` and may span lines; ``.tables``, ``.schema VIEW``, ``.help`` and
``.quit``. History is kept with the stdlib ``readline`` in ``$BENCH_HOME/sql_history``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

from bench_analytics.errors import BenchError

if TYPE_CHECKING:
    from rich.console import Console

    from bench_analytics.local.session import Session

PROMPT = "bench> "
MORE = "  ...> "
HISTORY_LENGTH = 2000
HELP = """\
statements end with ';' and may span lines; the views are read-only
  .tables         the views (runs, metrics, cases; central.* with --central)
  .schema VIEW    the columns of a view
  .help           this text
  .quit           leave (or Ctrl-D)"""


def _readline() -> ModuleType | None:
    """The readline module, or None where the platform has none."""
    try:
        import readline
    except ImportError:  # pragma: no cover - Windows without pyreadline
        return None
    return readline


def _lines(lines: Iterable[str] | None, pending: list[str]) -> Iterator[str]:
    """Input lines: the given ones, or the terminal's (with prompts)."""
    if lines is not None:
        yield from lines
        return
    while True:
        try:
            yield input(MORE if pending else PROMPT)
        except EOFError:
            return
        except KeyboardInterrupt:
            pending.clear()
            print()


def _meta(command: str, session: Session, console: Console, max_rows: int) -> bool:
    """Run a dot command; False means leave."""
    name, _, argument = command.partition(" ")
    if name in {".quit", ".exit", ".q"}:
        return False
    if name == ".tables":
        for schema, view in session.tables():
            console.print(view if schema == "main" else f"{schema}.{view}", markup=False)
    elif name == ".schema" and argument.strip():
        _run(session, f"DESCRIBE {argument.strip()}", console, max_rows)
    elif name == ".help":
        console.print(HELP, markup=False)
    else:
        console.print(f"unknown command {command!r}; .help lists them", markup=False)
    return True


def _run(session: Session, text: str, console: Console, max_rows: int) -> None:
    from rich.markup import escape

    from bench_analytics.local.guard import sql_errors
    from bench_analytics.local.output import table

    try:
        for relation in session.statements(text):
            with sql_errors():
                rendered, _ = table(relation, max_rows)
            console.print(rendered)
    except BenchError as error:
        console.print(f"[red]error:[/] {escape(str(error))}", soft_wrap=True)


def run_shell(
    session: Session,
    console: Console,
    *,
    history: Path | None = None,
    lines: Iterable[str] | None = None,
    max_rows: int = 100,
) -> None:
    """Read statements until ``.quit`` or end of input; errors are shown, not fatal."""
    readline = _readline()
    if readline and history:
        readline.set_auto_history(False)
        readline.set_history_length(HISTORY_LENGTH)
        readline.clear_history()
        with contextlib.suppress(OSError):
            readline.read_history_file(history)
    pending: list[str] = []
    try:
        for line in _lines(lines, pending):
            stripped = line.strip()
            if not pending and stripped.startswith("."):
                if readline:
                    readline.add_history(stripped)
                if not _meta(stripped, session, console, max_rows):
                    break
                continue
            if not stripped and not pending:
                continue
            pending.append(line)
            if not stripped.endswith(";"):
                continue
            text = "\n".join(pending)
            pending.clear()
            if readline:
                readline.add_history(" ".join(text.split()))
            _run(session, text, console, max_rows)
        if pending:  # end of input inside a statement: run what was typed
            _run(session, "\n".join(pending), console, max_rows)
    finally:
        if readline and history:
            history.parent.mkdir(parents=True, exist_ok=True)
            with contextlib.suppress(OSError):
                readline.write_history_file(history)
