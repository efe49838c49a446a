"""Typed rows the store returns: one dataclass per kind of row, never bare dicts or tuples."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bench_analytics.configuration import Configuration
from bench_analytics.tables import INTERNAL, Record, Table


class _Configured:
    """Rows that carry the four configuration columns."""

    model_key: str
    dataset_version: str
    prompt_version: str
    environment: str

    @property
    def configuration(self) -> Configuration:
        return Configuration(
            self.model_key, self.dataset_version, self.prompt_version, self.environment
        )


@dataclass(frozen=True)
class SnapshotRow(Record, _Configured):
    """A configuration and its current version (``version`` is None when none is current)."""

    model_key: str
    dataset_version: str
    prompt_version: str
    environment: str
    versions: int
    unhealthy: int
    version: int | None
    transaction_id: int | None
    model_display_name: str | None
    f1: float | None
    precision: float | None
    recall: float | None
    latency_ms: float | None
    cost_usd: float | None
    effective_status: str | None
    commit_sha: str | None
    branch: str | None
    case_count: int | None
    run_at: datetime | None


@dataclass(frozen=True)
class VersionRow(Record):
    """One version of a configuration."""

    version: int
    is_current: bool
    transaction_id: int
    model_display_name: str | None
    effective_status: str
    status_reason: str | None
    quarantine_reason: str | None
    f1: float | None
    precision: float | None
    recall: float | None
    latency_ms: float | None
    cost_usd: float | None
    case_count: int
    error_count: int
    commit_sha: str | None
    branch: str | None
    triggered_by: str | None
    run_at: datetime | None
    pushed_at: datetime
    source_name: str | None

    @property
    def note(self) -> str | None:
        """Why the version is not healthy, if it is not."""
        return self.quarantine_reason or self.status_reason


@dataclass(frozen=True)
class EventRow(Record):
    """One move (or deliberate non-move) of the current pointer."""

    id: int
    event_type: str
    from_version: int | None
    to_version: int | None
    transaction_id: int | None
    reason: str
    actor: str
    created_at: datetime


@dataclass(frozen=True)
class ConfigurationHistory(Record):
    """Every version of one configuration and every event of its pointer, oldest first."""

    configuration: Configuration
    versions: Table[VersionRow]
    events: Table[EventRow]


@dataclass(frozen=True)
class TransactionInfo(Record, _Configured):
    """One log row with its snapshot."""

    id: int
    model_key: str
    dataset_version: str
    prompt_version: str
    environment: str
    effective_status: str
    quarantined: bool
    version: int
    is_current: bool


@dataclass(frozen=True)
class CurrentSnapshot(Record):
    """What a push needs to know of the current version of its configuration."""

    snapshot_id: int
    version: int
    run_at: datetime | None
    transaction_id: int


@dataclass(frozen=True)
class StoredRun(Record):
    """A stored run as the comparison needs it: metrics from the log, cases from their table."""

    transaction_id: int
    content_sha256: str
    averaging: str
    metrics: dict[str, float]
    cases: list[tuple[Any, ...]]  # (case_id, status, tp, fp, fn, latency_ms, cost_usd, score)
    extra: dict[str, Any] = field(default_factory=dict)  # the run's extra (tools' fields)


@dataclass(frozen=True)
class HealthyHeadline(Record):
    """Headline metrics of one healthy version (the history the weaker test looks at)."""

    version: int
    f1: float | None
    precision: float | None
    recall: float | None
    latency_ms: float | None
    cost_usd: float | None


@dataclass(frozen=True)
class CostRow(Record):
    """Totals of one group of runs."""

    group: str
    runs: int
    unhealthy_runs: int
    cases: int | None
    input_tokens: float | None
    output_tokens: float | None
    cost_usd: float | None
    priced_runs: int
    issues_found: float | None
    cost_per_run_usd: float | None
    cost_per_detected_issue_usd: float | None


@dataclass(frozen=True)
class PointerMove(Record):
    """The outcome of a pointer command (``event`` None: nothing moved, ``message`` says why)."""

    config: Configuration
    event: str | None
    from_version: int | None
    to_version: int | None
    message: str


@dataclass(frozen=True)
class VerdictRecord(Record):
    """One metric's verdict as it is stored in ``gate_verdicts``."""

    metric: str
    baseline_value: float | None
    candidate_value: float | None
    delta: float | None
    ci_low: float | None
    ci_high: float | None
    p_value: float | None
    p_adjusted: float | None
    threshold: float
    mde: float | None
    decision: str
    gated: bool
    n: int


@dataclass(frozen=True)
class GateDecision(Record):
    """What the gate said about a new run, handed to the push that stores it.

    ``hold`` keeps the current pointer; ``reason`` becomes the pointer event's reason;
    ``report`` is the gate's own full comparison, carried back to the caller unread.
    """

    baseline_transaction_id: int
    baseline_rule: str
    baseline_reason: str
    method: str
    verdicts: tuple[VerdictRecord, ...]
    regressed: tuple[str, ...]
    hold: bool
    reason: str | None
    report: object = field(default=None, repr=False, compare=False, metadata=INTERNAL)


@dataclass(frozen=True)
class PushOutcome(Record):
    """What happened to one result."""

    source: str
    transaction_id: int
    version: int
    created: bool
    status: str
    status_reason: str | None
    current: bool
    event: str | None
    model_key: str
    dataset_version: str
    prompt_version: str
    environment: str
    event_reason: str | None = None
    commit_sha: str | None = None
    content_sha256: str | None = None
    gate: GateDecision | None = field(default=None, repr=False, metadata=INTERNAL)

    @property
    def configuration(self) -> Configuration:
        return Configuration(
            self.model_key, self.dataset_version, self.prompt_version, self.environment
        )

    @property
    def held(self) -> bool:
        """Stored now, but the pointer stayed where it was."""
        return self.created and not self.current

    @property
    def regressed(self) -> bool:
        return bool(self.gate and self.gate.regressed)


@dataclass(frozen=True)
class StoreStatus(Record):
    """Where the store is, its schema revision and how much it holds."""

    url: str
    embedded: bool
    home: str | None
    server_version: str
    revision: str | None
    head: str
    rows: dict[str, int] | None

    @property
    def up_to_date(self) -> bool:
        return self.revision == self.head


# --- grouped reads over the whole history (store/overview.py) ------------------------


@dataclass(frozen=True)
class FilterOptions(Record):
    """The values each filter can take, and the time span of the stored runs."""

    models: tuple[str, ...]
    environments: tuple[str, ...]
    datasets: tuple[str, ...]
    prompts: tuple[str, ...]
    first_run: datetime | None
    last_run: datetime | None
    runs: int


@dataclass(frozen=True)
class CurrentRow(Record, _Configured):
    """A configuration's current version with its F1 interval (stored at push)."""

    model_key: str
    dataset_version: str
    prompt_version: str
    environment: str
    versions: int
    version: int | None
    transaction_id: int | None
    model_display_name: str | None
    status: str
    f1: float | None
    f1_low: float | None
    f1_high: float | None
    precision: float | None
    recall: float | None
    latency_ms: float | None
    cost_usd: float | None
    case_count: int | None
    error_count: int | None
    commit_sha: str | None
    branch: str | None
    run_at: datetime | None
    issues_found: float | None

    @property
    def cost_per_detected_issue_usd(self) -> float | None:
        if self.cost_usd is None or not self.issues_found:
            return None
        return self.cost_usd / self.issues_found


@dataclass(frozen=True)
class FailedRun(Record, _Configured):
    """A run that failed its health check or was quarantined, with the reason."""

    model_key: str
    dataset_version: str
    prompt_version: str
    environment: str
    version: int
    transaction_id: int
    status: str
    reason: str | None
    commit_sha: str | None
    run_at: datetime | None


@dataclass(frozen=True)
class TrendPoint(Record, _Configured):
    """One configuration in one bucket: mean of the healthy runs, mean of their intervals,
    failed and quarantined runs counted apart."""

    model_key: str
    dataset_version: str
    prompt_version: str
    environment: str
    at: datetime
    runs: int
    value: float | None
    low: float | None
    high: float | None
    failed: int
    quarantined: int
    last_version: int
    commit_sha: str | None
    branch: str | None


@dataclass(frozen=True)
class EventBucket(Record):
    """Pointer events of one type in one bucket."""

    at: datetime
    event_type: str
    events: int
    last_reason: str
    last_actor: str


@dataclass(frozen=True)
class LatestVerdict(Record, _Configured):
    """One metric of a configuration's newest gate verdict, with its baseline."""

    model_key: str
    dataset_version: str
    prompt_version: str
    environment: str
    version: int
    transaction_id: int
    baseline_version: int | None
    baseline_transaction_id: int | None
    baseline_rule: str
    baseline_reason: str
    method: str
    metric: str
    baseline_value: float | None
    candidate_value: float | None
    delta: float | None
    ci_low: float | None
    ci_high: float | None
    p_value: float | None
    p_adjusted: float | None
    threshold: float
    mde: float | None
    decision: str
    gated: bool
    n: int
    created_at: datetime


@dataclass(frozen=True)
class HeldPromotion(Record, _Configured):
    """A run the gate kept from becoming current, and why."""

    model_key: str
    dataset_version: str
    prompt_version: str
    environment: str
    current_version: int | None
    version: int
    transaction_id: int
    reason: str
    actor: str
    created_at: datetime


@dataclass(frozen=True)
class RunChoice(Record, _Configured):
    """A stored run that can be compared (``tx:ID``)."""

    transaction_id: int
    model_key: str
    dataset_version: str
    prompt_version: str
    environment: str
    version: int
    is_current: bool
    status: str
    f1: float | None
    run_at: datetime | None

    @property
    def ref(self) -> str:
        return f"tx:{self.transaction_id}"

    @property
    def label(self) -> str:
        mark = " (current)" if self.is_current else ""
        status = "" if self.status == "healthy" else f" [{self.status}]"
        return (
            f"{self.model_key}@{self.version}{mark}{status} · {self.prompt_version} · "
            f"{self.dataset_version} · {self.environment}"
        )


@dataclass(frozen=True)
class CaseAcrossRow(Record, _Configured):
    """One case in one configuration's current version."""

    model_key: str
    dataset_version: str
    prompt_version: str
    environment: str
    version: int
    transaction_id: int
    status: str
    tp: int | None
    fp: int | None
    fn: int | None
    f1: float | None
    latency_ms: float | None
    error: str | None
    details: dict[str, Any]
