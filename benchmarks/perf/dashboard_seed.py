"""Seed a store with years of dashboard-sized history, fast: COPY straight into the tables.

A history the way pushes would have left it, over three years: 8 models x 2 dataset
versions x 3 prompt versions x 3 environments (144 configurations), each configuration
running in its own window (the second dataset and the third prompt arrive later, the first
dataset retires three months before the end). Every run is one transaction row with its
cases (``--cases-per-run``), headline metrics (f1, precision, recall, true_positives,
input_tokens, output_tokens, cost_usd), headline intervals (f1, precision, recall,
latency_ms), one snapshot (versions 1..k per configuration) and one pointer event, as a
push writes them:

  * ~3 % of runs failed (endpoint outages: ``suspected endpoint outage: HTTP 503``, or more
    than half the cases errored); they are held, never current;
  * every healthy run after the first of its configuration is compared with the current
    version: ten gate verdicts, ``regression`` (gated on f1 and recall) holds it;
  * a few manual rollbacks, a few quarantines (a current run hands the pointer back to the
    newest healthy version before it), a few releases;
  * exactly one current version per configuration (the pointer replayed in push order);
  * the newest ``--details-fraction`` of runs carry per-case ``details`` (expected issues
    with type, category, domain_knowledge; detections; the raw answer), the older ones ``{}``;
  * one run (the newest of the first configuration) has ``--large-run-cases`` cases, for
    paging deep into a run.

Case rows come from a small pool of row texts (per model, prompt, case and outcome) joined
with each run's id and latency, so 5,000,000 rows cost a few seconds of Python; the run's
headline numbers are summed from the same pool, so they match its cases. The schema is
migrated through the package first; the store must be empty. VACUUM ANALYZE at the end:
statistics, and the visibility map that index-only scans need, as autovacuum leaves a store
that grew by pushes (``--no-vacuum``: ANALYZE only, the state right after a bulk load).

    python benchmarks/perf/dashboard_seed.py [URL] [--transactions 100000] [--cases-per-run 50]

Without a URL, seeds a throw-away embedded database and prints the time and row counts.
"""

from __future__ import annotations

import argparse
import hashlib
import math
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import orjson
import psycopg
from psycopg.copy import QueuedLibpqWriter

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench_analytics.metrics import spec_for
from bench_analytics.store import Store

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


@dataclass
class SeedReport:
    """What was written and how long it took."""

    seconds: float = 0.0
    rows: dict[str, int] = field(default_factory=dict)
    steps: dict[str, float] = field(default_factory=dict)

    def describe(self) -> str:
        rows = ", ".join(f"{name} {count:,}" for name, count in self.rows.items())
        steps = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in self.steps.items())
        return f"seeded in {self.seconds:.1f} s ({steps})\nrows: {rows}"


def _esc(text: str) -> str:
    """A value in COPY text format."""
    if "\\" in text or "\t" in text or "\n" in text or "\r" in text:
        text = (
            text.replace("\\", "\\\\")
            .replace("\t", "\\t")
            .replace("\n", "\\n")
            .replace("\r", "\\r")
        )
    return text


def _num(value: float | None, digits: int = 6) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return NULL
    return f"{value:.{digits}g}"


def _ts(value: datetime | None) -> str:
    return NULL if value is None else value.isoformat()


@dataclass
class _Plan:
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


def _plan(
    transactions: int, cases_per_run: int, details_fraction: float, large: int, seed: int
) -> _Plan:
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
    return _Plan(
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


class _Pool:
    """Case row texts per (model, prompt, case profile, outcome level, with details or not)."""

    def __init__(self, rng: np.random.Generator) -> None:
        n_issues = rng.choice(4, size=PROFILES, p=(0.2, 0.4, 0.3, 0.1))
        self.expected: list[list[dict[str, Any]]] = []
        for profile in range(PROFILES):
            kinds = rng.choice(len(ISSUES), size=n_issues[profile], replace=False)
            self.expected.append(
                [
                    {
                        "type": ISSUES[k][0],
                        "category": ISSUES[k][1],
                        "domain_knowledge": bool(rng.random() < 0.3),
                    }
                    for k in kinds
                ]
            )
        levels = np.linspace(0.0, 1.0, VARIANTS)
        # an expected issue is found from some level on; up to two invented issues vanish
        # from some level on: better levels find more and invent fewer
        self.tp = np.zeros((PROFILES, VARIANTS), dtype=np.int64)
        self.fp = np.zeros((PROFILES, VARIANTS), dtype=np.int64)
        for profile in range(PROFILES):
            found_from = rng.random(len(self.expected[profile]))
            invented_until = rng.random(2) * 1.1
            self.tp[profile] = (levels[:, None] >= found_from[None, :]).sum(axis=1)
            self.fp[profile] = (levels[:, None] < invented_until[None, :] - 0.1).sum(axis=1)
        self.fn = np.array([len(e) for e in self.expected])[:, None] - self.tp
        shape = (len(MODELS), len(PROMPTS), PROFILES, VARIANTS)
        base_in = 700 + rng.integers(0, 900, size=PROFILES)
        prompt_in = np.array([0, 250, 450])
        self.tokens_in = np.broadcast_to(
            base_in[None, None, :, None] + prompt_in[None, :, None, None], shape
        ).astype(np.int64)
        prompt_out = np.array([60, 90, 380])
        self.tokens_out = np.broadcast_to(
            prompt_out[None, :, None, None] + 45 * (self.tp + self.fp)[None, None, :, :], shape
        ).astype(np.int64)
        usd_in = np.array([m.usd_in for m in MODELS])[:, None, None, None]
        usd_out = np.array([m.usd_out for m in MODELS])[:, None, None, None]
        self.cost = self.tokens_in * usd_in + self.tokens_out * usd_out
        self.rows = self._texts()
        self.error_rows = self._error_texts()

    @staticmethod
    def key(m: np.ndarray, p: np.ndarray, profile: np.ndarray, level: np.ndarray) -> np.ndarray:
        return ((m * len(PROMPTS) + p) * PROFILES + profile) * VARIANTS + level

    def _details(self, profile: int, level: int) -> str:
        expected = self.expected[profile]
        tp, fp = int(self.tp[profile, level]), int(self.fp[profile, level])
        code = CODES[profile % len(CODES)]
        kinds = [e["type"] for e in expected[:tp]]
        kinds += [ISSUES[(profile + j) % len(ISSUES)][0] for j in range(fp)]
        answer = "Found: " + "; ".join(f"{k.replace('_', ' ')} on CPT {code}" for k in kinds)
        return orjson.dumps(
            {
                "expected": expected,
                "detected": [{"type": k, "code": code} for k in kinds],
                "raw_answer": answer if kinds else "No billing or clinical issue found.",
            }
        ).decode()

    def _texts(self) -> list[str]:
        """Columns status .. details of answered cases (after latency and case id)."""
        out: list[str] = []
        details = [[self._details(p, k) for k in range(VARIANTS)] for p in range(PROFILES)]
        for m, model in enumerate(MODELS):
            for p in range(len(PROMPTS)):
                for profile in range(PROFILES):
                    for k in range(VARIANTS):
                        cost = self.cost[m, p, profile, k]
                        head = (
                            f"ok\t{self.tp[profile, k]}\t{self.fp[profile, k]}\t"
                            f"{self.fn[profile, k]}\t{NULL}\t{self.tokens_in[m, p, profile, k]}\t"
                            f"{self.tokens_out[m, p, profile, k]}\t"
                            f"{_num(float(cost), 10) if model.usd_in > 0 else NULL}\t{NULL}\t"
                        )
                        out.append(head + "{}\n")
                        out.append(head + _esc(details[profile][k]) + "\n")
        return out

    def _error_texts(self) -> list[str]:
        """Columns status .. details of errored cases, per (profile, error, with details)."""
        out: list[str] = []
        for profile in range(PROFILES):
            body = _esc(orjson.dumps({"expected": self.expected[profile]}).decode())
            for error in ERRORS:
                head = "error" + f"\t{NULL}" * 7 + f"\t{error}\t"
                out.append(head + "{}\n")
                out.append(head + body + "\n")
        return out


class _Block(NamedTuple):
    """The case rows of runs ``first``..: which run, case, latency, and which pool text."""

    first: int
    run: np.ndarray
    case: np.ndarray
    latency: np.ndarray
    text: np.ndarray  # index into pool.rows, or -1 - index into pool.error_rows


def _case_blocks(
    plan: _Plan, pool: _Pool, rng: np.random.Generator, rows_per_block: int = 250_000
) -> list[_Block]:
    """Every case row as numbers (in blocks of runs); fills the plan's per-run sums."""
    n = plan.n
    for name in ("tp", "fp", "fn", "ok", "passed", "tokens_in", "tokens_out"):
        setattr(plan, name, np.zeros(n, dtype=np.int64))
    plan.cost, plan.latency = np.zeros(n), np.zeros(n)
    plan.first_error = np.full(n, -1, dtype=np.int64)
    model_latency = np.array([m.latency_ms for m in MODELS])
    prompt_latency = np.array([1.0, 1.1, 1.6])
    blocks: list[_Block] = []
    runs = 0
    while runs < n:
        stop, rows = runs, 0
        while stop < n and (rows == 0 or rows + plan.cases[stop] <= rows_per_block):
            rows += int(plan.cases[stop])
            stop += 1
        counts = plan.cases[runs:stop]
        local = np.repeat(np.arange(stop - runs), counts)
        run = local + runs
        case = np.concatenate([np.arange(c) for c in counts.tolist()])
        profile = case % PROFILES
        level = np.clip(
            np.rint(plan.quality[run] * (VARIANTS - 1) + rng.normal(0.0, 2.5, rows)),
            0,
            VARIANTS - 1,
        ).astype(np.int64)
        error = rng.random(rows) < np.where(plan.failed[run], plan.error_share[run], 0.01)
        kind = np.where(plan.failed[run], plan.error_kind[run], rng.integers(0, 3, rows))
        m, p = plan.model[run], plan.prompt[run]
        latency = model_latency[m] * prompt_latency[p] * rng.lognormal(0.0, 0.35, rows)
        latency = np.where(error & (kind == 1), 30_000.0, latency)
        latency = np.clip(np.rint(latency), 1, LATENCY_MAX).astype(np.int64)
        ok = ~error

        def total(
            values: np.ndarray, local: np.ndarray = local, size: int = stop - runs
        ) -> np.ndarray:
            return np.bincount(local, values, size)

        block = slice(runs, stop)
        plan.tp[block] = total(pool.tp[profile, level] * ok)
        plan.fp[block] = total(pool.fp[profile, level] * ok)
        plan.fn[block] = total(pool.fn[profile, level] * ok)
        plan.ok[block] = total(ok)
        clean = (pool.fp[profile, level] == 0) & (pool.fn[profile, level] == 0)
        plan.passed[block] = total(ok & clean)
        plan.tokens_in[block] = total(pool.tokens_in[m, p, profile, level] * ok)
        plan.tokens_out[block] = total(pool.tokens_out[m, p, profile, level] * ok)
        plan.cost[block] = total(pool.cost[m, p, profile, level] * ok)
        plan.latency[block] = total(latency) / counts
        where = np.nonzero(error)[0][::-1]  # reversed: a run's first error is written last
        plan.first_error[run[where]] = kind[where]
        details = plan.details[run].astype(np.int64)
        text = np.where(
            error,
            -1 - ((profile * len(ERRORS) + kind) * 2 + details),
            _Pool.key(m, p, profile, level) * 2 + details,
        )
        blocks.append(_Block(runs, run, case, latency, text))
        runs = stop
    return blocks


def _case_text(block: _Block, pool: _Pool, case_ids: list[str], latency: list[str]) -> str:
    """COPY text of one block (columns as CASE_COPY)."""
    prefix = [f"{i + 1}\t" for i in range(block.first, int(block.run[-1]) + 1)]
    first, rows, errors = block.first, pool.rows, pool.error_rows
    return "".join(
        [
            prefix[r - first] + latency[lat] + case_ids[c] + (rows[t] if t >= 0 else errors[-1 - t])
            for r, lat, c, t in zip(
                block.run.tolist(),
                block.latency.tolist(),
                block.case.tolist(),
                block.text.tolist(),
                strict=True,
            )
        ]
    )


def _case_texts(plan: _Plan, pool: _Pool, blocks: list[_Block]) -> Iterator[str]:
    width = max(5, len(str(int(plan.cases.max()))))
    case_ids = [f"P{i + 1:0{width}d}\t" for i in range(int(plan.cases.max()))]
    latency = [f"{v}\t" for v in range(LATENCY_MAX + 1)]
    for block in blocks:
        yield _case_text(block, pool, case_ids, latency)


def _failure_reasons(plan: _Plan) -> None:
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


def _transactions(plan: _Plan, seed: int) -> Iterator[str]:
    configs = configurations()
    lines: list[str] = []
    for i in range(plan.n):
        m, d, p, e = configs[int(plan.config[i])]
        model, env = MODELS[m], ENVIRONMENTS[e][0]
        f1, precision, recall = plan.headline(i)
        cost, cases, errors = plan.cost_usd(i), int(plan.cases[i]), plan.errors(i)
        imported = bool(plan.imported[i])
        started = None if imported else plan.started[i]
        finished = None if imported else plan.finished[i]
        triggered = "ci-bot" if env != "local" else PEOPLE[i % len(PEOPLE)]
        run_id = None if env == "local" else str(9_000_000 + i)
        metrics = {
            "case_count": cases,
            "error_count": errors,
            "f1": f1,
            "precision": precision,
            "recall": recall,
            "true_positives": int(plan.tp[i]),
            "false_positives": int(plan.fp[i]),
            "false_negatives": int(plan.fn[i]),
            "input_tokens": int(plan.tokens_in[i]),
            "output_tokens": int(plan.tokens_out[i]),
            "latency_ms": float(plan.latency[i]),
            "cost_usd": cost,
        }
        document = {
            "schema": "bench-analytics/result",
            "schema_version": 1,
            "model": {
                "key": model.key,
                "display_name": model.display_name,
                "version": None,
                "provider": model.provider,
            },
            "dataset": {"name": "patients", "version": DATASETS[d][0], "declared_cases": cases},
            "prompt_version": PROMPTS[p][0],
            "benchmark_type": "patients",
            "environment": env,
            "started_at": _iso(started),
            "finished_at": _iso(finished),
            "averaging": "micro",
            "metrics": {k: v for k, v in metrics.items() if v is not None},
            "provenance": {
                "commit_sha": plan.commit[i],
                "branch": plan.branch[i],
                "run_id": run_id,
                "triggered_by": triggered,
                "tags": [],
                "source_format": "legacy" if imported else "native",
                "legacy_id": f"legacy-{i + 1}" if imported else None,
            },
        }
        fields = (
            str(i + 1),
            hashlib.sha256(f"dashboard-seed:{seed}:{i}".encode()).hexdigest(),
            model.key,
            model.display_name,
            NULL,
            model.provider,
            "patients",
            DATASETS[d][0],
            PROMPTS[p][0],
            "patients",
            env,
            plan.commit[i],
            plan.branch[i],
            run_id or NULL,
            triggered,
            "{}",
            NULL,
            _ts(started),
            _ts(finished),
            "failed" if plan.failed[i] else "healthy",
            _esc(plan.reason[i] or "") or NULL,
            str(cases),
            str(errors),
            _num(f1, 17),
            _num(precision, 17),
            _num(recall, 17),
            _num(float(plan.latency[i]), 10),
            _num(cost, 10),
            "legacy" if imported else "native",
            f"run-{i + 1}.json",
            f"legacy-{i + 1}" if imported else NULL,
            _esc(orjson.dumps(document).decode()),
            _ts(plan.pushed_at[i]),
        )
        lines.append("\t".join(fields) + "\n")
        if len(lines) == 5000:
            yield "".join(lines)
            lines = []
    yield "".join(lines)


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


class _Tables:
    """Rows of the tables the pointer replay writes, as COPY text."""

    def __init__(self) -> None:
        self.metrics: list[str] = []
        self.intervals: list[str] = []
        self.snapshots: list[tuple[int, str]] = []  # (run, text without is_current, created_at)
        self.events: list[tuple[datetime, str]] = []
        self.annotations: list[tuple[datetime, str]] = []
        self.verdicts: list[str] = []

    def snapshot_rows(self, current: set[int]) -> Iterator[str]:
        for run, text in self.snapshots:
            yield text.replace("\x00", "t" if run in current else "f")


def _values(plan: _Plan, i: int, jitter: float) -> dict[str, float | None]:
    """What the gate compares, for run ``i``."""
    f1, precision, recall = plan.headline(i)
    ok, cases = int(plan.ok[i]), int(plan.cases[i])
    values: dict[str, float | None] = {
        "f1": f1,
        "precision": precision,
        "recall": recall,
        "latency_ms": float(plan.latency[i]),
        "cost_usd": plan.cost_usd(i),
        "pass_rate": int(plan.passed[i]) / ok if ok else None,
        "success_rate": ok / cases,
    }
    for name in ("f1", "precision", "recall"):
        value = values[name]
        macro = None if value is None else min(1.0, max(0.0, value - 0.03 + 0.02 * jitter))
        values[f"{name}_macro"] = macro
    return values


def _metric_rows(plan: _Plan, i: int, out: _Tables) -> None:
    f1, precision, recall = plan.headline(i)
    tx, ok = i + 1, int(plan.ok[i])
    for name, value in (
        ("f1", f1),
        ("precision", precision),
        ("recall", recall),
        ("true_positives", float(plan.tp[i])),
        ("input_tokens", float(plan.tokens_in[i])),
        ("output_tokens", float(plan.tokens_out[i])),
        ("cost_usd", plan.cost_usd(i)),
    ):
        if value is not None:
            spec = SPECS[name]
            out.metrics.append(f"{tx}\t{name}\t{value!r}\t{spec.unit}\t{spec.direction}\n")
    if not ok:
        return
    found, said = max(1, int(plan.tp[i] + plan.fn[i])), max(1, int(plan.tp[i] + plan.fp[i]))
    for name, value, count in (
        ("f1", f1, found),
        ("precision", precision, said),
        ("recall", recall, found),
    ):
        if value is not None:
            half = 1.96 * math.sqrt(max(value * (1 - value), 0.01) / count)
            low, high = max(0.0, value - half), min(1.0, value + half)
            out.intervals.append(
                f"{tx}\t{name}\t{value!r}\t{low!r}\t{high!r}\t"
                f"bootstrap over cases (pooled counts)\t{ok}\n"
            )
    lat = float(plan.latency[i])
    half = 1.96 * 0.35 * lat / math.sqrt(ok)
    out.intervals.append(
        f"{tx}\tlatency_ms\t{lat!r}\t{max(0.0, lat - half)!r}\t{lat + half!r}\t"
        f"bootstrap over cases\t{ok}\n"
    )


def _verdicts(
    plan: _Plan,
    i: int,
    base: int,
    values: dict[str, float | None],
    baseline: dict[str, float | None],
    reason: str,
    out: _Tables,
) -> list[str]:
    """Ten verdicts of run ``i`` against run ``base``; the gated regressions, described."""
    regressed: list[str] = []
    at = _ts(plan.pushed_at[i] - timedelta(milliseconds=40))
    pairs = min(int(plan.cases[i]), int(plan.cases[base]))
    for metric in GATE_METRICS:
        b, v = baseline.get(metric), values.get(metric)
        delta = p_value = p_adj = low = high = None
        decision = "not tested"
        if b is not None and v is not None:
            delta = v - b
            relative = metric in ("latency_ms", "cost_usd")
            se = 0.08 * max(abs(b), 1e-9) if relative else 0.06
            p_value = math.erfc(abs(delta / se) / math.sqrt(2.0))
            p_adj = min(1.0, p_value * 3.0)
            low, high = delta - 1.96 * se, delta + 1.96 * se
            worse = delta > 0 if SPECS[metric].direction == "lower" else delta < 0
            decision = "no significant change"
            if p_adj < 0.05:
                decision = "regression" if worse else "improvement"
        gated = metric in GATED
        if decision == "regression" and gated:
            regressed.append(f"{metric} {delta:+.3f} (p={p_adj:.3f})")
        mde = None if metric in ("latency_ms", "cost_usd") else 0.09
        out.verdicts.append(
            f"{i + 1}\t{base + 1}\tcurrent\t{_esc(reason)}\tpaired\t{metric}\t"
            f"{_num(b, 10)}\t{_num(v, 10)}\t{_num(delta, 10)}\t{_num(low, 10)}\t"
            f"{_num(high, 10)}\t{_num(p_value)}\t{_num(p_adj)}\t0\t{_num(mde, 4)}\t"
            f"{decision}\t{'t' if gated else 'f'}\t{pairs}\t{at}\n"
        )
    return regressed


def _replay(plan: _Plan, rng: np.random.Generator) -> tuple[_Tables, set[int]]:
    """Replay the pushes in order (snapshot, verdicts, promote or hold), with a few manual
    rollbacks and quarantines; returns the rows and the runs current at the end."""
    configs = configurations()
    out = _Tables()
    names = [
        (MODELS[m].key, DATASETS[d][0], PROMPTS[p][0], ENVIRONMENTS[e][0]) for m, d, p, e in configs
    ]
    current: list[int | None] = [None] * len(configs)
    healthy: list[list[int]] = [[] for _ in configs]  # healthy runs so far, oldest first
    quarantined: set[int] = set()
    regressed_runs: set[int] = set()
    values: list[dict[str, float | None]] = []
    draws = rng.random((plan.n, 3))
    # a manual move comes after the push and before the configuration's next push
    room: list[timedelta] = [timedelta(hours=3)] * plan.n
    following: dict[int, datetime] = {}
    for i in range(plan.n - 1, -1, -1):
        c = int(plan.config[i])
        if c in following:
            room[i] = min(room[i], (following[c] - plan.pushed_at[i]) / 2)
        following[c] = plan.pushed_at[i]
    for i in range(plan.n):
        values.append(_values(plan, i, float(draws[i, 2])))
        _metric_rows(plan, i, out)
        c = int(plan.config[i])
        key = "\t".join(names[c])
        at, version = plan.pushed_at[i], int(plan.version[i])
        actor = "ci-bot" if names[c][3] != "local" else PEOPLE[i % len(PEOPLE)]
        before = current[c]
        before_v = None if before is None else int(plan.version[before])
        out.snapshots.append((i, f"{i + 1}\t{key}\t{version}\t{i + 1}\t\x00\t{_ts(at)}\n"))

        def event(
            kind: str,
            frm: int | None,
            to: int | None,
            run: int,
            why: str,
            who: str,
            when: datetime,
            key: str = key,
        ) -> None:
            out.events.append(
                (
                    when,
                    f"{key}\t{kind}\t{_int(frm)}\t{_int(to)}\t{run + 1}\t{_esc(why)}\t{who}\t"
                    f"{_ts(when)}\n",
                )
            )

        if plan.failed[i]:
            why = f"run failed the health check, pointer kept: {plan.reason[i]}"
            event("hold", before_v, before_v, i, why, actor, at)
            continue
        healthy[c].append(i)
        if before is None:
            current[c] = i
            event(
                "promote",
                None,
                version,
                i,
                "first healthy version of this configuration",
                actor,
                at,
            )
            continue
        reason = (
            f"version {before_v} of {'/'.join(names[c])} (transaction {before + 1}): "
            "the current snapshot"
        )
        regressed = _verdicts(plan, i, before, values[i], values[before], reason, out)
        if regressed:
            regressed_runs.add(i)
            why = f"held: significant regression vs version {before_v}: {', '.join(regressed)}"
            event("hold", before_v, before_v, i, why, actor, at)
            continue
        current[c] = i
        event(
            "promote",
            before_v,
            version,
            i,
            f"new healthy version replaces version {before_v}",
            actor,
            at,
        )
        earlier = [h for h in healthy[c][:-1] if h not in quarantined]
        if not earlier:
            continue
        # the newest earlier healthy version, one without a gated regression first
        target = max(earlier, key=lambda h: (h not in regressed_runs, h))
        who = PEOPLE[i % len(PEOPLE)]
        if draws[i, 0] < 0.0008:  # quarantined soon after: the pointer goes back
            when = at + room[i] / 3
            why = "endpoint degraded: answers truncated by a proxy, not the model's result"
            quarantined.add(i)
            out.annotations.append((when, f"{i + 1}\tquarantine\t{why}\t{who}\t{_ts(when)}\n"))
            current[c] = target
            event("quarantine", version, int(plan.version[target]), i, why, who, when)
            if draws[i, 1] < 0.2:  # ... and released two days later (the pointer stays)
                later = when + timedelta(days=2)
                why = "proxy ruled out: the answers are the model's"
                out.annotations.append((later, f"{i + 1}\trelease\t{why}\t{who}\t{_ts(later)}\n"))
                quarantined.discard(i)
        elif draws[i, 0] > 0.998:  # a manual rollback soon after
            when = at + room[i] / 2
            to_v = int(plan.version[target])
            why = f"manual rollback to version {to_v}: answers in production looked off"
            current[c] = target
            event("rollback", version, to_v, target, why, who, when)
    return out, {run for run in current if run is not None}


def _int(value: int | None) -> str:
    return NULL if value is None else str(value)


def seed(
    url: str,
    transactions: int = 100_000,
    cases_per_run: int = 50,
    *,
    details_fraction: float = 0.15,
    large_run_cases: int = 20_000,
    seed: int = 7,
    vacuum: bool = True,
    log: bool = False,
) -> SeedReport:
    """Migrate the store at ``url`` (it must hold no runs yet) and fill it."""
    report = SeedReport()
    began = last = time.perf_counter()

    def step(name: str) -> None:
        nonlocal last
        now = time.perf_counter()
        report.steps[name] = now - last
        if log:
            print(f"  {name}: {now - last:.1f} s", flush=True)
        last = now

    with Store.open(url):
        pass  # migrates
    step("migrate")
    with psycopg.connect(url, autocommit=True) as conn:
        found = conn.execute("SELECT count(*) FROM benchmark_transactions").fetchone()
        if found and found[0]:
            raise SystemExit(f"the store already holds {found[0]} runs: seed an empty one")
        if transactions > 0:
            _fill(conn, transactions, cases_per_run, details_fraction, large_run_cases, seed, step)
        conn.execute("VACUUM (ANALYZE)" if vacuum else "ANALYZE")
        step("VACUUM ANALYZE" if vacuum else "ANALYZE")
        report.rows = {
            name: count
            for name, count in conn.execute(
                " UNION ALL ".join(f"SELECT '{name}', count(*) FROM {name}" for name in TABLES)
            ).fetchall()
        }
    report.seconds = time.perf_counter() - began
    return report


def _fill(
    conn: psycopg.Connection,
    transactions: int,
    cases_per_run: int,
    details_fraction: float,
    large_run_cases: int,
    seed: int,
    step: Callable[[str], None],
) -> None:
    plan = _plan(transactions, cases_per_run, details_fraction, large_run_cases, seed)
    pool = _Pool(np.random.default_rng(seed + 1))
    blocks = _case_blocks(plan, pool, np.random.default_rng(seed + 2))
    _failure_reasons(plan)
    step("plan")
    conn.execute("SET synchronous_commit = off")
    with conn.transaction():
        _copy(
            conn,
            f"COPY benchmark_transactions ({TX_COLUMNS}) FROM STDIN",
            _transactions(plan, seed),
        )
        step("COPY benchmark_transactions")
        _copy(conn, CASE_COPY, _case_texts(plan, pool, blocks))
        del blocks
        step("COPY benchmark_cases")
        tables, current = _replay(plan, np.random.default_rng(seed + 3))
        step("replay the pointer")
        _copy(
            conn,
            "COPY benchmark_metrics (transaction_id, name, value, unit, direction) FROM STDIN",
            tables.metrics,
        )
        _copy(
            conn,
            "COPY run_intervals (transaction_id, metric, value, low, high, method, n) FROM STDIN",
            tables.intervals,
        )
        _copy(
            conn,
            "COPY benchmark_snapshots (id, model_key, dataset_version, prompt_version, "
            "environment, version, transaction_id, is_current, created_at) FROM STDIN",
            tables.snapshot_rows(current),
        )
        _copy(
            conn,
            "COPY snapshot_events (model_key, dataset_version, prompt_version, environment, "
            "event_type, from_version, to_version, transaction_id, reason, actor, created_at) "
            "FROM STDIN",
            (text for _, text in sorted(tables.events, key=lambda e: e[0])),
        )
        _copy(
            conn,
            "COPY transaction_annotations (transaction_id, kind, reason, actor, created_at) "
            "FROM STDIN",
            (text for _, text in sorted(tables.annotations, key=lambda e: e[0])),
        )
        _copy(
            conn,
            "COPY gate_verdicts (transaction_id, baseline_transaction_id, baseline_rule, "
            "baseline_reason, method, metric, baseline_value, candidate_value, delta, ci_low, "
            "ci_high, p_value, p_adjusted, threshold, mde, decision, gated, n, created_at) "
            "FROM STDIN",
            tables.verdicts,
        )
        for table in ("benchmark_transactions", "benchmark_snapshots"):
            conn.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), max(id)) FROM {table}"
            )
        step("COPY the other tables")


def _copy(conn: psycopg.Connection, sql: str, chunks: Iterable[str]) -> None:
    """COPY text, ~8 MB at a time; a thread sends one while the next is made."""
    with conn.cursor() as cur, cur.copy(sql, writer=QueuedLibpqWriter(cur)) as copy:
        batch: list[str] = []
        size = 0
        for chunk in chunks:
            batch.append(chunk)
            size += len(chunk)
            if size > 8_000_000:
                copy.write("".join(batch))
                batch, size = [], 0
        if batch:
            copy.write("".join(batch))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url", nargs="?", help="database to seed (default: a throw-away one)")
    parser.add_argument("--transactions", type=int, default=100_000)
    parser.add_argument("--cases-per-run", type=int, default=50)
    parser.add_argument("--details-fraction", type=float, default=0.15)
    parser.add_argument("--large-run-cases", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--no-vacuum", action="store_true", help="ANALYZE only")
    args = parser.parse_args()
    options = {
        "transactions": args.transactions,
        "cases_per_run": args.cases_per_run,
        "details_fraction": args.details_fraction,
        "large_run_cases": args.large_run_cases,
        "seed": args.seed,
        "vacuum": not args.no_vacuum,
        "log": True,
    }
    if args.url:
        print(seed(args.url, **options).describe())  # type: ignore[arg-type]
        return
    from benchmarks.perf.tempstore import temporary_database

    with temporary_database("bench-dashboard-seed-") as (url, _):
        print(seed(url, **options).describe())  # type: ignore[arg-type]


if __name__ == "__main__":
    main()
