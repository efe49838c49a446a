"""What is current and how it got there: snapshots, history, cost, and audited pointer moves."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from bench_analytics.api.session import Session, selector

if TYPE_CHECKING:
    from bench_analytics.configuration import RunFilter
    from bench_analytics.store.records import (
        ConfigurationHistory,
        CostRow,
        PointerMove,
        SnapshotRow,
        StoreStatus,
    )
    from bench_analytics.tables import Table


class History(Session):
    """Calls over the store's versions, pointer and spend."""

    def snapshots(
        self,
        *,
        model: str | None = None,
        dataset: str | None = None,
        prompt: str | None = None,
        environment: str | None = None,
    ) -> Table[SnapshotRow]:
        """The current version of every configuration (model, dataset, prompt, environment),
        including configurations that have none (every version failed or was quarantined)."""
        return self.store().snapshots(selector(model, dataset, prompt, environment))

    def history(
        self,
        model: str,
        *,
        dataset: str | None = None,
        prompt: str | None = None,
        environment: str | None = None,
    ) -> list[ConfigurationHistory]:
        """Every version of a model's configurations (the current one marked) and every
        event of their pointers, oldest first."""
        return self.store().history(selector(model, dataset, prompt, environment))

    def cost(
        self,
        *,
        since: str | datetime | None = "30d",
        by: str = "model",
        where: RunFilter | None = None,
    ) -> Table[CostRow]:
        """Tokens, USD, USD per run and per correctly detected issue, grouped by model,
        prompt, environment, day, week or month. ``since``: 30d, 12h, 4w, 6m, a date,
        'all' (or None); ``where`` narrows the runs further."""
        from bench_analytics.store.costs import parse_since

        start = since if isinstance(since, datetime) else parse_since(since)
        return self.store().costs(start, by, where)

    def rollback(
        self,
        model: str,
        to_version: int,
        *,
        reason: str | None = None,
        force: bool = False,
        dataset: str | None = None,
        prompt: str | None = None,
        environment: str | None = None,
    ) -> PointerMove:
        """Make a version current (an audited event); failed or quarantined versions only
        with ``force``."""
        return self.store(write=True).rollback(
            selector(model, dataset, prompt, environment),
            to_version,
            reason=reason,
            actor=self.actor,
            force=force,
        )

    def auto_rollback(
        self,
        model: str,
        *,
        reason: str | None = None,
        dataset: str | None = None,
        prompt: str | None = None,
        environment: str | None = None,
    ) -> PointerMove:
        """Back to the newest healthy version without a significant regression."""
        return self.store(write=True).auto_rollback(
            selector(model, dataset, prompt, environment), reason=reason, actor=self.actor
        )

    def pin(
        self,
        model: str,
        version: int | None,
        *,
        reason: str | None = None,
        dataset: str | None = None,
        prompt: str | None = None,
        environment: str | None = None,
    ) -> PointerMove:
        """Pin the baseline that the 'pinned' rule compares against (None unpins)."""
        text = reason or f"{'pinned' if version is not None else 'unpinned'} by {self.actor}"
        return self.store(write=True).pin(
            selector(model, dataset, prompt, environment), version, reason=text, actor=self.actor
        )

    def quarantine(self, transaction_id: int, *, reason: str, release: bool = False) -> PointerMove:
        """Mark a run as not a model result (an outage); if it was current, the pointer
        goes back to the newest healthy version before it. ``release`` lifts the mark."""
        return self.store(write=True).quarantine(
            transaction_id, reason=reason, actor=self.actor, release=release
        )

    def status(self) -> StoreStatus:
        """Where the store is, its schema revision and row counts (never migrates)."""
        from bench_analytics.store import Store

        if self._store is not None:
            return self._store.status()
        with Store.open(self.url, settings=self.settings, migrate=False) as store:
            return store.status()

    def upgrade(self) -> tuple[str | None, str]:
        """Apply pending schema migrations: (revision before, revision after)."""
        from bench_analytics.store import Store

        self.close()  # a read-only connection cannot migrate
        with Store.open(self.url, settings=self.settings, migrate=False) as store:
            return store.upgrade()
