"""Detectors that see only a history of run aggregates (no per-case data).

``robust_z`` is ours, used where no per-case data exist. The other rules reproduce what
other tools do, for the evidence script: conbench (z-score on history), Bencher (t-test)
and github-action-benchmark (ratio to the previous value).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np

MAD_TO_SIGMA = 1.4826


@dataclass(frozen=True)
class HistoryTest:
    """How far a value sits from its history, robustly."""

    median: float
    sigma: float
    z: float
    p_value: float
    n: int


def robust_z(history: Sequence[float], value: float, *, floor: float = 1e-12) -> HistoryTest:
    """Robust z of ``value`` against ``history``: (value - median) / (1.4826 * MAD)."""
    values = np.asarray(history, dtype=float)
    median = float(np.median(values))
    sigma = MAD_TO_SIGMA * float(np.median(np.abs(values - median)))
    sigma = max(sigma, floor)
    z = (value - median) / sigma
    p = 2 * (1 - NormalDist().cdf(min(abs(z), 40.0)))
    return HistoryTest(median, sigma, z, p, values.size)


def conbench_alert(history: Sequence[float], value: float, threshold: float = 5.0) -> float | None:
    """conbench's rule: z = (value - mean) / sd over the history; None when undefined."""
    values = np.asarray(history, dtype=float)
    if values.size < 2:
        return None
    sd = float(values.std(ddof=1))
    if sd == 0:
        return math.inf if value != values.mean() else 0.0
    return (value - float(values.mean())) / sd


def bencher_t(history: Sequence[float], value: float) -> float | None:
    """Bencher's t-test statistic of a new value against the history (prediction form)."""
    values = np.asarray(history, dtype=float)
    n = values.size
    if n < 2:
        return None
    sd = float(values.std(ddof=1))
    if sd == 0:
        return math.inf if value != values.mean() else 0.0
    return (value - float(values.mean())) / (sd * math.sqrt(1 + 1 / n))


def bencher_threshold(n: int, boundary: float = 0.99) -> float:
    """One-sided t critical value Bencher compares against (history of n values)."""
    from scipy.stats import t

    return float(t.ppf(boundary, df=max(n - 1, 1)))


def ratio_alert(
    previous: float, value: float, *, higher_is_better: bool, threshold: float = 2.0
) -> bool:
    """github-action-benchmark's rule: alert when the value got ``threshold`` x worse (200 %)."""
    worse, better = (previous, value) if higher_is_better else (value, previous)
    if better <= 0:
        return worse > 0
    return worse / better >= threshold
