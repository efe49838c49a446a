"""The demo: a realistic sample history, pushed into the store, then the current snapshots."""

from __future__ import annotations

from pathlib import Path

import typer

from bench_analytics.cli import render
from bench_analytics.cli.app import app, examples, open_store


@app.command(epilog=examples("bench-analytics demo", "bench-analytics demo --write results/demo"))
def demo(
    seed: int = typer.Option(7, help="Seed of the simulated history (same seed, same data)."),
    commits: int = typer.Option(10, min=1, help="Simulated commits."),
    patients: int = typer.Option(100, min=1, help="Cases per run."),
    write: Path | None = typer.Option(None, help="Also write the results as files here."),
) -> None:
    """Generate a sample history (4 models, 3 prompts, outages, a regression) and push it.

    Running it again pushes nothing new: the same seed gives the same content.
    """
    from bench_analytics.fixtures import sample_history, write_results

    runs = sample_history(seed=seed, commits=commits, patients=patients)
    if write:
        write_results(runs, write)
        render.out.print(f"wrote {len(runs)} result files to {write}/")
    from rich.progress import Progress

    with open_store() as store:
        render.out.print(f"store: {store.display_url}")
        with Progress(console=render.err, transient=True) as progress:
            task = progress.add_task("pushing sample history", total=len(runs))
            outcomes = store.push(
                [(f"demo:{r.model.key}@{r.provenance.commit_sha[:8]}", r) for r in runs],
                on_each=lambda _: progress.advance(task),
            )
        rows = store.snapshots()
    created = sum(o.created for o in outcomes)
    failed = sum(o.status == "failed" for o in outcomes)
    render.out.print(
        f"pushed {len(outcomes)} runs ({created} new, {len(outcomes) - created} already stored; "
        f"{failed} failed {'run' if failed == 1 else 'runs'} kept out of the current pointer)"
    )
    for held in (o for o in outcomes if o.created and o.regressions):
        render.out.print(
            f"[bold red]regression held:[/] {held.model_key} {held.prompt_version} version "
            f"{held.version}: {held.event_reason}"
        )
    render.out.print(render.snapshots_table(rows))
    render.out.print(
        "next: bench-analytics history gemini --prompt v2-structured   "
        "(an HTTP 503 outage, stored as failed)\n"
        "      bench-analytics history medgemma --prompt v2-structured "
        "(a regression the gate held)\n"
        "      bench-analytics compare medgemma@2 medgemma@3 --prompt v2-structured"
    )
