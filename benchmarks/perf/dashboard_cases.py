"""Case rows of the seeded history: a small pool of row texts per model, prompt, case and
outcome, joined with each run's id and latency (5,000,000 rows in seconds of Python).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import orjson

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from benchmarks.perf.dashboard_plan import (
    CODES,
    ERRORS,
    ISSUES,
    LATENCY_MAX,
    MODELS,
    NULL,
    PROFILES,
    PROMPTS,
    VARIANTS,
    Plan,
    esc,
    num,
)


class CasePool:
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
                            f"{num(float(cost), 10) if model.usd_in > 0 else NULL}\t{NULL}\t"
                        )
                        out.append(head + "{}\n")
                        out.append(head + esc(details[profile][k]) + "\n")
        return out

    def _error_texts(self) -> list[str]:
        """Columns status .. details of errored cases, per (profile, error, with details)."""
        out: list[str] = []
        for profile in range(PROFILES):
            body = esc(orjson.dumps({"expected": self.expected[profile]}).decode())
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


def case_blocks(
    plan: Plan, pool: CasePool, rng: np.random.Generator, rows_per_block: int = 250_000
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
            CasePool.key(m, p, profile, level) * 2 + details,
        )
        blocks.append(_Block(runs, run, case, latency, text))
        runs = stop
    return blocks


def _case_text(block: _Block, pool: CasePool, case_ids: list[str], latency: list[str]) -> str:
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


def case_texts(plan: Plan, pool: CasePool, blocks: list[_Block]) -> Iterator[str]:
    width = max(5, len(str(int(plan.cases.max()))))
    case_ids = [f"P{i + 1:0{width}d}\t" for i in range(int(plan.cases.max()))]
    latency = [f"{v}\t" for v in range(LATENCY_MAX + 1)]
    for block in blocks:
        yield _case_text(block, pool, case_ids, latency)
