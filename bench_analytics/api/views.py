"""Grouped reads over years of history, for the dashboard and notebooks: what is current,
trends with intervals, latest verdicts, held promotions, failures, runs to compare, one
case across models, misses by issue type, latency percentiles, the cost/F1 frontier. Every
aggregation runs in SQL; each call returns a small typed table.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from bench_analytics.api.session import Session
from bench_analytics.configuration import RunFilter
from bench_analytics.tables import Table

if TYPE_CHECKING:  # the store loads on the first call, not on import
    import psycopg

    from bench_analytics.store.breakdowns import FrontierRow, LatencyPoint, MissRow
    from bench_analytics.store.records import (
        CaseAcrossRow,
        CurrentRow,
        EventBucket,
        FailedRun,
        FilterOptions,
        HeldPromotion,
        LatestVerdict,
        RunChoice,
        TrendPoint,
    )

T = TypeVar("T")


class Views(Session):
    """Read-only calls that summarise the store; an empty store gives empty tables."""

    def _read(self, query: Callable[[psycopg.Connection], T], empty: T) -> T:
        """``query`` on the store's connection, or ``empty`` while the store holds nothing."""
        store = self.store()
        return query(store.conn) if store.initialised else empty

    def filter_options(self) -> FilterOptions:
        """Models, environments, dataset and prompt versions, and the span of the history."""
        from bench_analytics.store import overview
        from bench_analytics.store.records import FilterOptions

        return self._read(overview.filter_options, FilterOptions((), (), (), (), None, None, 0))

    def current(self, where: RunFilter | None = None) -> Table[CurrentRow]:
        """Every configuration's current version with status, F1 interval and age (best
        F1 first); configurations with no current version too."""
        from bench_analytics.store import overview
        from bench_analytics.store.records import CurrentRow

        return self._read(lambda c: overview.current(c, where or RunFilter()), Table(CurrentRow))

    def failed_runs(self, where: RunFilter | None = None, limit: int = 200) -> Table[FailedRun]:
        """Failed and quarantined runs in the range with their reason, newest first."""
        from bench_analytics.store import overview
        from bench_analytics.store.records import FailedRun

        return self._read(
            lambda c: overview.failed_runs(c, where or RunFilter(), limit), Table(FailedRun)
        )

    def count_failed(self, where: RunFilter | None = None) -> int:
        """How many runs in the range failed or were quarantined."""
        from bench_analytics.store import overview

        return self._read(lambda c: overview.count_failed(c, where or RunFilter()), 0)

    def trend(
        self, metric: str = "f1", where: RunFilter | None = None, *, bucket: str = "auto"
    ) -> tuple[str, Table[TrendPoint]]:
        """(bucket used, points): a metric per configuration over time, aggregated per run,
        day, week, month or commit ('auto': the finest that keeps a line under 400 points)."""
        from bench_analytics.store import overview
        from bench_analytics.store.records import TrendPoint

        chosen = where or RunFilter()

        def query(conn: psycopg.Connection) -> tuple[str, Table[TrendPoint]]:
            used = overview.choose_bucket(conn, chosen) if bucket == "auto" else bucket
            return used, overview.trend(conn, chosen, metric, used)

        return self._read(query, ("run" if bucket == "auto" else bucket, Table(TrendPoint)))

    def pointer_events(
        self, where: RunFilter | None = None, *, bucket: str = "day"
    ) -> Table[EventBucket]:
        """Pointer events per bucket and type (hold, rollback, quarantine, checkout)."""
        from bench_analytics.store import overview
        from bench_analytics.store.records import EventBucket

        return self._read(
            lambda c: overview.event_buckets(c, where or RunFilter(), bucket), Table(EventBucket)
        )

    def latest_verdicts(self, where: RunFilter | None = None) -> Table[LatestVerdict]:
        """Each configuration's newest gate verdicts (one row per metric), regressions first."""
        from bench_analytics.store import overview
        from bench_analytics.store.records import LatestVerdict

        return self._read(
            lambda c: overview.latest_verdicts(c, where or RunFilter()), Table(LatestVerdict)
        )

    def held_promotions(
        self, where: RunFilter | None = None, limit: int = 200
    ) -> Table[HeldPromotion]:
        """Runs the gate kept from becoming current, with the reason."""
        from bench_analytics.store import overview
        from bench_analytics.store.records import HeldPromotion

        return self._read(
            lambda c: overview.held_promotions(c, where or RunFilter(), limit),
            Table(HeldPromotion),
        )

    def run_choices(self, where: RunFilter | None = None, limit: int = 200) -> Table[RunChoice]:
        """Runs to compare (``ref`` is ``tx:ID``): every current version and the newest runs."""
        from bench_analytics.store import overview
        from bench_analytics.store.records import RunChoice

        return self._read(
            lambda c: overview.run_choices(c, where or RunFilter(), limit), Table(RunChoice)
        )

    def case_across(self, case_id: str, where: RunFilter | None = None) -> Table[CaseAcrossRow]:
        """One case in the current version of every configuration that has it."""
        from bench_analytics.store import overview
        from bench_analytics.store.records import CaseAcrossRow

        return self._read(
            lambda c: overview.case_across(c, case_id, where or RunFilter()), Table(CaseAcrossRow)
        )

    def misses(self, where: RunFilter | None = None, *, by: str = "issue_type") -> Table[MissRow]:
        """The expected issues each current version found and missed, grouped by
        ``issue_type``, ``category`` or ``domain_knowledge``, with the recall's 95 % interval
        (answered cases that record which issue was found); most misses first."""
        from bench_analytics.store import breakdowns

        breakdowns.check_group(by)
        return self._read(
            lambda c: breakdowns.misses(c, where or RunFilter(), by),
            Table(breakdowns.MissRow),
        )

    def latency(
        self, where: RunFilter | None = None, *, bucket: str = "day"
    ) -> Table[LatencyPoint]:
        """Per-case latency percentiles (p50, p90, p99) and mean per model and ``bucket``
        (run, day, week, month), over the healthy runs in the range."""
        from bench_analytics.store import breakdowns

        breakdowns.check_bucket(bucket)
        return self._read(
            lambda c: breakdowns.latency(c, where or RunFilter(), bucket),
            Table(breakdowns.LatencyPoint),
        )

    def frontier(self, where: RunFilter | None = None) -> Table[FrontierRow]:
        """Current healthy versions with an F1 and a cost, cheapest first; ``on_frontier``
        marks those no cheaper version matches on F1 (the cost/F1 Pareto frontier)."""
        from bench_analytics.store import breakdowns

        return self._read(
            lambda c: breakdowns.frontier(c, where or RunFilter()), Table(breakdowns.FrontierRow)
        )
