"""Local SQL over ~1 GB of native result JSON: ``local.query`` against raw DuckDB ``read_json``.

Generates a folder of native result files in a temporary directory (simulated runs of four
models; a few distinct runs are written many times with their commit, time and case
results varied, so every file has its own content), then times two queries over the
``cases`` view through ``bench_analytics.local.query`` (which also finds and classifies
the files and builds the views) against the same SQL written by hand over DuckDB's
``read_json`` on the same files, in the same run, best of N, alternating. Target: ratio
<= 1.3.

    python benchmarks/perf/local_sql.py [--size-mb 1000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import hashlib
import random
import shutil
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from bench_analytics import local
from bench_analytics.fixtures import DEMO_START, simulate_run, synthetic_patients

CASES_PER_RUN = 10_000
QUERIES = {
    "count": (
        "select count(*) from cases",
        "select count(*) from (select unnest(cases) from {scan})",
    ),
    "group-by": (
        "select model, status, count(*) as n, avg(latency_ms) as latency, sum(tp) as tp "
        "from cases group by all order by all",
        'select model."key" as model, c.status, count(*) as n, avg(c.latency_ms) as latency, '
        "sum(c.tp) as tp from (select model, unnest(cases) as c from {scan}) "
        "group by all order by all",
    ),
}


def _variant(template: bytes, index: int) -> bytes:
    """The same run at another commit and time, with its latencies and one case changed."""
    rng = random.Random(index)
    sha = hashlib.sha1(f"commit-{index}".encode()).hexdigest().encode()
    when = DEMO_START + timedelta(hours=index)
    stamp = when.strftime("%Y-%m-%dT%H:%M:%S").encode()
    text = template.replace(b"0" * 40, sha).replace(b"2026-10-01T09:00:00", stamp)
    digit = str(rng.randrange(1, 10)).encode()
    return text.replace(b'"latency_ms": 1', b'"latency_ms": ' + digit + b"1")


def generate(directory: Path, size_mb: int) -> tuple[int, int]:
    """Write native result files until ``size_mb``; returns (files, bytes)."""
    patients = synthetic_patients(CASES_PER_RUN, seed=11)
    templates = [
        simulate_run(model, patients, prompt=prompt, error_rate=0.02, seed=seed).to_json()
        for model in ("baseline", "openai", "gemini", "medgemma")
        for prompt in ("v1", "v2-structured")
        for seed in (1, 2)
    ]
    written = files = 0
    while written < size_mb * 1_000_000:
        data = _variant(templates[files % len(templates)], files)
        path = directory / f"month-{files % 12:02d}" / f"run-{files:05d}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        written += len(data)
        files += 1
    return files, written


_TYPED = (
    "columns={'model': 'STRUCT(\"key\" VARCHAR)', 'cases': 'STRUCT(case_id VARCHAR, "
    "status VARCHAR, tp INTEGER, fp INTEGER, fn INTEGER, score DOUBLE, latency_ms DOUBLE, "
    'input_tokens INTEGER, output_tokens INTEGER, cost_usd DOUBLE, "error" VARCHAR, '
    "details JSON)[]'}, "
)


def _raw(directory: Path, sql: str, typed: bool) -> list[tuple]:
    """The SQL by hand over read_json: schema sniffed by DuckDB, or typed like ours."""
    import duckdb

    con = duckdb.connect()
    scan = (
        f"read_json('{directory}/**/*.json', {_TYPED if typed else ''}format='unstructured', "
        "maximum_object_size=67108864)"
    )
    try:
        return con.execute(sql.format(scan=scan)).fetchall()
    finally:
        con.close()


def _same(left: list[tuple], right: list[tuple]) -> bool:
    def norm(rows: list[tuple]) -> list[tuple]:
        return [tuple(f"{v:.9g}" if isinstance(v, float) else str(v) for v in r) for r in rows]

    return norm(left) == norm(right)


def _ours(directory: Path, sql: str) -> list[tuple]:
    frame = local.query(sql, [directory])
    return [tuple(row) for row in frame.itertuples(index=False)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    root = Path(tempfile.mkdtemp(prefix="bench-local-sql-"))
    try:
        start = time.perf_counter()
        files, size = generate(root / "results", args.size_mb)
        print(
            f"generated {files} native result files, {size / 1e6:,.0f} MB, "
            f"{files * CASES_PER_RUN:,} cases in {time.perf_counter() - start:.1f} s",
            flush=True,
        )
        folder = root / "results"
        sides = {
            "raw, sniffed": lambda sql, raw: _raw(folder, raw, typed=False),
            "raw, typed": lambda sql, raw: _raw(folder, raw, typed=True),
            "local.query": lambda sql, raw: _ours(folder, sql),
        }
        for name, (ours_sql, raw_sql) in QUERIES.items():
            best = dict.fromkeys(sides, float("inf"))
            answers = {}
            for _ in range(args.rounds):
                for side, run in sides.items():
                    start = time.perf_counter()
                    answers[side] = run(ours_sql, raw_sql)
                    best[side] = min(best[side], time.perf_counter() - start)
            same = all(_same(answers["local.query"], answers[s]) for s in answers)
            reference = min(best["raw, sniffed"], best["raw, typed"])
            ratio = best["local.query"] / reference
            verdict = "PASS" if ratio <= 1.3 else "FAIL"
            print(
                f"{name:9}: raw read_json sniffed {best['raw, sniffed']:.3f} s, typed "
                f"{best['raw, typed']:.3f} s | local.query {best['local.query']:.3f} s | "
                f"ratio to the faster raw {ratio:.2f} (target <= 1.30: {verdict}) | "
                f"same answer: {same}"
            )
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
