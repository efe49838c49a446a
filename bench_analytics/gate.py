"""The gate: compare a run with its baseline, decide to hold, and check results in CI.

The store never calls the statistics itself: ``HoldPolicy`` is handed to its push and
answers, for each healthy new run, whether the pointer may move (and why not).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bench_analytics.baselines import Baseline, resolve_baseline, stored_view
from bench_analytics.comparison import HISTORY_METRICS, Comparison, RunView, compare_views
from bench_analytics.config import Settings
from bench_analytics.configuration import Configuration
from bench_analytics.health import Health, assess
from bench_analytics.model import RunResult
from bench_analytics.store import Store, runs
from bench_analytics.store.records import CurrentSnapshot, GateDecision, VerdictRecord
from bench_analytics.tables import Record


def history_values(
    store: Store, config: Configuration, *, exclude: int | None, window: int
) -> dict[str, list[float]]:
    """Headline metrics of the configuration's healthy versions, oldest first."""
    rows = runs.healthy_headlines(store.conn, config, excluding=exclude, window=window)
    out: dict[str, list[float]] = {}
    for metric in HISTORY_METRICS:
        values = [getattr(row, metric) for row in rows if getattr(row, metric) is not None]
        if values:
            out[metric] = values
    return out


def evaluate(
    store: Store,
    candidate: RunView,
    config: Configuration,
    baseline: Baseline,
    settings: Settings,
    *,
    exclude: int | None = None,
) -> Comparison:
    """Compare a candidate with a baseline, using the configuration's history as fallback."""
    history = history_values(store, config, exclude=exclude, window=settings.history_window)
    comparison = compare_views(baseline.view, candidate, settings, history)
    comparison.baseline_reason = baseline.reason
    return comparison


def summary(comparison: Comparison) -> str:
    """'f1 -0.154 [-0.261, -0.046] p=0.012 (maxt, paired)' for every gated regression."""
    parts = []
    for v in comparison.regressions():
        interval = (
            f" [{v.low:+.3f}, {v.high:+.3f}]" if v.low is not None and v.high is not None else ""
        )
        evidence = v.note if v.p_adjusted is None else f"p={v.p_adjusted:.3g}"
        parts.append(f"{v.metric} {v.delta:+.3f}{interval} {evidence}")
    how = (
        comparison.method
        if comparison.method == "history"
        else f"{comparison.correction}, {comparison.method}"
    )
    return "; ".join(parts) + f" ({how})"


def verdict_records(comparison: Comparison) -> tuple[VerdictRecord, ...]:
    """The comparison's verdicts in the form ``gate_verdicts`` stores them."""
    return tuple(
        VerdictRecord(
            metric=v.metric,
            baseline_value=v.baseline,
            candidate_value=v.candidate,
            delta=v.delta,
            ci_low=v.low,
            ci_high=v.high,
            p_value=v.p_value,
            p_adjusted=v.p_adjusted,
            threshold=v.threshold,
            mde=v.mde,
            decision=v.decision,
            gated=v.gated,
            n=v.n,
        )
        for v in comparison.verdicts
    )


class HoldPolicy:
    """Compare each healthy new run with the current version; hold on a gated regression.

    ``force`` (or ``BENCH_HOLD_ON_REGRESSION=false``) promotes anyway, and says so.
    """

    def __init__(self, store: Store, settings: Settings, *, force: bool = False) -> None:
        self.store = store
        self.settings = settings
        self.force = force

    def __call__(
        self, run: RunResult, config: Configuration, current: CurrentSnapshot
    ) -> GateDecision:
        tx = current.transaction_id
        baseline = Baseline(
            stored_view(self.store, tx, f"{config.model}@{current.version}"),
            tx,
            "current",
            f"version {current.version} of {config} (transaction {tx}): the current snapshot",
        )
        candidate = RunView.from_run(run, f"{config.model} (new)")
        comparison = evaluate(self.store, candidate, config, baseline, self.settings)
        regressed = tuple(v.metric for v in comparison.regressions())
        hold, reason = False, None
        if regressed:
            text = summary(comparison)
            if self.settings.hold_on_regression and not self.force:
                hold = True
                reason = f"held: significant regression vs version {current.version}: {text}"
            else:
                why = "forced" if self.force else "BENCH_HOLD_ON_REGRESSION=false"
                reason = (
                    f"promoted despite a significant regression vs version {current.version} "
                    f"({why}): {text}"
                )
        return GateDecision(
            baseline_transaction_id=tx,
            baseline_rule=baseline.rule,
            baseline_reason=baseline.reason,
            method=comparison.method,
            verdicts=verdict_records(comparison),
            regressed=regressed,
            hold=hold,
            reason=reason,
            report=comparison,
        )


@dataclass
class CheckResult(Record):
    """What a check found for one result: its health, and the comparison (or why none)."""

    subject: str
    candidate: str
    config: Configuration
    health: Health
    comparison: Comparison | None
    note: str | None = None
    alert_failures: list[str] = field(default_factory=list)
    warning: str | None = None  # set when nothing could be checked (no store in CI)

    @property
    def regression(self) -> bool:
        return bool(self.comparison and self.comparison.regressions())

    def markdown(self) -> str:
        from bench_analytics.report import markdown

        if self.comparison is None:
            failed = self.health.status == "failed"
            why = self.note or (
                f"the run failed the health check ({self.health.reason})" if failed else None
            )
            icon = "⚠️" if failed else "⚪"
            return (
                f"### {icon} {self.subject}\n\n- **Candidate:** {self.candidate}\n\n"
                f"> {why or self.warning or 'not compared'}\n"
            )
        return markdown(self.comparison, self.subject, self.candidate)

    def as_dict(self) -> dict[str, Any]:
        return {
            "subject": self.subject,
            "candidate": self.candidate,
            "configuration": self.config._asdict(),
            "health": {"status": self.health.status, "reason": self.health.reason},
            "regression": self.regression,
            "note": self.note,
            "comparison": self.comparison.as_dict() if self.comparison else None,
        }


def check_run(
    store: Store | None,
    run: RunResult,
    source: str,
    rule: str,
    settings: Settings,
    *,
    baseline: Baseline | None = None,
) -> CheckResult:
    """Compare a (not necessarily stored) result with its baseline; nothing is written.

    ``store`` may be None when ``baseline`` is given (a file compared with a file).
    """
    config = run.configuration()
    commit = run.provenance.commit_sha
    candidate = source + (f" (commit {commit[:8]})" if commit else "")
    health = assess(run, settings.failure_threshold)

    def result(comparison: Comparison | None, note: str | None = None) -> CheckResult:
        return CheckResult(config.subject, candidate, config, health, comparison, note)

    if health.status == "failed":
        return result(
            None,
            f"the run failed the health check ({health.reason}): an endpoint problem, not compared",
        )
    view = RunView.from_run(run, source)
    if store is None or not store.initialised:
        if baseline is None:
            return result(None, "the store holds no results yet: nothing to compare with")
        comparison = compare_views(baseline.view, view, settings)
        comparison.baseline_reason = baseline.reason
        return result(comparison)
    stored = runs.find_by_content(store.conn, run.content_sha256())
    if baseline is None:
        baseline = resolve_baseline(store, config, rule, candidate=stored)
    if baseline is None:
        return result(None, f"no {rule} version of this configuration yet: nothing to compare with")
    exclude = stored[0] if stored else None
    return result(evaluate(store, view, config, baseline, settings, exclude=exclude))
