"""Sample runs and helpers shared by the local-SQL tests."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from bench_analytics.fixtures import DEMO_START, simulate_run, synthetic_patients, write_results
from bench_analytics.formats import read_file
from bench_analytics.model import RunResult

MISSING_EXTENSION = "missing/postgres_scanner.duckdb_extension"


def sample_runs() -> list[RunResult]:
    """Four small runs: two months, an outage, a run above the failure threshold."""
    patients = synthetic_patients(12, seed=5)
    return [
        simulate_run("openai", patients, when=DEMO_START),
        simulate_run("medgemma", patients, when=DEMO_START + timedelta(days=40)),
        simulate_run(
            "gemini", patients, when=DEMO_START + timedelta(days=1), outage="HTTP 503: down"
        ),
        simulate_run("baseline", patients, when=DEMO_START + timedelta(days=2), error_rate=0.7),
    ]


def write_sample(directory: Path, runs: list[RunResult] | None = None) -> list[Path]:
    return write_results(runs or sample_runs(), directory)


def push_files(store, paths: list[Path]) -> None:
    """Push files as `bench-analytics push` does (read with the readers, then stored)."""
    store.push([(str(path), run) for path in paths for run in read_file(path)])


def plain(session, sql: str) -> list[tuple]:
    table = session.arrow(sql)
    columns = [table.column(i).to_pylist() for i in range(table.num_columns)]
    return list(zip(*columns, strict=True))
