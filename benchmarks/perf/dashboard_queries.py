"""Every dashboard read through ``Bench(url)``, timed on an empty store, 1,000 runs and 100,000.

Seeds a throw-away embedded PostgreSQL once per size with ``dashboard_seed`` (100,000 runs
are 5,000,000 case rows and one run of 20,000 cases), then times each read of the public API
the dashboard uses: median of ``--runs`` after one warm-up, in ms, against the goal (100 ms)
and the limit (300 ms). A reference is measured in the same run on the same connection:
``SELECT count(*) FROM benchmark_transactions`` (counting the log: a scan of its smallest
index once vacuumed), and a primary-key lookup of one run; the ratio column is call /
count(*). Every SQL statement the calls run is
recorded (a cursor that times each execute); the slowest ones of the largest size are shown
with ``EXPLAIN (ANALYZE, BUFFERS)``.

    python benchmarks/perf/dashboard_queries.py [--sizes empty,1000,100000] [--runs 5]
    python benchmarks/perf/dashboard_queries.py --url URL   # a store seeded already
    python benchmarks/perf/dashboard_queries.py --results out.json   # results, for diffing
    python benchmarks/perf/dashboard_queries.py --no-vacuum   # right after a bulk load

``--results`` writes what every call returned on the largest size (floats to 12 digits), so
two versions of the SQL can be compared on the same seeded store.
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import orjson
import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench_analytics import Bench, RunFilter
from benchmarks.perf.dashboard_seed import seed
from benchmarks.perf.tempstore import temporary_database

GOAL_MS, MUST_MS = 100.0, 300.0
SIZES = {"empty": 0, "1000": 1_000, "100000": 100_000}
CONFIG = {"dataset": "patients-v2", "prompt": "v2-structured", "environment": "github-actions"}
MODEL = "openai"


class _Recorder:
    """Times every statement run through the connection, under the current call's name."""

    def __init__(self) -> None:
        self.label: str | None = None
        # (call, SQL) -> [(ms, parameters, the SET LOCAL it ran under)]
        self.statements: dict[tuple[str, str], list[tuple[float, Any, str | None]]] = defaultdict(
            list
        )
        self._set: str | None = None

    def cursor_class(self) -> type[psycopg.Cursor[Any]]:
        recorder = self

        class Recording(psycopg.Cursor[Any]):
            def execute(self, query: Any, params: Any = None, **kwargs: Any) -> Any:
                start = time.perf_counter()
                try:
                    return super().execute(query, params, **kwargs)
                finally:
                    recorder.record(query, params, (time.perf_counter() - start) * 1000)

        return Recording

    def record(self, query: Any, params: Any, ms: float) -> None:
        if self.label is None or not isinstance(query, str):
            return
        if query.startswith("SET LOCAL"):
            self._set = query  # applies to the statement that follows (Store's grouped reads)
            return
        self.statements[(self.label, query)].append((ms, params, self._set))
        self._set = None


@dataclasses.dataclass
class _Context:
    """The runs and configurations the calls look at, found in the seeded store."""

    empty: bool
    two_models: tuple[str, ...] = ()
    one_year: RunFilter | None = None
    current_tx: int | None = None
    previous_tx: int | None = None
    large_tx: int | None = None
    large_cases: int = 0


def _context(url: str) -> _Context:
    with psycopg.connect(url) as conn:
        found = conn.execute(
            "SELECT max(COALESCE(run_finished_at, run_started_at, pushed_at)), count(*) "
            "FROM benchmark_transactions"
        ).fetchone()
        if not found or not found[1]:
            return _Context(empty=True)
        last = found[0]
        config = (MODEL, CONFIG["dataset"], CONFIG["prompt"], CONFIG["environment"])
        current = conn.execute(
            "SELECT transaction_id, version FROM benchmark_snapshots WHERE (model_key, "
            "dataset_version, prompt_version, environment) = (%s, %s, %s, %s) AND is_current",
            config,
        ).fetchone()
        assert current is not None, f"{config} has no current version"
        previous = conn.execute(
            "SELECT transaction_id FROM snapshot_history WHERE (model_key, dataset_version, "
            "prompt_version, environment) = (%s, %s, %s, %s) AND version < %s "
            "AND effective_status = 'healthy' ORDER BY version DESC LIMIT 1",
            (*config, current[1]),
        ).fetchone()
        large = conn.execute(
            "SELECT id, case_count FROM benchmark_transactions ORDER BY case_count DESC, id LIMIT 1"
        ).fetchone()
    assert previous is not None and large is not None
    models = ("openai", "medgemma")
    return _Context(
        empty=False,
        two_models=models,
        one_year=RunFilter(models=models, since=last - timedelta(days=365)),
        current_tx=current[0],
        previous_tx=previous[0],
        large_tx=large[0],
        large_cases=large[1],
    )


Call = Callable[[Bench], Any]


def _calls(ctx: _Context) -> list[tuple[str, Call | None]]:
    """(name, call); None where the store has nothing to call it on."""
    stored = not ctx.empty
    cur, prev, large = ctx.current_tx, ctx.previous_tx, ctx.large_tx
    deep = max(0, ctx.large_cases - 50)
    return [
        ("filter_options", lambda b: b.filter_options()),
        ("current", lambda b: b.current()),
        ("count_failed", lambda b: b.count_failed()),
        ("failed_runs", lambda b: b.failed_runs()),
        ("trend f1 auto", lambda b: b.trend("f1")),
        ("trend f1 auto, 2 models, 1 year", lambda b: b.trend("f1", ctx.one_year)),
        ("pointer_events (day)", lambda b: b.pointer_events()),
        ("latest_verdicts", lambda b: b.latest_verdicts()),
        ("held_promotions", lambda b: b.held_promotions()),
        ("run_choices", lambda b: b.run_choices()),
        ("case_across P00007", lambda b: b.case_across("P00007")),
        ("cost by model, all", lambda b: b.cost(since="all", by="model")),
        ("cost by prompt, all", lambda b: b.cost(since="all", by="prompt")),
        ("cost by month, all", lambda b: b.cost(since="all", by="month")),
        ("snapshots", lambda b: b.snapshots()),
        ("history (1 configuration)", (lambda b: b.history(MODEL, **CONFIG)) if stored else None),
        ("cases page 1 (50-case run)", (lambda b: b.cases(f"tx:{cur}")) if stored else None),
        (
            "cases page 1 (large run)",
            (lambda b: b.cases(f"tx:{large}")) if stored else None,
        ),
        (
            "cases deep page (large run, last 50)",
            (lambda b: b.cases(f"tx:{large}", offset=deep)) if stored else None,
        ),
        (
            "cases compare, change=worse",
            (lambda b: b.cases(f"tx:{prev}", f"tx:{cur}", change="worse")) if stored else None,
        ),
        ("show (intervals, 1 run)", (lambda b: b.show(f"tx:{cur}")) if stored else None),
        ("compare (2 runs)", (lambda b: b.compare(f"tx:{prev}", f"tx:{cur}")) if stored else None),
    ]


def _median_ms(fn: Callable[[], Any], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def _plain(value: Any) -> Any:
    """A call's result as JSON-able data (for --results)."""
    if isinstance(value, float):
        return float(f"{value:.12g}")
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if hasattr(value, "_asdict"):
        return _plain(value._asdict())
    if isinstance(value, int | str | bool) or value is None:
        return value
    return str(value)


def measure(
    url: str, runs: int, recorder: _Recorder, results: dict[str, Any] | None = None
) -> tuple[dict[str, float | None], dict[str, float]]:
    """(median ms per call, median ms of each reference)."""
    ctx = _context(url)
    timings: dict[str, float | None] = {}
    with Bench(url) as bench:
        bench.filter_options()  # opens the store
        conn = bench.store().conn
        conn.cursor_factory = recorder.cursor_class()
        tx = ctx.current_tx or 1
        references = {
            "SELECT count(*) FROM benchmark_transactions": lambda: conn.execute(
                "SELECT count(*) FROM benchmark_transactions"
            ).fetchall(),
            "primary-key lookup of one run": lambda: conn.execute(
                "SELECT * FROM benchmark_transactions WHERE id = %s", (tx,)
            ).fetchall(),
        }
        reference = {}
        for name, fn in references.items():
            fn()
            reference[name] = _median_ms(fn, max(runs, 5))
        for name, call in _calls(ctx):
            if call is None:
                timings[name] = None
                continue
            found = call(bench)  # warm-up
            if results is not None:
                results[name] = _plain(found)
            recorder.label = name
            timings[name] = _median_ms(lambda call=call: call(bench), runs)
            recorder.label = None
    return timings, reference


def _verdict(ms: float | None) -> str:
    if ms is None:
        return ""
    return "ok" if ms <= GOAL_MS else ("over goal" if ms <= MUST_MS else "OVER MUST")


def _print_size(
    size: str, timings: dict[str, float | None], reference: dict[str, float], seconds: float
) -> None:
    count = reference["SELECT count(*) FROM benchmark_transactions"]
    print(f"\n== {size} (seeded in {seconds:.1f} s) ==")
    for name, ms in reference.items():
        print(f"reference: {name}: {ms:.2f} ms")
    print(f"{'call':42} {'median ms':>10} {'goal':>6} {'must':>6} {'x count(*)':>10}  verdict")
    for name, ms in timings.items():
        if ms is None:
            print(f"{name:42} {'n/a':>10}")
            continue
        ratio = ms / count if count else float("nan")
        print(f"{name:42} {ms:10.1f} {GOAL_MS:6.0f} {MUST_MS:6.0f} {ratio:10.1f}  {_verdict(ms)}")


def _summary(table: dict[str, dict[str, float | None]]) -> None:
    sizes = list(table)
    print("\n== median ms per call and size (goal 100, must 300) ==")
    print(f"{'call':42} " + " ".join(f"{s:>10}" for s in sizes))
    names: list[str] = []
    for timings in table.values():
        names += [n for n in timings if n not in names]
    for name in names:
        cells = []
        for s in sizes:
            ms = table[s].get(name)
            cells.append(f"{'n/a' if ms is None else f'{ms:.1f}':>10}")
        print(f"{name:42} " + " ".join(cells))


def _explain(url: str, recorder: _Recorder, how_many: int) -> None:
    """EXPLAIN (ANALYZE, BUFFERS) of the slowest recorded statements."""
    ranked = sorted(
        recorder.statements.items(),
        key=lambda item: statistics.median(ms for ms, _, _ in item[1]),
        reverse=True,
    )
    with psycopg.connect(url, autocommit=True) as conn:
        for (label, sql), samples in ranked[:how_many]:
            ms = statistics.median(m for m, _, _ in samples)
            _, params, setting = samples[0]
            print(f"\n== slow statement of '{label}': median {ms:.1f} ms ==")
            print(" ".join(sql.split())[:600])
            with conn.transaction():
                if setting:
                    print(setting)
                    conn.execute(setting)
                plan = conn.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", params).fetchall()
            print("\n".join(row[0] for row in plan))


def _database(url: str, name: str) -> str:
    """``url`` with another database name (created here)."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name}")
        conn.execute(f"CREATE DATABASE {name}")
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


@contextmanager
def _server(url: str | None) -> Iterator[str]:
    if url:
        yield url
        return
    with temporary_database("bench-dashboard-") as (temporary, _):
        yield temporary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="empty,1000,100000", help="of: empty,1000,100000")
    parser.add_argument("--runs", type=int, default=5, help="timed runs per call (median)")
    parser.add_argument("--cases-per-run", type=int, default=50)
    parser.add_argument("--url", help="time this store as it is (seeded already): no seeding")
    parser.add_argument("--explain", type=int, default=2, help="slowest statements to EXPLAIN")
    parser.add_argument("--results", type=Path, help="write the largest size's results here")
    parser.add_argument(
        "--no-vacuum", action="store_true", help="seed with ANALYZE only (no visibility map)"
    )
    args = parser.parse_args()

    table: dict[str, dict[str, float | None]] = {}
    recorder = _Recorder()
    results: dict[str, Any] = {}
    last_url = ""
    with _server(args.url) as server:
        sizes = ["given store"] if args.url else [s.strip() for s in args.sizes.split(",")]
        for size in sizes:
            recorder = _Recorder()
            if args.url:
                url, seconds = args.url, 0.0
            else:
                url = _database(server, f"dashboard_{size}")
                report = seed(url, SIZES[size], args.cases_per_run, vacuum=not args.no_vacuum)
                seconds = report.seconds
                print(f"\n{size}: {report.describe()}", flush=True)
            results = {}
            timings, reference = measure(url, args.runs, recorder, results)
            _print_size(size, timings, reference, seconds)
            table[size] = timings
            last_url = url
        _summary(table)
        if args.explain and recorder.statements:
            _explain(last_url, recorder, args.explain)
        if args.results:
            args.results.write_bytes(orjson.dumps(results, option=orjson.OPT_INDENT_2))
            print(f"\nresults of every call written to {args.results}")


if __name__ == "__main__":
    main()
