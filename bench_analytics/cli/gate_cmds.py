"""Commands of the regression gate: compare, check, show, pin, cost."""

from __future__ import annotations

import os
from pathlib import Path

import typer

from bench_analytics.cli import render
from bench_analytics.cli.app import (
    DatasetOpt,
    EnvOpt,
    JsonOpt,
    PromptOpt,
    app,
    examples,
    open_bench,
)
from bench_analytics.cli.store_cmds import show_move
from bench_analytics.errors import EXIT_REGRESSION, BadInputError, UsageError

RefArg = "A result file, tx:ID, or model@current|previous|pinned|N."


@app.command(
    epilog=examples(
        "bench-analytics compare medgemma@current medgemma@3",
        "bench-analytics compare old.json new.json --markdown",
        "bench-analytics compare tx:41 tx:57 --json",
    )
)
def compare(
    baseline: str = typer.Argument(..., help=RefArg),
    candidate: str = typer.Argument(..., help="The same kinds of reference."),
    dataset: str | None = DatasetOpt,
    prompt: str | None = PromptOpt,
    environment: str | None = EnvOpt,
    as_json: bool = JsonOpt,
    as_markdown: bool = typer.Option(False, "--markdown", help="Print a Markdown report."),
) -> None:
    """Compare two runs metric by metric: delta, interval, adjusted p, verdict.

    Paired tests on the cases both runs share; for runs without per-case data, a robust
    z against the configuration's history when one is known.
    """
    from bench_analytics.cli.tables import print_comparison

    with open_bench() as bench:
        comparison = bench.compare(
            baseline, candidate, dataset=dataset, prompt=prompt, environment=environment
        )
    if as_json:
        render.emit_json(comparison.as_dict())
    elif as_markdown:
        from bench_analytics.report import markdown

        typer.echo(markdown(comparison, f"{baseline} vs {candidate}", candidate), nl=False)
    else:
        print_comparison(comparison, f"{baseline} → {candidate}")


@app.command(
    epilog=examples(
        "bench-analytics check results/new.json",
        "bench-analytics check new.json --baseline previous --json",
        "bench-analytics check new.json --baseline medgemma@3 --fail-on never",
    )
)
def check(
    result: Path = typer.Argument(..., help="The result file to check (any supported format)."),
    baseline: str = typer.Option(
        "current", help="current, previous, pinned, a file, tx:ID or model@N."
    ),
    fail_on: str = typer.Option("regression", help="regression (exit 1) or never."),
    environment: str | None = EnvOpt,
    report: Path | None = typer.Option(None, help="Also write the Markdown report here."),
    alert: bool = typer.Option(False, help="Send alerts for regressions (BENCH_ALERT_URLS)."),
    require_store: bool = typer.Option(False, help="In CI without a store, exit 3 (not 0)."),
    as_json: bool = typer.Option(False, "--json", help="Print the JSON verdict, not Markdown."),
) -> None:
    """Gate a result against its baseline: Markdown report, JSON verdict, exit 1 on regression.

    A file of several results (an lm-eval results file holds one per task) checks each
    against its own baseline; any regression makes exit 1.

    Only gated metrics (BENCH_GATE_METRICS, default f1 and recall) decide the exit code.
    The report is appended to $GITHUB_STEP_SUMMARY when that is set. Nothing is written
    to the store.
    """
    if fail_on not in {"regression", "never"}:
        raise UsageError(f"--fail-on '{fail_on}': use regression or never")
    with open_bench() as bench:
        outcomes = bench.check_each(
            result,
            baseline=baseline,
            environment=environment,
            alert=alert,
            require_store=require_store,
        )
    if not outcomes:
        raise BadInputError(str(result), "holds no results to check")
    if all(outcome.warning for outcome in outcomes):
        render.warning(outcomes[0].warning or "")
        return
    text = "\n".join(outcome.markdown() for outcome in outcomes)
    if report:
        report.write_text(text, encoding="utf-8")
    summary_file = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary_file:
        with open(summary_file, "a", encoding="utf-8") as handle:
            handle.write(text + "\n")
    if as_json:  # one result: its verdict; several (one per task): a list of them
        verdicts = [outcome.as_dict() for outcome in outcomes]
        render.emit_json(verdicts[0] if len(verdicts) == 1 else verdicts)
    else:
        typer.echo(text, nl=False)
    for failure in (f for outcome in outcomes for f in outcome.alert_failures):
        render.warning(f"alert not delivered: {failure}")
    if any(outcome.regression for outcome in outcomes) and fail_on == "regression":
        raise typer.Exit(EXIT_REGRESSION)


@app.command(
    epilog=examples(
        "bench-analytics show results/new.json",
        "bench-analytics show medgemma@current --prompt v2-structured",
        "bench-analytics show tx:42 --json",
    )
)
def show(
    run: str = typer.Argument(..., help=RefArg),
    dataset: str | None = DatasetOpt,
    prompt: str | None = PromptOpt,
    environment: str | None = EnvOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Every metric of one run with its 95 % interval (bootstrap over cases, Wilson, Jeffreys)."""
    from bench_analytics.cli.tables import print_intervals

    with open_bench() as bench:
        found = bench.show(run, dataset=dataset, prompt=prompt, environment=environment)
    if as_json:
        render.emit_json(found.estimates.as_dicts())
    else:
        print_intervals(found, run)


@app.command(
    epilog=examples(
        "bench-analytics pin medgemma --version 3 --reason 'release 2026.10 baseline'",
        "bench-analytics pin medgemma --clear",
    )
)
def pin(
    model: str = typer.Argument(..., help="Model key."),
    version: int | None = typer.Option(None, help="The version to pin as baseline."),
    clear: bool = typer.Option(False, help="Remove the pin."),
    dataset: str | None = DatasetOpt,
    prompt: str | None = PromptOpt,
    environment: str | None = EnvOpt,
    reason: str | None = typer.Option(None, help="Why (stored with the pin)."),
    as_json: bool = JsonOpt,
) -> None:
    """Pin the baseline that `check --baseline pinned` compares against (audited)."""
    if (version is None) == (not clear):
        raise UsageError("give either --version N or --clear")
    with open_bench() as bench:
        move = bench.pin(
            model,
            None if clear else version,
            reason=reason,
            dataset=dataset,
            prompt=prompt,
            environment=environment,
        )
    show_move(move, as_json)


@app.command(
    epilog=examples(
        "bench-analytics cost",
        "bench-analytics cost --since 90d --by prompt",
        "bench-analytics cost --by month --json",
    )
)
def cost(
    since: str = typer.Option("30d", help="30d, 12h, 4w, 6m, a date, or all."),
    by: str = typer.Option("model", help="model, prompt, environment, day, week or month."),
    as_json: bool = JsonOpt,
) -> None:
    """What the runs cost: tokens, USD, USD per run and per correctly detected issue."""
    from bench_analytics.cli.tables import print_cost

    with open_bench() as bench:
        rows = bench.cost(since=since, by=by)
    if as_json:
        render.emit_json(rows.as_dicts())
    elif not rows:
        render.line(f"No runs since {since}.")
    else:
        print_cost(rows, by, since)
