"""Hostile SQL through `bench-analytics sql --central`.

Two walls: the read-only rule refuses every function that sends SQL (or a connection) to
the server, and the store is attached as the unprivileged ``bench_reader_login`` role, so
even past the rule (the raw ``session.con``) the attached connection can only read.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import duckdb
import psycopg
import pytest

from bench_analytics import local
from bench_analytics.local import central
from bench_analytics.local.guard import ReadOnlyError, check_read_only
from tests.local_helpers import push_files, sample_runs, write_sample

SLEEP = 20  # seconds a hostile statement would sleep; refused ones return long before
ANNOTATE = (
    "INSERT INTO transaction_annotations (transaction_id, kind, reason, actor) "
    "SELECT min(id), 'note', 'hostile', 'x' FROM benchmark_transactions"
)


def _pg(sql: str) -> str:
    """``sql`` as a DuckDB string literal."""
    return "'" + sql.replace("'", "''") + "'"


@pytest.fixture
def victim(use_db: str) -> Iterator[psycopg.Connection]:
    """A concurrent session of the store's own (privileged) user, like a push in progress."""
    with psycopg.connect(use_db, autocommit=True) as conn:
        yield conn


@pytest.fixture
def pushed(store, tmp_path):
    """The test store with one run in it."""
    push_files(store, write_sample(tmp_path / "results", sample_runs()[:1]))
    return store


def _alive(conn: psycopg.Connection) -> bool:
    try:
        return conn.execute("SELECT 1").fetchone() == (1,)
    except psycopg.OperationalError:
        return False


def _refused(result, function: str) -> None:
    """Exit 2 with the guard's message: what, why, what to do instead; nothing printed."""
    assert result.code == 2, result
    assert f"calls {function}" in result.err, result
    assert "central.*" in result.err and "nothing was run" in result.err, result
    assert result.out == "", result


# --- the rule refuses them (CLI, real store) ---------------------------------------------


def test_terminating_a_push_through_postgres_query_is_refused(cli, pushed, victim):
    pid = victim.info.backend_pid
    hostile = f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE pid = {pid}"
    result = cli("sql", "--central", f"SELECT * FROM postgres_query('store', {_pg(hostile)})")
    _refused(result, "postgres_query")
    assert _alive(victim)


def test_advisory_lock_and_sleep_through_postgres_query_are_refused(cli, pushed, victim):
    hostile = f"SELECT pg_advisory_xact_lock(hashtextextended('cfg', 7)), pg_sleep({SLEEP})"
    start = time.monotonic()
    result = cli("sql", "--central", f"SELECT * FROM postgres_query('store', {_pg(hostile)})")
    elapsed = time.monotonic() - start
    _refused(result, "postgres_query")
    assert elapsed < SLEEP  # had it slept, this could not hold
    taken = victim.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'")
    assert taken.fetchone() == (0,)


def test_reading_a_server_file_through_postgres_query_is_refused(cli, pushed):
    hostile = "SELECT pg_read_file('postgresql.conf')"
    result = cli("sql", "--central", f"FROM postgres_query('store', {_pg(hostile)})")
    _refused(result, "postgres_query")


def test_reloading_the_configuration_through_postgres_query_is_refused(cli, pushed, victim):
    loaded = victim.execute("SELECT pg_conf_load_time()").fetchone()
    result = cli("sql", "--central", "FROM postgres_query('store', 'SELECT pg_reload_conf()')")
    _refused(result, "postgres_query")
    time.sleep(0.2)  # a reload, had one been sent, would have happened by now
    with psycopg.connect(victim.info.dsn) as fresh:  # a new backend sees the newest load
        assert fresh.execute("SELECT pg_conf_load_time()").fetchone() == loaded


@pytest.mark.parametrize(
    ("statement", "function"),
    [
        ("FROM postgres_query('store', 'SELECT 1')", "postgres_query"),
        ("SELECT * FROM POSTGRES_QUERY('store', 'SELECT 1')", "postgres_query"),
        ("""SELECT * FROM "postgres_query"('store', 'SELECT 1')""", "postgres_query"),
        ("SELECT * FROM system.main.postgres_query('store', 'SELECT 1')", "postgres_query"),
        ("SELECT * FROM postgres_query/* c */('store', 'SELECT 1')", "postgres_query"),
        ("WITH x AS (FROM postgres_query('store', 'SELECT 1')) FROM x", "postgres_query"),
        ("SELECT (SELECT count(*) FROM postgres_query('store', 'SELECT 1'))", "postgres_query"),
        (
            "FROM central.runs WHERE EXISTS (FROM postgres_query('store', 'SELECT 1'))",
            "postgres_query",
        ),
        (
            "SELECT [1].list_transform(x -> (FROM postgres_query('store', 'SELECT 1')))",
            "postgres_query",
        ),
        ("FROM central.runs, LATERAL (FROM postgres_query('store', 'SELECT 1'))", "postgres_query"),
        ("SUMMARIZE SELECT * FROM postgres_query('store', 'SELECT 1')", "postgres_query"),
        ("DESCRIBE SELECT * FROM postgres_query('store', 'SELECT 1')", "postgres_query"),
        ("EXPLAIN ANALYZE FROM postgres_query('store', 'SELECT 1')", "postgres_query"),
        ("EXPLAIN /* c */ ANALYZE FROM postgres_query('store', 'SELECT 1')", "postgres_query"),
        ("SELECT 1; FROM postgres_query('store', 'SELECT 1')", "postgres_query"),
        ("CALL postgres_execute('store', 'SELECT 1')", "postgres_execute"),
        ("FROM postgres_execute('store', 'SELECT 1')", "postgres_execute"),
        ("FROM postgres_scan('dbname=bench', 'public', 'benchmark_cases')", "postgres_scan"),
        (
            "FROM postgres_scan_pushdown('dbname=bench', 'public', 'benchmark_cases')",
            "postgres_scan_pushdown",
        ),
        ("FROM postgres_attach('dbname=bench')", "postgres_attach"),
        ("FROM postgres_configure_pool(catalog_name='store')", "postgres_configure_pool"),
        ("FROM query('FROM postgres_query(''store'', ''SELECT 1'')')", "query"),
        (
            "FROM json_execute_serialized_sql("
            "json_serialize_sql('FROM postgres_query(''store'', ''SELECT 1'')'))",
            "json_execute_serialized_sql",
        ),
        ("call POSTGRES_EXECUTE/* c */('store', 'SELECT 1')", "postgres_execute"),
    ],
)
def test_every_way_to_reach_the_server_is_refused(statement, function):
    with pytest.raises(ReadOnlyError) as refused:
        check_read_only(statement)
    assert refused.value.exit_code == 2
    assert f"calls {function}" in str(refused.value)
    assert "central.*" in str(refused.value)


def test_the_rule_refuses_calls_not_names():
    with pytest.raises(ReadOnlyError, match="calls postgres_query"):
        check_read_only("FROM postgres_query('store', 'SELECT 1')")
    for statement in (
        "SELECT 'postgres_query(''store'', ''x'')' AS text",
        "SELECT 1 AS query, 2 AS postgres_execute",
        "FROM central.runs",
        "FROM store.public.snapshot_events",
        "EXPLAIN FROM central.runs",
        "EXPLAIN ANALYZE SELECT 1",
        "PRAGMA table_info('runs')",
    ):
        assert len(check_read_only(statement)) == 1, statement


# --- past the rule: the attached connection itself cannot do harm ------------------------


def test_the_store_is_attached_as_the_reader_login(cli, pushed):
    result = cli("sql", "--central", "--format", "csv", "SELECT count(*) AS n FROM central.cases")
    assert result.code == 0, result
    assert result.out.split() == ["n", "12"] and "note:" not in result.err
    with local.connect(central=True) as session:
        who = session.con.execute(
            "FROM postgres_query('store', 'SELECT current_user AS c, session_user AS s')"
        ).fetchall()
        assert who == [(central.READER_LOGIN, central.READER_LOGIN)]
        assert session.central is not None and session.central.user == central.READER_LOGIN
        n = session.con.execute("SELECT count(*) FROM central.cases").fetchone()
        assert n == (12,)


def test_raw_connection_cannot_write(pushed):
    denied = pytest.raises(duckdb.Error, match="permission denied for table transaction_annotat")
    with local.connect(central=True) as session, denied:
        # past DuckDB's READ_ONLY and the read-only transaction: only privileges are left
        escaped = _pg(f"COMMIT; BEGIN READ WRITE; {ANNOTATE}; COMMIT")
        session.con.execute(f"CALL postgres_execute('store', {escaped})")
    count = pushed.conn.execute("SELECT count(*) FROM transaction_annotations").fetchone()
    assert count == (0,)


def test_raw_connection_cannot_terminate_another_backend(pushed, victim):
    pid = victim.info.backend_pid
    denied = pytest.raises(duckdb.Error, match="permission denied to terminate process")
    with local.connect(central=True) as session, denied:
        session.con.execute(f"FROM postgres_query('store', 'SELECT pg_terminate_backend({pid})')")
    assert _alive(victim)


def test_raw_connection_cannot_read_a_server_file(pushed):
    denied = pytest.raises(duckdb.Error, match="permission denied for function pg_read_file")
    with local.connect(central=True) as session, denied:
        session.con.execute(
            "FROM postgres_query('store', 'SELECT pg_read_file(''postgresql.conf'')')"
        )


def test_raw_connection_cannot_reload_the_configuration(pushed, victim):
    loaded = victim.execute("SELECT pg_conf_load_time()").fetchone()
    denied = pytest.raises(duckdb.Error, match="permission denied for function pg_reload_conf")
    with local.connect(central=True) as session, denied:
        session.con.execute("FROM postgres_query('store', 'SELECT pg_reload_conf()')")
    with psycopg.connect(victim.info.dsn) as fresh:
        assert fresh.execute("SELECT pg_conf_load_time()").fetchone() == loaded


def test_raw_connection_cannot_become_the_owner_again(pushed, victim):
    owner = victim.execute("SELECT current_user").fetchone()[0]
    with local.connect(central=True) as session:
        for escape in (f'SET ROLE "{owner}"', f'SET SESSION AUTHORIZATION "{owner}"'):
            with pytest.raises(duckdb.Error, match="permission denied to set"):
                session.con.execute(f"CALL postgres_execute('store', {_pg(escape)})")


def test_a_long_statement_on_the_attached_connection_is_cancelled(pushed, monkeypatch):
    with local.connect(central=True) as session:
        setting = session.con.execute(
            "FROM postgres_query('store', 'SELECT current_setting(''statement_timeout'') AS t')"
        ).fetchall()
        assert setting == [(central.STATEMENT_TIMEOUT,)]
    monkeypatch.setattr(central, "STATEMENT_TIMEOUT", "100ms")
    cancelled = pytest.raises(duckdb.Error, match="statement timeout")
    with local.connect(central=True) as session, cancelled:
        session.con.execute(f"FROM postgres_query('store', 'SELECT pg_sleep({SLEEP})')")


# --- when the role cannot be assumed ----------------------------------------------------


def _notices(**kwargs: object) -> tuple[list[str], str | None, list[tuple]]:
    notices: list[str] = []
    with local.connect(central=True, on_notice=notices.append, **kwargs) as session:  # type: ignore[arg-type]
        assert session.central is not None
        user = session.central.user
        rows = session.con.execute("SELECT count(*) FROM central.runs").fetchall()
        with pytest.raises(duckdb.Error, match="read-only transaction"):
            session.con.execute(f"CALL postgres_execute('store', {_pg(ANNOTATE)})")
    return notices, user, rows


def test_missing_reader_login_falls_back_with_a_notice(pushed, victim, monkeypatch):
    monkeypatch.setattr(central, "READER_LOGIN", "bench_no_such_login")
    notices, user, rows = _notices()
    assert rows == [(1,)]
    assert user == victim.execute("SELECT current_user").fetchone()[0]
    assert len(notices) == 1 and "bench_no_such_login does not exist" in notices[0]
    assert "read-only transactions" in notices[0]


def test_reader_login_that_cannot_log_in_falls_back_with_a_notice(pushed, victim, monkeypatch):
    victim.execute(
        """DO $$ BEGIN
               CREATE ROLE bench_reader_full LOGIN CONNECTION LIMIT 0 IN ROLE bench_reader;
           EXCEPTION WHEN duplicate_object THEN NULL; END $$"""
    )
    monkeypatch.setattr(central, "READER_LOGIN", "bench_reader_full")
    notices, user, rows = _notices()
    assert rows == [(1,)]
    assert user == victim.execute("SELECT current_user").fetchone()[0]
    assert len(notices) == 1 and "cannot log in as bench_reader_full" in notices[0]
    assert "too many connections" in notices[0]


def test_an_unprivileged_configured_user_is_used_as_it_is(pushed, use_db, victim):
    victim.execute(
        """DO $$ BEGIN
               CREATE ROLE bench_hostile_reader LOGIN IN ROLE bench_reader;
           EXCEPTION WHEN duplicate_object THEN NULL; END $$"""
    )
    reader = psycopg.conninfo.make_conninfo(use_db, user="bench_hostile_reader")
    notices: list[str] = []
    with local.connect(central=True, store_url=reader, on_notice=notices.append) as session:
        assert session.central is not None and session.central.user == "bench_hostile_reader"
        assert session.con.execute("SELECT count(*) FROM central.runs").fetchall() == [(1,)]
    assert notices == []
