"""Stores for tests: the demo history in a database of its own, pushed once per test module
(it takes a few seconds) under the same isolation conftest gives each test; small histories
with known run times, and the intervals stored with their runs."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from bench_analytics.api import Bench
from bench_analytics.config import get_settings
from bench_analytics.fixtures import DEMO_START, simulate_run, synthetic_patients
from tests.conftest import _new_database


def database_name(url: str) -> str:
    """'t_123_4' of 'postgresql://postgres:@/t_123_4?host=…'."""
    return url.split("?")[0].rsplit("/", 1)[1]


def demo_database(pg_server: str, commits: int = 10) -> str:
    """A new database holding ``Bench.demo(commits=commits)``; returns its URL."""
    home = Path(tempfile.mkdtemp(prefix="bench-demo-store-"))
    try:
        with pytest.MonkeyPatch.context() as mp:
            for name in list(os.environ):
                if name.startswith(("BENCH_", "GITHUB_")) or name == "CI":
                    mp.delenv(name)
            mp.setenv("BENCH_HOME", str(home / ".bench"))
            mp.chdir(home)
            get_settings.cache_clear()
            url = _new_database(pg_server, "bench_template")
            with Bench(url) as bench:
                bench.demo(commits=commits)
    finally:
        get_settings.cache_clear()
        shutil.rmtree(home, ignore_errors=True)
    return url


# --- small histories with known run times, and their intervals -----------------------

PATIENTS = synthetic_patients(40, seed=21)


def run_after(model: str = "openai", hours: float = 0, patients=PATIENTS, **kwargs):
    """A run of ``model`` that started ``hours`` after DEMO_START (a distinct commit)."""
    return simulate_run(
        model,
        patients,
        commit=f"{int(hours * 60):040x}",
        when=DEMO_START + timedelta(hours=hours),
        **kwargs,
    )


def transaction_ids(report) -> list[int]:
    return [o.transaction_id for o in report.outcomes]


def stored_intervals(bench: Bench, transaction_id: int) -> dict[str, tuple]:
    """metric -> (value, low, high, method, n) as stored at push."""
    found = bench.store().conn.execute(
        "SELECT metric, value, low, high, method, n FROM run_intervals WHERE transaction_id = %s",
        (transaction_id,),
    )
    return {row[0]: row[1:] for row in found}


def shown_intervals(bench: Bench, run) -> dict[str, tuple]:
    """metric -> (value, low, high, method, n) as ``show`` gives them (a stored id or a run)."""
    ref = f"tx:{run}" if isinstance(run, int) else run
    return {e.metric: (e.value, e.low, e.high, e.method, e.n) for e in bench.show(ref).estimates}


# --- fixtures (a plugin: tests/conftest.py registers this module) -----------------------


@pytest.fixture(scope="module")
def demo_template(pg_server: str) -> str:
    """The name of a database holding the demo history (a template: never connected to),
    pushed once per test module."""
    return database_name(demo_database(pg_server))


@pytest.fixture
def demo(pg_server: str, demo_template: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Bench]:
    """A Bench on a fresh copy of the demo history, which BENCH_DATABASE_URL names too (for
    the CLI in-process and the notebooks' kernels)."""
    url = _new_database(pg_server, demo_template)
    monkeypatch.setenv("BENCH_DATABASE_URL", url)
    get_settings.cache_clear()
    with Bench(url) as bench:
        yield bench
