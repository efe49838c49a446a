"""Commands over the store: snapshots, history, rollback, quarantine, db."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from bench_analytics.cli import render
from bench_analytics.cli.app import (
    DatasetOpt,
    EnvOpt,
    JsonOpt,
    PromptOpt,
    app,
    db_app,
    examples,
    open_bench,
)
from bench_analytics.errors import UsageError

if TYPE_CHECKING:
    from bench_analytics.store.records import PointerMove


def show_move(move: PointerMove, as_json: bool) -> None:
    """A pointer command's outcome: JSON, or 'model/dataset/prompt/env: what happened'."""
    if as_json:
        render.emit_json(move.as_dict())
    else:
        render.line(f"{move.config}: {move.message}")


@app.command(
    epilog=examples(
        "bench-analytics snapshots", "bench-analytics snapshots --model medgemma --json"
    )
)
def snapshots(
    model: str | None = typer.Option(None, "--model", "-m", help="Only this model key."),
    dataset: str | None = DatasetOpt,
    prompt: str | None = PromptOpt,
    environment: str | None = EnvOpt,
    as_json: bool = JsonOpt,
) -> None:
    """The current snapshot of every configuration (model, dataset, prompt, environment)."""
    from bench_analytics.cli.tables import print_snapshots

    with open_bench() as bench:
        rows = bench.snapshots(model=model, dataset=dataset, prompt=prompt, environment=environment)
    if as_json:
        render.emit_json(rows.as_dicts())
    elif not rows and (model or dataset or prompt or environment):
        render.line("No configuration matches the filter.")
    elif not rows:
        render.line(
            "The store holds no results yet: push some with `bench-analytics push`, "
            "or run `bench-analytics demo` for a sample history."
        )
    else:
        print_snapshots(rows)


@app.command(
    epilog=examples(
        "bench-analytics history medgemma",
        "bench-analytics history baseline --dataset benchmark-set-v1 -e github-actions --json",
    )
)
def history(
    model: str = typer.Argument(..., help="Model key, e.g. medgemma."),
    dataset: str | None = DatasetOpt,
    prompt: str | None = PromptOpt,
    environment: str | None = EnvOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Every version of a model's configurations, the current one marked, and pointer events."""
    from bench_analytics.cli.tables import print_history

    with open_bench() as bench:
        found = bench.history(model, dataset=dataset, prompt=prompt, environment=environment)
    if as_json:
        render.emit_json([item.as_dict() for item in found])
    else:
        print_history(found)


@app.command(
    epilog=examples(
        "bench-analytics rollback medgemma --to-version 3 --reason 'v4 prompt leaks PHI'",
        "bench-analytics rollback medgemma --auto",
        "bench-analytics rollback baseline --dataset benchmark-set-v1 -e github-actions "
        "--to-version 2",
    )
)
def rollback(
    model: str = typer.Argument(..., help="Model key."),
    to_version: int | None = typer.Option(
        None, "--to-version", help="The version to make current."
    ),
    auto: bool = typer.Option(
        False, "--auto", help="Back to the newest healthy version without a regression verdict."
    ),
    dataset: str | None = DatasetOpt,
    prompt: str | None = PromptOpt,
    environment: str | None = EnvOpt,
    reason: str | None = typer.Option(None, help="Why (stored in the event)."),
    force: bool = typer.Option(False, help="Allow a failed or quarantined run to become current."),
    as_json: bool = JsonOpt,
) -> None:
    """Move the current pointer of one configuration; the move is an audited event."""
    if (to_version is None) == (not auto):
        raise UsageError("give either --to-version N or --auto")
    where = {"dataset": dataset, "prompt": prompt, "environment": environment}
    with open_bench() as bench:
        if to_version is None:
            move = bench.auto_rollback(model, reason=reason, **where)
        else:
            move = bench.rollback(model, to_version, reason=reason, force=force, **where)
    show_move(move, as_json)


@app.command(
    epilog=examples(
        "bench-analytics quarantine 42 --reason 'endpoint outage: HTTP 503 for every case'",
        "bench-analytics quarantine 42 --release --reason 'outage was a false alarm'",
    )
)
def quarantine(
    transaction_id: int = typer.Argument(..., help="Transaction id (see `history`)."),
    reason: str = typer.Option(..., help="Why this run is not a model result."),
    release: bool = typer.Option(False, help="Lift an earlier quarantine (a new row too)."),
    as_json: bool = JsonOpt,
) -> None:
    """Mark a run as not a model result; if it was current, the pointer goes back."""
    with open_bench() as bench:
        move = bench.quarantine(transaction_id, reason=reason, release=release)
    show_move(move, as_json)


@db_app.command("upgrade", epilog=examples("bench-analytics db upgrade"))
def db_upgrade() -> None:
    """Apply pending schema migrations (writing commands also do this on first use)."""
    with open_bench() as bench:
        before, after = bench.upgrade()
        where = bench.status().url
    if before != after:
        render.line(f"{where}: schema {before or 'empty'} -> {after}")
    else:
        render.line(f"{where}: schema already at {after}")


@db_app.command("status", epilog=examples("bench-analytics db status --json"))
def db_status(as_json: bool = JsonOpt) -> None:
    """Where the store is, its schema revision and row counts."""
    with open_bench() as bench:
        info = bench.status()
    if as_json:
        render.emit_json(info.as_dict())
        return
    kind = f"embedded, under {info.home}" if info.embedded else "external"
    render.line(f"store:    {info.url} ({kind})")
    render.line(f"server:   PostgreSQL {info.server_version}")
    pending = "" if info.up_to_date else ("  (run `bench-analytics db upgrade`)", "yellow")
    render.line(f"schema:   {info.revision or 'empty'} (newest {info.head})", pending)
    for table, number in (info.rows or {}).items():
        render.line(f"  {table:<26}{number:>10,}")
