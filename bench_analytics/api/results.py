"""What the API's calls return beyond the store's own rows: pushes, runs, reads, intervals."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench_analytics.errors import BadInputError
from bench_analytics.tables import INTERNAL, Record, Table

if TYPE_CHECKING:
    import pandas as pd

    from bench_analytics.comparison import Comparison, Verdict
    from bench_analytics.health import Health
    from bench_analytics.model import RunResult
    from bench_analytics.stats import Estimate
    from bench_analytics.store.records import PushOutcome


@dataclass(frozen=True)
class Refusal(Record):
    """A file that could not be read, and why (nothing of it was written)."""

    path: str
    error: str


@dataclass
class ReadResult(Record):
    """Runs read from files, folders or memory: (source name, run) pairs, and refusals."""

    runs: list[tuple[str, RunResult]] = field(default_factory=list, metadata=INTERNAL)
    refused: Table[Refusal] = field(default_factory=lambda: Table(Refusal))
    files: int = 0

    def raise_if_refused(self) -> None:
        """All or nothing: any refusal fails the whole batch (nothing is written)."""
        if self.refused:
            raise BadInputError(
                f"{len(self.refused)} of {self.files} files",
                "refused; nothing was written",
                hint="fix them, or pass skip_invalid=True to go on without them",
                cli_hint="fix them, or pass --skip-invalid to go on without them",
                details=[f"refused {r.error}" for r in self.refused],
            )


@dataclass
class ConvertResult(Record):
    """Files written in the project's format, and inputs refused (with ``skip_invalid``)."""

    written: list[Path] = field(default_factory=list)
    refused: Table[Refusal] = field(default_factory=lambda: Table(Refusal))


@dataclass(frozen=True)
class PushedRun(Record):
    """One pushed result: what the store did, the gate's comparison when there was one, and
    the run as it was stored (identity from the push context filled in)."""

    outcome: PushOutcome
    comparison: Comparison | None = field(default=None, metadata=INTERNAL)
    run: RunResult | None = field(default=None, repr=False, metadata=INTERNAL)

    @property
    def subject(self) -> str:
        return self.outcome.configuration.subject

    @property
    def regressions(self) -> list[Verdict]:
        """The gated metrics that regressed significantly."""
        return self.comparison.regressions() if self.comparison else []

    def as_dict(self) -> dict[str, Any]:
        """The outcome's fields, the baseline the gate used and its regressions."""
        data = self.outcome.as_dict()
        gate = self.outcome.gate
        data["baseline"] = gate.baseline_reason if gate else None
        data["regressions"] = [v.as_dict() for v in self.regressions]
        return data


@dataclass
class PushReport(Record):
    """Everything a push did: one entry per result, refusals, alerts that failed."""

    pushed: list[PushedRun] = field(default_factory=list)
    refused: Table[Refusal] = field(default_factory=lambda: Table(Refusal))
    alert_failures: list[str] = field(default_factory=list)
    stored: bool = True
    warning: str | None = None

    @property
    def outcomes(self) -> list[PushOutcome]:
        return [item.outcome for item in self.pushed]

    @property
    def created(self) -> int:
        return sum(o.created for o in self.outcomes)

    @property
    def held(self) -> int:
        return sum(o.held for o in self.outcomes)

    @property
    def regressions(self) -> list[PushedRun]:
        """Pushed runs whose gate found a significant regression (held or forced through)."""
        return [item for item in self.pushed if item.outcome.created and item.outcome.regressed]

    def to_frame(self) -> pd.DataFrame:
        """One row per pushed result: the outcome's columns and the regressed metrics."""
        from bench_analytics.store.records import PushOutcome

        frame = Table(PushOutcome, self.outcomes).to_frame()
        frame["regressed"] = [",".join(o.gate.regressed) if o.gate else "" for o in self.outcomes]
        return frame

    def as_dict(self) -> dict[str, Any]:
        return {
            "stored": self.stored,
            "warning": self.warning,
            "pushed": [item.as_dict() for item in self.pushed],
            "refused": self.refused.as_dicts(),
            "alert_failures": self.alert_failures,
        }


@dataclass
class RunIntervals(Record):
    """Every metric of one run with its interval, and which run that was."""

    label: str
    cases: int
    estimates: Table[Estimate]
    source: str = ""  # which run: 'version 2 of medgemma/… (transaction 7): …', or the file

    def to_frame(self) -> pd.DataFrame:
        return self.estimates.to_frame()


@dataclass
class RunReport(Record):
    """A finished benchmark run: the result, the files written, its health, the push."""

    result: RunResult = field(metadata=INTERNAL)
    files: list[Path]
    health: Health = field(metadata=INTERNAL)
    push: PushReport | None = field(default=None, metadata=INTERNAL)

    def summary(self) -> dict[str, Any]:
        """The run in one flat dict (file, model, cases, errors, status, headline metrics)."""
        result = self.result
        metrics = result.metrics
        return {
            "file": str(self.files[0]),
            "files": [str(p) for p in self.files],
            "model": result.model.key,
            "prompt_version": result.prompt_version,
            "dataset_version": result.dataset.version,
            "cases": len(result.cases),
            "errors": self.health.error_count,
            "status": self.health.status,
            "reason": self.health.reason,
            **{
                name: metrics.get(name)
                for name in (
                    "f1",
                    "precision",
                    "recall",
                    "latency_p50_ms",
                    "cost_usd",
                    "cost_per_detected_issue_usd",
                )
            },
        }

    def as_dict(self) -> dict[str, Any]:
        return self.summary()
