"""Grouped reads over years of history, for the dashboard and notebooks: what is current,
trends with intervals, latest verdicts, held promotions, failures, runs to compare, one
case across models. Every aggregation runs in SQL; each call returns a small typed table.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bench_analytics.api.session import Session

if TYPE_CHECKING:
    from bench_analytics.store.overview import RunFilter
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
    from bench_analytics.tables import Table


class Views(Session):
    """Read-only calls that summarise the store; an empty store gives empty tables."""

    def _reader(self):  # type: ignore[no-untyped-def]
        """The store's connection, or None when the store holds nothing yet."""
        store = self.store()
        return store.conn if store.initialised else None

    def filter_options(self) -> FilterOptions:
        """Models, environments, dataset and prompt versions, and the span of the history."""
        from bench_analytics.store import overview
        from bench_analytics.store.records import FilterOptions

        conn = self._reader()
        if conn is None:
            return FilterOptions((), (), (), (), None, None, 0)
        return overview.filter_options(conn)

    def current(self, where: RunFilter | None = None) -> Table[CurrentRow]:
        """Every configuration's current version with status, F1 interval and age (best
        F1 first); configurations with no current version too."""
        return self._table("current", "CurrentRow", where)

    def failed_runs(self, where: RunFilter | None = None, limit: int = 200) -> Table[FailedRun]:
        """Failed and quarantined runs in the range with their reason, newest first."""
        return self._table("failed_runs", "FailedRun", where, limit=limit)

    def count_failed(self, where: RunFilter | None = None) -> int:
        """How many runs in the range failed or were quarantined."""
        from bench_analytics.store import overview

        conn = self._reader()
        return 0 if conn is None else overview.count_failed(conn, _filter(where))

    def trend(
        self, metric: str = "f1", where: RunFilter | None = None, *, bucket: str = "auto"
    ) -> tuple[str, Table[TrendPoint]]:
        """(bucket used, points): a metric per configuration over time, aggregated per run,
        day, week, month or commit ('auto': the finest that keeps a line under 400 points)."""
        from bench_analytics.store import overview
        from bench_analytics.store.records import TrendPoint
        from bench_analytics.tables import Table

        conn = self._reader()
        if conn is None:
            return ("run" if bucket == "auto" else bucket), Table(TrendPoint)
        where = _filter(where)
        if bucket == "auto":
            bucket = overview.choose_bucket(conn, where)
        return bucket, overview.trend(conn, where, metric, bucket)

    def pointer_events(
        self, where: RunFilter | None = None, *, bucket: str = "day"
    ) -> Table[EventBucket]:
        """Pointer events per bucket and type (promote, hold, rollback, quarantine)."""
        return self._table("event_buckets", "EventBucket", where, bucket=bucket)

    def latest_verdicts(self, where: RunFilter | None = None) -> Table[LatestVerdict]:
        """Each configuration's newest gate verdicts (one row per metric), regressions first."""
        return self._table("latest_verdicts", "LatestVerdict", where)

    def held_promotions(
        self, where: RunFilter | None = None, limit: int = 200
    ) -> Table[HeldPromotion]:
        """Runs the gate kept from becoming current, with the reason."""
        return self._table("held_promotions", "HeldPromotion", where, limit=limit)

    def run_choices(self, where: RunFilter | None = None, limit: int = 200) -> Table[RunChoice]:
        """Runs to compare (``ref`` is ``tx:ID``): every current version and the newest runs."""
        return self._table("run_choices", "RunChoice", where, limit=limit)

    def case_across(self, case_id: str, where: RunFilter | None = None) -> Table[CaseAcrossRow]:
        """One case in the current version of every configuration that has it."""
        from bench_analytics.store import overview
        from bench_analytics.store.records import CaseAcrossRow
        from bench_analytics.tables import Table

        conn = self._reader()
        if conn is None:
            return Table(CaseAcrossRow)
        return overview.case_across(conn, case_id, _filter(where))

    def _table(self, query: str, row: str, where: RunFilter | None, **kwargs: object) -> Table:
        from bench_analytics.store import overview, records
        from bench_analytics.tables import Table

        conn = self._reader()
        if conn is None:
            return Table(getattr(records, row))
        return getattr(overview, query)(conn, _filter(where), **kwargs)  # type: ignore[no-any-return]


def _filter(where: RunFilter | None) -> RunFilter:
    from bench_analytics.store.overview import RunFilter

    return where or RunFilter()
