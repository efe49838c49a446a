"""``pull`` of 1,000,000 case rows from a temporary embedded store into a Parquet warehouse.

Pushes 100 runs x 10,000 cases through the project's push path (``Store.push``: one
transaction per run, cases loaded with COPY), then times a first ``pull`` (everything,
partitioned by model and month, with manifest), a second one (nothing new), and the same
first pull through the copy fallback (as when the postgres extension cannot load). The
reference, measured in the same run: one raw DuckDB ``COPY`` of ``benchmark_cases`` to a
single Parquet file through the same extension (no join, no partitions, no manifest).
Target: first pull under 10 s.

    python benchmarks/perf/pull.py [--runs 100] [--cases 10000]
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench_analytics.fixtures import DEMO_START, commit_sha, simulate_run, synthetic_patients
from bench_analytics.local import pull
from bench_analytics.local.central import extension_file, libpq_dsn
from bench_analytics.local.columns import literal
from bench_analytics.store import Store
from benchmarks.perf.tempstore import temporary_database

MODELS = ("baseline", "openai", "gemini", "medgemma")


def _fill(url: str, runs: int, cases: int) -> int:
    """Push ``runs`` results of ``cases`` cases (distinct configurations: no gate runs)."""
    patients = synthetic_patients(cases, seed=3)
    with Store.open(url) as store:
        for index in range(runs):
            run = simulate_run(
                MODELS[index % len(MODELS)],
                patients,
                prompt=f"p{index // len(MODELS):03d}",
                commit=commit_sha(index),
                when=DEMO_START + timedelta(days=3 * index),
                error_rate=0.02,
            )
            store.push([(f"perf-{index}", run)])
        row = store.conn.execute("SELECT count(*) FROM benchmark_cases").fetchone()
    return row[0] if row else 0


def _raw_export(url: str, target: Path) -> float:
    import duckdb

    con = duckdb.connect()
    con.execute(f"LOAD '{extension_file()}'")
    dsn, _ = libpq_dsn(url)
    con.execute(f"ATTACH {literal(dsn)} AS pg (TYPE postgres, READ_ONLY)")
    start = time.perf_counter()
    con.execute(f"COPY (SELECT * FROM pg.public.benchmark_cases) TO '{target}' (FORMAT parquet)")
    seconds = time.perf_counter() - start
    con.close()
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--cases", type=int, default=10_000)
    args = parser.parse_args()

    with temporary_database("bench-perf-pull-") as (url, root):
        start = time.perf_counter()
        rows = _fill(url, args.runs, args.cases)
        print(f"pushed {args.runs} runs, {rows:,} case rows in {time.perf_counter() - start:.1f} s")

        raw = _raw_export(url, root / "raw.parquet")
        start = time.perf_counter()
        first = pull(root / "warehouse", store_url=url)
        first_s = time.perf_counter() - start
        start = time.perf_counter()
        again = pull(root / "warehouse", store_url=url)
        again_s = time.perf_counter() - start
        start = time.perf_counter()
        copied = pull(
            root / "warehouse-copy",
            store_url=url,
            extension=root / "missing.duckdb_extension",
            on_notice=lambda _: None,
        )
        copy_s = time.perf_counter() - start
        assert first.cases == rows and again.cases == 0 and copied.cases == rows

    verdict = "PASS" if first_s < 10 else "FAIL"
    print(
        f"raw COPY of benchmark_cases to one Parquet file: {raw:.2f} s ({rows / raw:,.0f} rows/s)"
    )
    print(
        f"pull, first (all {first.runs} runs, {first.cases:,} cases, {first.metrics:,} metrics, "
        f"{first.files} files): {first_s:.2f} s ({rows / first_s:,.0f} case rows/s) "
        f"ratio to raw {first_s / raw:.2f} | target < 10 s: {verdict}"
    )
    print(f"pull, again (nothing new): {again_s:.2f} s")
    print(
        f"pull, first, copy fallback (no extension): {copy_s:.2f} s "
        f"({rows / copy_s:,.0f} case rows/s)"
    )


if __name__ == "__main__":
    main()
