"""Commands that produce results: `cases generate|show` and `run`."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any

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
from bench_analytics.errors import EXIT_INTERRUPTED, UsageError

if TYPE_CHECKING:
    from bench_analytics.model import CaseResult
    from bench_analytics.store.cases import CasePage

cases_app = typer.Typer(
    help="Case sets (generate, show) and the cases of stored runs (list, compare).",
    no_args_is_help=True,
)
app.add_typer(cases_app, name="cases")


@cases_app.command(
    "generate",
    epilog=examples("bench-analytics cases generate --patients 200 --seed 7 -o cases/"),
)
def cases_generate(
    patients: int = typer.Option(100, min=1, help="How many cases."),
    seed: int = typer.Option(7, help="Same seed and size, same cases."),
    output: Path = typer.Option(..., "--output", "-o", help="Folder to write the cases to."),
    name: str | None = typer.Option(None, help="Name of the set (default synthetic-s<seed>-n<N>)."),
) -> None:
    """Write a synthetic case set: patients, bills with CPT codes, expected issues."""
    with open_bench() as bench:
        case_set = bench.generate_cases(output, patients=patients, seed=seed, name=name)
    issues = sum(len(c.expected_issues) for c in case_set.cases)
    render.line(
        f"wrote {len(case_set.cases)} cases ({issues} expected issues) to {output}/ — "
        f"dataset version {case_set.version}"
    )


@cases_app.command("show", epilog=examples("bench-analytics cases show cases/"))
def cases_show(
    path: Path = typer.Argument(..., help="A case folder (ours or the old system's profiles)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """How many cases, which dataset version, which issues they hold."""
    with open_bench() as bench:
        case_set = bench.case_set(path)
    kinds = Counter(issue.type for case in case_set.cases for issue in case.expected_issues)
    summary = {
        "name": case_set.name,
        "version": case_set.version,
        "cases": len(case_set.cases),
        "clean_cases": sum(not case.expected_issues for case in case_set.cases),
        "issues": dict(kinds.most_common()),
    }
    if as_json:
        render.emit_json(summary)
        return
    render.line(
        f"{summary['name']}: {summary['cases']} cases "
        f"({summary['clean_cases']} clean), dataset version {summary['version']}"
    )
    for kind, count in kinds.most_common():
        render.line(f"  {kind:<28}{count:>6}")


CaseRefArg = typer.Argument(..., help="A stored run: tx:ID or model@current|previous|pinned|N.")
IssueTypeOpt = typer.Option(None, "--issue-type", help="Cases expecting this issue type.")
CategoryOpt = typer.Option(None, "--category", help="Cases expecting an issue of this category.")
DomainOpt = typer.Option(
    None, "--domain/--no-domain", help="Cases with (or without) domain-knowledge issues."
)
SearchOpt = typer.Option(None, "--search", help="Part of the case id.")
LimitOpt = typer.Option(50, "--limit", min=1, help="Rows per page.")
OffsetOpt = typer.Option(0, "--offset", min=0, help="Rows to skip.")


@cases_app.command(
    "list",
    epilog=examples(
        "bench-analytics cases list medgemma@current --prompt v2-structured",
        "bench-analytics cases list tx:42 --status error --json",
    ),
)
def cases_list(
    run: str = CaseRefArg,
    status: str | None = typer.Option(None, help="ok or error."),
    issue_type: str | None = IssueTypeOpt,
    category: str | None = CategoryOpt,
    domain: bool | None = DomainOpt,
    search: str | None = SearchOpt,
    limit: int = LimitOpt,
    offset: int = OffsetOpt,
    dataset: str | None = DatasetOpt,
    prompt: str | None = PromptOpt,
    environment: str | None = EnvOpt,
    as_json: bool = JsonOpt,
) -> None:
    """The cases of one stored run: status, tp/fp/fn, F1, latency, cost, error."""
    if status not in {None, "ok", "error"}:
        raise UsageError(f"--status '{status}': use ok or error")
    with open_bench() as bench:
        page = bench.cases(
            run,
            status=status,  # type: ignore[arg-type]
            issue_type=issue_type,
            category=category,
            domain_knowledge=domain,
            search=search,
            limit=limit,
            offset=offset,
            dataset=dataset,
            prompt=prompt,
            environment=environment,
        )
    _show_cases(page, run, as_json)


@cases_app.command(
    "compare",
    epilog=examples(
        "bench-analytics cases compare medgemma@2 medgemma@3 --prompt v2-structured",
        "bench-analytics cases compare tx:41 tx:57 --change all --json",
    ),
)
def cases_compare(
    baseline: str = CaseRefArg,
    candidate: str = typer.Argument(..., help="The same kinds of reference."),
    change: str = typer.Option(
        "worse", help="worse (default), better, error, same, added, removed (commas), or all."
    ),
    issue_type: str | None = IssueTypeOpt,
    category: str | None = CategoryOpt,
    domain: bool | None = DomainOpt,
    search: str | None = SearchOpt,
    limit: int = LimitOpt,
    offset: int = OffsetOpt,
    dataset: str | None = DatasetOpt,
    prompt: str | None = PromptOpt,
    environment: str | None = EnvOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Two runs case by case: the cases that got worse first (largest F1 drop first)."""
    changes = None if change == "all" else [part.strip() for part in change.split(",")]
    with open_bench() as bench:
        page = bench.cases(
            baseline,
            candidate,
            change=changes,
            issue_type=issue_type,
            category=category,
            domain_knowledge=domain,
            search=search,
            limit=limit,
            offset=offset,
            dataset=dataset,
            prompt=prompt,
            environment=environment,
        )
    _show_cases(page, f"{baseline} → {candidate} ({change})", as_json)


def _show_cases(page: CasePage, title: str, as_json: bool) -> None:
    from bench_analytics.cli.tables import print_cases

    if as_json:
        render.emit_json(
            {
                "total": page.total,
                "offset": page.offset,
                "counts": page.counts,
                "rows": page.rows.as_dicts(),
            }
        )
    else:
        print_cases(page, title)


@app.command(
    epilog=examples(
        "bench-analytics run --model baseline --cases cases/ -o benchmarks/results/",
        "bench-analytics run --model openai:gpt-4o-mini --cases cases/ --prompt prompts/v2.txt "
        "--concurrency 8 --push",
        "bench-analytics run --model openai-compatible:medgemma-4b-it@http://localhost:8000/v1 "
        "--cases cases/",
        "bench-analytics run --model replay:benchmarks/results/<earlier run>.json --cases cases/",
    )
)
def run(
    model: str = typer.Option(
        ..., "--model", "-m", help="baseline, openai:M, openai-compatible:M@URL or replay:FILE."
    ),
    cases: Path = typer.Option(..., "--cases", help="The case folder (see `cases generate`)."),
    prompt: Path | None = typer.Option(
        None, help="System prompt file (default: the packaged one)."
    ),
    prompt_version: str | None = typer.Option(None, help="Default: <file stem>@<content hash>."),
    model_key: str | None = typer.Option(None, help="Stable model key (default from the name)."),
    concurrency: int = typer.Option(8, min=1, help="Calls in flight at once."),
    timeout: float | None = typer.Option(None, help="Seconds per call (BENCH_REQUEST_TIMEOUT)."),
    temperature: float = typer.Option(0.0, help="Sampling temperature."),
    output: Path = typer.Option(
        Path("benchmarks/results"), "--output", "-o", help="Folder for the result file."
    ),
    emit_legacy: bool = typer.Option(False, help="Also write patient_benchmark_<model>.json."),
    push: bool = typer.Option(False, help="Push the result to the store when done."),
    environment: str | None = typer.Option(None, help="Environment (default local / CI)."),
    as_json: bool = typer.Option(False, "--json", help="Print a JSON summary."),
) -> None:
    """Run a model over a case set and write one result file (raw answers kept).

    A case whose endpoint failed (timeout, HTTP error, unreadable answer) is recorded as
    such; a run whose endpoint was down ends as `failed`, never as 0 % recall. Ctrl-C
    writes nothing.
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from bench_analytics.runner.interrupt import RunInterrupted

    progress = Progress(
        TextColumn("[bold]running"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[errors]} errors"),
        TimeElapsedColumn(),
        console=render.err,
        transient=True,
    )
    task = progress.add_task("run", total=None, errors=0)
    errors = 0

    def on_case(result: CaseResult) -> None:
        nonlocal errors
        errors += result.status == "error"
        progress.update(task, advance=1, errors=errors)

    try:
        with open_bench() as bench, progress:
            report = bench.run(
                model,
                cases,
                prompt=prompt,
                prompt_version=prompt_version,
                model_key=model_key,
                concurrency=concurrency,
                timeout=timeout,
                temperature=temperature,
                output=output,
                emit_legacy=emit_legacy,
                environment=environment,
                push=push,
                on_start=lambda total: progress.update(task, total=total),
                on_case=on_case,
            )
    except RunInterrupted:
        render.note("interrupted: nothing was written")
        raise typer.Exit(EXIT_INTERRUPTED) from None
    if as_json and report.push is None:
        render.emit_json(report.summary())
    elif not as_json:
        _print_summary(report.summary())
    if report.push is not None:
        from bench_analytics.cli.ingest import show_push

        show_push(report.push, as_json=as_json)


def _print_summary(summary: dict[str, Any]) -> None:
    from bench_analytics.report import fmt_value

    for path in summary["files"]:
        render.line(f"wrote {path}")
    if summary["status"] == "failed":
        render.line(("run failed: ", "bold red"), str(summary["reason"]))
        return
    render.line(
        f"{summary['model']} on {summary['dataset_version']} ({summary['cases']} cases, "
        f"{summary['errors']} errors): F1 {fmt_value('f1', summary['f1'])}, precision "
        f"{fmt_value('precision', summary['precision'])}, recall "
        f"{fmt_value('recall', summary['recall'])}, median latency "
        f"{fmt_value('latency_ms', summary['latency_p50_ms'])}, cost "
        f"{fmt_value('cost_usd', summary['cost_usd'])}"
    )
