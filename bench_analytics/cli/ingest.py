"""Commands that read result files: convert, push, schema."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from bench_analytics.cli import render
from bench_analytics.cli.app import FORMAT_HELP, app, examples, open_store, read_options
from bench_analytics.errors import EXIT_STORE_UNREACHABLE, BadInputError, UsageError
from bench_analytics.files import result_file_name, write_atomic

if TYPE_CHECKING:
    from bench_analytics.formats import Batch

InputsArg = typer.Argument(..., help="Result files or directories (every *.json below).")
FormatOpt = typer.Option("auto", "--format", "-f", help=FORMAT_HELP)
ModelOpt = typer.Option(None, "--model", "-m", help="Stable model key to use (overrides the file).")
DatasetOpt = typer.Option(
    None, "--dataset-version", help="Dataset version to use (overrides the derived one)."
)
SkipOpt = typer.Option(False, "--skip-invalid", help="Skip refused files instead of stopping.")


def _progress(total: int, label: str):
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    return Progress(
        TextColumn(f"[bold]{label}"),
        BarColumn(),
        MofNCompleteColumn(),
        console=render.err,
        transient=True,
        disable=total < 2,
    )


def read_inputs(
    inputs: list[Path], fmt: str, model: str | None, dataset_version: str | None, skip: bool
) -> Batch:
    """Read every input with a progress bar; refusals stop the batch unless ``skip``."""
    from bench_analytics.formats import expand_inputs, read_batch

    options = read_options(model, dataset_version)
    files = expand_inputs(inputs)
    with _progress(len(files), "reading") as progress:
        task = progress.add_task("read", total=len(files))
        batch = read_batch(files, fmt, options, on_file=lambda _: progress.advance(task))
    for _path, error in batch.refused:
        render.err.print(f"[red]refused[/] {error.render()}", markup=True, soft_wrap=True)
    if batch.refused and not skip:
        raise BadInputError(
            f"{len(batch.refused)} of {len(files)} files",
            "refused; nothing was written",
            hint="fix them, or pass --skip-invalid to go on without them",
        )
    if not batch.runs:
        raise BadInputError(", ".join(map(str, inputs)), "no valid results to use")
    return batch


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
    batch = read_inputs(inputs, fmt, model, dataset_version, skip_invalid)
    runs = [run for _, run in batch.runs]
    if output.suffix == ".json" and not output.is_dir():
        if len(runs) != 1:
            raise UsageError(f"the inputs hold {len(runs)} results; give a directory as --output")
        output.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(output, runs[0].to_json())
        render.out.print(f"wrote {output}")
        return
    output.mkdir(parents=True, exist_ok=True)
    names = {result_file_name(run): run for run in runs}  # equal content, one file
    for name, run in names.items():
        write_atomic(output / name, run.to_json())
    render.out.print(f"wrote {len(names)} result files to {output}/")


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
    A run whose endpoint failed is stored as failed and never becomes current.
    """
    from bench_analytics.config import get_settings, running_in_ci
    from bench_analytics.context import PushContext, apply_context, detect_context

    batch = read_inputs(inputs, fmt, model, dataset_version, skip_invalid)
    if running_in_ci() and get_settings().database_url is None:
        message = "BENCH_DATABASE_URL is not set in CI: results were validated but not stored"
        if require_store:
            render.err.print(f"[red]error:[/] {message} (--require-store)")
            raise typer.Exit(EXIT_STORE_UNREACHABLE)
        render.err.print(f"[yellow]warning:[/] {message}")
        return
    split_tags = [t.strip() for tag in tags for t in tag.split(",") if t.strip()] if tags else None
    flags = PushContext(
        environment=environment,
        commit_sha=commit_sha,
        branch=branch,
        run_id=run_id,
        triggered_by=triggered_by,
        tags=tuple(split_tags) if split_tags is not None else None,
        notes=notes,
    )
    defaults = detect_context()
    runs = [(path.name, apply_context(run, flags, defaults)) for path, run in batch.runs]
    push_and_report(runs, force=force, as_json=as_json)


def push_and_report(runs: list, *, force: bool = False, as_json: bool = False) -> list:
    """Push (source, run) pairs with a progress bar, alert, and print the outcome."""
    with open_store() as store, _progress(len(runs), "pushing") as progress:
        task = progress.add_task("push", total=len(runs))
        outcomes = store.push(runs, on_each=lambda _: progress.advance(task), force=force)
    _send_alerts(outcomes)
    if as_json:
        render.emit_json([o.as_dict() for o in outcomes])
        return outcomes
    render.out.print(render.push_table(outcomes))
    for o in outcomes:
        if o.regressions:
            render.out.print(f"[bold red]{o.source}:[/] {o.event_reason}")
    created = sum(o.created for o in outcomes)
    held = sum(o.created and not o.current for o in outcomes)
    render.out.print(
        f"{created} new, {len(outcomes) - created} unchanged, {held} held "
        f"(failed or older than current)"
    )
    return outcomes


def _send_alerts(outcomes: list) -> None:
    """One alert per regression verdict or failed run of this push; failures reported."""
    from bench_analytics.config import get_settings

    settings = get_settings()
    if not settings.alert_urls:
        return
    from bench_analytics.alerts import default_link, failure_alert, regression_alerts, send

    link = default_link(settings.link)
    alerts = []
    for o in outcomes:
        if not o.created:
            continue
        subject = f"{o.model_key} on {o.dataset_version} / {o.prompt_version} / {o.environment}"
        if o.status == "failed":
            alerts.append(failure_alert(subject, o.status_reason, o.commit_sha, link))
        alerts.extend(regression_alerts(subject, o.regressions, o.baseline, o.commit_sha, link))
    for failure in send(alerts, settings.alert_urls):
        render.err.print(f"[yellow]alert not delivered:[/] {failure}")


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
        render.out.print(f"wrote {output}")
    else:
        typer.echo(text, nl=False)
