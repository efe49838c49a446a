"""Compare two runs and decide, per metric: regression, improvement or no significant change.

Paired tests on the shared cases when both runs have per-case data; otherwise a robust
z-score against the configuration's history of healthy versions (clearly labelled as the
weaker method); otherwise only the delta, untested. P-values are adjusted across the
metrics of the comparison (Holm by default); a significant change must also reach the
metric's practical threshold to count.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from bench_analytics.config import Settings
from bench_analytics.metrics import direction_of, spec_for
from bench_analytics.model import RunResult
from bench_analytics.tables import Record, Table

if TYPE_CHECKING:
    import pandas as pd

    from bench_analytics.stats import CaseTable
    from bench_analytics.stats.paired import MetricTest, PairedResult

HISTORY_METRICS = ("f1", "precision", "recall", "latency_ms", "cost_usd")
DEFAULT_MIN_EFFECT = {"fraction": "0.01", "ms": "10%", "usd": "10%", "tokens": "10%"}
SMALL_N = 30  # fewer shared cases than this: the bootstrap is rough, the report says so
DECISIONS = ("regression", "improvement", "no significant change", "not tested")


@dataclass(frozen=True)
class RunView:
    """What a comparison needs of a run, whether it comes from a file or from the store."""

    label: str
    metrics: dict[str, float]
    averaging: str
    cases: CaseTable | None
    seed: str
    score_metric: str | None = None  # the metric the cases' score is (another tool's runs)
    directions: dict[str, str] = field(default_factory=dict)  # as the result file states

    @classmethod
    def from_run(cls, run: RunResult, label: str) -> RunView:
        from bench_analytics.stats import CaseTable

        table = CaseTable.from_cases(run.cases) if run.cases else None
        score_metric, directions = tool_fields(run.extra)
        return cls(
            label,
            dict(run.metrics),
            run.averaging or "micro",
            table,
            run.content_sha256(),
            score_metric,
            directions,
        )


def tool_fields(extra: dict[str, Any] | None) -> tuple[str | None, dict[str, str]]:
    """(score metric, stated directions) that readers of other tools leave in ``extra``."""
    extra = extra or {}
    score = extra.get("score_metric")
    stated = extra.get("metric_directions")
    directions = (
        {str(k): str(v) for k, v in stated.items() if v in ("higher", "lower")}
        if isinstance(stated, dict)
        else {}
    )
    return (score if isinstance(score, str) and score else None), directions


@dataclass(frozen=True)
class Verdict(Record):
    """The decision on one metric, with every number behind it."""

    metric: str
    direction: str
    baseline: float | None
    candidate: float | None
    delta: float | None
    low: float | None
    high: float | None
    p_value: float | None
    p_adjusted: float | None
    threshold: float
    mde: float | None
    decision: str
    gated: bool
    method: str
    n: int
    note: str = ""


@dataclass
class Comparison:
    """All verdicts of one comparison and what it was made against."""

    baseline: str
    candidate: str
    method: str
    n: int
    alpha: float
    correction: str
    verdicts: list[Verdict] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    baseline_reason: str = ""

    def regressions(self) -> list[Verdict]:
        """Gated metrics that regressed significantly and by more than their threshold."""
        return [v for v in self.verdicts if v.gated and v.decision == "regression"]

    def verdict(self, metric: str) -> Verdict | None:
        return next((v for v in self.verdicts if v.metric == metric), None)

    @property
    def regression(self) -> bool:
        return bool(self.regressions())

    def table(self) -> Table[Verdict]:
        return Table(Verdict, self.verdicts)

    def to_frame(self) -> pd.DataFrame:
        """One row per metric: values, delta, interval, p-values, MDE, decision."""
        return self.table().to_frame()

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["regression"] = self.regression
        return data


def threshold_for(metric: str, baseline: float | None, overrides: dict[str, str]) -> float:
    """Practical threshold in the metric's units: '0.02' absolute, '10%' of the baseline."""
    spec = spec_for(metric)
    text = overrides.get(metric) or DEFAULT_MIN_EFFECT.get(spec.unit, "0")
    text = str(text).strip()
    if text.endswith("%"):
        return abs(baseline or 0.0) * float(text[:-1]) / 100
    return abs(float(text))


def decide_paired(
    comparison: Comparison,
    paired: PairedResult,
    settings: Settings,
    directions: dict[str, str] | None = None,
) -> Comparison:
    """Verdicts from a paired test result (stats.PairedResult) under these settings.

    Regressions and improvements are directional, so each is its own one-sided family:
    "metric m got worse" for every m, adjusted together (Holm, max-T or BH), and the same
    for "got better". A verdict also needs the delta to reach the practical threshold.
    """
    from bench_analytics.stats import adjust, minimum_detectable_effect
    from bench_analytics.stats.paired import smallest_detectable_share

    comparison.method, comparison.n = "paired", paired.tests[0].n
    if comparison.n < SMALL_N:
        comparison.notes.append(
            f"a small comparison: {comparison.n} shared cases (under {SMALL_N}); intervals are "
            "wide and rough, and only large changes can be detected (see the MDE)"
        )
    tests = paired.tests
    higher = [direction_of(t.metric, directions) != "lower" for t in tests]
    worse_p = [t.p_lower if up else t.p_higher for t, up in zip(tests, higher, strict=True)]
    better_p = [t.p_higher if up else t.p_lower for t, up in zip(tests, higher, strict=True)]
    if settings.correction == "maxt":
        worse_sign = [-1.0 if up else 1.0 for up in higher]
        adj_worse = paired.maxt_adjusted(worse_sign)
        adj_better = paired.maxt_adjusted([-sign for sign in worse_sign])
    else:
        adj_worse = adjust(worse_p, settings.correction)
        adj_better = adjust(better_p, settings.correction)
    family_alpha = settings.alpha / len(tests)  # the MDE is stated conservatively
    for i, t in enumerate(tests):
        direction = direction_of(t.metric, directions)
        threshold = threshold_for(t.metric, t.baseline, settings.min_effect)
        worse = t.delta < 0 if higher[i] else t.delta > 0
        p_raw, p_adj = (worse_p[i], adj_worse[i]) if worse else (better_p[i], adj_better[i])
        decision, note = "no significant change", ""
        if p_adj < settings.alpha:
            if abs(t.delta) < threshold:
                note = f"significant, but below the practical threshold {threshold:g}"
            elif direction not in {"higher", "lower"}:
                note = "changed, but the metric has no known better direction"
            else:
                decision = "regression" if worse else "improvement"
        comparison.verdicts.append(
            Verdict(
                metric=t.metric,
                direction=direction,
                baseline=t.baseline,
                candidate=t.candidate,
                delta=t.delta,
                low=t.low,
                high=t.high,
                p_value=p_raw,
                p_adjusted=p_adj,
                threshold=threshold,
                mde=max(
                    minimum_detectable_effect(t.se, family_alpha, two_sided=False),
                    smallest_detectable_share(t.n, family_alpha) if _is_share(t) else 0.0,
                ),
                decision=decision,
                gated=t.metric in settings.gate_metrics,
                method=t.method,
                n=t.n,
                note=note,
            )
        )
    return comparison


def _is_share(test: MetricTest) -> bool:
    """A rate whose per-case changes come in steps of 1/n (the MDE cannot go below them)."""
    return spec_for(test.metric).unit == "fraction"


def _shared_score_metric(baseline: RunView, candidate: RunView) -> str | None:
    """The per-case score both runs have for the same metric (two lm-eval runs of a task)."""
    if candidate.score_metric and candidate.score_metric == baseline.score_metric:
        return candidate.score_metric
    return None


def _resamples(settings: Settings, n: int) -> int:
    """Fewer resamples for very large runs, so a push stays fast (never below 500)."""
    return max(500, min(settings.resamples, int(40_000_000 / max(n, 1))))


def compare_views(
    baseline: RunView,
    candidate: RunView,
    settings: Settings,
    history: dict[str, list[float]] | None = None,
) -> Comparison:
    """Paired when both have cases they share; else history; else untested deltas."""
    from bench_analytics.stats import compare_paired
    from bench_analytics.stats.resample import rng_for

    base = Comparison(
        baseline.label, candidate.label, "none", 0, settings.alpha, settings.correction
    )
    if baseline.cases is not None and candidate.cases is not None:
        shared = len(set(baseline.cases.ids) & set(candidate.cases.ids))
        paired = compare_paired(
            baseline.cases,
            candidate.cases,
            averaging=candidate.averaging,
            resamples=_resamples(settings, shared),
            rng=rng_for(baseline.seed, candidate.seed),
            score_metric=_shared_score_metric(baseline, candidate),
        )
        if paired:
            if candidate.cases.errored or baseline.cases.errored:
                base.notes.append(
                    f"cases the endpoint failed are left out (baseline {baseline.cases.errored}, "
                    f"candidate {candidate.cases.errored})"
                )
            return decide_paired(
                base, paired, settings, {**baseline.directions, **candidate.directions}
            )
        base.notes.append("the runs share fewer than two answered cases")
    if history:
        return _history(base, baseline, candidate, settings, history)
    base.notes.append("no per-case data and no history: deltas shown, nothing tested")
    for metric in HISTORY_METRICS:
        if metric in baseline.metrics and metric in candidate.metrics:
            delta = candidate.metrics[metric] - baseline.metrics[metric]
            base.verdicts.append(
                Verdict(
                    metric,
                    spec_for(metric).direction,
                    baseline.metrics[metric],
                    candidate.metrics[metric],
                    delta,
                    None,
                    None,
                    None,
                    None,
                    threshold_for(metric, baseline.metrics[metric], settings.min_effect),
                    None,
                    "not tested",
                    metric in settings.gate_metrics,
                    "none",
                    0,
                )
            )
    return base


def _history(
    comparison: Comparison,
    baseline: RunView,
    candidate: RunView,
    settings: Settings,
    history: dict[str, list[float]],
) -> Comparison:
    """Robust z of the candidate against the history median, per headline metric.

    A metric regresses when |z| reaches BENCH_HISTORY_Z (3.5, the usual bound for
    modified z-scores), in the worse direction, by at least its practical threshold.
    The p-value shown is the normal approximation, for information only.
    """
    from bench_analytics.stats.history import robust_z

    comparison.method = "history"
    comparison.notes.append(
        "no per-case data: robust z against the history of healthy versions (median/MAD), "
        f"|z| >= {settings.history_z:g} to count — a weaker test than the paired one"
    )
    for metric in HISTORY_METRICS:
        values = history.get(metric, [])
        if metric not in candidate.metrics or len(values) < settings.history_min:
            continue
        value = candidate.metrics[metric]
        test = robust_z(values, value)
        delta = value - test.median
        threshold = threshold_for(metric, test.median, settings.min_effect)
        direction = spec_for(metric).direction
        decision = "no significant change"
        if abs(test.z) >= settings.history_z and abs(delta) >= threshold:
            worse = delta < 0 if direction == "higher" else delta > 0
            decision = "regression" if worse else "improvement"
        comparison.verdicts.append(
            Verdict(
                metric=metric,
                direction=direction,
                baseline=test.median,
                candidate=value,
                delta=delta,
                low=None,
                high=None,
                p_value=test.p_value,
                p_adjusted=None,
                threshold=threshold,
                mde=settings.history_z * test.sigma,
                decision=decision,
                gated=metric in settings.gate_metrics,
                method=f"robust z = {test.z:+.2f} vs median of {test.n} healthy versions",
                n=test.n,
                note=f"z = {test.z:+.2f}",
            )
        )
    if not comparison.verdicts:
        comparison.method = "none"
        comparison.notes.append(
            f"fewer than {settings.history_min} healthy versions: nothing tested"
        )
    else:
        comparison.n = max(v.n for v in comparison.verdicts)
    return comparison
