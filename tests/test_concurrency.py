"""Concurrent pushers (separate processes) against one configuration lose and duplicate nothing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import timedelta

import psycopg
import pytest

from bench_analytics.fixtures import DEMO_START, simulate_run, synthetic_patients, write_results

pytestmark = pytest.mark.slow


def _spawn(paths, db_url, tmp_path):
    env = {**os.environ, "BENCH_DATABASE_URL": db_url, "BENCH_CONNECT_ATTEMPTS": "5"}
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "bench_analytics", "push", str(path), "--json"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            cwd=tmp_path,
        )
        for path in paths
    ]
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=180)
        assert proc.returncode == 0, err
        results.extend(json.loads(out))
    return results


def test_sixteen_concurrent_pushers_one_configuration(db_url, tmp_path):
    patients = synthetic_patients(20, seed=11)
    runs = [
        simulate_run("medgemma", patients, commit=f"{i:040x}", when=DEMO_START + timedelta(hours=i))
        for i in range(16)
    ]
    paths = write_results(runs, tmp_path / "results")
    outcomes = _spawn(paths, db_url, tmp_path)

    assert len(outcomes) == 16 and all(o["created"] for o in outcomes)
    assert sorted(o["version"] for o in outcomes) == list(range(1, 17))
    assert len({o["transaction_id"] for o in outcomes}) == 16
    with psycopg.connect(db_url) as conn:
        versions = conn.execute(
            "SELECT version FROM benchmark_snapshots ORDER BY version"
        ).fetchall()
        assert [v for (v,) in versions] == list(range(1, 17))
        current = conn.execute(
            "SELECT t.commit_sha FROM benchmark_snapshots s "
            "JOIN benchmark_transactions t ON t.id = s.transaction_id WHERE s.is_current"
        ).fetchall()
        assert current == [(f"{15:040x}",)]  # the newest run, whatever order they landed in
        assert conn.execute("SELECT count(*) FROM benchmark_transactions").fetchone()[0] == 16
        assert conn.execute("SELECT count(*) FROM benchmark_cases").fetchone()[0] == 16 * 20
        assert conn.execute("SELECT count(*) FROM snapshot_events").fetchone()[0] == 16


def test_concurrent_pushes_of_the_same_content_store_it_once(db_url, tmp_path):
    run = simulate_run("openai", synthetic_patients(10, seed=2))
    [path] = write_results([run], tmp_path / "one")
    copies = []
    for i in range(6):
        copy = tmp_path / f"copy-{i}.json"
        copy.write_bytes(path.read_bytes())
        copies.append(copy)
    outcomes = _spawn(copies, db_url, tmp_path)
    assert len({o["transaction_id"] for o in outcomes}) == 1
    assert sum(o["created"] for o in outcomes) == 1
    with psycopg.connect(db_url) as conn:
        assert conn.execute("SELECT count(*) FROM benchmark_transactions").fetchone()[0] == 1
        assert conn.execute("SELECT count(*) FROM benchmark_snapshots").fetchone()[0] == 1
