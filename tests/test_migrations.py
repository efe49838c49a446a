"""Alembic migrations shipped in the package: applied on first use, safely, once."""

from __future__ import annotations

import subprocess
import sys

import psycopg
import pytest
from alembic.script import ScriptDirectory

from bench_analytics.errors import StoreUnavailableError
from bench_analytics.store import Store, schema
from bench_analytics.store.queries import STORE_TABLES


def test_revision_list_matches_the_alembic_scripts(empty_db_url):
    scripts = ScriptDirectory.from_config(schema.alembic_config(empty_db_url))
    ordered = [rev.revision for rev in reversed(list(scripts.walk_revisions()))]
    assert tuple(ordered) == schema.REVISIONS
    assert scripts.get_current_head() == schema.HEAD_REVISION


def test_first_use_creates_the_schema(empty_db_url):
    with psycopg.connect(empty_db_url) as conn:
        assert schema.current_revision(conn) is None
    with Store.open(empty_db_url) as store:
        assert schema.current_revision(store.conn) == schema.HEAD_REVISION
        tables = {
            row[0]
            for row in store.conn.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
            )
        }
    assert {
        *STORE_TABLES,
        "current_snapshots",
        "snapshot_history",
    } <= tables


def test_upgrade_is_idempotent(empty_db_url):
    with Store.open(empty_db_url, migrate=False) as store:
        assert store.upgrade() == (None, schema.HEAD_REVISION)
        assert store.upgrade() == (schema.HEAD_REVISION, schema.HEAD_REVISION)


FIRST_USE = """
import sys, time
from pathlib import Path
from bench_analytics.store import Store, schema
go = Path(sys.argv[2])
while not go.exists():
    time.sleep(0.005)
with Store.open(sys.argv[1], migrate=False) as store:
    before, after = schema.upgrade(store.conn, sys.argv[1])
print(before, after)
"""


def test_concurrent_first_use_migrates_once(empty_db_url, tmp_path):
    """Six processes open an empty store at the same moment: exactly one migrates it."""
    go = tmp_path / "go"
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", FIRST_USE, empty_db_url, str(go)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(6)
    ]
    go.touch()
    reports = []
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        reports.append(out.split())
    head = schema.HEAD_REVISION
    assert reports.count(["None", head]) == 1  # one process found it empty and migrated
    assert reports.count([head, head]) == 5  # the others waited and found it done


def test_unknown_newer_revision_is_refused(db_url):
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute("UPDATE alembic_version SET version_num = '9999'")
    with pytest.raises(StoreUnavailableError, match="upgrade bench-analytics"):
        Store.open(db_url)


def test_reader_role_can_only_read(db_url):
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute("SET ROLE bench_reader")
        conn.execute("SELECT count(*) FROM current_snapshots").fetchone()
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute(
                "INSERT INTO transaction_annotations (transaction_id, kind, reason, actor) "
                "VALUES (1, 'note', 'x', 'y')"
            )


def test_upgrade_from_the_first_revision_keeps_data(empty_db_url):
    with Store.open(empty_db_url, migrate=False) as store:
        store.conn.execute("SELECT 1")
        schema.upgrade(store.conn, empty_db_url, target="0001")
        assert schema.current_revision(store.conn) == "0001"
        store.conn.execute(
            "INSERT INTO benchmark_transactions (content_sha256, model_key, dataset_version, "
            "prompt_version, benchmark_type, environment, status, case_count, error_count, "
            "source_format, document) VALUES (repeat('a', 64), 'm', 'd', 'p', 'x', 'local', "
            "'healthy', 0, 0, 'native', '{}')"
        )
    with Store.open(empty_db_url) as store:
        assert schema.current_revision(store.conn) == schema.HEAD_REVISION
        rows = store.status().rows
        assert rows is not None
        assert rows["benchmark_transactions"] == 1 and rows["gate_verdicts"] == 0
