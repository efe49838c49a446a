"""Commands that read result files: convert, push, schema."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.text import Text

from bench_analytics.cli import render
from bench_analytics.cli.app import FORMAT_HELP, app, examples, open_bench
from bench_analytics.errors import EXIT_BAD_INPUT

if TYPE_CHECKING:
    from bench_analytics.api import PushReport, Refusal

InputsArg = typer.Argument(..., help="Result files or directories (every *.json below).")
FormatOpt = typer.Option("auto", "--format", "-f", help=FORMAT_HELP)
ModelOpt = typer.Option(None, "--model", "-m", help="Stable model key to use (overrides the file).")
DatasetOpt = typer.Option(
    None, "--dataset-version", help="Dataset version to use (overrides the derived one)."
)
SkipOpt = typer.Option(
    False, "--skip-invalid", help="Store the valid files, list the refused ones (exit 2)."
)


def report_refusals(refused: Sequence[Refusal]) -> None:
    """One line per refused file (what is wrong, where)."""
    for refusal in refused:
        render.err.print(Text.assemble(("refused ", "red"), refusal.error), soft_wrap=True)


@app.command(
    epilog=examples(
        "bench-analytics convert results/aggregated_metrics_openai.json -o openai.json",
        "bench-analytics convert supabase_export.json -o converted/",
        "bench-analytics convert old_results/ --skip-invalid -o converted/",
    )
)
def convert(
    inputs: list[Path] = InputsArg,
    output: Path = typer.Option(
        ..., "--output", "-o", help="A .json file (one result) or a directory."
    ),
    fmt: str = FormatOpt,
    model: str | None = ModelOpt,
    dataset_version: str | None = DatasetOpt,
    skip_invalid: bool = SkipOpt,
) -> None:
    """Turn any supported result file into the project's own format (see `schema`)."""
    with open_bench() as bench:
        done = bench.convert(
            inputs,
            output,
            format=fmt,
            model=model,
            dataset_version=dataset_version,
            skip_invalid=skip_invalid,
        )
    report_refusals(done.refused)
    if output.suffix == ".json" and len(done.written) == 1 and not output.is_dir():
        render.line(f"wrote {done.written[0]}")
    else:
        render.line(f"wrote {len(done.written)} result files to {output}/")
    if done.refused:
        raise typer.Exit(EXIT_BAD_INPUT)


@app.command(
    epilog=examples(
        "bench-analytics push benchmarks/results/",
        "bench-analytics push new.json --environment github-actions --tags nightly,gpu",
        "bench-analytics push supabase_export.json --json",
    )
)
def push(
    inputs: list[Path] = InputsArg,
    fmt: str = FormatOpt,
    model: str | None = ModelOpt,
    dataset_version: str | None = DatasetOpt,
    environment: str | None = typer.Option(
        None, help="Environment (default: the file's, else github-actions in CI, else local)."
    ),
    commit_sha: str | None = typer.Option(None, help="Commit (default: GITHUB_SHA or git HEAD)."),
    branch: str | None = typer.Option(None, help="Branch (default: GITHUB_REF_NAME or git)."),
    run_id: str | None = typer.Option(None, help="CI run id (default: GITHUB_RUN_ID)."),
    triggered_by: str | None = typer.Option(
        None, help="Actor (default: GITHUB_ACTOR or git user)."
    ),
    tags: list[str] | None = typer.Option(None, help="Tags; repeat or separate with commas."),
    notes: str | None = typer.Option(None, help="Free text stored with the run."),
    skip_invalid: bool = SkipOpt,
    require_store: bool = typer.Option(
        False, help="In CI without BENCH_DATABASE_URL, fail (exit 3) instead of warning."
    ),
    force: bool = typer.Option(
        False, help="Make the run current even when the gate finds a significant regression."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the outcome as JSON."),
) -> None:
    """Validate, normalise and store results: one atomic transaction per result.

    Pushing the same content again changes nothing and reports the stored transaction.
    A run whose endpoint failed is stored as failed and never becomes current. A batch is
    all or nothing: one refused file stores none, unless --skip-invalid.
    """
    from bench_analytics.context import PushContext

    split = [t.strip() for tag in tags for t in tag.split(",") if t.strip()] if tags else None
    context = PushContext(
        environment=environment,
        commit_sha=commit_sha,
        branch=branch,
        run_id=run_id,
        triggered_by=triggered_by,
        tags=tuple(split) if split is not None else None,
        notes=notes,
    )
    with open_bench() as bench, render.progress(None, "push", always=True) as bar:
        reading = bar.add_task("reading", total=None)
        pushing = bar.add_task("pushing", total=None, visible=False)
        report = bench.push(
            inputs,
            format=fmt,
            model=model,
            dataset_version=dataset_version,
            context=context,
            skip_invalid=skip_invalid,
            force=force,
            require_store=require_store,
            on_file=lambda _: bar.advance(reading),
            on_push=lambda _: bar.update(pushing, advance=1, visible=True),
        )
    show_push(report, as_json=as_json)
    render.keep_until_exit(report)
    if report.refused:
        raise typer.Exit(EXIT_BAD_INPUT)


def show_push(report: PushReport, *, as_json: bool = False) -> None:
    """Print what a push did: refusals, warnings, the table, held regressions, alerts."""
    from bench_analytics.cli.tables import print_push

    report_refusals(report.refused)
    if report.warning:
        render.warning(report.warning)
    for failure in report.alert_failures:
        render.err.print(Text.assemble(("alert not delivered: ", "yellow"), failure))
    if as_json:
        render.emit_json(report.as_dict()["pushed"])
        return
    if not report.stored:
        return
    print_push(report)
    render.line(
        f"{report.created} new, {len(report.pushed) - report.created} unchanged, "
        f"{report.held} held (failed, older than current, or regressed)"
        + (f"; {len(report.refused)} refused" if report.refused else "")
    )


@app.command(
    epilog=examples("bench-analytics schema", "bench-analytics schema -o result.schema.json")
)
def schema(
    output: Path | None = typer.Option(None, "--output", "-o", help="Write to a file."),
) -> None:
    """Print the JSON Schema of the project's result format."""
    from bench_analytics.schema import schema_text

    text = schema_text()
    if output:
        output.write_text(text, encoding="utf-8")
        render.line(f"wrote {output}")
    else:
        typer.echo(text, nl=False)
