"""Commands over the store: snapshots, history, rollback, quarantine, db."""

from __future__ import annotations

import typer

from bench_analytics.cli import render
from bench_analytics.cli.app import app, current_actor, db_app, examples, open_store

JsonOpt = typer.Option(False, "--json", help="Print JSON instead of tables.")
DatasetFilter = typer.Option(None, "--dataset", help="Dataset version.")
PromptFilter = typer.Option(None, "--prompt", help="Prompt version.")
EnvFilter = typer.Option(None, "--environment", "-e", help="Environment (local, github-actions …).")


def _selector(model, dataset=None, prompt=None, environment=None):
    from bench_analytics.store import ConfigFilter

    return ConfigFilter(model=model, dataset=dataset, prompt=prompt, environment=environment)


@app.command(
    epilog=examples(
        "bench-analytics snapshots", "bench-analytics snapshots --model medgemma --json"
    )
)
def snapshots(
    model: str | None = typer.Option(None, "--model", "-m", help="Only this model key."),
    environment: str | None = EnvFilter,
    as_json: bool = JsonOpt,
) -> None:
    """The current snapshot of every configuration (model, dataset, prompt, environment)."""
    with open_store() as store:
        rows = store.snapshots(_selector(model, environment=environment))
    if as_json:
        render.emit_json(rows)
    elif not rows and (model or environment):
        render.out.print("No configuration matches the filter.")
    elif not rows:
        render.out.print("The store holds no results yet: push some with `bench-analytics push`.")
    else:
        render.out.print(render.snapshots_table(rows))


@app.command(
    epilog=examples(
        "bench-analytics history medgemma",
        "bench-analytics history baseline --dataset benchmark-set-v1 -e github-actions --json",
    )
)
def history(
    model: str = typer.Argument(..., help="Model key, e.g. medgemma."),
    dataset: str | None = DatasetFilter,
    prompt: str | None = PromptFilter,
    environment: str | None = EnvFilter,
    as_json: bool = JsonOpt,
) -> None:
    """Every version of a model's configurations, the current one marked, and pointer events."""
    with open_store() as store:
        found = store.history(_selector(model, dataset, prompt, environment))
    if as_json:
        render.emit_json(
            [
                {
                    "configuration": dict(
                        zip(("model", "dataset", "prompt", "environment"), c, strict=True)
                    ),
                    "versions": v,
                    "events": e,
                }
                for c, v, e in found
            ]
        )
        return
    for config, versions, events in found:
        render.out.print(render.versions_table(config, versions))
        render.out.print(render.events_table(events))


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
    dataset: str | None = DatasetFilter,
    prompt: str | None = PromptFilter,
    environment: str | None = EnvFilter,
    reason: str | None = typer.Option(None, help="Why (stored in the event)."),
    force: bool = typer.Option(False, help="Allow a failed or quarantined run to become current."),
    as_json: bool = JsonOpt,
) -> None:
    """Move the current pointer of one configuration; the move is an audited event."""
    from bench_analytics.errors import UsageError

    if (to_version is None) == (not auto):
        raise UsageError("give either --to-version N or --auto")
    selector = _selector(model, dataset, prompt, environment)
    with open_store() as store:
        if auto:
            move = store.auto_rollback(selector, reason=reason, actor=current_actor())
        else:
            move = store.rollback(
                selector, to_version, reason=reason, actor=current_actor(), force=force
            )
    if as_json:
        render.emit_json(move.as_dict())
    else:
        render.out.print(f"{'/'.join(move.config)}: {move.message}")


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
    with open_store() as store:
        move = store.quarantine(
            transaction_id, reason=reason, actor=current_actor(), release=release
        )
    if as_json:
        render.emit_json(move.as_dict())
    else:
        render.out.print(f"{'/'.join(move.config)}: {move.message}")


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply pending schema migrations (commands also do this on first use)."""
    from bench_analytics.store import Store

    with Store.open(migrate=False) as store:
        before, after = store.upgrade()
        render.out.print(
            f"{store.display_url}: schema {before or 'empty'} -> {after}"
            if before != after
            else f"{store.display_url}: schema already at {after}"
        )


@db_app.command("status")
def db_status(as_json: bool = JsonOpt) -> None:
    """Where the store is, its schema revision and row counts."""
    from bench_analytics.store import Store

    with Store.open(migrate=False) as store:
        info = store.status()
    if as_json:
        render.emit_json(info)
        return
    kind = f"embedded, under {info['home']}" if info["embedded"] else "external"
    render.out.print(f"store:    {info['url']} ({kind})")
    render.out.print(f"server:   PostgreSQL {info['server_version']}")
    pending = "" if info["revision"] == info["head"] else "  [yellow](run `db upgrade`)[/]"
    render.out.print(f"schema:   {info['revision'] or 'empty'} (newest {info['head']}){pending}")
    for table, count in (info["rows"] or {}).items():
        render.out.print(f"  {table:<26}{count:>10,}")
