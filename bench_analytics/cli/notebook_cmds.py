"""``ingest-notebook``: the ingest notebook under papermill, as CI runs it."""

from __future__ import annotations

import os
from pathlib import Path

import typer

from bench_analytics.cli import render
from bench_analytics.cli.app import app, examples
from bench_analytics.errors import EXIT_OK


@app.command(
    "ingest-notebook",
    epilog=examples(
        "bench-analytics ingest-notebook --input-glob 'benchmarks/results/*.json'",
        "bench-analytics ingest-notebook --input-glob 'artifacts/**/*.json' "
        "--environment github-actions --run-id 1234 --fail-on-regression",
        "bench-analytics ingest-notebook --input-glob 'runs/*.json' --baseline pinned "
        "--reports-dir out/",
        "bench-analytics ingest-notebook --input-glob 'artifacts/**/*.json' --check-only   "
        "[dim](a pull request: gate, store nothing)[/]",
    ),
)
def ingest_notebook(
    input_glob: str = typer.Option(
        ..., "--input-glob", "-i", help="Result files to ingest; ** spans folders (quote it)."
    ),
    environment: str = typer.Option(
        "", "--environment", "-e", help="Environment of the runs; empty: from files, CI or git."
    ),
    commit_sha: str = typer.Option("", "--commit-sha", help="Commit the results came from."),
    branch: str = typer.Option("", "--branch", help="Branch the results came from."),
    run_id: str = typer.Option("", "--run-id", help="CI run id (also names the report files)."),
    baseline: str = typer.Option(
        "current",
        "--baseline",
        help="Gate against: current, previous, pinned, tx:ID, model@N or a result file.",
    ),
    check_only: bool = typer.Option(
        False, "--check-only", help="Gate without storing (a pull request's results)."
    ),
    fail_on_regression: bool = typer.Option(
        False, "--fail-on-regression", help="Exit 1 on a significant regression of a gated metric."
    ),
    database_url_env: str = typer.Option(
        "BENCH_DATABASE_URL",
        "--database-url-env",
        help="Variable that holds the store URL (unset: the embedded store; in CI: validate only).",
    ),
    reports_dir: Path = typer.Option(
        Path("reports"), "--reports-dir", help="Where the executed notebook, HTML and verdict go."
    ),
    notebook: Path | None = typer.Option(
        None, "--notebook", help="Another ingest notebook with the same parameters."
    ),
) -> None:
    """Run the ingest notebook with papermill: validate, push, gate, report.

    Writes the executed notebook, its HTML rendering, verdict.md (for a job summary or a
    pull-request comment) and ingest.json under --reports-dir. Exit code: 0 ok,
    1 regression (with --fail-on-regression), 2 bad input (nothing stored),
    3 store unreachable, 4 any other failure. In CI without a store URL the files are
    validated, nothing is stored, and the exit code is 0 with a warning.
    """
    from bench_analytics.notebooks import IngestParameters, run_ingest

    parameters = IngestParameters(
        input_glob=input_glob,
        environment=environment,
        commit_sha=commit_sha,
        branch=branch,
        run_id=run_id,
        baseline=baseline,
        persist=not check_only,
        fail_on_regression=fail_on_regression,
        database_url_env=database_url_env,
    )
    with render.spinner("running the ingest notebook"):
        outcome = run_ingest(parameters, reports_dir, notebook=notebook)
    if outcome.headline:
        render.line(outcome.headline)
    if outcome.warning:
        _warn(outcome.warning)
    render.line(f"notebook: {_shown(outcome.notebook)} ({outcome.seconds:.1f} s)")
    if outcome.html:
        render.line(f"html:     {_shown(outcome.html)}")
    if outcome.verdict:
        render.line(f"verdict:  {_shown(outcome.verdict)}")
    if outcome.exit_code != EXIT_OK:
        render.error(outcome.error or "the ingest notebook failed")
        raise typer.Exit(outcome.exit_code)


def _warn(message: str) -> None:
    """A warning; on GitHub Actions also an annotation on the run's page."""
    if os.environ.get("GITHUB_ACTIONS") == "true":
        print(f"::warning title=bench-analytics::{message}", flush=True)
    render.warning(message)


def _shown(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)
