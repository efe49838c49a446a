"""Push of one result with 100,000 cases: case-row load rate against a raw psycopg COPY.

Both load the same rows into the same table (``benchmark_cases``, with its primary key,
foreign key and triggers) on the same server, alternating, best of three. The push side
starts from the ``RunResult`` objects a reader produced, the raw side from ready-made
tuples. Target: push rate >= 0.5 x raw rate. Also prints the whole ``push_run`` time.

    python benchmarks/perf/push_cases.py [--cases 100000] [--url postgresql://...]
"""

from __future__ import annotations

import argparse
import sys
import time
from contextlib import nullcontext
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench_analytics.fixtures import simulate_run, synthetic_patients
from bench_analytics.store import Store
from bench_analytics.store.push import COPY_CASES, case_row, copy_cases, push_run
from benchmarks.perf.tempstore import temporary_database


def _transaction_row(conn: psycopg.Connection, label: str) -> int:
    """A log row for the cases to hang on (copied from an existing one, new hash)."""
    row = conn.execute(
        """INSERT INTO benchmark_transactions (content_sha256, model_key, dataset_version,
               prompt_version, benchmark_type, environment, status, case_count, error_count,
               source_format, document)
           VALUES (md5(%s) || md5(%s), 'perf', 'perf', 'perf', 'perf', 'perf', 'healthy', 0, 0,
                   'native', '{}') RETURNING id""",
        (label, label + "x"),
    ).fetchone()
    return row[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--url", help="use this PostgreSQL instead of a temporary embedded one")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    database = nullcontext((args.url, None)) if args.url else temporary_database()
    with database as (url, _):
        print(f"building a result with {args.cases:,} cases …", flush=True)
        run = simulate_run("openai", synthetic_patients(args.cases, seed=1))
        raw_rows = [case_row(0, case)[1:] for case in run.cases]  # ready-made tuples
        with Store.open(url) as store:
            conn = store.conn
            raw_best = ours_best = float("inf")
            for round_no in range(args.rounds):
                with conn.transaction():
                    tx = _transaction_row(conn, f"raw-{round_no}")
                    start = time.perf_counter()
                    with conn.cursor().copy(COPY_CASES) as copy:
                        for row in raw_rows:
                            copy.write_row((tx, *row))
                    raw_best = min(raw_best, time.perf_counter() - start)
                with conn.transaction():
                    tx = _transaction_row(conn, f"ours-{round_no}")
                    start = time.perf_counter()
                    copy_cases(conn, tx, run)
                    ours_best = min(ours_best, time.perf_counter() - start)
            start = time.perf_counter()
            outcome = push_run(conn, run, settings=store.settings, source="perf")
            push_seconds = time.perf_counter() - start
            assert outcome.created
            stored = conn.execute(
                "SELECT count(*) FROM benchmark_cases WHERE transaction_id = %s",
                (outcome.transaction_id,),
            ).fetchone()[0]
            assert stored == args.cases

    raw_rate = args.cases / raw_best
    ours_rate = args.cases / ours_best
    whole_rate = args.cases / push_seconds

    def verdict(ratio: float) -> str:
        return "PASS" if ratio >= 0.5 else "FAIL"

    print(f"raw psycopg COPY       : {raw_rate:>10,.0f} rows/s ({raw_best:.3f} s)")
    print(
        f"push, case-row load    : {ours_rate:>10,.0f} rows/s ({ours_best:.3f} s)  "
        f"ratio {ours_rate / raw_rate:.2f} (target >= 0.50: {verdict(ours_rate / raw_rate)})"
    )
    print(
        f"push, whole transaction: {whole_rate:>10,.0f} rows/s ({push_seconds:.3f} s)  "
        f"ratio {whole_rate / raw_rate:.2f} ({verdict(whole_rate / raw_rate)}; hash, log row, "
        "cases, metrics, version, event)"
    )


if __name__ == "__main__":
    main()
