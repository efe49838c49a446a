"""``--central``: the store, read-only, as views in schema ``central`` of the DuckDB session.

The store is attached through DuckDB's postgres extension, loaded offline from the
``duckdb-extension-postgres-scanner`` wheel (never ``INSTALL``), as catalog ``store``:
``READ_ONLY`` on DuckDB's side; on the server's, as the login role ``bench_reader_login``
(a member of ``bench_reader``: SELECT on the store, no other privilege), in read-only
transactions with a statement timeout. The configured user is used instead when it has no
write or server privileges itself; when it has and the reader login cannot be used (no
such role: migration 0003 not applied; no password for it in ``~/.pgpass``), one line
says so and the configured user is attached with read-only transactions only. Its
password goes into a temporary DuckDB secret, so it never shows in ``duckdb_databases()``.
When the extension cannot load (``BENCH_DUCKDB_POSTGRES_EXTENSION`` names another file, a
platform without the wheel …) one line says so and the relations the query needs are copied
through psycopg instead (``extract.py``); the views are the same SQL in both modes.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from bench_analytics.errors import UsageError
from bench_analytics.local.columns import CASES, HISTORY, METRICS, RUNS, literal, select_list
from bench_analytics.local.columns import passthrough as _passthrough

if TYPE_CHECKING:
    import duckdb

    from bench_analytics.store import Store

CATALOG = "store"
READER_ROLE = "bench_reader"  # SELECT on every table and view of the store (migration 0001)
READER_LOGIN = "bench_reader_login"  # LOGIN, member of READER_ROLE (migration 0003)
STATEMENT_TIMEOUT = "10min"  # bounds pg_sleep, lock waits and runaway scans on the server
IDLE_IN_TRANSACTION_TIMEOUT = "10min"  # a forgotten open transaction holds its locks
# roles whose privileges reach past the tables (signal backends, read or write server files)
_SERVER_ROLES = (
    "pg_signal_backend",
    "pg_read_server_files",
    "pg_write_server_files",
    "pg_execute_server_program",
)
_POWERS = f"""
SELECT r.rolname, r.rolname = current_user, r.rolcanlogin,
       r.rolsuper OR r.rolcreaterole OR r.rolbypassrls
       OR has_table_privilege(r.oid, 'public.benchmark_transactions', 'INSERT')
       OR EXISTS (SELECT 1 FROM pg_roles p
                  WHERE p.rolname IN ({", ".join(f"'{role}'" for role in _SERVER_ROLES)})
                    AND pg_has_role(r.oid, p.oid, 'USAGE')),
       EXISTS (SELECT 1 FROM pg_roles b
               WHERE b.rolname = '{READER_ROLE}' AND pg_has_role(r.oid, b.oid, 'USAGE'))
FROM pg_roles r WHERE r.rolname IN (current_user, %s)
"""
SCHEMA = "central"
VIEWS = ("runs", "cases", "metrics", "history", "current_snapshots")
NEEDS = {
    "runs": ("transaction_state",),
    "cases": ("transaction_state", "benchmark_cases"),
    "metrics": ("transaction_state", "benchmark_metrics"),
    "history": ("snapshot_history",),
    "current_snapshots": ("snapshot_history",),
}
_P = f"{CATALOG}.public"
_VIEWS_AT = {("", SCHEMA), ("memory", SCHEMA)}  # how a query can name the central views
_RUN_AT = "coalesce({a}.run_finished_at, {a}.run_started_at, {a}.pushed_at)"


def extension_file(explicit: str | Path | None = None) -> Path:
    """The extension file: the argument, else BENCH_DUCKDB_POSTGRES_EXTENSION, else the wheel's."""
    from bench_analytics.config import get_settings

    if explicit:
        return Path(explicit)
    configured = get_settings().duckdb_postgres_extension
    if configured:
        return Path(configured)
    import duckdb
    import duckdb_extension_postgres_scanner as wheel

    folder = Path(wheel.__file__).parent / "extensions"
    exact = folder / f"v{duckdb.__version__}" / "postgres_scanner.duckdb_extension"
    return exact if exact.is_file() else next(folder.glob("*/*.duckdb_extension"), exact)


def _quote(value: str) -> str:
    if value and not any(ch in value for ch in " '\\"):
        return value
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def libpq_dsn(url: str, *, user: str | None = None) -> tuple[str, str | None]:
    """(key=value connection string without the password, password) for a read-only session:
    read-only transactions, statement and idle-in-transaction timeouts. With ``user``, as
    that user and without the URL's password (libpq may find one in ``~/.pgpass``)."""
    from psycopg.conninfo import conninfo_to_dict

    params = {k: str(v) for k, v in conninfo_to_dict(url).items() if v is not None}
    password = params.pop("password", None)
    if user is not None:
        params["user"], password = user, None
    session = (
        "-c default_transaction_read_only=on"
        f" -c statement_timeout={STATEMENT_TIMEOUT}"
        f" -c idle_in_transaction_session_timeout={IDLE_IN_TRANSACTION_TIMEOUT}"
    )
    params["options"] = f"{params['options']} {session}" if params.get("options") else session
    return " ".join(f"{key}={_quote(value)}" for key, value in params.items()), password


def _context(alias: str) -> dict[str, str]:
    return {
        "run_key": f"CAST({alias}.transaction_id AS VARCHAR)",
        "transaction_id": f"{alias}.transaction_id",
        "model": "t.model_key",
        "dataset_version": "t.dataset_version",
        "prompt_version": "t.prompt_version",
        "environment": "t.environment",
        "run_at": _RUN_AT.format(a="t"),
    }


def view_sql() -> dict[str, str]:
    """The SQL of each central view over ``store.public``."""
    runs = _passthrough(RUNS, "t")
    runs.update(
        run_key="CAST(t.id AS VARCHAR)",
        transaction_id="t.id",
        model="t.model_key",
        run_at=_RUN_AT.format(a="t"),
    )
    cases = {**_passthrough(CASES, "c"), **_context("c"), "details": "CAST(c.details AS JSON)"}
    metrics = {**_passthrough(METRICS, "m"), **_context("m")}
    history = _passthrough(HISTORY, "h")
    history.update(
        model="h.model_key",
        run_key="CAST(h.transaction_id AS VARCHAR)",
        run_at=_RUN_AT.format(a="h"),
    )
    join = "JOIN {p}.transaction_state t ON t.id = {a}.transaction_id"
    return {
        "runs": f"SELECT {select_list(RUNS, runs)} FROM {_P}.transaction_state t",
        "cases": f"SELECT {select_list(CASES, cases)} FROM {_P}.benchmark_cases c "
        + join.format(p=_P, a="c"),
        "metrics": f"SELECT {select_list(METRICS, metrics)} FROM {_P}.benchmark_metrics m "
        + join.format(p=_P, a="m"),
        "history": f"SELECT {select_list(HISTORY, history)} FROM {_P}.snapshot_history h",
        "current_snapshots": f"SELECT * FROM {SCHEMA}.history WHERE is_current",
    }


def _roles(store: Store) -> tuple[str, bool, bool]:
    """(configured user, whether it holds more than SELECT, whether the reader login is a
    plain reader: may log in, reads through bench_reader, holds nothing more)."""
    rows = store.conn.execute(_POWERS, (READER_LOGIN,)).fetchall()
    configured = next(name for name, me, *_ in rows if me)
    privileged = any(power for _, me, _, power, _ in rows if me)
    login = any(
        can_login and reader and not power
        for name, _, can_login, power, reader in rows
        if name == READER_LOGIN
    )
    return configured, privileged, login


def _login_failure(error: Exception) -> str:
    """The server's reason in DuckDB's "Unable to connect to Postgres at ..." message."""
    text = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    reason = text.rsplit(" failed: ", 1)[-1]
    return " ".join(reason.split())


def _stderr(line: str) -> None:
    print(line, file=sys.stderr)


class Central:
    """The store attached to a DuckDB connection, by extension or by copy."""

    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        store: Store,
        *,
        extension: str | Path | None = None,
        on_notice: Callable[[str], None] | None = None,
    ) -> None:
        from bench_analytics.store import schema

        if schema.current_revision(store.conn) is None:
            raise UsageError(
                f"the store at {store.display_url} holds no bench-analytics schema yet: "
                "push results first (or run `bench-analytics db upgrade`)"
            )
        self.con = con
        self.store = store
        self.user: str | None = None  # the server role the store is attached as
        self.loaded: set[str] = set()
        self.notice = on_notice or _stderr
        self.mode = self._attach(extension_file(extension))
        con.execute(f"CREATE SCHEMA {SCHEMA}")
        for name, sql in view_sql().items():
            con.execute(f"CREATE VIEW {SCHEMA}.{name} AS {sql}")

    def _attach(self, extension: Path) -> str:
        import duckdb

        try:
            self.con.execute(f"LOAD {literal(str(extension))}")
            self._attach_store()
            return "extension"
        except (duckdb.Error, ImportError) as exc:
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            self.notice(
                f"note: DuckDB's postgres extension is not available ({reason}); "
                "copying the store's tables into DuckDB instead"
            )
        from bench_analytics.local.extract import create_tables

        self.con.execute(f"ATTACH ':memory:' AS {CATALOG}")
        create_tables(self.con, CATALOG)
        return "copy"

    def _attach_store(self) -> None:
        """ATTACH the store as the reader login, or as the configured user when that one is
        unprivileged already or the login cannot be used (then with a notice)."""
        import duckdb

        configured, privileged, login = _roles(self.store)
        if not privileged:
            self._attach_as(None)
            self.user = configured
            return
        if login:
            try:
                self._attach_as(READER_LOGIN)
                return
            except duckdb.Error as exc:
                why = f"cannot log in as {READER_LOGIN} ({_login_failure(exc)})"
                hint = f"give {READER_LOGIN} a password in ~/.pgpass"
        else:
            why = f"role {READER_LOGIN} does not exist on the store (or is not a plain reader)"
            hint = "apply the migrations to create it"
        self.notice(
            f"note: {why}, so the store is attached as {configured}, a privileged role, "
            f"with read-only transactions only; {hint} (see docs/local-sql.md)"
        )
        self._attach_as(None)
        self.user = configured

    def _attach_as(self, user: str | None) -> None:
        """ATTACH the store READ_ONLY as ``user`` (None: the configured user, password in a
        temporary secret)."""
        dsn, password = libpq_dsn(self.store.url, user=user)
        secret = ""
        if password:
            self.con.execute(
                "CREATE OR REPLACE TEMPORARY SECRET _bench_store "
                f"(TYPE postgres, PASSWORD {literal(password)})"
            )
            secret = ", SECRET _bench_store"
        self.con.execute(f"ATTACH {literal(dsn)} AS {CATALOG} (TYPE postgres, READ_ONLY{secret})")
        self.user = user

    def ensure_for(self, refs: set[tuple[str, str, str]] | None) -> None:
        """In copy mode, load what a statement's table references need (all when unknown)."""
        if self.mode != "copy":
            return
        if refs is None:
            self.ensure()
            return
        from bench_analytics.local.extract import RELATIONS, copy_relations

        raw = {name for catalog, _, name in refs if catalog == CATALOG}
        missing = sorted(raw - set(RELATIONS))
        if missing:
            raise UsageError(
                f"{CATALOG}.public.{missing[0]} is only reachable through DuckDB's postgres "
                "extension, which is not loaded here; use the central.* views"
            )
        self.ensure({name for catalog, schema, name in refs if (catalog, schema) in _VIEWS_AT})
        if raw - self.loaded:
            copy_relations(self.store.conn, self.con, CATALOG, sorted(raw - self.loaded))
            self.loaded |= raw

    def ensure(self, views: Iterable[str] | None = None, ids: Sequence[int] | None = None) -> None:
        """In copy mode, load what the views need (cases and metrics only of ``ids``)."""
        if self.mode != "copy":
            return
        from bench_analytics.local.extract import copy_relations

        wanted = VIEWS if views is None else [v for v in views if v in NEEDS]
        names = {name for view in wanted for name in NEEDS[view]} - self.loaded
        per_run = {"benchmark_cases", "benchmark_metrics"}
        whole = sorted(names - per_run if ids is not None else names)
        filtered = sorted(names & per_run) if ids is not None else []
        if whole:
            copy_relations(self.store.conn, self.con, CATALOG, whole)
        if filtered:
            copy_relations(self.store.conn, self.con, CATALOG, filtered, ids)
        self.loaded |= names
