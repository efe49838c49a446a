"""The typer application and helpers shared by the command modules."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from bench_analytics.api import Bench

app = typer.Typer(
    name="bench-analytics",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        from bench_analytics import __version__

        typer.echo(f"bench-analytics {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Show the version and exit."
    ),
) -> None:
    """Keep LLM benchmark history in Postgres: push results, see what is current, roll back.

    The store is the PostgreSQL at BENCH_DATABASE_URL, or an embedded one under ./.bench/.

    Exit codes: 0 ok · 1 significant regression · 2 bad input, usage or configuration
    3 store unreachable or schema too old · 4 any other failure (BENCH_DEBUG=1: traceback)
    """


db_app = typer.Typer(help="Schema migrations and store status.", no_args_is_help=True)
app.add_typer(db_app, name="db")


def examples(*lines: str) -> str:
    """An epilog block of example command lines."""
    body = "\n\n".join(f"  [bold]$ {line}[/]" for line in lines)
    return f"[b]Examples[/]\n\n{body}"


def open_bench() -> Bench:
    """The library session every command works through (store opened on first need)."""
    from bench_analytics.api import Bench

    return Bench()


FORMAT_HELP = (  # the names of bench_analytics.formats.READERS (a test keeps them equal)
    "Input format: auto, native, seed-documents, seed-patients, seed-monitoring, "
    "supabase-export, lm-eval, promptfoo, inspect, helm, openai-evals."
)
JsonOpt = typer.Option(False, "--json", help="Print JSON instead of tables.")
DatasetOpt = typer.Option(None, "--dataset", help="Dataset version (narrows model@… refs).")
PromptOpt = typer.Option(None, "--prompt", help="Prompt version (narrows model@… refs).")
EnvOpt = typer.Option(None, "--environment", "-e", help="Environment (local, github-actions …).")
