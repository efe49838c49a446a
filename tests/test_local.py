"""Local SQL (library): views over files, warehouses and the store; read-only rule; pull."""

from __future__ import annotations

import io
import json
from datetime import timedelta
from pathlib import Path

import duckdb
import psycopg
import pytest
from rich.console import Console

from bench_analytics import local
from bench_analytics.config import get_settings
from bench_analytics.errors import BadInputError, UsageError
from bench_analytics.fixtures import DEMO_START, simulate_run, synthetic_patients, write_results
from bench_analytics.formats import read_file
from bench_analytics.health import assess
from bench_analytics.local.columns import CASES, HISTORY, METRICS, RUNS
from bench_analytics.local.guard import ReadOnlyError, SqlError
from bench_analytics.local.output import cell, resolve_format
from bench_analytics.local.shell import run_shell
from bench_analytics.model import DatasetRef, ModelRef, RunResult
from tests import samples

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


def _plain(session, sql: str) -> list[tuple]:
    table = session.arrow(sql)
    columns = [table.column(i).to_pylist() for i in range(table.num_columns)]
    return list(zip(*columns, strict=True))


# --- views over files ----------------------------------------------------------------------


def test_views_over_native_files(tmp_path):
    paths = write_sample(tmp_path / "results")
    with local.connect([tmp_path / "results"]) as session:
        assert session.con.sql("select * from runs").columns == [n for n, _ in RUNS]
        assert session.con.sql("select * from cases").columns == [n for n, _ in CASES]
        assert session.con.sql("select * from metrics").columns == [n for n, _ in METRICS]
        runs = _plain(session, "select run_key, model, case_count from runs order by run_key")
        assert [r[0] for r in runs] == sorted(str(p) for p in paths)
        assert {r[1] for r in runs} == {"openai", "medgemma", "gemini", "baseline"}
        assert _plain(session, "select count(*), count(distinct run_key) from cases") == [(48, 4)]
        joined = _plain(
            session,
            "select r.model, count(*) from runs r join cases c using (run_key) "
            "where c.status = 'error' group by 1 order by 1",
        )
        assert dict(joined)["gemini"] == 12
        units = dict(_plain(session, "select name, unit || '/' || direction from metrics"))
        assert units["f1"] == "fraction/higher" and units["latency_ms"] == "ms/lower"
        assert session.tables() == [("main", "cases"), ("main", "metrics"), ("main", "runs")]


def _aggregate_only(declared: int | None, reported: int | None, outage: str | None = None):
    return RunResult(
        model=ModelRef(key="agg"),
        dataset=DatasetRef(version="v1", declared_cases=declared),
        prompt_version="p",
        reported_errors=reported,
        outage_evidence=outage,
        metrics={"f1": 0.5, "some_new_metric": 3.0},
    )


@pytest.mark.parametrize("threshold", [0.5, 0.2])
def test_native_status_in_sql_equals_the_health_rule(tmp_path, threshold):
    runs = [
        *sample_runs(),
        _aggregate_only(0, None),
        _aggregate_only(10, 4),
        _aggregate_only(8, 1, outage="endpoint returned nothing"),
        _aggregate_only(None, None),
    ]
    folder = tmp_path / "results"
    for index, run in enumerate(runs):
        folder.mkdir(exist_ok=True)
        (folder / f"r{index}.json").write_bytes(run.to_json())
    with local.connect([folder], threshold=threshold) as session:
        got = _plain(
            session,
            "select status, status_reason, case_count, error_count from runs order by run_key",
        )
    expected = []
    for run in runs:
        health = assess(run, threshold)
        expected.append((health.status, health.reason, health.case_count, health.error_count))
    assert got == expected
    assert {row[0] for row in got} == {"healthy", "failed"}


def test_unknown_metrics_keep_unknown_unit(tmp_path):
    (tmp_path / "a.json").write_bytes(_aggregate_only(5, 0).to_json())
    with local.connect([tmp_path / "a.json"]) as session:
        got = _plain(session, "select name, unit, direction from metrics order by name")
    assert got == [("f1", "fraction", "higher"), ("some_new_metric", "unknown", "unknown")]


def test_views_over_old_format_files_use_the_readers(tmp_path):
    folder = tmp_path / "artifacts"
    samples.write(folder / "aggregated_metrics_openai.json", samples.document_results())
    samples.write(folder / "patient_benchmark_medgemma.json", samples.patient_results())
    rows_ = [
        samples.export_row(f"id-{i}", f"2026-02-05T0{i}:00:00+00:00", "baseline") for i in range(2)
    ]
    samples.write(folder / "nested" / "export.json", rows_)
    write_sample(folder / "native", sample_runs()[:1])
    with local.connect([str(folder / "**" / "*.json")]) as session:
        runs = _plain(session, "select run_key, model, source_format, status from runs")
        cases = _plain(session, "select model, count(*) from cases group by 1 order by 1")
        metric = _plain(session, "select value from metrics where name = 'json_validity_rate'")
    keys = {r[0] for r in runs}
    export = str(folder / "nested" / "export.json")
    assert {f"{export}#1", f"{export}#2"} <= keys
    formats = {r[1]: r[2] for r in runs}
    assert formats["openai"] == "seed-documents" and formats["medgemma"] == "seed-patients"
    assert dict(cases) == {"medgemma": 3, "openai": 4 + 12}
    assert metric == [(0.75,)]  # the percent field became a fraction, as push does


def test_a_bad_old_format_file_is_refused_with_its_name(tmp_path):
    samples.write(tmp_path / "x" / "summary.json", samples.dashboard_summary())
    with pytest.raises(BadInputError, match=r"summary\.json: not a known result format"):
        local.connect([tmp_path / "x"])


def test_a_malformed_native_file_names_the_file(tmp_path):
    (tmp_path / "r.json").write_text('{"schema": "bench-analytics/result", "model": {')
    with local.connect([tmp_path]) as session, pytest.raises(SqlError, match=r"r\.json"):
        session.query("select count(*) from cases")


def test_default_path_and_empty_paths(tmp_path, monkeypatch):
    with local.connect() as session:  # ./benchmarks/results does not exist
        assert _plain(session, "select 42") == [(42,)]
        with pytest.raises(BadInputError, match=r"looked for benchmarks/results/\*\*/\*\.json"):
            session.query("select count(*) from runs")
    write_sample(tmp_path / "benchmarks" / "results", sample_runs()[:2])
    assert local.query("select count(*) as n from runs")["n"].tolist() == [2]
    (tmp_path / "empty").mkdir()
    with pytest.raises(BadInputError, match=r"looked for .*empty/\*\*/\*\.json"):
        local.connect([tmp_path / "empty"])
    with pytest.raises(BadInputError, match="no such file or directory"):
        local.connect([tmp_path / "nowhere"])
    with pytest.raises(BadInputError, match="no files match this pattern"):
        local.connect([str(tmp_path / "empty" / "*.json")])


# --- read-only rule and errors ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("statement", "kind"),
    [
        ("insert into runs values (1)", "INSERT"),
        ("update runs set f1 = 1", "UPDATE"),
        ("delete from runs", "DELETE"),
        ("create table t as select 1", "CREATE"),
        ("create view v as select 1", "CREATE"),
        ("drop view runs", "DROP"),
        ("alter view runs rename to r2", "ALTER"),
        ("copy runs to 'out.csv'", "COPY"),
        ("copy (select 1) to 'out.csv'", "COPY"),
        ("attach 'other.db'", "ATTACH"),
        ("detach store", "DETACH"),
        ("install httpfs", "LOAD"),
        ("load 'x.duckdb_extension'", "LOAD"),
        ("set threads = 1", "SET"),
        ("pragma memory_limit = '1GB'", "SET"),
        ("use store", "SET"),
        ("export database 'out'", "EXPORT"),
        ("import database 'nowhere'", "cannot be checked"),
        ("vacuum", "VACUUM"),
        ("reset threads", "SET"),
        ("checkpoint", "CALL"),
        ("begin transaction", "TRANSACTION"),
        ("prepare p as select 1", "PREPARE"),
        ("explain analyze create table t as select 1", "CREATE"),
        ("select 1; drop view runs", "DROP"),
        ("select * from postgres_execute('store', 'drop table x')", "postgres_execute"),
    ],
)
def test_statements_that_write_are_refused_before_anything_runs(tmp_path, statement, kind):
    write_sample(tmp_path / "results", sample_runs()[:1])
    with local.connect([tmp_path / "results"]) as session:
        with pytest.raises(ReadOnlyError, match=kind) as refused:
            session.query(statement)
        assert refused.value.exit_code == 2
        assert _plain(session, "select count(*) from runs") == [(1,)]
        assert session.tables() == [("main", "cases"), ("main", "metrics"), ("main", "runs")]
    assert not (tmp_path / "out.csv").exists() and not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    "statement",
    [
        "select 1",
        "with x as (select 1 as a) select a from x",
        "from runs",
        "values (1), (2)",
        "show tables",
        "describe runs",
        "summarize runs",
        "explain select * from runs",
        "pragma table_info('runs')",
        "select * from runs; select * from cases",
    ],
)
def test_queries_are_allowed(tmp_path, statement):
    write_sample(tmp_path / "results", sample_runs()[:1])
    with local.connect([tmp_path / "results"]) as session:
        assert session.arrow(statement).num_rows >= 1


def test_sql_errors_keep_duckdbs_position(tmp_path):
    write_sample(tmp_path / "results", sample_runs()[:1])
    with local.connect([tmp_path / "results"]) as session:
        with pytest.raises(SqlError) as parse:
            session.query("select * form runs")
        with pytest.raises(SqlError) as bind:
            session.query("select 1;\nselect nope from runs")
    assert "syntax error" in str(parse.value) and "LINE 1: select * form runs" in str(parse.value)
    message = str(bind.value)
    assert "statement 2 of 2" in message and 'column "nope" not found' in message
    assert "LINE 2: select nope from runs" in message and "^" in message


def test_empty_sql_is_refused(tmp_path):
    with local.connect() as session, pytest.raises(SqlError, match="no SQL statement"):
        session.query("  -- nothing\n")


# --- the store, pulled warehouses, the same answer everywhere -----------------------------------

COMPARED = {
    "runs": "* EXCLUDE (run_key, transaction_id, content_sha256, pushed_at)",
    "cases": "* EXCLUDE (run_key, transaction_id, details), details->>'expected' AS expected",
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


def test_central_falls_back_to_copies_when_the_extension_cannot_load(store, tmp_path):
    paths = write_sample(tmp_path / "results")
    push_files(store, paths)
    notices: list[str] = []
    missing = tmp_path / MISSING_EXTENSION
    with (
        local.connect(central=True, extension=missing) as copied,
        local.connect(central=True) as attached,
    ):
        assert (copied.central.mode, attached.central.mode) == ("copy", "extension")
        for view in ("runs", "cases", "metrics", "current_snapshots"):
            sql = f"select * from central.{view} order by all"
            assert copied.arrow(sql).equals(attached.arrow(sql)), view
    assert notices == []  # default notices go to stderr; now collect them
    with local.connect(
        central=True, extension=tmp_path / MISSING_EXTENSION, on_notice=notices.append
    ) as session:
        assert session.central.mode == "copy"
        assert _plain(session, "select count(*) from central.runs") == [(4,)]
        assert session.central.loaded == {"transaction_state"}  # only what the query needed
    assert len(notices) == 1 and "postgres extension is not available" in notices[0]


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
    push_run(slow, early, settings=store.settings, source="slow")
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
    with pytest.raises(UsageError, match="--since 'yesterday'"):
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


# --- shell, output helpers ----------------------------------------------------------------------


def test_shell_runs_statements_and_keeps_history(tmp_path):
    write_sample(tmp_path / "results", sample_runs()[:2])
    buffer = io.StringIO()
    console = Console(file=buffer, width=120, color_system=None)
    history = tmp_path / "home" / "sql_history"
    lines = [
        ".tables",
        "select count(*) as n_runs",
        "from runs;",
        ".schema cases",
        "selec 1;",
        "drop view runs;",
        ".bogus",
        "select 'after an error' as still;",
        ".quit",
        "select 'never' as x;",
    ]
    with local.connect([tmp_path / "results"]) as session:
        run_shell(session, console, history=history, lines=lines)
    text = buffer.getvalue()
    assert "runs" in text and "n_runs" in text and "case_id" in text
    assert "syntax error" in text and "not read-only" in text and "unknown command" in text
    assert "after an error" in text and "never" not in text
    saved = history.read_text()
    assert "select count(*) as n_runs from runs;" in saved and ".tables" in saved


def test_output_helpers():
    assert resolve_format(None, None) == "table"
    assert resolve_format(None, Path("x.csv")) == "csv"
    assert resolve_format("JSON", Path("x.txt")) == "json"
    with pytest.raises(UsageError, match="add -o"):
        resolve_format("parquet", None)
    with pytest.raises(UsageError, match="choose one of"):
        resolve_format("xml", None)
    assert cell(None) == "NULL" and cell(True) == "true" and cell(0.12345678) == "0.123457"
    assert cell(["a", 1]) == '["a", 1]'
