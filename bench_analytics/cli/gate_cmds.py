"""Commands of the regression gate: compare, check, pin, cost."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from bench_analytics.cli import render
from bench_analytics.cli.app import app, current_actor, examples, open_store, read_options
from bench_analytics.errors import EXIT_REGRESSION, EXIT_STORE_UNREACHABLE, UsageError

if TYPE_CHECKING:
    from bench_analytics.gate import Baseline
    from bench_analytics.model import RunResult

JsonOpt = typer.Option(False, "--json", help="Print JSON.")
DatasetFilter = typer.Option(None, "--dataset", help="Dataset version (for model@… refs).")
PromptFilter = typer.Option(None, "--prompt", help="Prompt version (for model@… refs).")
EnvFilter = typer.Option(None, "--environment", "-e", help="Environment.")


def _read_one(path: Path, environment: str | None) -> RunResult:
    """The single result in a file, with the push defaults for its identity."""
    from bench_analytics.context import PushContext, apply_context, detect_context
    from bench_analytics.formats import read_file

    runs = read_file(path, options=read_options(None, None))
    if len(runs) != 1:
        raise UsageError(f"{path} holds {len(runs)} results; give a file with one result")
    return apply_context(runs[0], PushContext(environment=environment), detect_context())


def _file_baseline(path: Path, environment: str | None) -> Baseline:
    from bench_analytics.comparison import RunView
    from bench_analytics.gate import Baseline

    return Baseline(
        RunView.from_run(_read_one(path, environment), str(path)),
        None,
        "explicit",
        f"the file {path}",
    )


def _selector(dataset, prompt, environment):
    from bench_analytics.store import ConfigFilter

    return ConfigFilter(dataset=dataset, prompt=prompt, environment=environment)


@app.command(
    epilog=examples(
        "bench-analytics compare medgemma@current medgemma@3",
        "bench-analytics compare old.json new.json --markdown",
        "bench-analytics compare tx:41 tx:57 --json",
    )
)
def compare(
    baseline: str = typer.Argument(..., help="A file, tx:ID, or model@current|previous|pinned|N."),
    candidate: str = typer.Argument(..., help="The same kinds of reference."),
    dataset: str | None = DatasetFilter,
    prompt: str | None = PromptFilter,
    environment: str | None = EnvFilter,
    as_json: bool = JsonOpt,
    as_markdown: bool = typer.Option(False, "--markdown", help="Print a Markdown report."),
) -> None:
    """Compare two runs metric by metric: delta, interval, adjusted p, verdict.

    Paired tests on the cases both runs share; for runs without per-case data, a robust
    z against the configuration's history when one is known.
    """
    from bench_analytics.comparison import compare_views
    from bench_analytics.config import get_settings
    from bench_analytics.gate import baseline_from_ref, evaluate

    settings = get_settings()
    refs = {}
    for ref in (baseline, candidate):
        if Path(ref).is_file():
            refs[ref] = _file_baseline(Path(ref), environment)
    if len(refs) == 2:
        comparison = compare_views(refs[baseline].view, refs[candidate].view, settings)
        comparison.baseline_reason = refs[baseline].reason
    else:
        with open_store() as store:
            selector = _selector(dataset, prompt, environment)
            for ref in (baseline, candidate):
                if ref not in refs:
                    refs[ref] = baseline_from_ref(store.conn, ref, selector)
            config = None
            if refs[candidate].transaction_id is not None:
                from bench_analytics.store.queries import config_of, transaction

                config = config_of(transaction(store.conn, refs[candidate].transaction_id))
            if config is not None:
                comparison = evaluate(
                    store.conn,
                    refs[candidate].view,
                    config,
                    refs[baseline],
                    settings,
                    exclude=refs[candidate].transaction_id,
                )
            else:
                comparison = compare_views(refs[baseline].view, refs[candidate].view, settings)
                comparison.baseline_reason = refs[baseline].reason
    if as_json:
        render.emit_json(comparison.as_dict())
    elif as_markdown:
        from bench_analytics.report import markdown

        typer.echo(markdown(comparison, f"{baseline} vs {candidate}", candidate), nl=False)
    else:
        render.out.print(render.comparison_table(comparison, f"{baseline} → {candidate}"))
        for note in comparison.notes:
            render.out.print(f"[dim]{note}[/]")


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
    environment: str | None = EnvFilter,
    report: Path | None = typer.Option(None, help="Also write the Markdown report here."),
    alert: bool = typer.Option(False, help="Send alerts for regressions (BENCH_ALERT_URLS)."),
    require_store: bool = typer.Option(False, help="In CI without a store, exit 3 (not 0)."),
    as_json: bool = typer.Option(False, "--json", help="Print the JSON verdict, not Markdown."),
) -> None:
    """Gate a result against its baseline: Markdown report, JSON verdict, exit 1 on regression.

    Only gated metrics (BENCH_GATE_METRICS, default f1 and recall) decide the exit code.
    The report is appended to $GITHUB_STEP_SUMMARY when that is set. Nothing is written
    to the store.
    """
    from bench_analytics.config import get_settings, running_in_ci
    from bench_analytics.gate import BASELINE_RULES, check_run, parse_ref

    if fail_on not in {"regression", "never"}:
        raise UsageError(f"--fail-on '{fail_on}': use regression or never")
    settings = get_settings()
    run = _read_one(result, environment)
    explicit = None
    if baseline not in BASELINE_RULES and parse_ref(baseline)[0] == "file":
        if not Path(baseline).is_file():
            raise UsageError(f"--baseline '{baseline}': not a rule, a stored run or a file")
        explicit = _file_baseline(Path(baseline), environment)
    if explicit is None and running_in_ci() and settings.database_url is None:
        message = "BENCH_DATABASE_URL is not set in CI: no baseline to check against"
        if require_store:
            render.err.print(f"[red]error:[/] {message} (--require-store)")
            raise typer.Exit(EXIT_STORE_UNREACHABLE)
        render.err.print(f"[yellow]warning:[/] {message}")
        return
    with open_store() as store:
        if explicit is None and baseline not in BASELINE_RULES:
            from bench_analytics.gate import baseline_from_ref

            explicit = baseline_from_ref(store.conn, baseline, _selector(None, None, environment))
        rule = baseline if baseline in BASELINE_RULES else "explicit"
        outcome = check_run(store.conn, run, str(result), rule, settings, baseline=explicit)
    text = outcome.markdown()
    if report:
        report.write_text(text, encoding="utf-8")
    summary_file = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary_file:
        with open(summary_file, "a", encoding="utf-8") as handle:
            handle.write(text + "\n")
    if as_json:
        render.emit_json(outcome.as_dict())
    else:
        typer.echo(text, nl=False)
    if alert and outcome.comparison:
        _alert_regressions(outcome, run.provenance.commit_sha, settings)
    if outcome.regression and fail_on == "regression":
        raise typer.Exit(EXIT_REGRESSION)


def _alert_regressions(outcome, commit, settings) -> None:
    from bench_analytics.alerts import default_link, regression_alerts, send

    alerts = regression_alerts(
        outcome.subject,
        [v.as_dict() for v in outcome.comparison.regressions()],
        outcome.comparison.baseline_reason,
        commit,
        default_link(settings.link),
    )
    for failure in send(alerts, settings.alert_urls):
        render.err.print(f"[yellow]alert not delivered:[/] {failure}")


@app.command(
    epilog=examples(
        "bench-analytics show results/new.json",
        "bench-analytics show medgemma@current --prompt v2-structured",
        "bench-analytics show tx:42 --json",
    )
)
def show(
    run: str = typer.Argument(..., help="A file, tx:ID, or model@current|previous|pinned|N."),
    dataset: str | None = DatasetFilter,
    prompt: str | None = PromptFilter,
    environment: str | None = EnvFilter,
    as_json: bool = JsonOpt,
) -> None:
    """Every metric of one run with its 95 % interval (bootstrap over cases, Wilson, Jeffreys)."""
    from bench_analytics.config import get_settings
    from bench_analytics.stats import run_intervals
    from bench_analytics.stats.resample import rng_for

    if Path(run).is_file():
        view = _file_baseline(Path(run), environment).view
    else:
        from bench_analytics.gate import baseline_from_ref

        with open_store() as store:
            view = baseline_from_ref(store.conn, run, _selector(dataset, prompt, environment)).view
    if view.cases is None:
        raise UsageError(f"{run} has no per-case results: intervals need cases")
    estimates = run_intervals(
        view.cases,
        averaging=view.averaging,
        resamples=get_settings().resamples,
        rng=rng_for(view.seed),
    )
    if as_json:
        render.emit_json([e.as_dict() for e in estimates])
    else:
        render.out.print(render.intervals_table(estimates, f"{run} ({view.cases.n} cases)"))


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
    dataset: str | None = DatasetFilter,
    prompt: str | None = PromptFilter,
    environment: str | None = EnvFilter,
    reason: str | None = typer.Option(None, help="Why (stored with the pin)."),
) -> None:
    """Pin the baseline that `check --baseline pinned` compares against (audited)."""
    from bench_analytics.store import ConfigFilter

    if (version is None) == (not clear):
        raise UsageError("give either --version N or --clear")
    actor = current_actor()
    with open_store() as store:
        move = store.pin(
            ConfigFilter(model=model, dataset=dataset, prompt=prompt, environment=environment),
            None if clear else version,
            reason=reason or f"{'unpinned' if clear else 'pinned'} by {actor}",
            actor=actor,
        )
    render.out.print(f"{'/'.join(move.config)}: {move.message}")


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
    from bench_analytics.store.costs import parse_since

    start = parse_since(since)
    with open_store() as store:
        rows = store.costs(start, by)
    if as_json:
        render.emit_json(rows)
    elif not rows:
        render.out.print(f"No runs since {since}.")
    else:
        render.out.print(render.cost_table(rows, by, since))
