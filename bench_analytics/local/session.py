"""A DuckDB session with the views over local results (and the store); read-only queries only."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from bench_analytics.errors import BadInputError
from bench_analytics.local.columns import VIEWS, empty_select, passthrough, select_list
from bench_analytics.local.guard import SqlError, check_read_only, referenced_tables, sql_errors
from bench_analytics.local.sources import DEFAULT_PATH, Inputs, discover

if TYPE_CHECKING:
    import duckdb
    import pandas as pd
    import pyarrow as pa

    from bench_analytics.formats.common import ReadOptions
    from bench_analytics.local.central import Central
    from bench_analytics.store import Store

LOCAL_VIEWS = (*VIEWS, "history", "current_snapshots")


def new_connection() -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB that never downloads anything, with times in UTC."""
    import duckdb

    from bench_analytics.local.native import register_health
    from bench_analytics.metrics import REGISTRY

    con = duckdb.connect(
        config={"autoinstall_known_extensions": False, "autoload_known_extensions": False}
    )
    con.execute("SET TimeZone = 'UTC'")
    con.execute("CREATE SCHEMA _bench")
    register_health(con)
    con.execute("CREATE TABLE _bench.metric_registry (name TEXT, unit TEXT, direction TEXT)")
    con.executemany(
        "INSERT INTO _bench.metric_registry VALUES (?, ?, ?)",
        [(s.name, s.unit, s.direction) for s in REGISTRY.values()],
    )
    return con


def _local_views(
    con: duckdb.DuckDBPyConnection,
    inputs: Inputs,
    threshold: float,
    options: ReadOptions | None,
) -> None:
    from bench_analytics.local import native, warehouse

    parts: dict[str, list[str]] = {view: [] for view in LOCAL_VIEWS}
    if inputs.native:
        parts["runs"].append(native.runs_sql(inputs.native, threshold))
        parts["cases"].append(native.cases_sql(inputs.native))
        parts["metrics"].append(native.metrics_sql(inputs.native))
    if inputs.other:
        from bench_analytics.local.pyread import tables_of

        for view, table in tables_of(inputs.other, threshold, options).items():
            con.register("_bench_arrow", table)
            con.execute(f"CREATE TABLE _bench.other_{view} AS SELECT * FROM _bench_arrow")
            con.unregister("_bench_arrow")
            columns = VIEWS[view]
            parts[view].append(
                f"SELECT {select_list(columns, passthrough(columns))} FROM _bench.other_{view}"
            )
    for directory in inputs.warehouses:
        parts["runs"].append(warehouse.runs_sql(directory))
        parts["cases"].append(warehouse.table_sql(directory, "cases"))
        parts["metrics"].append(warehouse.table_sql(directory, "metrics"))
        parts["history"].append(warehouse.history_sql(directory))
    for view, columns in VIEWS.items():
        body = "\nUNION ALL\n".join(parts[view]) or empty_select(columns)
        con.execute(f"CREATE VIEW main.{view} AS {body}")
    if parts["history"]:
        con.execute(f"CREATE VIEW main.history AS {' UNION ALL '.join(parts['history'])}")
        con.execute("CREATE VIEW main.current_snapshots AS SELECT * FROM history WHERE is_current")


class Session:
    """DuckDB with views ``runs``, ``metrics``, ``cases`` (and ``central.*`` with --central).

    Every statement given to ``sql``/``query``/``arrow`` is checked by the read-only rule
    first; ``con`` is the raw DuckDB connection, unchecked, for experts: the store behind
    it is still attached as a role that can only read (``central.user``).
    """

    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        inputs: Inputs,
        central: Central | None = None,
        store: Store | None = None,
    ) -> None:
        self.con = con
        self.inputs = inputs
        self.central = central
        self._store = store

    def close(self) -> None:
        self.con.close()
        if self._store is not None:
            self._store.close()

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _prepare(self, statement: str) -> None:
        refs = referenced_tables(statement)
        if self.inputs.empty and refs:
            local = {name for catalog, schema, name in refs if schema in {"", "main"}}
            if local & set(VIEWS):
                raise BadInputError(
                    str(DEFAULT_PATH),
                    f"no result files: looked for {self.inputs.describe_empty()}",
                    hint="run where your results are, or pass --path DIR, FILE, GLOB "
                    "or a warehouse pulled with `bench-analytics pull`",
                )
        if self.central is not None:
            self.central.ensure_for(refs)

    def statements(self, sql: str) -> list[duckdb.DuckDBPyRelation]:
        """Check every statement, then run each; one relation per statement (lazy)."""
        import duckdb

        statements = check_read_only(sql)
        relations = []
        for number, statement in enumerate(statements, 1):
            self._prepare(statement.query)
            with sql_errors(number, len(statements)):
                try:
                    relation = self.con.sql(statement.query)
                except duckdb.Error as exc:
                    raise self._positioned(statement.query, exc) from None
            if relation is not None:
                relations.append(relation)
        return relations

    def _positioned(self, query: str, error: Exception) -> Exception:
        """The same error with DuckDB's LINE/caret (``sql()`` leaves it out; binding fails
        again in ``execute()`` before anything runs, and that message has it)."""
        import duckdb

        try:
            self.con.execute(query)
        except duckdb.Error as again:
            return again
        return error

    def sql(self, sql: str) -> duckdb.DuckDBPyRelation:
        """The relation of the last statement."""
        relations = self.statements(sql)
        if not relations:
            raise SqlError("the SQL returned no result")
        return relations[-1]

    def arrow(self, sql: str) -> pa.Table:
        """The result of the last statement as an Arrow table."""
        relation = self.sql(sql)
        with sql_errors():
            return relation.to_arrow_table()

    def query(self, sql: str) -> pd.DataFrame:
        """The result of the last statement as a pandas DataFrame."""
        frame: pd.DataFrame = self.arrow(sql).to_pandas()
        return frame

    def tables(self) -> list[tuple[str, str]]:
        """(schema, view) of every view a query can use."""
        rows = self.con.execute(
            """SELECT table_schema, table_name FROM information_schema.tables
               WHERE table_catalog = 'memory' AND table_schema IN ('main', 'central')
               ORDER BY table_schema <> 'main', table_schema, table_name"""
        ).fetchall()
        return [(schema, name) for schema, name in rows]


def connect(
    paths: Sequence[str | Path] | None = None,
    *,
    central: bool = False,
    store_url: str | None = None,
    extension: str | Path | None = None,
    options: ReadOptions | None = None,
    threshold: float | None = None,
    on_notice: Callable[[str], None] | None = None,
) -> Session:
    """A session over result files (default ``./benchmarks/results``), warehouses, the store.

    ``paths``: directories, files, globs or pulled warehouses. ``central``: attach the
    store (``store_url``, else the configured one). ``extension``: the postgres extension
    file to load (default: the wheel's). ``threshold``: the health rule's failure threshold
    (default ``BENCH_FAILURE_THRESHOLD``).
    """
    from bench_analytics.config import get_settings

    settings = get_settings()
    inputs = discover(paths)
    con = new_connection()
    store = None
    try:
        limit = settings.failure_threshold if threshold is None else threshold
        with sql_errors():
            _local_views(con, inputs, limit, options)
        attached = None
        if central:
            from bench_analytics.local.central import Central
            from bench_analytics.store import Store

            store = Store.open(store_url, settings=settings, migrate=False)
            attached = Central(con, store, extension=extension, on_notice=on_notice)
        return Session(con, inputs, attached, store)
    except BaseException:
        con.close()
        if store is not None:
            store.close()
        raise


def query(sql: str, paths: Sequence[str | Path] | None = None, **kwargs: object) -> pd.DataFrame:
    """Run one read-only query and return a pandas DataFrame (see ``connect`` for options).

    >>> from bench_analytics import local
    >>> local.query("select model, avg(f1) from runs group by model")  # doctest: +SKIP
    """
    with connect(paths, **kwargs) as session:  # type: ignore[arg-type]
        return session.query(sql)


__all__ = ["Session", "connect", "query"]
