"""Commands that produce results: `cases generate|show` and `run`."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import typer

from bench_analytics.cli import render
from bench_analytics.cli.app import app, examples
from bench_analytics.files import result_file_name, write_atomic

cases_app = typer.Typer(
    help="Case sets: generate a synthetic one, inspect any.", no_args_is_help=True
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
    from bench_analytics.runner.cases import write_case_set
    from bench_analytics.runner.generate import generate_case_set

    case_set = generate_case_set(patients, seed, name)
    write_case_set(case_set, output)
    issues = sum(len(c.expected_issues) for c in case_set.cases)
    render.out.print(
        f"wrote {len(case_set.cases)} cases ({issues} expected issues) to {output}/ — "
        f"dataset version {case_set.version}"
    )


@cases_app.command("show", epilog=examples("bench-analytics cases show cases/"))
def cases_show(
    path: Path = typer.Argument(..., help="A case folder (ours or the old system's profiles)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """How many cases, which dataset version, which issues they hold."""
    from bench_analytics.runner.case_folders import read_case_set

    case_set = read_case_set(path)
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
    render.out.print(
        f"{summary['name']}: {summary['cases']} cases "
        f"({summary['clean_cases']} clean), dataset version {summary['version']}"
    )
    for kind, count in kinds.most_common():
        render.out.print(f"  {kind:<28}{count:>6}")


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

    from bench_analytics.config import get_settings
    from bench_analytics.context import PushContext, apply_context, detect_context
    from bench_analytics.formats import check_model_key
    from bench_analytics.health import assess
    from bench_analytics.runner.case_folders import read_case_set
    from bench_analytics.runner.engine import run_benchmark
    from bench_analytics.runner.providers import make_provider

    settings = get_settings()
    check_model_key(model_key)
    case_set = read_case_set(cases)
    provider = make_provider(
        model,
        settings=settings,
        prompt_path=prompt,
        prompt_version=prompt_version,
        model_key=model_key,
        concurrency=concurrency,
        temperature=temperature,
        timeout=timeout,
    )
    errors = 0
    progress = Progress(
        TextColumn(f"[bold]{provider.model.key}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[errors]} errors"),
        TimeElapsedColumn(),
        console=render.err,
        transient=True,
    )

    def on_case(result) -> None:
        nonlocal errors
        errors += result.status == "error"
        progress.update(task, advance=1, errors=errors)

    try:
        with progress:
            task = progress.add_task("run", total=len(case_set.cases), errors=0)
            result = run_benchmark(provider, case_set, concurrency=concurrency, on_case=on_case)
    except KeyboardInterrupt:
        render.err.print("interrupted: nothing was written")
        raise typer.Exit(130) from None
    result = apply_context(result, PushContext(environment=environment), detect_context())
    output.mkdir(parents=True, exist_ok=True)
    path = output / result_file_name(result)
    write_atomic(path, result.to_json())
    written = [path]
    if emit_legacy:
        import orjson

        from bench_analytics.runner.legacy import legacy_patient_benchmark

        legacy = output / f"patient_benchmark_{result.model.key}.json"
        write_atomic(
            legacy,
            orjson.dumps(legacy_patient_benchmark(result, case_set), option=orjson.OPT_INDENT_2),
        )
        written.append(legacy)
    health = assess(result, settings.failure_threshold)
    summary = {
        "file": str(path),
        "files": [str(p) for p in written],
        "model": result.model.key,
        "prompt_version": result.prompt_version,
        "dataset_version": result.dataset.version,
        "cases": len(result.cases),
        "errors": errors,
        "status": health.status,
        "reason": health.reason,
        **{
            k: result.metrics.get(k)
            for k in (
                "f1",
                "precision",
                "recall",
                "latency_p50_ms",
                "cost_usd",
                "cost_per_detected_issue_usd",
            )
        },
    }
    if as_json and not push:
        render.emit_json(summary)
    elif not as_json:
        _print_summary(summary)
    if push:
        from bench_analytics.cli.ingest import push_and_report

        push_and_report([(path.name, result)], as_json=as_json)


def _print_summary(summary: dict) -> None:
    from bench_analytics.report import fmt_value

    for path in summary["files"]:
        render.out.print(f"wrote {path}")
    if summary["status"] == "failed":
        render.out.print(f"[bold red]run failed:[/] {summary['reason']}")
        return
    render.out.print(
        f"{summary['model']} on {summary['dataset_version']} ({summary['cases']} cases, "
        f"{summary['errors']} errors): F1 {fmt_value('f1', summary['f1'])}, precision "
        f"{fmt_value('precision', summary['precision'])}, recall "
        f"{fmt_value('recall', summary['recall'])}, median latency "
        f"{fmt_value('latency_ms', summary['latency_p50_ms'])}, cost "
        f"{fmt_value('cost_usd', summary['cost_usd'])}"
    )
