"""The Postgres store: open it, push results, read snapshots and history, move the pointer."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg

from bench_analytics.config import Settings, get_settings
from bench_analytics.model import RunResult
from bench_analytics.store import pointer, queries, schema
from bench_analytics.store.connection import connect, mask_url, resolve_url
from bench_analytics.store.push import PushOutcome, push_run
from bench_analytics.store.queries import Config, ConfigFilter

__all__ = ["ConfigFilter", "PushOutcome", "Store"]


class Store:
    """A connection to the store; each method is one library call behind one CLI command."""

    def __init__(self, conn: psycopg.Connection, url: str, embedded: bool, settings: Settings):
        self.conn = conn
        self.url = url
        self.embedded = embedded
        self.settings = settings

    @classmethod
    def open(
        cls, url: str | None = None, *, settings: Settings | None = None, migrate: bool = True
    ) -> Store:
        """Connect (starting the embedded server when no URL is configured) and migrate."""
        settings = settings or get_settings()
        embedded = False
        if url is None:
            url, embedded = resolve_url(settings)
        conn = connect(url, settings)
        conn.autocommit = True
        if migrate:
            schema.ensure_schema(conn, url)
        return cls(conn, url, embedded, settings)

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

    def push(
        self,
        runs: Iterable[tuple[str, RunResult]],
        on_each: Callable[[PushOutcome], None] | None = None,
        *,
        force: bool = False,
    ) -> list[PushOutcome]:
        """Push (source, run) pairs in the order the runs happened; one transaction each.

        ``force`` promotes a run even when the gate finds a significant regression.
        """
        floor = datetime.min.replace(tzinfo=UTC)
        ordered = sorted(runs, key=lambda pair: pair[1].run_at or floor)
        outcomes = []
        for source, run in ordered:
            outcome = push_run(self.conn, run, settings=self.settings, source=source, force=force)
            outcomes.append(outcome)
            if on_each:
                on_each(outcome)
        return outcomes

    def snapshots(self, selector: ConfigFilter | None = None) -> list[dict[str, Any]]:
        """Current snapshot of every configuration (with configurations that have none)."""
        return queries.current_snapshots(self.conn, selector or ConfigFilter())

    def resolve(self, selector: ConfigFilter) -> Config:
        """The single configuration a selector means."""
        return queries.resolve_configuration(self.conn, selector)

    def history(self, selector: ConfigFilter) -> list[tuple[Config, list[dict], list[dict]]]:
        """(configuration, versions, events) for every configuration matching the selector."""
        found = queries.configurations(self.conn, selector)
        if not found:
            queries.resolve_configuration(self.conn, selector)  # raises with the choices
        return [
            (config, queries.versions(self.conn, config), queries.events(self.conn, config))
            for config in found
        ]

    def rollback(
        self,
        selector: ConfigFilter,
        to_version: int,
        *,
        reason: str | None,
        actor: str,
        force: bool = False,
    ) -> pointer.PointerMove:
        """Move the current pointer of one configuration to ``to_version``."""
        config = self.resolve(selector)
        return pointer.rollback(
            self.conn, config, to_version, reason=reason, actor=actor, force=force
        )

    def auto_rollback(
        self, selector: ConfigFilter, *, reason: str | None, actor: str
    ) -> pointer.PointerMove:
        """Back to the newest healthy version without a significant regression."""
        return pointer.auto_rollback(self.conn, self.resolve(selector), reason=reason, actor=actor)

    def pin(
        self, selector: ConfigFilter, version: int | None, *, reason: str, actor: str
    ) -> pointer.PointerMove:
        """Pin (or, with None, unpin) the baseline of one configuration."""
        return pointer.pin(self.conn, self.resolve(selector), version, reason=reason, actor=actor)

    def quarantine(
        self, transaction_id: int, *, reason: str, actor: str, release: bool = False
    ) -> pointer.PointerMove:
        """Mark a run as not a model result (or release that mark)."""
        return pointer.quarantine(
            self.conn, transaction_id, reason=reason, actor=actor, release=release
        )

    def costs(self, since: datetime | None, by: str = "model") -> list[dict[str, Any]]:
        """Totals of tokens and cost, grouped by model, prompt, environment or period."""
        from bench_analytics.store.costs import cost_report

        return cost_report(self.conn, since, by)

    def status(self) -> dict[str, Any]:
        """Where the store is, its schema revision and how much it holds."""
        revision = schema.current_revision(self.conn)
        return {
            "url": self.display_url,
            "embedded": self.embedded,
            "home": str(Path(self.settings.home).resolve()) if self.embedded else None,
            "server_version": self.conn.info.parameter_status("server_version"),
            "revision": revision,
            "head": schema.HEAD_REVISION,
            "rows": queries.counts(self.conn) if revision == schema.HEAD_REVISION else None,
        }

    def upgrade(self) -> tuple[str | None, str]:
        """Apply pending migrations now."""
        return schema.upgrade(self.conn, self.url)
