"""Intervals for every metric of one run: bootstrap over cases, Wilson and Jeffreys for rates."""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np

from bench_analytics.stats.cases import CaseTable, per_case_prf, prf_from_sums
from bench_analytics.stats.resample import (
    bootstrap_float_stat,
    bootstrap_int_sums,
    percentile_interval,
)
from bench_analytics.tables import Record


@dataclass(frozen=True)
class Estimate(Record):
    """A metric value with its interval and how the interval was made."""

    metric: str
    value: float
    low: float
    high: float
    method: str
    n: int


def wilson(successes: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for a proportion (never zero width, even at 0 % or 100 %)."""
    if n == 0:
        return 0.0, 1.0
    z = NormalDist().inv_cdf(0.5 + confidence / 2)
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    low = 0.0 if successes == 0 else max(0.0, centre - half)
    high = 1.0 if successes == n else min(1.0, centre + half)
    return low, high


def jeffreys(successes: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Jeffreys interval (Beta(k + 1/2, n - k + 1/2) quantiles, ends pinned at 0 and 1)."""
    from scipy.special import betaincinv

    if n == 0:
        return 0.0, 1.0
    tail = (1 - confidence) / 2
    a, b = successes + 0.5, n - successes + 0.5
    low = 0.0 if successes == 0 else float(betaincinv(a, b, tail))
    high = 1.0 if successes == n else float(betaincinv(a, b, 1 - tail))
    return low, high


def _scores(
    table: CaseTable,
    averaging: str,
    confidence: float,
    resamples: int,
    rng: np.random.Generator,
) -> list[Estimate]:
    out: list[Estimate] = []
    sums = table.counts().sum(axis=0)
    boot = bootstrap_int_sums(table.counts(), resamples, rng)
    p_boot, r_boot, f_boot = prf_from_sums(boot[:, 0], boot[:, 1], boot[:, 2])
    p, r, f = prf_from_sums(*sums)
    micro = {"precision": (p, p_boot), "recall": (r, r_boot), "f1": (f, f_boot)}
    per_case = dict(zip(("precision", "recall", "f1"), per_case_prf(table), strict=True))
    other = "macro" if averaging == "micro" else "micro"
    for name in ("f1", "precision", "recall"):
        for kind in (averaging, other):
            label = name if kind == averaging else f"{name}_{kind}"
            if kind == "micro":
                value, draws = micro[name]
                method = "bootstrap over cases (pooled counts)"
            else:
                value = per_case[name].mean()
                draws = bootstrap_float_stat(per_case[name], resamples, rng)
                method = "bootstrap over cases (mean of per-case scores)"
            low, high = percentile_interval(draws, confidence)
            out.append(Estimate(label, float(value), low, high, method, table.n))
    passed = int(table.passed().sum())
    low, high = wilson(passed, table.n, confidence)
    out.append(Estimate("pass_rate", passed / table.n, low, high, "Wilson", table.n))
    return out


def run_intervals(
    table: CaseTable,
    *,
    averaging: str = "micro",
    confidence: float = 0.95,
    resamples: int = 2000,
    rng: np.random.Generator | None = None,
) -> list[Estimate]:
    """An Estimate for every metric the cases support."""
    rng = rng or np.random.default_rng(0)
    out = _success_rate(table, confidence)
    if table.n == 0:
        return out
    if table.scored:
        out.extend(_scores(table, averaging, confidence, resamples, rng))
    if table.has_latency():
        for metric, stat in (("latency_ms", "mean"), ("latency_p95_ms", "p95")):
            draws = bootstrap_float_stat(table.latency, resamples, rng, stat)
            value = table.latency.mean() if stat == "mean" else np.percentile(table.latency, 95)
            low, high = percentile_interval(draws, confidence)
            out.append(Estimate(metric, float(value), low, high, "bootstrap over cases", table.n))
    if table.has_cost():
        draws = bootstrap_float_stat(table.cost, resamples, rng) * table.n
        low, high = percentile_interval(draws, confidence)
        out.append(
            Estimate(
                "cost_usd", float(table.cost.sum()), low, high, "bootstrap over cases", table.n
            )
        )
    return out


def _success_rate(table: CaseTable, confidence: float) -> list[Estimate]:
    """The answered share of all cases (Jeffreys), when there are any cases."""
    total = table.n + table.errored
    if not total:
        return []
    low, high = jeffreys(table.n, total, confidence)
    return [Estimate("success_rate", table.n / total, low, high, "Jeffreys", total)]


HEADLINE = ("f1", "precision", "recall", "pass_rate", "latency_ms", "success_rate")
BOOTSTRAP_LIMIT = 500  # above this many cases the clustered normal interval is as good


def headline_intervals(
    table: CaseTable,
    *,
    averaging: str = "micro",
    confidence: float = 0.95,
    resamples: int = 2000,
    rng: np.random.Generator | None = None,
) -> list[Estimate]:
    """The headline metrics with their intervals, cheap enough to compute at every push.

    Up to BOOTSTRAP_LIMIT answered cases: exactly what ``run_intervals`` gives (same
    resamples, same numbers as ``show``). Above it: micro scores as ratios of sums with a
    normal interval clustered by case (linearisation), per-case means with a normal interval,
    Wilson and Jeffreys for rates; at that size these agree with the bootstrap.
    """
    if table.n <= BOOTSTRAP_LIMIT:
        found = run_intervals(
            table, averaging=averaging, confidence=confidence, resamples=resamples, rng=rng
        )
        return [e for e in found if e.metric in HEADLINE]
    z = NormalDist().inv_cdf(0.5 + confidence / 2)
    out = _success_rate(table, confidence)
    method = "normal approximation clustered by case"
    if table.scored:
        tp, fp, fn = (a.astype(np.float64) for a in (table.tp, table.fp, table.fn))
        if averaging == "micro":
            for name, top, bottom in (
                ("f1", 2 * tp, 2 * tp + fp + fn),
                ("precision", tp, tp + fp),
                ("recall", tp, tp + fn),
            ):
                if bottom.sum() > 0:
                    value, half = _ratio(top, bottom, z)
                    lo, hi = max(0.0, value - half), min(1.0, value + half)
                    out.append(Estimate(name, value, lo, hi, method, table.n))
        else:
            per_case = dict(zip(("precision", "recall", "f1"), per_case_prf(table), strict=True))
            for name in ("f1", "precision", "recall"):
                value, half = _mean(per_case[name], z)
                lo, hi = max(0.0, value - half), min(1.0, value + half)
                out.append(Estimate(name, value, lo, hi, method, table.n))
        passed = int(table.passed().sum())
        low, high = wilson(passed, table.n, confidence)
        out.append(Estimate("pass_rate", passed / table.n, low, high, "Wilson", table.n))
    if table.has_latency():
        value, half = _mean(table.latency, z)
        low, high = max(0.0, value - half), value + half
        out.append(Estimate("latency_ms", value, low, high, method, table.n))
    return out


def _ratio(top: np.ndarray, bottom: np.ndarray, z: float) -> tuple[float, float]:
    """sum(top)/sum(bottom) and the half-width of its interval, clustered by case."""
    n = len(top)
    ratio = float(top.sum() / bottom.sum())
    residual = top - ratio * bottom
    variance = float((residual**2).sum()) * n / max(n - 1, 1) / float(bottom.sum()) ** 2
    return ratio, z * math.sqrt(variance)


def _mean(values: np.ndarray, z: float) -> tuple[float, float]:
    kept = values[~np.isnan(values)]
    if len(kept) == 0:
        return float("nan"), float("nan")
    spread = float(kept.std(ddof=1)) if len(kept) > 1 else 0.0
    return float(kept.mean()), z * spread / math.sqrt(len(kept))
