"""Is it real or noise: check, compare, show (intervals) and the per-case view of runs."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from bench_analytics.api.results import RunIntervals
from bench_analytics.api.session import RunRef, Session, selector
from bench_analytics.errors import UsageError

if TYPE_CHECKING:
    from bench_analytics.comparison import Comparison
    from bench_analytics.gate import CheckResult
    from bench_analytics.store import ConfigFilter
    from bench_analytics.store.cases import CasePage

NO_BASELINE_IN_CI = "BENCH_DATABASE_URL is not set in CI: no baseline to check against"


class Analysis(Session):
    """Calls that compare and explain runs; none of them writes."""

    def check(
        self,
        result: RunRef,
        *,
        baseline: RunRef = "current",
        environment: str | None = None,
        alert: bool = False,
        require_store: bool = False,
    ) -> CheckResult:
        """Gate a result against its baseline: health, paired verdicts, Markdown report.

        ``baseline``: a rule (current, previous, pinned), a stored reference (tx:ID,
        model@N) or a file. Only gated metrics (BENCH_GATE_METRICS) make ``regression``.
        In CI without a store, a rule baseline cannot be had: the result carries a
        warning and no comparison (StoreNotConfiguredError with ``require_store``).
        """
        from bench_analytics.baselines import BASELINE_RULES
        from bench_analytics.gate import CheckResult, check_run

        found = self._as_run(result, environment)
        if found is None:
            raise UsageError(f"check takes a result file or a run in memory, not '{result}'")
        source, run = found
        rule = baseline if isinstance(baseline, str) and baseline in BASELINE_RULES else None
        explicit = None if rule else self._local_baseline(baseline, environment)
        if explicit is None and not self.store_configured:
            from bench_analytics.api.session import StoreNotConfiguredError
            from bench_analytics.health import assess

            if require_store:
                raise StoreNotConfiguredError(NO_BASELINE_IN_CI)
            config = run.configuration()
            health = assess(run, self.settings.failure_threshold)
            return CheckResult(
                config.subject, source, config, health, None, warning=NO_BASELINE_IN_CI
            )
        store = None if explicit is not None else self.store()
        if explicit is None and rule is None:
            explicit = self._baseline(baseline, selector(environment=environment))
        outcome = check_run(
            store, run, source, rule or "explicit", self.settings, baseline=explicit
        )
        if alert and outcome.comparison is not None and self.settings.alert_urls:
            from bench_analytics.alerts import default_link, regression_alerts, send

            alerts = regression_alerts(
                outcome.subject,
                outcome.comparison,
                run.provenance.commit_sha,
                default_link(self.settings.link),
            )
            outcome.alert_failures = send(alerts, self.settings.alert_urls)
        return outcome

    def check_each(
        self,
        path: str | Path,
        *,
        baseline: RunRef = "current",
        environment: str | None = None,
        alert: bool = False,
        require_store: bool = False,
    ) -> list[CheckResult]:
        """``check`` for every result a file holds (an lm-eval results file holds one per
        task), each against its own configuration's baseline."""
        return [
            self.check(
                run,
                baseline=baseline,
                environment=environment,
                alert=alert,
                require_store=require_store,
            )
            for run in self._runs_in(Path(path), environment)
        ]

    def compare(
        self,
        baseline: RunRef,
        candidate: RunRef,
        *,
        dataset: str | None = None,
        prompt: str | None = None,
        environment: str | None = None,
    ) -> Comparison:
        """Compare two runs metric by metric: delta, interval, adjusted p, MDE, verdict.

        Runs are stored references (``medgemma@3``, ``medgemma@current``, ``tx:42``),
        files or runs in memory; ``dataset``, ``prompt`` and ``environment`` narrow
        ``model@…`` references. Paired tests on the shared cases; for stored runs
        without cases, a robust z against the configuration's history.
        """
        from bench_analytics.comparison import compare_views
        from bench_analytics.gate import evaluate

        where = selector(dataset=dataset, prompt=prompt, environment=environment)
        base = self._baseline(baseline, where)
        cand = self._baseline(candidate, where)
        if cand.transaction_id is None:
            comparison = compare_views(base.view, cand.view, self.settings)
            comparison.baseline_reason = base.reason
            return comparison
        store = self.store()
        config = store.transaction(cand.transaction_id).configuration
        return evaluate(store, cand.view, config, base, self.settings, exclude=cand.transaction_id)

    def show(
        self,
        run: RunRef,
        *,
        dataset: str | None = None,
        prompt: str | None = None,
        environment: str | None = None,
    ) -> RunIntervals:
        """Every metric of one run with its 95 % interval (bootstrap over cases, Wilson,
        Jeffreys)."""
        from bench_analytics.stats import Estimate, run_intervals
        from bench_analytics.stats.resample import rng_for
        from bench_analytics.tables import Table

        found = self._baseline(
            run, selector(dataset=dataset, prompt=prompt, environment=environment)
        )
        view = found.view
        if view.cases is None:
            raise UsageError(f"{run} has no per-case results: intervals need cases")
        estimates = run_intervals(
            view.cases,
            averaging=view.averaging,
            resamples=self.settings.resamples,
            rng=rng_for(view.seed),
        )
        return RunIntervals(view.label, view.cases.n, Table(Estimate, estimates), found.reason)

    def cases(
        self,
        run: RunRef,
        other: RunRef | None = None,
        *,
        change: str | Sequence[str] | None = None,
        status: Literal["ok", "error"] | None = None,
        issue_type: str | None = None,
        category: str | None = None,
        domain_knowledge: bool | None = None,
        search: str | None = None,
        limit: int = 50,
        offset: int = 0,
        dataset: str | None = None,
        prompt: str | None = None,
        environment: str | None = None,
    ) -> CasePage:
        """Per-case rows of a stored run, or of two (``run`` the baseline, ``other`` the
        candidate) side by side with how each case changed: worse, better, same, error,
        added, removed. Filtered and paged in SQL (``limit``/``offset``); ``total`` and
        ``counts`` tell how many rows match in all."""
        from bench_analytics.store.cases import CaseFilter

        where = selector(dataset=dataset, prompt=prompt, environment=environment)
        first = self._stored_id(run, where)
        second = None if other is None else self._stored_id(other, where)
        if change is not None and second is None:
            raise UsageError("a change filter needs two runs")
        changes = (change,) if isinstance(change, str) else (tuple(change) if change else None)
        filters = CaseFilter(
            status=status,
            issue_type=issue_type,
            category=category,
            domain_knowledge=domain_knowledge,
            search=search,
            change=changes,
        )
        return self.store().cases(first, second, filters, limit=limit, offset=offset)

    def _stored_id(self, ref: RunRef, where: ConfigFilter) -> int:
        from bench_analytics.baselines import baseline_from_ref

        if not isinstance(ref, str) or self._as_run(ref) is not None:
            raise UsageError(
                f"'{ref}' is not a stored run: per-case views read the store (push it first)"
            )
        found = baseline_from_ref(self.store(), ref, where)
        assert found.transaction_id is not None
        return found.transaction_id
