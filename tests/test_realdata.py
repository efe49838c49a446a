"""The old system's real result files (BENCH_REALDATA=../shared/realdata): read, refuse, push."""

from __future__ import annotations

import json
from collections import Counter

import psycopg
import pytest

from bench_analytics.formats import read_batch
from tests.conftest import REALDATA

pytestmark = [
    pytest.mark.realdata,
    pytest.mark.skipif(
        REALDATA is None, reason="set BENCH_REALDATA to the shared real-data folder"
    ),
]


@pytest.fixture(scope="module")
def seed_batch():
    assert REALDATA is not None
    return read_batch([REALDATA / "seed-results"])


def test_38_result_files_read_and_10_are_refused(seed_batch):
    read_files = {path.name for path, _ in seed_batch.runs}
    refused = {path.name: error for path, error in seed_batch.refused}
    assert len(read_files) == 38
    assert len(refused) == 10
    kinds = Counter(run.provenance.source_format for _, run in seed_batch.runs)
    per_file = {path.name: run.provenance.source_format for path, run in seed_batch.runs}
    assert Counter(per_file.values()) == {
        "seed-documents": 26,
        "seed-patients": 8,
        "seed-monitoring": 1,
        "supabase-export": 3,
    }
    assert kinds["supabase-export"] == 34 + 47 + 47
    reasons = Counter()
    for name, error in refused.items():
        text = error.render()
        if "merge-conflict" in text:
            reasons["conflict"] += 1
        elif "looks like text" in text:
            reasons["text table"] += 1
        elif "holds 2 results but declares 16" in text:
            reasons["truncated"] += 1
        elif "dashboard summary" in text:
            reasons["dashboard"] += 1
        assert name in text
    assert reasons == {"conflict": 3, "text table": 1, "truncated": 1, "dashboard": 5}


def test_exports_hold_47_distinct_transactions(seed_batch):
    exported = [
        run for _, run in seed_batch.runs if run.provenance.source_format == "supabase-export"
    ]
    assert len({run.provenance.legacy_id for run in exported}) == 47
    assert len({run.content_sha256() for run in exported}) == 47


def test_push_everything_then_again(cli, use_db):
    assert REALDATA is not None
    first = cli("push", REALDATA / "seed-results", "--skip-invalid", "--json")
    assert first.code == 2, first.err  # the valid files are stored; the refused ones said so
    assert first.err.count("refused ") == 10  # 4 summaries, 3 conflicts, text, truncated, …
    outcomes = json.loads(first.out)
    assert sum(o["created"] for o in outcomes) == 26 + 8 + 1 + 47
    with psycopg.connect(use_db) as conn:
        assert (
            conn.execute(
                "SELECT count(*) FROM benchmark_transactions "
                "WHERE source_format = 'supabase-export'"
            ).fetchone()[0]
            == 47
        )
        names = {
            row[0]
            for row in conn.execute(
                "SELECT DISTINCT model_display_name FROM benchmark_transactions "
                "WHERE model_key = 'baseline'"
            )
        }
        assert {"Heuristic Baseline", "baseline-v1.0", "baseline"} <= names
        failed = conn.execute(
            "SELECT count(*) FROM benchmark_transactions WHERE status = 'failed'"
        ).fetchone()[0]
        assert failed > 0
        # a failed run is never current
        assert (
            conn.execute(
                "SELECT count(*) FROM current_snapshots WHERE status = 'failed'"
            ).fetchone()[0]
            == 0
        )
        # history order follows the runs: versions rise with run time in every configuration
        rows = conn.execute(
            "SELECT model_key, dataset_version, prompt_version, environment, version, "
            "run_finished_at FROM snapshot_history ORDER BY 1, 2, 3, 4, 5"
        ).fetchall()
    by_config: dict = {}
    for *config, _version, when in rows:
        by_config.setdefault(tuple(config), []).append(when)
    for times in by_config.values():
        dated = [t for t in times if t is not None]
        assert dated == sorted(dated)
    again = json.loads(cli("push", REALDATA / "seed-results", "--skip-invalid", "--json").out)
    assert sum(o["created"] for o in again) == 0


def test_convert_every_readable_file(cli, tmp_path):
    assert REALDATA is not None
    result = cli("convert", REALDATA / "seed-results", "--skip-invalid", "-o", tmp_path / "native")
    assert result.code == 2 and result.err.count("refused ") == 10, result.err
    assert len(list((tmp_path / "native").glob("*.json"))) == 26 + 8 + 1 + 47
