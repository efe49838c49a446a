"""Paired comparisons on the cases two runs share.

For every metric: the delta (candidate - baseline), a paired-bootstrap interval of the
delta (same resampled cases for both runs), and a p-value from a paired permutation test
(each case's two results swapped at random: exact under 'no difference'). Per-case
pass/fail uses the exact McNemar test. The bootstrap standard error gives the minimum
detectable effect at this n.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from statistics import NormalDist

import numpy as np

from bench_analytics.stats.cases import CaseTable, align, per_case_prf, prf_from_sums
from bench_analytics.stats.resample import index_chunks, percentile_interval, swap_chunks


@dataclass(frozen=True)
class MetricTest:
    """One metric compared between two runs."""

    metric: str
    baseline: float
    candidate: float
    delta: float
    low: float
    high: float
    p_value: float
    se: float
    n: int
    method: str
    p_lower: float = 1.0
    p_higher: float = 1.0

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def _binomial_lower_tail(k: int, m: int) -> float:
    """P(X <= k) for X ~ Binomial(m, 1/2), stable for large m."""
    if k >= m:
        return 1.0
    log_half = -m * math.log(2)
    terms = [
        math.lgamma(m + 1) - math.lgamma(i + 1) - math.lgamma(m - i + 1) + log_half
        for i in range(k + 1)
    ]
    top = max(terms)
    return min(1.0, math.exp(top) * sum(math.exp(t - top) for t in terms))


def mcnemar_exact(baseline_only: int, candidate_only: int) -> float:
    """Two-sided exact McNemar p-value from the discordant pair counts."""
    m = baseline_only + candidate_only
    if m == 0:
        return 1.0
    return min(1.0, 2 * _binomial_lower_tail(min(baseline_only, candidate_only), m))


def mcnemar_one_sided(baseline_only: int, candidate_only: int) -> tuple[float, float]:
    """(p that the candidate passes less often, p that it passes more often), exact."""
    m = baseline_only + candidate_only
    if m == 0:
        return 1.0, 1.0
    return _binomial_lower_tail(candidate_only, m), _binomial_lower_tail(baseline_only, m)


def no_change_bound(n: int, confidence: float = 0.95) -> float:
    """How far a rate could have moved when none of ``n`` paired cases changed: the exact
    (Clopper-Pearson) upper bound of the share of cases that changed, 1 - (alpha/2)^(1/n)."""
    return float(1.0 - ((1.0 - confidence) / 2.0) ** (1.0 / max(n, 1)))


def smallest_detectable_share(n: int, alpha: float) -> float:
    """The smallest change of a rate over ``n`` paired cases that could be significant at
    ``alpha`` (one-sided): k cases all changing the same way, with 0.5^k < alpha."""
    k = math.ceil(math.log2(1.0 / alpha)) if 0 < alpha < 1 else 1
    return min(1.0, k / max(n, 1))


def minimum_detectable_effect(
    se: float, alpha: float = 0.05, power: float = 0.8, *, two_sided: bool = True
) -> float:
    """Smallest true delta this comparison would detect with ``power`` (normal approx.)."""
    z = NormalDist()
    tail = alpha / 2 if two_sided else alpha
    return (z.inv_cdf(1 - tail) + z.inv_cdf(power)) * se


def _micro_deltas(a_sums: np.ndarray, b_sums: np.ndarray) -> list[np.ndarray]:
    """Candidate minus baseline precision, recall, F1 from (rows, 3) tp/fp/fn sums."""
    a = prf_from_sums(a_sums[:, 0], a_sums[:, 1], a_sums[:, 2])
    b = prf_from_sums(b_sums[:, 0], b_sums[:, 1], b_sums[:, 2])
    return [vb - va for va, vb in zip(a, b, strict=True)]


class _Pair:
    """Column blocks of an aligned pair, and each metric's statistic over them."""

    def __init__(
        self, a: CaseTable, b: CaseTable, averaging: str, score_metric: str | None = None
    ) -> None:
        self.n = a.n
        self.scored = a.scored and b.scored
        self.latency = a.has_latency() and b.has_latency()
        self.cost = a.has_cost() and b.has_cost()
        self.averaging = averaging
        self.counts = np.concatenate([a.counts(), b.counts()], axis=1)  # a tp fp fn, b tp fp fn
        means: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        if self.scored:
            for name, va, vb in zip(
                ("precision", "recall", "f1"), per_case_prf(a), per_case_prf(b), strict=True
            ):
                means[name] = (va, vb)
            means["pass_rate"] = (a.passed().astype(float), b.passed().astype(float))
        if self.latency:
            means["latency_ms"] = (a.latency, b.latency)
        if self.cost:
            means["cost_per_case_usd"] = (a.cost, b.cost)
        self.score_metric = None
        if score_metric and a.score is not None and b.score is not None:
            self.score_metric = score_metric  # another tool's per-case score, e.g. 'acc,none'
            means[score_metric] = (a.score, b.score)
        self.means = means
        self.p95 = (a.latency, b.latency)  # used only when both runs have latency

    def is_rate(self, metric: str) -> bool:
        """A share in [0, 1]: a known fraction, or a tool's per-case score within [0, 1]."""
        from bench_analytics.metrics import spec_for

        if metric == self.score_metric:
            va, vb = self.means[metric]
            return bool(((va >= 0) & (va <= 1) & (vb >= 0) & (vb <= 1)).all())
        return metric != "latency_p95_ms" and spec_for(metric).unit == "fraction"

    def metric_names(self) -> list[str]:
        names = []
        if self.scored:
            other = "macro" if self.averaging == "micro" else "micro"
            names += ["f1", "precision", "recall"]
            names += [f"{m}_{other}" for m in ("f1", "precision", "recall")]
            names.append("pass_rate")
        if self.latency:
            names += ["latency_ms", "latency_p95_ms"]
        if self.cost:
            names.append("cost_per_case_usd")
        if self.score_metric and self.score_metric not in names:
            names.insert(0, self.score_metric)
        return names

    def _kind(self, metric: str) -> tuple[str, str]:
        """('micro'|'mean'|'p95', base name)."""
        if metric == "latency_p95_ms":
            return "p95", metric
        if metric == self.score_metric:
            return "mean", metric
        base, _, suffix = metric.partition("_")
        if base in {"f1", "precision", "recall"} and suffix in {"", "micro", "macro"}:
            averaging = suffix or self.averaging
            return ("micro" if averaging == "micro" else "mean"), base
        return "mean", metric

    def observed(self, metric: str) -> tuple[float, float]:
        kind, base = self._kind(metric)
        if kind == "micro":
            sums = self.counts.sum(axis=0)
            pa, ra, fa = prf_from_sums(*sums[:3])
            pb, rb, fb = prf_from_sums(*sums[3:])
            pick = {"precision": (pa, pb), "recall": (ra, rb), "f1": (fa, fb)}[base]
            return float(pick[0]), float(pick[1])
        if kind == "p95":
            return float(np.percentile(self.p95[0], 95)), float(np.percentile(self.p95[1], 95))
        va, vb = self.means[base]
        return float(va.mean()), float(vb.mean())

    def bootstrap(self, names: list[str], idx: np.ndarray) -> dict[str, np.ndarray]:
        """Deltas of every metric over bootstrap index rows (same cases for both runs)."""
        out: dict[str, np.ndarray] = {}
        micro = None
        for metric in names:
            kind, base = self._kind(metric)
            if kind == "micro":
                if micro is None:
                    sums = self.counts[idx].sum(axis=1)
                    micro = _micro_deltas(sums[:, :3], sums[:, 3:])
                out[metric] = micro[("precision", "recall", "f1").index(base)]
            elif kind == "p95":
                out[metric] = np.percentile(self.p95[1][idx], 95, axis=1) - np.percentile(
                    self.p95[0][idx], 95, axis=1
                )
            else:
                va, vb = self.means[base]
                out[metric] = (vb - va)[idx].mean(axis=1)
        return out

    def permuted(self, names: list[str], swap: np.ndarray) -> dict[str, np.ndarray]:
        """Deltas of every metric when each case's two results are swapped where swap is 1."""
        out: dict[str, np.ndarray] = {}
        micro = None
        for metric in names:
            kind, base = self._kind(metric)
            if kind == "micro":
                if micro is None:
                    a, b = self.counts[:, :3], self.counts[:, 3:]
                    moved = swap @ (b - a).astype(np.float32)
                    micro = _micro_deltas(a.sum(axis=0) + moved, b.sum(axis=0) - moved)
                out[metric] = micro[("precision", "recall", "f1").index(base)]
            elif kind == "p95":
                mask = swap.astype(bool)
                a_vals = np.where(mask, self.p95[1], self.p95[0])
                b_vals = np.where(mask, self.p95[0], self.p95[1])
                out[metric] = np.percentile(b_vals, 95, axis=1) - np.percentile(a_vals, 95, axis=1)
            else:
                va, vb = self.means[base]
                d = (vb - va).astype(np.float64)
                out[metric] = (d.sum() - 2 * (swap.astype(np.float64) @ d)) / self.n
        return out


@dataclass(frozen=True)
class PairedResult:
    """The tests, plus the permutation deltas of every metric (for max-T adjustment)."""

    tests: list[MetricTest]
    permuted: np.ndarray  # (resamples, metrics)

    def maxt_adjusted(self, worse_sign: list[float]) -> list[float]:
        """Westfall-Young single-step max-T adjusted one-sided p-values (family-wise).

        ``worse_sign`` is +1 for metrics where a higher delta is the tested direction and
        -1 where a lower one is. Each metric's permutation deltas are scaled by their
        spread; a metric's adjusted p is the share of permutations whose largest scaled
        delta over all metrics reaches its own, so correlated metrics (F1 micro and macro,
        recall) cost less power than under Holm.
        """
        sign = np.asarray(worse_sign, dtype=float)
        observed = sign * np.array([t.delta for t in self.tests])
        spread = self.permuted.std(axis=0)
        with np.errstate(divide="ignore", invalid="ignore"):
            scaled = np.where(spread > 0, sign * self.permuted / spread, 0.0)
            z = np.where(spread > 0, observed / spread, np.where(observed > 0, np.inf, 0.0))
        top = scaled.max(axis=1)
        count = (top[:, None] >= z[None, :] - 1e-12).sum(axis=0)
        return [float(p) for p in ((1 + count) / (1 + top.size)).clip(max=1.0)]


def compare_paired(
    baseline: CaseTable,
    candidate: CaseTable,
    *,
    averaging: str = "micro",
    confidence: float = 0.95,
    resamples: int = 2000,
    rng: np.random.Generator | None = None,
    score_metric: str | None = None,
) -> PairedResult | None:
    """Every testable metric on the shared cases (None when fewer than two are shared);
    ``score_metric`` names the metric the cases' own ``score`` is (another tool's runs)."""
    rng = rng or np.random.default_rng(0)
    a, b = align(baseline, candidate)
    if a.n < 2:
        return None
    pair = _Pair(a, b, averaging, score_metric)
    names = pair.metric_names()
    if not names:  # cases without anything to compare per case
        return None
    boot: dict[str, list[np.ndarray]] = {name: [] for name in names}
    for idx in index_chunks(pair.n, resamples, rng):
        for name, deltas in pair.bootstrap(names, idx).items():
            boot[name].append(deltas)
    extreme = {name: np.zeros(3, dtype=np.int64) for name in names}  # |both|, lower, higher
    observed = {name: pair.observed(name) for name in names}
    blocks = []
    for swap in swap_chunks(pair.n, resamples, rng):
        permuted = pair.permuted(names, swap)
        for name in names:
            delta = observed[name][1] - observed[name][0]
            values = permuted[name]
            extreme[name] += (
                int((np.abs(values) >= abs(delta) - 1e-12).sum()),
                int((values <= delta + 1e-12).sum()),
                int((values >= delta - 1e-12).sum()),
            )
        blocks.append(np.stack([permuted[name] for name in names], axis=1))
    results = []
    for name in names:
        base_value, cand_value = observed[name]
        draws = np.concatenate(boot[name])
        low, high = percentile_interval(draws, confidence)
        exact = pair.is_rate(name) and not np.ptp(draws) > 0
        if exact:  # no case changed: the bootstrap says [0, 0]; n allows no such certainty
            bound = no_change_bound(pair.n, confidence)
            delta = cand_value - base_value
            low, high = max(-1.0, delta - bound), min(1.0, delta + bound)
        if name == "pass_rate":
            pa, pb = a.passed(), b.passed()
            base_only, cand_only = int((pa & ~pb).sum()), int((~pa & pb).sum())
            p_value = mcnemar_exact(base_only, cand_only)
            p_lower, p_higher = mcnemar_one_sided(base_only, cand_only)
            method = "exact McNemar; paired bootstrap interval"
        else:
            p_value, p_lower, p_higher = ((1 + extreme[name]) / (1 + resamples)).tolist()
            method = "paired permutation p; paired bootstrap interval"
        if exact:
            method = method.split(";")[0] + "; exact bound (no case changed)"
        results.append(
            MetricTest(
                name,
                base_value,
                cand_value,
                cand_value - base_value,
                low,
                high,
                min(1.0, p_value),
                float(np.nanstd(draws)),
                pair.n,
                method,
                min(1.0, p_lower),
                min(1.0, p_higher),
            )
        )
    return PairedResult(results, np.concatenate(blocks))
