"""Commands over DuckDB: sql (files, pulled warehouses, the store) and pull (store -> Parquet)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from bench_analytics.cli import render
from bench_analytics.cli.app import app, examples, open_bench
from bench_analytics.errors import BenchError, UsageError

if TYPE_CHECKING:
    from bench_analytics.local import Session

PathOpt = typer.Option(
    None,
    "--path",
    "-p",
    help="Results to query: a directory (every *.json below), a file, a glob, or a warehouse "
    "written by `pull`. Repeat for several. Default: ./benchmarks/results.",
)


def _fail(error: BenchError) -> typer.Exit:
    """Print a package error as is (DuckDB messages hold brackets and carets)."""
    from rich.markup import escape

    render.err.print(f"[red]error:[/] {escape(str(error))}", soft_wrap=True)
    return typer.Exit(error.exit_code)


def _notice(line: str) -> None:
    render.err.print(line, markup=False, soft_wrap=True)


def _history_file() -> Path:
    from bench_analytics.config import get_settings

    return Path(get_settings().home) / "sql_history"


@app.command(
    epilog=examples(
        'bench-analytics sql "select model, avg(f1) from runs group by model"',
        "bench-analytics sql --path 'artifacts/**/*.json' \"select * from cases where status = "
        "'error'\"",
        'bench-analytics sql --central "select r.model, r.f1, c.f1 as current_f1 from runs r '
        'join central.current_snapshots c using (model)"',
        "bench-analytics sql -o errors.csv \"select * from cases where status = 'error'\"",
        'echo "select count(*) from cases" | bench-analytics sql --format json',
        "bench-analytics sql --path warehouse/   [dim](a shell: .tables, .quit)[/]",
    )
)
def sql(
    statement: str | None = typer.Argument(
        None, help="SQL to run. Without it: a shell on a terminal, else SQL read from stdin."
    ),
    path: list[str] | None = PathOpt,
    central: bool = typer.Option(
        False,
        "--central",
        help="Also attach the store, read-only: central.runs, central.cases, central.metrics, "
        "central.history, central.current_snapshots.",
    ),
    fmt: str | None = typer.Option(
        None,
        "--format",
        "-f",
        help="table (default), csv, json or parquet (needs -o); -o FILE.csv picks csv.",
    ),
    output: Path | None = typer.Option(None, "--output", "-o", help="Write the result here."),
    max_rows: int = typer.Option(100, "--max-rows", min=1, help="Rows shown in a table."),
) -> None:
    """Query results with SQL (DuckDB): views runs, metrics and cases. Read-only.

    The same views, with the same columns, over native result files (scanned by DuckDB),
    files of the old formats, warehouses pulled with `pull`, and with --central the store.
    Statements that would write (INSERT, CREATE, COPY, ATTACH, SET …) are refused.
    """
    from bench_analytics.local import connect
    from bench_analytics.local import output as results

    try:
        kind = results.resolve_format(fmt, output)
        interactive = statement is None and sys.stdin.isatty()
        if statement is None and not interactive:
            statement = sys.stdin.read()
            if not statement.strip():
                raise UsageError("no SQL given: pass it as an argument or on stdin")
        if statement is not None:
            from bench_analytics.local.guard import check_read_only

            check_read_only(statement)  # refused before anything is opened or attached
        options = open_bench().read_options()
        with connect(path, central=central, options=options, on_notice=_notice) as session:
            if interactive:
                from bench_analytics.local.shell import run_shell

                render.err.print(
                    "bench-analytics SQL (DuckDB) — views: runs, metrics, cases"
                    + (", central.*" if central else "")
                    + "; .help for help, .quit to leave",
                    markup=False,
                )
                run_shell(session, render.out, history=_history_file(), max_rows=max_rows)
                return
            assert statement is not None
            relations = session.statements(statement)
            if kind != "table" and len(relations) != 1:
                raise UsageError(f"--format {kind} writes one result: give one statement")
            _emit(session, relations, kind, output, max_rows)
    except BenchError as error:
        raise _fail(error) from None


def _emit(
    session: Session, relations: list[Any], kind: str, output: Path | None, max_rows: int
) -> None:
    """Show or write the results of the statements."""
    from bench_analytics.local import output as results
    from bench_analytics.local.guard import sql_errors

    if kind == "table":
        with sql_errors():
            rendered = [results.table(relation, max_rows)[0] for relation in relations]
        if output is None:
            for item in rendered:
                render.out.print(item)
            return
        from rich.console import Console

        with output.open("w", encoding="utf-8") as handle:
            console = Console(file=handle, width=200, color_system=None, highlight=False)
            for item in rendered:
                console.print(item)
        render.err.print(f"wrote {output}", markup=False, soft_wrap=True)
        return
    with sql_errors():
        if output is None:
            results.copy_to_stream(session.con, relations[0], kind, sys.stdout)
            return
        rows = results.copy_to(session.con, relations[0], kind, output)
    render.err.print(f"wrote {rows:,} rows to {output} ({kind})", markup=False, soft_wrap=True)


@app.command(
    epilog=examples(
        "bench-analytics pull --since 90d -o warehouse/",
        "bench-analytics pull   [dim](again: only what is new; same window)[/]",
        'bench-analytics sql --path warehouse/ "select model, count(*) from cases group by 1"',
    )
)
def pull(
    output: Path = typer.Option(
        Path("warehouse"), "--output", "-o", help="The warehouse directory (made on first pull)."
    ),
    since: str | None = typer.Option(
        None,
        "--since",
        help="Runs since 90d, 12h, 4w, 6m, a date, or all. Default: all on the first pull, "
        "the warehouse's window afterwards (a window only ever widens).",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the outcome as JSON."),
) -> None:
    """Copy the store's runs, cases and metrics into Parquet, partitioned by model and month.

    Incremental: only runs not pulled before. Writes a manifest (what, up to which
    transaction, row counts) so the laptop can work offline; any Parquet engine reads it.
    Reads the store, never writes to it.
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from bench_analytics.local import pull as pull_store

    with Progress(
        TextColumn("[bold]pulling"),
        BarColumn(),
        MofNCompleteColumn(),
        console=render.err,
        transient=True,
    ) as progress:
        task = progress.add_task("pull", total=None)
        result = pull_store(
            output,
            since=since,
            on_notice=_notice,
            on_progress=lambda done, total: progress.update(task, completed=done, total=total),
        )
    if as_json:
        render.emit_json(result.as_dict())
        return
    if result.runs:
        render.out.print(
            f"pulled {result.runs:,} runs, {result.cases:,} cases, {result.metrics:,} metrics "
            f"into {output}/ (up to transaction {result.last_transaction_id})",
            markup=False,
            soft_wrap=True,
        )
    else:
        render.out.print(
            f"{output}/ is up to date (up to transaction {result.last_transaction_id}); "
            "history and statuses refreshed",
            markup=False,
            soft_wrap=True,
        )
