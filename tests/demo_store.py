"""The demo history in a database of its own, pushed once per test module (it takes a few
seconds) under the same isolation conftest gives each test."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

from bench_analytics.api import Bench
from bench_analytics.config import get_settings
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
