"""The seeded history's shape and plan: models, datasets, prompts, environments over three
years, which run happens when and how it fares; values in COPY text format.
"""

from __future__ import annotations

import hashlib
import math
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import NamedTuple

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench_analytics.metrics import spec_for

END = datetime(2026, 11, 30, 18, 0, tzinfo=UTC)
DAYS = 3 * 365
NULL = r"\N"


class Model(NamedTuple):
    key: str
    display_name: str
    provider: str
    quality: float  # share of expected issues found, roughly
    latency_ms: float
    usd_in: float  # per input token (0: not priced)
    usd_out: float
    first_day: int  # day of the history the model arrives


MODELS = (
    Model("baseline", "Rule-based baseline", "internal", 0.40, 35.0, 0.0, 0.0, 0),
    Model("openai", "OpenAI GPT-4o-mini", "openai", 0.66, 1900.0, 0.15e-6, 0.60e-6, 0),
    Model("gemini", "Gemini 1.5 Flash", "google", 0.63, 1500.0, 0.075e-6, 0.30e-6, 60),
    Model("medgemma", "MedGemma 27B", "google", 0.72, 3200.0, 0.20e-6, 0.20e-6, 200),
    Model("claude", "Claude 3.5 Haiku", "anthropic", 0.69, 2100.0, 0.80e-6, 4.00e-6, 120),
    Model("llama", "Llama 3.1 70B", "meta", 0.58, 2600.0, 0.35e-6, 0.40e-6, 300),
    Model("mistral", "Mistral Large", "mistral", 0.60, 2300.0, 2.00e-6, 6.00e-6, 330),
    Model("qwen", "Qwen 2.5 72B", "alibaba", 0.61, 2400.0, 0.40e-6, 1.20e-6, 420),
)
DATASETS = (("patients-v1", 0, DAYS - 90), ("patients-v2", 480, DAYS))  # (version, from, to)
PROMPTS = (("v1", 0, 0.0, 0), ("v2-structured", 150, 0.05, 150), ("v3-cot", 600, 0.08, 450))
ENVIRONMENTS = (("github-actions", 3.0), ("nightly", 2.0), ("local", 1.0))  # (name, weight)
ISSUES = (
    ("duplicate_charge", "billing"),
    ("upcoding", "billing"),
    ("gender_mismatch", "clinical"),
    ("age_inappropriate", "clinical"),
    ("temporal_violation", "billing"),
    ("medical_necessity", "clinical"),
    ("anatomical_contradiction", "clinical"),
)
CODES = ("99213", "99214", "99215", "80053", "93000", "71046", "36415")
ERRORS = ("HTTP 503 Service Unavailable", "timeout after 30 s", "HTTP 429 Too Many Requests")
PEOPLE = ("alice", "bob", "chen", "dana")
VARIANTS = 16  # outcome levels of a case, worst to best
PROFILES = 64  # distinct case shapes (expected issues); case ids stay unique
GATE_METRICS = (
    "f1",
    "precision",
    "recall",
    "f1_macro",
    "precision_macro",
    "recall_macro",
    "pass_rate",
    "success_rate",
    "latency_ms",
    "cost_usd",
)
GATED = ("f1", "recall")
LATENCY_MAX = 200_000
SPECS = {
    name: spec_for(name)
    for name in (*GATE_METRICS, "true_positives", "input_tokens", "output_tokens")
}
TABLES = (
    "benchmark_transactions",
    "benchmark_cases",
    "benchmark_metrics",
    "run_intervals",
    "benchmark_snapshots",
    "snapshot_events",
    "transaction_annotations",
    "gate_verdicts",
)
CASE_COPY = (
    "COPY benchmark_cases (transaction_id, latency_ms, case_id, status, tp, fp, fn, score, "
    "input_tokens, output_tokens, cost_usd, error, details) FROM STDIN"
)
TX_COLUMNS = (
    "id, content_sha256, model_key, model_display_name, model_version, provider, dataset_name, "
    "dataset_version, prompt_version, benchmark_type, environment, commit_sha, branch, run_id, "
    "triggered_by, tags, notes, run_started_at, run_finished_at, status, status_reason, "
    'case_count, error_count, f1, "precision", recall, latency_ms, cost_usd, source_format, '
    "source_name, legacy_id, document, pushed_at"
)


def esc(text: str) -> str:
    """A value in COPY text format."""
    if "\\" in text or "\t" in text or "\n" in text or "\r" in text:
        text = (
            text.replace("\\", "\\\\")
            .replace("\t", "\\t")
            .replace("\n", "\\n")
            .replace("\r", "\\r")
        )
    return text


def num(value: float | None, digits: int = 6) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return NULL
    return f"{value:.{digits}g}"


def stamp(value: datetime | None) -> str:
    return NULL if value is None else value.isoformat()


def opt_int(value: int | None) -> str:
    return NULL if value is None else str(value)


@dataclass
class Plan:
    """Every run's identity, time and outcome, in push (id) order; sums filled from cases."""

    n: int
    cases: np.ndarray  # cases per run
    config: np.ndarray  # index into configurations()
    model: np.ndarray
    prompt: np.ndarray
    started: list[datetime]
    finished: list[datetime]
    pushed_at: list[datetime]
    imported: np.ndarray  # imported without run times
    failed: np.ndarray
    outage: np.ndarray  # failed with outage evidence (else: most cases errored)
    error_share: np.ndarray  # for failed runs
    error_kind: np.ndarray
    quality: np.ndarray
    details: np.ndarray
    version: np.ndarray
    commit: list[str]
    branch: list[str]
    reason: list[str | None] = field(default_factory=list)
    tp: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    fp: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    fn: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    ok: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    passed: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    tokens_in: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    tokens_out: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    cost: np.ndarray = field(default_factory=lambda: np.zeros(0))
    latency: np.ndarray = field(default_factory=lambda: np.zeros(0))
    first_error: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))

    def errors(self, i: int) -> int:
        return int(self.cases[i] - self.ok[i])

    def headline(self, i: int) -> tuple[float | None, float | None, float | None]:
        """(f1, precision, recall) of run ``i`` over its answered cases, micro-averaged."""
        tp, fp, fn = int(self.tp[i]), int(self.fp[i]), int(self.fn[i])
        if not self.ok[i]:
            return None, None, None
        precision = tp / (tp + fp) if tp + fp else None
        recall = tp / (tp + fn) if tp + fn else None
        f1 = 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 1.0
        return f1, precision, recall

    def cost_usd(self, i: int) -> float | None:
        priced = MODELS[int(self.model[i])].usd_in > 0
        return float(self.cost[i]) if priced and self.ok[i] else None


def configurations() -> list[tuple[int, int, int, int]]:
    """(model, dataset, prompt, environment) indexes of every configuration."""
    return [
        (m, d, p, e)
        for m in range(len(MODELS))
        for d in range(len(DATASETS))
        for p in range(len(PROMPTS))
        for e in range(len(ENVIRONMENTS))
    ]


def _window(m: int, d: int, p: int) -> tuple[int, int]:
    return max(MODELS[m].first_day, DATASETS[d][1], PROMPTS[p][1]), DATASETS[d][2]


def make_plan(
    transactions: int, cases_per_run: int, details_fraction: float, large: int, seed: int
) -> Plan:
    rng = np.random.default_rng(seed)
    configs = configurations()
    n_cfg, n = len(configs), transactions
    windows = np.array([_window(m, d, p) for m, d, p, _ in configs], dtype=float)
    weights = np.array([ENVIRONMENTS[e][1] for *_, e in configs]) * (windows[:, 1] - windows[:, 0])
    first = np.arange(min(n, n_cfg))  # every configuration runs at least once
    rest = rng.choice(n_cfg, size=max(0, n - n_cfg), p=weights / weights.sum())
    config = np.concatenate([first, rest]).astype(np.int64)
    day = windows[config, 0] + rng.random(n) * (windows[config, 1] - windows[config, 0])
    day[: len(first)] = windows[first, 0] + rng.random(len(first)) * 0.5  # opens its window
    order = np.argsort(day, kind="stable")
    config, day = config[order], day[order]
    start = END - timedelta(days=DAYS)
    started = [start + timedelta(days=float(d)) for d in day]
    minutes = rng.uniform(2.0, 90.0, n).tolist()  # how long a run takes
    finished = [s + timedelta(minutes=m) for s, m in zip(started, minutes, strict=True)]
    delay = rng.uniform(5.0, 600.0, n).tolist()  # from the run's end to its push
    pushed_at = [f + timedelta(seconds=s) for f, s in zip(finished, delay, strict=True)]
    version = np.zeros(n, dtype=np.int64)
    counter = np.zeros(n_cfg, dtype=np.int64)
    for i, c in enumerate(config.tolist()):
        counter[c] += 1
        version[i] = counter[c]
    parts = np.array(configs, dtype=np.int64)[config] if n else np.zeros((0, 4), dtype=np.int64)
    m_idx, d_idx, p_idx = parts[:, 0], parts[:, 1], parts[:, 2]
    failed = (rng.random(n) < 0.03) & (version > 1)
    outage = rng.random(n) < 0.5
    bad_commit = rng.random(n) < 0.04
    quality = (
        np.array([m.quality for m in MODELS])[m_idx]
        + np.array([p[2] for p in PROMPTS])[p_idx]
        - 0.04 * d_idx
        + 0.10 * day / DAYS
        + rng.normal(0.0, 0.03, n)
        - 0.18 * bad_commit
    ).clip(0.02, 0.98)
    imported = (rng.random(n) < 0.01) & (day < DAYS / 3)
    details = np.zeros(n, dtype=bool)
    if n and details_fraction > 0:
        details = day >= np.quantile(day, 1.0 - details_fraction)
    commit_slot = (day * 6).astype(np.int64).tolist()  # a commit every ~4 hours
    commit = [hashlib.sha1(f"commit-{c}".encode()).hexdigest() for c in commit_slot]
    features = ("feature/prompt-tuning", "feature/new-parser", "feature/cost-cut")
    branch = ["main" if b < 0.85 else features[int(b * 1000) % 3] for b in rng.random(n).tolist()]
    cases = np.full(n, cases_per_run, dtype=np.int64)
    if large and n:
        newest_of_first = int(np.nonzero(config == 0)[0][-1])
        cases[newest_of_first] = large
        failed[newest_of_first] = False
    return Plan(
        n=n,
        cases=cases,
        config=config,
        model=m_idx,
        prompt=p_idx,
        started=started,
        finished=finished,
        pushed_at=pushed_at,
        imported=imported,
        failed=failed,
        outage=outage,
        error_share=np.where(outage, rng.uniform(0.2, 1.0, n), rng.uniform(0.6, 1.0, n)),
        error_kind=np.where(outage, 0, rng.integers(0, len(ERRORS), n)),
        quality=quality,
        details=details,
        version=version,
        commit=commit,
        branch=branch,
        reason=[None] * n,
    )


def assign_failure_reasons(plan: Plan) -> None:
    for i in np.nonzero(plan.failed)[0].tolist():
        errors, cases = plan.errors(i), int(plan.cases[i])
        kind = ERRORS[max(int(plan.first_error[i]), 0)]
        if errors / cases <= 0.5:  # the rule would pass it: the reader saw the outage
            plan.reason[i] = (
                f"suspected endpoint outage: {kind.removesuffix(' Service Unavailable')}"
            )
        elif errors == cases:
            plan.reason[i] = f"{errors}/{cases} cases failed: {kind}"
        else:
            plan.reason[i] = f"{errors}/{cases} cases failed ({errors / cases:.0%} > 50%): {kind}"
