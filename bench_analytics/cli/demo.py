"""The demo: a realistic sample history, pushed into the store, then the current snapshots."""

from __future__ import annotations

from pathlib import Path

import typer

from bench_analytics.cli import render
from bench_analytics.cli.app import app, examples, open_bench
from bench_analytics.cli.dashboard_cmd import DEFAULT_ADDRESS, DEFAULT_PORT, check_port
from bench_analytics.cli.dashboard_cmd import serve as serve_dashboard


@app.command(
    epilog=examples(
        "bench-analytics demo",
        "bench-analytics demo --write results/demo",
        "bench-analytics demo --write benchmarks/results --serve   [dim](what `make demo` runs)[/]",
    )
)
def demo(
    seed: int = typer.Option(7, help="Seed of the simulated history (same seed, same data)."),
    commits: int = typer.Option(10, min=1, help="Simulated commits."),
    patients: int = typer.Option(100, min=1, help="Cases per run."),
    write: Path | None = typer.Option(None, help="Also write the results as files here."),
    serve: bool = typer.Option(
        False,
        "--serve/--no-serve",
        help="Then serve the dashboard on the store (read-only) until Ctrl-C.",
    ),
    port: int = typer.Option(
        DEFAULT_PORT, "--port", min=1, max=65535, help="The dashboard's port, with --serve."
    ),
) -> None:
    """Generate a sample history (4 models, 3 prompts, outages, a regression) and push it.

    Running it again pushes nothing new: the same seed gives the same content (and the
    same files). With --serve the dashboard follows, on 127.0.0.1 (--port for the port).
    """
    from bench_analytics.cli.tables import print_snapshots

    if serve:
        check_port(DEFAULT_ADDRESS, port)  # a taken port stops the demo before it pushes
    with open_bench() as bench, render.progress(None, "demo", always=True) as bar:
        task = bar.add_task("pushing sample history", total=None)
        report = bench.demo(
            seed=seed,
            commits=commits,
            patients=patients,
            write=write,
            on_push=lambda _: bar.advance(task),
        )
        store = bench.store()
        url, where = store.url, store.display_url
        rows = bench.snapshots()
    render.line(f"store: {where}")
    if write:
        render.line(f"wrote {len(report.pushed)} result files to {write}/")
    failed = sum(o.status == "failed" for o in report.outcomes)
    render.line(
        f"pushed {len(report.pushed)} runs ({report.created} new, "
        f"{len(report.pushed) - report.created} already stored; {failed} failed "
        f"{'run' if failed == 1 else 'runs'} kept out of the current pointer)"
    )
    for item in report.regressions:
        o = item.outcome
        render.line(
            ("regression held: ", "bold red"),
            f"{o.model_key} {o.prompt_version} version {o.version}: {o.event_reason}",
        )
    print_snapshots(rows)
    render.line(
        "next: bench-analytics history gemini --prompt v2-structured   "
        "(an HTTP 503 outage, stored as failed)\n"
        "      bench-analytics history medgemma --prompt v2-structured "
        "(a regression the gate held)\n"
        "      bench-analytics compare medgemma@2 medgemma@3 --prompt v2-structured"
    )
    if write:
        from bench_analytics.local.sources import DEFAULT_PATH  # where `sql` looks by default

        where_files = "" if write == DEFAULT_PATH else f"--path {write} "
        render.line(
            f'      bench-analytics sql {where_files}"select model, avg(f1) from runs '
            'group by model"'
        )
    if serve:
        serve_dashboard(
            url=url, where=where, port=port, address=DEFAULT_ADDRESS, allow_writes=False, show=False
        )
