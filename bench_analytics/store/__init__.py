"""The Postgres store: SQL and transactions only (no statistics, no policy of its own).

``Store.open()`` connects to ``BENCH_DATABASE_URL`` or the embedded server. A store opened
with ``read_only=True`` never migrates and runs read-only transactions, so it works under
the ``bench_reader`` role; ``enable_writes()`` migrates and lifts that.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import psycopg

from bench_analytics.config import Settings, get_settings
from bench_analytics.errors import UsageError
from bench_analytics.store import queries, schema
from bench_analytics.store.cases import CaseFilter, CasePage, compare_cases, run_cases
from bench_analytics.store.connection import connect, mask_url, resolve_url
from bench_analytics.store.queries import ConfigFilter
from bench_analytics.store.records import (
    ConfigurationHistory,
    CostRow,
    PointerMove,
    PushOutcome,
    SnapshotRow,
    StoreStatus,
    TransactionInfo,
)
from bench_analytics.tables import Table

if TYPE_CHECKING:
    from bench_analytics.configuration import Configuration, RunFilter
    from bench_analytics.model import RunResult
    from bench_analytics.store.push import Estimator, Gate

__all__ = ["CaseFilter", "ConfigFilter", "PushOutcome", "Store"]


def _reader_connection(url: str, login: str) -> psycopg.Connection | None:
    """A connection as the reader login, or None when the server does not let it in."""
    from bench_analytics.store.connection import as_user

    try:
        return psycopg.connect(as_user(url, login), connect_timeout=5)
    except psycopg.Error:
        return None


class Store:
    """A connection to the store; each method is one SQL-level operation."""

    def __init__(
        self,
        conn: psycopg.Connection,
        url: str,
        embedded: bool,
        settings: Settings,
        *,
        initialised: bool = True,
        read_only: bool = False,
    ) -> None:
        self.conn = conn
        self.url = url
        self.embedded = embedded
        self.settings = settings
        self.initialised = initialised
        self.read_only = read_only

    @classmethod
    def open(
        cls,
        url: str | None = None,
        *,
        settings: Settings | None = None,
        migrate: bool = True,
        read_only: bool = False,
        login: str | None = None,
    ) -> Store:
        """Connect (starting the embedded server when no URL is configured).

        Writers migrate the schema on first use; readers (``read_only``) never do: they
        need the schema at this package's revision (or none at all: an empty store).
        ``login``: a reader connects as that role (e.g. ``bench_reader_login``) when the
        server lets it, else as the configured user with read-only transactions.
        """
        settings = settings or get_settings()
        embedded = False
        if url is None:
            url, embedded = resolve_url(settings)
        conn = _reader_connection(url, login) if read_only and login else None
        conn = conn or connect(url, settings)
        conn.autocommit = True
        try:
            if read_only:
                initialised = schema.check_readable(conn)
                conn.execute("SET default_transaction_read_only = on")
            else:
                if migrate:
                    schema.ensure_schema(conn, url)
                initialised = schema.current_revision(conn) is not None
        except BaseException:
            conn.close()
            raise
        return cls(conn, url, embedded, settings, initialised=initialised, read_only=read_only)

    def enable_writes(self) -> None:
        """Migrate if needed and allow writes on this connection."""
        if self.read_only:
            self.conn.execute("SET default_transaction_read_only = off")
            self.read_only = False
        schema.ensure_schema(self.conn, self.url)
        self.initialised = True

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def display_url(self) -> str:
        """The URL without its password."""
        return mask_url(self.url)

    # --- writes ------------------------------------------------------------------------

    def push(
        self,
        results: Iterable[tuple[str, RunResult]],
        on_each: Callable[[PushOutcome], None] | None = None,
        *,
        gate: Gate | None = None,
        estimator: Estimator | None = None,
    ) -> list[PushOutcome]:
        """Push (source, run) pairs in the order the runs happened; one transaction each.

        ``gate`` compares each healthy run with the current version and may hold it;
        ``estimator`` gives the headline intervals stored with each run.
        """
        from bench_analytics.store.push import push_run

        floor = datetime.min.replace(tzinfo=UTC)
        ordered = sorted(results, key=lambda pair: pair[1].run_at or floor)
        outcomes = []
        for source, run in ordered:
            outcome = push_run(
                self.conn,
                run,
                source=source,
                failure_threshold=self.settings.failure_threshold,
                gate=gate,
                estimator=estimator,
            )
            outcomes.append(outcome)
            if on_each:
                on_each(outcome)
        return outcomes

    def rollback(
        self,
        selector: ConfigFilter,
        to_version: int,
        *,
        reason: str | None,
        actor: str,
        force: bool = False,
    ) -> PointerMove:
        """Move the current pointer of one configuration to ``to_version``."""
        config = self.resolve(selector)
        from bench_analytics.store import pointer

        return pointer.rollback(
            self.conn, config, to_version, reason=reason, actor=actor, force=force
        )

    def auto_rollback(
        self, selector: ConfigFilter, *, reason: str | None, actor: str
    ) -> PointerMove:
        """Back to the newest healthy version without a significant regression."""
        from bench_analytics.store import pointer

        return pointer.auto_rollback(self.conn, self.resolve(selector), reason=reason, actor=actor)

    def pin(
        self, selector: ConfigFilter, version: int | None, *, reason: str, actor: str
    ) -> PointerMove:
        """Pin (or, with None, unpin) the baseline of one configuration."""
        from bench_analytics.store import pointer

        return pointer.pin(self.conn, self.resolve(selector), version, reason=reason, actor=actor)

    def quarantine(
        self, transaction_id: int, *, reason: str, actor: str, release: bool = False
    ) -> PointerMove:
        """Mark a run as not a model result (or release that mark)."""
        from bench_analytics.store import pointer

        return pointer.quarantine(
            self.conn, transaction_id, reason=reason, actor=actor, release=release
        )

    def upgrade(self) -> tuple[str | None, str]:
        """Apply pending migrations now."""
        before, after = schema.upgrade(self.conn, self.url)
        self.initialised = True
        return before, after

    # --- reads -------------------------------------------------------------------------

    def _require_data(self, what: str) -> None:
        if not self.initialised:
            raise UsageError(
                f"the store holds no results yet: no {what}",
                hint="push results first, or load the demo history",
                cli_hint="push results with `bench-analytics push`, or run `bench-analytics demo`",
            )

    def snapshots(self, selector: ConfigFilter | None = None) -> Table[SnapshotRow]:
        """Current snapshot of every configuration (with configurations that have none)."""
        if not self.initialised:
            return Table(SnapshotRow)
        return queries.current_snapshots(self.conn, selector or ConfigFilter())

    def resolve(self, selector: ConfigFilter) -> Configuration:
        """The single configuration a selector means."""
        self._require_data("configuration to choose from")
        return queries.resolve_configuration(self.conn, selector)

    def history(self, selector: ConfigFilter) -> list[ConfigurationHistory]:
        """Versions and pointer events of every configuration matching the selector."""
        self._require_data("history")
        found = queries.configurations(self.conn, selector)
        if not found:
            queries.resolve_configuration(self.conn, selector)  # raises with the choices
        return [
            ConfigurationHistory(
                config, queries.versions(self.conn, config), queries.events(self.conn, config)
            )
            for config in found
        ]

    def costs(
        self, since: datetime | None, by: str = "model", where: RunFilter | None = None
    ) -> Table[CostRow]:
        """Totals of tokens and cost, grouped by model, prompt, environment or period."""
        from bench_analytics.store.costs import GROUPS, cost_report

        if not self.initialised:
            if by not in GROUPS:
                raise UsageError(f"cost by '{by}': choose one of {', '.join(GROUPS)}")
            return Table(CostRow)
        return cost_report(self.conn, since, by, where)

    def cases(
        self,
        transaction_id: int,
        other: int | None = None,
        where: CaseFilter | None = None,
        *,
        limit: int = 50,
        offset: int = 0,
    ) -> CasePage:
        """Cases of one run, or of two runs side by side (``other`` is the candidate)."""
        self._require_data("cases")
        where = where or CaseFilter()
        if other is None:
            return run_cases(self.conn, transaction_id, where, limit=limit, offset=offset)
        return compare_cases(self.conn, transaction_id, other, where, limit=limit, offset=offset)

    def transaction(self, transaction_id: int) -> TransactionInfo:
        """One stored run's identity and snapshot."""
        self._require_data(f"transaction {transaction_id}")
        return queries.transaction(self.conn, transaction_id)

    def status(self) -> StoreStatus:
        """Where the store is, its schema revision and how much it holds."""
        revision = schema.current_revision(self.conn)
        return StoreStatus(
            url=self.display_url,
            embedded=self.embedded,
            home=str(Path(self.settings.home).resolve()) if self.embedded else None,
            server_version=self.conn.info.parameter_status("server_version") or "unknown",
            revision=revision,
            head=schema.HEAD_REVISION,
            rows=queries.counts(self.conn) if revision == schema.HEAD_REVISION else None,
        )
