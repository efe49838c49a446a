"""Seed a store with years of dashboard-sized history, fast: COPY straight into the tables.

A history the way pushes would have left it, over three years: 8 models x 2 dataset
versions x 3 prompt versions x 3 environments (144 configurations), each configuration
running in its own window (the second dataset and the third prompt arrive later, the first
dataset retires three months before the end). Every run is one transaction row with its
cases (``--cases-per-run``), headline metrics (f1, precision, recall, true_positives,
input_tokens, output_tokens, cost_usd), headline intervals (f1, precision, recall,
latency_ms), one snapshot (versions 1..k per configuration) and one pointer event, as a
push writes them:

  * ~3 % of runs failed (endpoint outages: ``suspected endpoint outage: HTTP 503``, or more
    than half the cases errored); they are held, never current;
  * every healthy run after the first of its configuration is compared with the current
    version: ten gate verdicts, ``regression`` (gated on f1 and recall) holds it;
  * a few manual rollbacks, a few quarantines (a current run hands the pointer back to the
    newest healthy version before it), a few releases;
  * exactly one current version per configuration (the pointer replayed in push order);
  * the newest ``--details-fraction`` of runs carry per-case ``details`` (expected issues
    with type, category, domain_knowledge; detections; the raw answer), the older ones ``{}``;
  * one run (the newest of the first configuration) has ``--large-run-cases`` cases, for
    paging deep into a run.

Case rows come from a small pool of row texts (per model, prompt, case and outcome) joined
with each run's id and latency, so 5,000,000 rows cost a few seconds of Python; the run's
headline numbers are summed from the same pool, so they match its cases. The schema is
migrated through the package first; the store must be empty. VACUUM ANALYZE at the end:
statistics, and the visibility map that index-only scans need, as autovacuum leaves a store
that grew by pushes (``--no-vacuum``: ANALYZE only, the state right after a bulk load).

    python benchmarks/perf/dashboard_seed.py [URL] [--transactions 100000] [--cases-per-run 50]

Without a URL, seeds a throw-away embedded database and prints the time and row counts.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import psycopg
from psycopg.copy import QueuedLibpqWriter

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench_analytics.store import Store
from benchmarks.perf.dashboard_cases import (
    CasePool,
    case_blocks,
    case_texts,
)
from benchmarks.perf.dashboard_plan import (
    CASE_COPY,
    TABLES,
    TX_COLUMNS,
    assign_failure_reasons,
    make_plan,
)
from benchmarks.perf.dashboard_rows import (
    replay_pointer,
    transaction_texts,
)


@dataclass
class SeedReport:
    """What was written and how long it took."""

    seconds: float = 0.0
    rows: dict[str, int] = field(default_factory=dict)
    steps: dict[str, float] = field(default_factory=dict)

    def describe(self) -> str:
        rows = ", ".join(f"{name} {count:,}" for name, count in self.rows.items())
        steps = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in self.steps.items())
        return f"seeded in {self.seconds:.1f} s ({steps})\nrows: {rows}"


def seed(
    url: str,
    transactions: int = 100_000,
    cases_per_run: int = 50,
    *,
    details_fraction: float = 0.15,
    large_run_cases: int = 20_000,
    seed: int = 7,
    vacuum: bool = True,
    log: bool = False,
) -> SeedReport:
    """Migrate the store at ``url`` (it must hold no runs yet) and fill it."""
    report = SeedReport()
    began = last = time.perf_counter()

    def step(name: str) -> None:
        nonlocal last
        now = time.perf_counter()
        report.steps[name] = now - last
        if log:
            print(f"  {name}: {now - last:.1f} s", flush=True)
        last = now

    with Store.open(url):
        pass  # migrates
    step("migrate")
    with psycopg.connect(url, autocommit=True) as conn:
        found = conn.execute("SELECT count(*) FROM benchmark_transactions").fetchone()
        if found and found[0]:
            raise SystemExit(f"the store already holds {found[0]} runs: seed an empty one")
        if transactions > 0:
            _fill(conn, transactions, cases_per_run, details_fraction, large_run_cases, seed, step)
        conn.execute("VACUUM (ANALYZE)" if vacuum else "ANALYZE")
        step("VACUUM ANALYZE" if vacuum else "ANALYZE")
        report.rows = {
            name: count
            for name, count in conn.execute(
                " UNION ALL ".join(f"SELECT '{name}', count(*) FROM {name}" for name in TABLES)
            ).fetchall()
        }
    report.seconds = time.perf_counter() - began
    return report


def _fill(
    conn: psycopg.Connection,
    transactions: int,
    cases_per_run: int,
    details_fraction: float,
    large_run_cases: int,
    seed: int,
    step: Callable[[str], None],
) -> None:
    plan = make_plan(transactions, cases_per_run, details_fraction, large_run_cases, seed)
    pool = CasePool(np.random.default_rng(seed + 1))
    blocks = case_blocks(plan, pool, np.random.default_rng(seed + 2))
    assign_failure_reasons(plan)
    step("plan")
    conn.execute("SET synchronous_commit = off")
    with conn.transaction():
        _copy(
            conn,
            f"COPY benchmark_transactions ({TX_COLUMNS}) FROM STDIN",
            transaction_texts(plan, seed),
        )
        step("COPY benchmark_transactions")
        _copy(conn, CASE_COPY, case_texts(plan, pool, blocks))
        del blocks
        step("COPY benchmark_cases")
        tables, current = replay_pointer(plan, np.random.default_rng(seed + 3))
        step("replay the pointer")
        _copy(
            conn,
            "COPY benchmark_metrics (transaction_id, name, value, unit, direction) FROM STDIN",
            tables.metrics,
        )
        _copy(
            conn,
            "COPY run_intervals (transaction_id, metric, value, low, high, method, n) FROM STDIN",
            tables.intervals,
        )
        _copy(
            conn,
            "COPY benchmark_snapshots (id, model_key, dataset_version, prompt_version, "
            "environment, version, transaction_id, is_current, created_at) FROM STDIN",
            tables.snapshot_rows(current),
        )
        _copy(
            conn,
            "COPY snapshot_events (model_key, dataset_version, prompt_version, environment, "
            "event_type, from_version, to_version, transaction_id, reason, actor, created_at) "
            "FROM STDIN",
            (text for _, text in sorted(tables.events, key=lambda e: e[0])),
        )
        _copy(
            conn,
            "COPY transaction_annotations (transaction_id, kind, reason, actor, created_at) "
            "FROM STDIN",
            (text for _, text in sorted(tables.annotations, key=lambda e: e[0])),
        )
        _copy(
            conn,
            "COPY gate_verdicts (transaction_id, baseline_transaction_id, baseline_rule, "
            "baseline_reason, method, metric, baseline_value, candidate_value, delta, ci_low, "
            "ci_high, p_value, p_adjusted, threshold, mde, decision, gated, n, created_at) "
            "FROM STDIN",
            tables.verdicts,
        )
        for table in ("benchmark_transactions", "benchmark_snapshots"):
            conn.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), max(id)) FROM {table}"
            )
        step("COPY the other tables")


def _copy(conn: psycopg.Connection, sql: str, chunks: Iterable[str]) -> None:
    """COPY text, ~8 MB at a time; a thread sends one while the next is made."""
    with conn.cursor() as cur, cur.copy(sql, writer=QueuedLibpqWriter(cur)) as copy:
        batch: list[str] = []
        size = 0
        for chunk in chunks:
            batch.append(chunk)
            size += len(chunk)
            if size > 8_000_000:
                copy.write("".join(batch))
                batch, size = [], 0
        if batch:
            copy.write("".join(batch))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url", nargs="?", help="database to seed (default: a throw-away one)")
    parser.add_argument("--transactions", type=int, default=100_000)
    parser.add_argument("--cases-per-run", type=int, default=50)
    parser.add_argument("--details-fraction", type=float, default=0.15)
    parser.add_argument("--large-run-cases", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--no-vacuum", action="store_true", help="ANALYZE only")
    args = parser.parse_args()
    options = {
        "transactions": args.transactions,
        "cases_per_run": args.cases_per_run,
        "details_fraction": args.details_fraction,
        "large_run_cases": args.large_run_cases,
        "seed": args.seed,
        "vacuum": not args.no_vacuum,
        "log": True,
    }
    if args.url:
        print(seed(args.url, **options).describe())  # type: ignore[arg-type]
        return
    from benchmarks.perf.tempstore import temporary_database

    with temporary_database("bench-dashboard-seed-") as (url, _):
        print(seed(url, **options).describe())  # type: ignore[arg-type]


if __name__ == "__main__":
    main()
