"""The typer application and helpers shared by the command modules."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from bench_analytics.formats.common import ReadOptions
    from bench_analytics.store import Store

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
    Exit codes: 0 ok, 1 regression, 2 bad input or usage, 3 store unreachable.
    """


db_app = typer.Typer(help="Schema migrations and store status.", no_args_is_help=True)
app.add_typer(db_app, name="db")


def examples(*lines: str) -> str:
    """An epilog block of example command lines."""
    body = "\n\n".join(f"  [bold]$ {line}[/]" for line in lines)
    return f"[b]Examples[/]\n\n{body}"


def open_store() -> Store:
    """Open the configured store (embedded unless BENCH_DATABASE_URL is set)."""
    from bench_analytics.store import Store

    return Store.open()


def read_options(model: str | None, dataset_version: str | None) -> ReadOptions:
    """Reader options from flags plus the team's alias file (BENCH_MODEL_ALIASES)."""
    from bench_analytics.config import get_settings
    from bench_analytics.formats.common import ReadOptions
    from bench_analytics.naming import load_alias_file
    from bench_analytics.pricing import load_prices

    settings = get_settings()
    aliases = load_alias_file(Path(settings.model_aliases)) if settings.model_aliases else {}
    return ReadOptions(
        model_key=model,
        dataset_version=dataset_version,
        aliases=aliases,
        prices=load_prices(settings.prices),
    )


def current_actor() -> str:
    """Who runs this command (GITHUB_ACTOR, git user.name or the OS user)."""
    from bench_analytics.context import detect_context

    return detect_context().triggered_by or "unknown"


FORMAT_HELP = (
    "Input format: auto, native, seed-documents, seed-patients, seed-monitoring, supabase-export."
)
