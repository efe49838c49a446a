"""10,000 bootstrap resamples of 10,000 cases (tp, fp, fn -> F1 interval): target < 1 s.

Reference measured in the same run: the plain numpy way (int64 indices, one gather per
column). Also times a whole paired comparison of two 500-case runs (10 metrics).

    python benchmarks/perf/bootstrap.py
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench_analytics.stats import compare_paired
from bench_analytics.stats.cases import prf_from_sums
from bench_analytics.stats.resample import bootstrap_int_sums, percentile_interval
from benchmarks.stats import simulate

N = RESAMPLES = 10_000


def ours(columns: np.ndarray, rng: np.random.Generator) -> tuple[float, float]:
    sums = bootstrap_int_sums(columns, RESAMPLES, rng)
    return percentile_interval(prf_from_sums(sums[:, 0], sums[:, 1], sums[:, 2])[2], 0.95)


def plain(columns: np.ndarray, rng: np.random.Generator) -> tuple[float, float]:
    draws = np.empty(RESAMPLES)
    for start in range(0, RESAMPLES, 1000):
        idx = rng.integers(0, N, size=(1000, N))
        tp, fp, fn = (columns[:, k][idx].sum(axis=1) for k in range(3))
        draws[start : start + 1000] = prf_from_sums(tp, fp, fn)[2]
    return percentile_interval(draws, 0.95)


def best_of(fn, *args, rounds: int = 3) -> float:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn(*args)
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    rng = np.random.default_rng(7)
    columns = np.stack([rng.integers(0, 3, N), rng.integers(0, 2, N), rng.integers(0, 2, N)], 1)
    ours_s = best_of(ours, columns, np.random.default_rng(1))
    plain_s = best_of(plain, columns, np.random.default_rng(1))
    print(
        f"F1 interval, {RESAMPLES:,} resamples x {N:,} cases: {ours_s:.3f} s "
        f"(target < 1 s: {'PASS' if ours_s < 1 else 'FAIL'}); plain numpy {plain_s:.3f} s; "
        f"speed-up {plain_s / ours_s:.1f}x"
    )
    cases = simulate.case_set(rng, 500)
    a, b = simulate.run(rng, cases), simulate.run(rng, cases, -0.3)
    paired_s = best_of(compare_paired, a, b)
    print(f"paired comparison, 500 cases, 10 metrics, 2,000 resamples: {paired_s:.3f} s")


if __name__ == "__main__":
    main()
