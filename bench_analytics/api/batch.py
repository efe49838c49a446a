"""A CI ingest in one call: find files by glob, validate all, push, gate each, report.

What the ingest notebook runs: ``bench.ingest("artifacts/**/*.json", context=…)`` gives an
``IngestReport`` with a summary table, the verdicts in Markdown, and the regression that
fails the job when asked.
"""

from __future__ import annotations

import glob
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench_analytics.api.analysis import Analysis
from bench_analytics.api.ingest import Ingest
from bench_analytics.api.results import PushReport
from bench_analytics.configuration import RunFilter
from bench_analytics.errors import BadInputError, RegressionFound
from bench_analytics.tables import INTERNAL, Record, Table

if TYPE_CHECKING:
    from collections.abc import Callable

    import pandas as pd

    from bench_analytics.api.results import PushedRun
    from bench_analytics.context import PushContext
    from bench_analytics.gate import CheckResult
    from bench_analytics.model import RunResult
    from bench_analytics.store.records import PushOutcome

CHECK_ONLY = "Check only: the results were validated and gated, not stored"
TABLE_ROWS = 60  # a pull-request comment holds at most 65,536 characters


@dataclass(frozen=True)
class IngestedRun(Record):
    """One result of an ingest: where it came from, what the store did, the gate's word."""

    source: str
    model_key: str
    prompt_version: str
    environment: str
    version: int | None
    outcome: str  # new and current · held · already stored · not stored · failed run
    status: str
    verdict: str
    f1: float | None
    precision: float | None
    recall: float | None
    cost_usd: float | None
    transaction_id: int | None = None


@dataclass(frozen=True)
class Ingested:
    """One result as read, what the store did with it (None: not stored) and its verdict."""

    source: str
    run: RunResult
    outcome: PushOutcome | None
    verdict: CheckResult


@dataclass
class IngestReport(Record):
    """What an ingest did: the files, the push, one gate verdict per result."""

    pattern: str
    files: list[str]
    push: PushReport = field(metadata=INTERNAL)
    items: list[Ingested] = field(default_factory=list, metadata=INTERNAL)
    baseline: str = "current"

    @property
    def verdicts(self) -> list[CheckResult]:
        return [item.verdict for item in self.items]

    @property
    def stored(self) -> bool:
        return self.push.stored

    @property
    def warning(self) -> str | None:
        return self.push.warning

    @property
    def regressions(self) -> list[CheckResult]:
        return [v for v in self.verdicts if v.regression]

    @property
    def regression(self) -> bool:
        return bool(self.regressions)

    @property
    def runs(self) -> Table[IngestedRun]:
        """One row per result, in the order they were pushed."""
        return Table(IngestedRun, [_row(item) for item in self.items])

    def to_frame(self) -> pd.DataFrame:
        return self.runs.to_frame()

    def history_filter(self) -> RunFilter:
        """The configurations this ingest touched, to chart them against their history."""
        runs = self.runs
        return RunFilter(
            models=tuple(sorted({r.model_key for r in runs})),
            prompts=tuple(sorted({r.prompt_version for r in runs})),
            environments=tuple(sorted({r.environment for r in runs})),
        )

    def headline(self) -> str:
        """One line: how many results, new, held, failed, regressed."""
        rows = self.runs
        counts = {
            "new": sum(r.outcome == "new and current" for r in rows),
            "held": sum(r.outcome == "held" for r in rows),
            "already stored": sum(r.outcome == "already stored" for r in rows),
            "failed runs": sum(r.status == "failed" for r in rows),
            "regressions": len(self.regressions),
        }
        parts = ", ".join(
            f"{n} {what[:-1] if n == 1 and what.endswith('s') else what}"
            for what, n in counts.items()
            if n
        )
        stored = "" if self.stored else " (not stored)"
        found = f"{_count(len(rows), 'result')} from {_count(len(self.files), 'file')}"
        return f"{found}{stored}: {parts or 'nothing new'}"

    def markdown(self, *, table: bool = True) -> str:
        """The verdict for a CI job summary or a pull-request comment: the headline, one
        table row per result (``table``), the paired report of each regression and failed
        run."""
        icon = "❌" if self.regression else ("⚠️" if not self.stored else "✅")
        lines = [f"## {icon} Benchmark ingest: {self.headline()}", ""]
        if self.warning:
            lines += [f"> **Not persisted.** {self.warning}.", ""]
        if table:
            lines += _table(self.runs)
        lines.append("")
        shown = [v for v in self.verdicts if v.regression or v.health.status == "failed"]
        for verdict in shown:  # the details that need a reader; the rest is in the table
            lines.append(verdict.markdown())
        return "\n".join(lines).rstrip() + "\n"

    def write_markdown(self, path: str | Path) -> Path:
        """Write the verdict (creating folders); returns the path."""
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(self.markdown(), encoding="utf-8")
        return target

    def write(self, folder: str | Path) -> tuple[Path, Path]:
        """``verdict.md`` (the Markdown verdict) and ``ingest.json`` (this report) in a
        folder, for a CI job summary, a pull-request comment or a later step."""
        import orjson

        target = Path(folder)
        verdict = self.write_markdown(target / "verdict.md")
        summary = target / "ingest.json"
        summary.write_bytes(orjson.dumps(self.as_dict(), option=orjson.OPT_INDENT_2))
        return verdict, summary

    def raise_for_regression(self) -> None:
        """RegressionFound (exit 1) naming the regressed results, if there are any."""
        if self.regression:
            names = "; ".join(
                f"{v.subject}: {', '.join(x.metric for x in v.comparison.regressions())}"
                for v in self.regressions
                if v.comparison is not None
            )
            raise RegressionFound(f"significant regression of a gated metric: {names}")

    def as_dict(self) -> dict[str, Any]:
        return {
            "pattern": self.pattern,
            "files": self.files,
            "baseline": self.baseline,
            "stored": self.stored,
            "warning": self.warning,
            "regression": self.regression,
            "headline": self.headline(),
            "runs": self.runs.as_dicts(),
            "verdicts": [v.as_dict() for v in self.verdicts],
        }


class Batch(Ingest, Analysis):
    """The CI ingest: one call from a glob to a verdict, on top of read, push and check."""

    def ingest(
        self,
        pattern: str,
        *,
        context: PushContext | None = None,
        baseline: str = "current",
        persist: bool = True,
        on_file: Callable[[Path], None] | None = None,
    ) -> IngestReport:
        """Validate every file the glob matches (``**`` spans folders), push them all or
        nothing, and gate each against ``baseline`` (current, previous, pinned, tx:ID,
        model@N or a file). A pattern matching nothing, or any refused file, is
        BadInputError naming them, and nothing is written. Pushing twice adds nothing.
        ``persist=False`` gates without storing (a pull request's results, say)."""
        files = find_inputs(pattern)
        found = self.read(files, on_file=on_file)
        if found.refused:
            raise BadInputError(
                pattern,
                f"{len(found.refused)} of {len(files)} files refused, nothing was written: "
                + "; ".join(r.error for r in found.refused),
                hint="fix or remove them; each is named with its line or field",
            )
        if persist:
            pushed = self.push(found.runs, context=context)
        else:
            pushed = PushReport(stored=False, warning=CHECK_ONLY)
        if pushed.stored:
            items = [
                Ingested(p.outcome.source, p.run, p.outcome, self._verdict(p, baseline))
                for p in pushed.pushed
                if p.run is not None
            ]
        else:  # check only, or CI without a store: validated and gated, not stored
            runs = self._identified(found.runs, context)
            items = [
                Ingested(source, run, None, self.check(run, baseline=baseline))
                for source, run in runs
            ]
        return IngestReport(pattern, [str(p) for p in files], pushed, items, baseline)

    def _verdict(self, item: PushedRun, baseline: str) -> CheckResult:
        """Against the current version: the push gate's own comparison (made before this
        run moved the pointer); a run stored by an earlier push, against the healthy
        version before it (what its push compared it with). Other baselines: a check."""
        from bench_analytics.gate import CheckResult
        from bench_analytics.health import assess

        run, o = item.run, item.outcome
        assert run is not None  # push keeps the stored run with each outcome
        if baseline != "current":
            return self.check(run, baseline=baseline)
        if not o.created:  # pushed before: against the version before it, as its push was
            return self.check(run, baseline="previous")
        health = assess(run, self.settings.failure_threshold)
        candidate = o.source + (f" (commit {o.commit_sha[:8]})" if o.commit_sha else "")
        note = None
        if health.status == "failed":
            note = f"the run failed the health check ({health.reason}): not compared"
        elif item.comparison is None:
            note = "the first version of this configuration: nothing to compare with"
        return CheckResult(
            o.configuration.subject, candidate, o.configuration, health, item.comparison, note
        )


def find_inputs(pattern: str) -> list[Path]:
    """Files a glob matches (sorted; ``**`` spans folders); none is bad input."""
    if not pattern.strip():
        raise BadInputError(
            "input glob", "is empty", hint="give a pattern such as 'results/*.json'"
        )
    matches = sorted(Path(p) for p in glob.glob(pattern, recursive=True))
    files = [p for p in matches if p.is_file()]
    if not files:
        raise BadInputError(
            pattern,
            "matches no result files",
            hint="check the path: artifacts land in one folder each, so 'artifacts/**/*.json'; "
            "`make demo` writes sample results to benchmarks/results/",
        )
    return files


def _row(item: Ingested) -> IngestedRun:
    o, run, verdict = item.outcome, item.run, item.verdict
    config = verdict.config
    return IngestedRun(
        source=item.source,
        model_key=config.model,
        prompt_version=config.prompt,
        environment=config.environment,
        version=o.version if o else None,
        outcome=_outcome(o, verdict),
        status=o.status if o else verdict.health.status,
        verdict=_verdict_text(verdict),
        f1=run.metrics.get("f1"),
        precision=run.metrics.get("precision"),
        recall=run.metrics.get("recall"),
        cost_usd=run.metrics.get("cost_usd"),
        transaction_id=o.transaction_id if o else None,
    )


def _outcome(o: PushOutcome | None, verdict: CheckResult) -> str:
    if o is None:
        return "failed run, not stored" if verdict.health.status == "failed" else "not stored"
    if not o.created:
        return "already stored"
    if o.status == "failed":
        return "failed run"
    return "held" if o.held else "new and current"


def _verdict_text(verdict: CheckResult) -> str:
    if verdict.health.status == "failed":
        return f"failed run: {verdict.health.reason}"
    if verdict.comparison is None:
        return verdict.note or verdict.warning or "not compared"
    regressed = [v.metric for v in verdict.comparison.regressions()]
    if regressed:
        return f"regression: {', '.join(regressed)}"
    better = [v.metric for v in verdict.comparison.verdicts if v.decision == "improvement"]
    return f"better: {', '.join(better)}" if better else "no significant change"


def _table(rows: Table[IngestedRun]) -> list[str]:
    """The results as a Markdown table (at most TABLE_ROWS rows)."""
    lines = [
        "| result | configuration | version | outcome | F1 | verdict |",
        "|---|---|---:|---|---:|---|",
    ]
    for r in rows[:TABLE_ROWS]:
        f1 = "—" if r.f1 is None else f"{r.f1:.3f}"
        version = "—" if r.version is None else str(r.version)
        config = f"{r.model_key} · {r.prompt_version} · {r.environment}"
        lines.append(
            f"| {_cell(r.source)} | {_cell(config)} | {version} | {r.outcome} | {f1} "
            f"| {_cell(r.verdict)} |"
        )
    if len(rows) > TABLE_ROWS:
        lines.append(f"\n…and {len(rows) - TABLE_ROWS} more results (see the HTML report).")
    return lines


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _cell(text: str) -> str:
    """Text safe inside a Markdown table cell."""
    return text.replace("|", "\\|").replace("\n", " ")
