"""Local SQL (library) with the store: --central views, fallback copies, pull to Parquet."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import duckdb
import psycopg
import pytest

from bench_analytics import local
from bench_analytics.config import get_settings
from bench_analytics.errors import UsageError
from bench_analytics.fixtures import DEMO_START
from bench_analytics.local.columns import HISTORY
from tests.local_helpers import MISSING_EXTENSION, push_files, sample_runs, write_sample
from tests.local_helpers import plain as _plain

# --- the store, pulled warehouses, the same answer everywhere -----------------------------------

COMPARED = {
    "runs": "* EXCLUDE (run_key, transaction_id, content_sha256, pushed_at)",
    # jsonb orders object keys its own way: compare what the details say, not their text
    "cases": "* EXCLUDE (run_key, transaction_id, details), "
    "json_extract_string(details, '$.expected[*].type') AS expected",
    "metrics": "* EXCLUDE (run_key, transaction_id)",
}


def _differences(session, left: str, right: str, view: str) -> list[tuple]:
    cols = COMPARED[view]
    sql = (
        f"(select {cols} from {left}{view} except all select {cols} from {right}{view}) "
        f"union all (select {cols} from {right}{view} except all select {cols} from {left}{view})"
    )
    return _plain(session, sql)


def test_same_query_on_files_pulled_parquet_and_central(store, tmp_path):
    paths = write_sample(tmp_path / "results")
    push_files(store, paths)
    pulled = local.pull(tmp_path / "warehouse")
    assert (pulled.runs, pulled.cases) == (4, 48)
    query = (
        "select model, status, status_reason, count(*) as n, sum(case_count) as cases, "
        "round(sum(f1), 12) as f1 from runs group by all order by all"
    )
    files = local.query(query, [tmp_path / "results"])
    warehouse = local.query(query, [tmp_path / "warehouse"])
    central = local.query(query.replace("from runs", "from central.runs"), central=True)
    assert files.equals(warehouse) and files.equals(central)
    assert "12/12 cases failed: HTTP 503: down" in set(files["status_reason"])
    with local.connect([tmp_path / "results"], central=True) as session:
        for view in COMPARED:
            assert _differences(session, "", "central.", view) == [], view
    with local.connect([tmp_path / "warehouse"], central=True) as session:
        for view in ("runs", "cases", "metrics", "history", "current_snapshots"):
            diff = f"select * from {view} except all select * from central.{view}"
            assert _plain(session, diff) == [], view
        assert session.con.sql("select * from history").columns == [n for n, _ in HISTORY]


def test_central_join_as_in_the_example(store, tmp_path):
    paths = write_sample(tmp_path / "results")
    push_files(store, paths)
    frame = local.query(
        "select r.model, r.f1, c.f1 as current_f1 from runs r "
        "join central.current_snapshots c using (model) order by 1",
        [tmp_path / "results"],
        central=True,
    )
    assert frame["model"].tolist() == ["medgemma", "openai"]  # the others failed: no current
    assert (frame["f1"] == frame["current_f1"]).all()


def test_central_falls_back_to_copies_when_the_extension_cannot_load(store, tmp_path, capsys):
    paths = write_sample(tmp_path / "results")
    push_files(store, paths)
    notices: list[str] = []
    missing = tmp_path / MISSING_EXTENSION
    capsys.readouterr()
    with (
        local.connect(central=True, extension=missing) as copied,
        local.connect(central=True) as attached,
    ):
        assert (copied.central.mode, attached.central.mode) == ("copy", "extension")
        for view in ("runs", "cases", "metrics", "current_snapshots"):
            sql = f"select * from central.{view} order by all"
            assert copied.arrow(sql).equals(attached.arrow(sql)), view
    default = capsys.readouterr().err  # without on_notice, the notice goes to stderr
    assert default.count("postgres extension is not available") == 1
    with local.connect(
        central=True, extension=tmp_path / MISSING_EXTENSION, on_notice=notices.append
    ) as session:
        assert session.central.mode == "copy"
        assert _plain(session, "select count(*) from central.runs") == [(4,)]
        assert session.central.loaded == {"transaction_state"}  # only what the query needed
    assert len(notices) == 1 and "postgres extension is not available" in notices[0]
    assert "postgres extension" not in capsys.readouterr().err  # collected, not printed


def test_raw_store_tables_in_copy_mode_are_loaded_or_refused(store, tmp_path):
    push_files(store, write_sample(tmp_path / "results"))
    with local.connect(central=True, extension=tmp_path / MISSING_EXTENSION) as session:
        assert _plain(session, "select count(*) from store.public.benchmark_cases") == [(48,)]
        assert _plain(session, "select count(*) from memory.central.metrics")[0][0] > 0
        with pytest.raises(UsageError, match="snapshot_events is only reachable through"):
            session.query("select * from store.public.snapshot_events")


def test_central_fallback_from_the_environment(store, tmp_path, monkeypatch, capsys):
    push_files(store, write_sample(tmp_path / "results", sample_runs()[:1]))
    monkeypatch.setenv("BENCH_DUCKDB_POSTGRES_EXTENSION", str(tmp_path / MISSING_EXTENSION))
    get_settings.cache_clear()  # settings are read once per process
    frame = local.query("select count(*) as n from central.cases", central=True)
    assert frame["n"].tolist() == [12]
    assert "copying the store's tables" in capsys.readouterr().err


def test_central_is_read_only_even_past_the_rule(store, tmp_path):
    """The raw connection skips the rule; DuckDB's READ_ONLY and the server still refuse."""
    push_files(store, write_sample(tmp_path / "results", sample_runs()[:1]))
    with local.connect(central=True) as session:
        with pytest.raises(duckdb.Error, match="read-only mode"):
            session.con.execute(
                "insert into store.public.transaction_annotations "
                "(transaction_id, kind, reason, actor) values (1, 'note', 'x', 'y')"
            )
        with pytest.raises(duckdb.Error, match="read-only transaction"):
            session.con.execute(
                "select * from postgres_execute('store', 'create table zz (a int)')"
            )
    count = store.conn.execute("select count(*) from transaction_annotations").fetchone()
    assert count == (0,)


def test_central_password_stays_out_of_duckdb(store, tmp_path):
    from bench_analytics.local.central import libpq_dsn

    dsn, password = libpq_dsn("postgresql://reader:s3cret@db.example:5433/bench?sslmode=require")
    assert password == "s3cret" and "s3cret" not in dsn
    assert "default_transaction_read_only=on" in dsn and "port=5433" in dsn
    with local.connect(central=True) as session:
        paths = _plain(session, "select path from duckdb_databases() where database_name='store'")
    assert "default_transaction_read_only" in paths[0][0]


def test_central_needs_a_schema(empty_db_url, monkeypatch):
    monkeypatch.setenv("BENCH_DATABASE_URL", empty_db_url)
    with pytest.raises(UsageError, match="holds no bench-analytics schema"):
        local.connect(central=True)


# --- pull -------------------------------------------------------------------------------------


def _cases_files(warehouse: Path) -> list[str]:
    return sorted(str(p.relative_to(warehouse)) for p in warehouse.glob("cases/**/*.parquet"))


def test_pull_layout_is_plain_hive_parquet(store, tmp_path):
    push_files(store, write_sample(tmp_path / "results"))
    local.pull(tmp_path / "warehouse")
    warehouse = tmp_path / "warehouse"
    assert _cases_files(warehouse) == [
        "cases/model=baseline/month=2026-10/pull-000001-0000-0.parquet",
        "cases/model=gemini/month=2026-10/pull-000001-0000-0.parquet",
        "cases/model=medgemma/month=2026-11/pull-000001-0000-0.parquet",
        "cases/model=openai/month=2026-10/pull-000001-0000-0.parquet",
    ]
    plain = duckdb.connect()
    got = plain.sql(
        f"select model, month, count(*) from read_parquet('{warehouse}/cases/**/*.parquet', "
        "hive_partitioning=true) group by all order by all"
    ).fetchall()
    assert got == [
        ("baseline", "2026-10", 12),
        ("gemini", "2026-10", 12),
        ("medgemma", "2026-11", 12),
        ("openai", "2026-10", 12),
    ]
    runs = plain.sql(
        f"select count(*) from read_parquet('{warehouse}/runs/**/*.parquet', "
        "hive_partitioning=true)"
    ).fetchall()
    assert runs == [(4,)]
    manifest = json.loads((warehouse / "manifest.json").read_text())
    assert manifest["format"] == "bench-analytics/warehouse"
    metrics = store.conn.execute("select count(*) from benchmark_metrics").fetchone()[0]
    assert manifest["rows"] == {"runs": 4, "cases": 48, "metrics": metrics, "history": 4}
    assert manifest["last_transaction_id"] == 4 and manifest["since"] is None


def test_pull_is_incremental(store, tmp_path):
    runs = sample_runs()
    paths = write_sample(tmp_path / "results", runs)
    push_files(store, paths[:2])
    first = local.pull(tmp_path / "warehouse")
    before = _cases_files(tmp_path / "warehouse")
    push_files(store, paths[2:])
    second = local.pull(tmp_path / "warehouse")
    third = local.pull(tmp_path / "warehouse")
    assert (first.runs, first.cases) == (2, 24)
    assert (second.runs, second.cases, second.last_transaction_id) == (2, 24, 4)
    assert (third.runs, third.cases) == (0, 0)
    after = _cases_files(tmp_path / "warehouse")
    assert set(before) < set(after) and all("pull-000002" in f for f in set(after) - set(before))
    manifest = json.loads((tmp_path / "warehouse" / "manifest.json").read_text())
    assert [p["transactions"] for p in manifest["pulls"]] == [2, 2, 0]
    assert manifest["rows"]["cases"] == 48 and manifest["last_transaction_id"] == 4
    assert local.query("select count(*) as n from cases", [tmp_path / "warehouse"])["n"][0] == 48


def test_pull_reflects_quarantine_and_pointer_moves(store, tmp_path):
    push_files(store, write_sample(tmp_path / "results"))
    local.pull(tmp_path / "warehouse")
    store.quarantine(1, reason="endpoint outage", actor="test")
    local.pull(tmp_path / "warehouse")
    status = local.query(
        "select effective_status, status from runs where transaction_id = 1",
        [tmp_path / "warehouse"],
    )
    assert status.values.tolist() == [["quarantined", "healthy"]]


def test_pull_picks_up_a_push_that_committed_late(store, use_db, tmp_path):
    from bench_analytics.store.push import push_run

    early, late = sample_runs()[:2]
    slow = psycopg.connect(use_db)  # a push still in flight while the pull runs
    slow.execute("select 1")  # an open transaction: push_run's block becomes a savepoint
    push_run(slow, early, source="slow", failure_threshold=store.settings.failure_threshold)
    store.push([("fast", late)])
    first = local.pull(tmp_path / "warehouse")
    manifest = json.loads((tmp_path / "warehouse" / "manifest.json").read_text())
    assert first.runs == 1 and list(manifest["pending_ids"]) == ["1"]
    slow.commit()
    slow.close()
    second = local.pull(tmp_path / "warehouse")
    manifest = json.loads((tmp_path / "warehouse" / "manifest.json").read_text())
    assert second.runs == 1 and manifest["pending_ids"] == {}
    frame = local.query("select transaction_id from runs order by 1", [tmp_path / "warehouse"])
    assert frame["transaction_id"].tolist() == [1, 2]


def test_pull_since_only_widens(store, tmp_path):
    push_files(store, write_sample(tmp_path / "results"))
    now = DEMO_START + timedelta(days=50)
    first = local.pull(tmp_path / "warehouse", since="15d", now=now)
    assert first.runs == 1  # only the November run
    kept = local.pull(tmp_path / "warehouse", now=now)
    assert kept.runs == 0 and kept.since == first.since
    wider = local.pull(tmp_path / "warehouse", since="all", now=now)
    assert wider.runs == 3 and wider.since is None
    frame = local.query("select count(*) as n from runs", [tmp_path / "warehouse"])
    assert frame["n"].tolist() == [4]


def test_pull_through_the_fallback_writes_the_same_warehouse(store, tmp_path):
    push_files(store, write_sample(tmp_path / "results"))
    copied = local.pull(
        tmp_path / "copied", extension=tmp_path / MISSING_EXTENSION, on_notice=lambda _: None
    )
    attached = local.pull(tmp_path / "attached")
    assert copied.mode == "copy" and attached.mode == "extension"
    assert _cases_files(tmp_path / "copied") == _cases_files(tmp_path / "attached")
    with local.connect([tmp_path / "copied"]) as a, local.connect([tmp_path / "attached"]) as b:
        for view in ("runs", "cases", "metrics", "history"):
            sql = f"select * from {view} order by all"
            assert a.arrow(sql).equals(b.arrow(sql)), view


def test_pull_cleans_what_a_dead_pull_left(store, tmp_path):
    push_files(store, write_sample(tmp_path / "results", sample_runs()[:1]))
    local.pull(tmp_path / "warehouse")
    orphan = (
        tmp_path / "warehouse" / "cases" / "model=x" / "month=2026-01" / "pull-000009-0.parquet"
    )
    orphan.parent.mkdir(parents=True)
    orphan.write_bytes(b"half written")
    (tmp_path / "warehouse" / "_staging" / "pull-000009").mkdir(parents=True)
    local.pull(tmp_path / "warehouse")
    assert not orphan.exists() and not (tmp_path / "warehouse" / "_staging").exists()
    assert local.query("select count(*) as n from cases", [tmp_path / "warehouse"])["n"][0] == 12


def test_pull_refuses_bad_targets_and_input(store, tmp_path, pg_server):
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "notes.txt").write_text("mine")
    with pytest.raises(UsageError, match="holds no warehouse manifest"):
        local.pull(tmp_path / "full")
    with pytest.raises(UsageError, match="since 'yesterday'"):
        local.pull(tmp_path / "new", since="yesterday")
    assert not (tmp_path / "new").exists()
    push_files(store, write_sample(tmp_path / "results", sample_runs()[:1]))
    local.pull(tmp_path / "warehouse")
    from tests.conftest import _new_database

    other = _new_database(pg_server, "bench_template")
    from bench_analytics.store import Store

    with Store.open(other) as second:
        push_files(second, write_sample(tmp_path / "other", sample_runs()[1:2]))
    with pytest.raises(UsageError, match="pulled from another store"):
        local.pull(tmp_path / "warehouse", store_url=other)
