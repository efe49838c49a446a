"""The public Python API: one ``Bench`` whose calls every face (CLI, notebooks, dashboard) uses.

>>> from bench_analytics import Bench
>>> with Bench() as bench:                       # doctest: +SKIP
...     bench.snapshots().to_frame()
...     bench.compare("medgemma@2", "medgemma@3", prompt="v2-structured").to_frame()

Every call returns typed objects; tabular ones have ``to_frame()``. See docs/python-api.md.
"""

from __future__ import annotations

from bench_analytics.api.batch import Batch, IngestedRun, IngestReport, find_inputs
from bench_analytics.api.history import History
from bench_analytics.api.ingest import Inputs
from bench_analytics.api.results import (
    PushedRun,
    PushReport,
    ReadResult,
    Refusal,
    RunIntervals,
    RunReport,
)
from bench_analytics.api.session import RunRef, StoreNotConfiguredError
from bench_analytics.api.views import Views
from bench_analytics.configuration import RunFilter


class Bench(Batch, History, Views):
    """A session with the benchmark store: push, ingest, check, compare, show, cases, history,
    snapshots, cost, rollback, pin, quarantine, run, status, and the grouped views
    (current, trend, latest_verdicts, failed_runs, case_across …).

    ``Bench()`` uses ``BENCH_DATABASE_URL`` or the embedded server; ``Bench(url)`` any
    PostgreSQL. The store is opened on the first call that needs it (read-only for reads).
    Use it as a context manager, or call ``close()``.
    """

    def __enter__(self) -> Bench:
        return self


__all__ = [
    "Bench",
    "IngestReport",
    "IngestedRun",
    "Inputs",
    "PushReport",
    "PushedRun",
    "ReadResult",
    "Refusal",
    "RunFilter",
    "RunIntervals",
    "RunRef",
    "RunReport",
    "StoreNotConfiguredError",
    "find_inputs",
]
