"""The dashboard's data layer: one read-only session per server process, cached loaders keyed
on the filters (``pn.cache`` with a time to live), and writes only when allowed.

Every loader calls the public API (``Bench``); none holds SQL of its own. A store that is
down raises ``StoreDown`` with the reason, and the next call connects again.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import panel as pn

from bench_analytics.errors import StoreUnavailableError

if TYPE_CHECKING:
    from bench_analytics.api import Bench, RunFilter
    from bench_analytics.comparison import Comparison
    from bench_analytics.store.cases import CasePage

READER_LOGIN = "bench_reader_login"
TTL = 30.0  # seconds a grouped read is reused (new pushes show within this time)
PAGE_SIZE = 25
T = TypeVar("T")

FilterKey = tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...], tuple[str, ...], str]


class StoreDown(Exception):
    """The store cannot be read now; ``reason`` says why (shown as a banner)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class _Sessions:
    """The process's reader session (and, with writes allowed, its writer)."""

    def __init__(self) -> None:
        self.url: str | None = None
        self.allow_writes = False
        self.configured = False
        self._reader: Bench | None = None
        self._lock = threading.RLock()

    def configure(self, url: str | None, allow_writes: bool) -> None:
        with self._lock:
            self.close()
            self.url, self.allow_writes = url, allow_writes
            self.configured = True
            pn.state.clear_caches()

    def reader(self) -> Bench:
        from bench_analytics.api import Bench

        if self._reader is None:
            self._reader = Bench(self.url, reader_login=READER_LOGIN)
        return self._reader

    def close(self) -> None:
        if self._reader is not None:
            self._reader.close()
            self._reader = None

    def read(self, call: Callable[[Bench], T]) -> T:
        """Run a read; a lost or unreachable store becomes StoreDown (and reconnects next)."""
        import psycopg

        with self._lock:
            try:
                return call(self.reader())
            except StoreUnavailableError as error:
                reason = error.message
            except psycopg.Error as error:
                lines = str(error).strip().splitlines()
                reason = lines[0] if lines else "the connection to the store was lost"
            self.close()
            raise StoreDown(reason)


SESSIONS = _Sessions()


def configure(url: str | None = None, *, allow_writes: bool = False) -> None:
    """Which store the dashboard reads, and whether it may write (through the library)."""
    SESSIONS.configure(url, allow_writes)


def writes_allowed() -> bool:
    return SESSIONS.allow_writes


def filter_key(
    models: list[str], environments: list[str], datasets: list[str], prompts: list[str], span: str
) -> FilterKey:
    """The filters as a hashable key for the cached loaders."""
    return (tuple(models), tuple(environments), tuple(datasets), tuple(prompts), span)


def run_filter(key: FilterKey) -> RunFilter:
    """The API's filter for a state's filter key."""
    from bench_analytics.api import RunFilter
    from bench_analytics.store.costs import parse_since

    models, environments, datasets, prompts, span = key
    return RunFilter(
        models=models or None,
        environments=environments or None,
        datasets=datasets or None,
        prompts=prompts or None,
        since=parse_since(span),
    )


def _read(call: Callable[[Bench], T]) -> T:
    return SESSIONS.read(call)


# --- cached loaders (keys are plain values: the filters, the runs, the page) ----------


@pn.cache(ttl=TTL, max_items=256)
def options() -> Any:
    return _read(lambda b: b.filter_options())


@pn.cache(ttl=TTL, max_items=256)
def current(key: FilterKey) -> Any:
    return _read(lambda b: b.current(run_filter(key)))


@pn.cache(ttl=TTL, max_items=256)
def failures(key: FilterKey) -> Any:
    return _read(lambda b: (b.count_failed(run_filter(key)), b.failed_runs(run_filter(key))))


@pn.cache(ttl=TTL, max_items=256)
def trend(key: FilterKey, metric: str, bucket: str) -> Any:
    return _read(lambda b: b.trend(metric, run_filter(key), bucket=bucket))


@pn.cache(ttl=TTL, max_items=256)
def events(key: FilterKey, bucket: str) -> Any:
    return _read(lambda b: b.pointer_events(run_filter(key), bucket=bucket))


@pn.cache(ttl=TTL, max_items=256)
def verdicts(key: FilterKey) -> Any:
    return _read(lambda b: b.latest_verdicts(run_filter(key)))


@pn.cache(ttl=TTL, max_items=256)
def held(key: FilterKey) -> Any:
    return _read(lambda b: b.held_promotions(run_filter(key)))


@pn.cache(ttl=TTL, max_items=256)
def run_choices(key: FilterKey) -> Any:
    return _read(lambda b: b.run_choices(run_filter(key)))


@pn.cache(max_items=512)
def intervals(ref: str) -> Any:
    """A stored run never changes: its intervals are cached for good."""
    return _read(lambda b: b.show(ref))


@pn.cache(max_items=512)
def comparison(baseline: str, candidate: str) -> Comparison:
    return _read(lambda b: b.compare(baseline, candidate))


@pn.cache(ttl=TTL, max_items=256)
def case_page(
    baseline: str,
    candidate: str,
    change: str,
    issue_type: str,
    category: str,
    domain: str,
    page: int,
) -> CasePage:
    """One page of the per-case diff (LIMIT/OFFSET in SQL)."""
    return _read(
        lambda b: b.cases(
            baseline,
            candidate or None,
            change="worse" if change == "worse" and candidate else None,
            issue_type=issue_type or None,
            category=category or None,
            domain_knowledge=None if domain == "any" else domain == "yes",
            limit=PAGE_SIZE,
            offset=(page - 1) * PAGE_SIZE,
        )
    )


@pn.cache(ttl=TTL, max_items=256)
def case_across(case_id: str, key: FilterKey) -> Any:
    return _read(lambda b: b.case_across(case_id, run_filter(key)))


@pn.cache(ttl=TTL, max_items=256)
def history(model: str, dataset: str, prompt: str, environment: str) -> Any:
    return _read(
        lambda b: b.history(model, dataset=dataset, prompt=prompt, environment=environment)
    )


@pn.cache(ttl=TTL, max_items=256)
def cost(key: FilterKey, by: str) -> Any:
    return _read(lambda b: b.cost(since=key[4], by=by, where=run_filter(key)))


@pn.cache(ttl=TTL, max_items=256)
def frontier(key: FilterKey) -> Any:
    return _read(lambda b: b.frontier(run_filter(key)))


# --- writes (only with --allow-writes; each one is an audited event) ------------------


def write(call: Callable[[Bench], T]) -> T:
    """Run a pointer move through the library as the dashboard's user; caches are cleared."""
    from bench_analytics.api import Bench

    if not SESSIONS.allow_writes:
        raise PermissionError("this dashboard was started without --allow-writes")
    with Bench(SESSIONS.url) as bench:
        try:
            return call(bench)
        finally:
            pn.state.clear_caches()
