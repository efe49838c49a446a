"""Fast numpy simulation of paired LLM evaluation runs, for the evidence script.

A case holds 0-3 issues, each with a difficulty shared by every run (hard issues are
hard for everyone), so two runs on the same cases are correlated as real runs are. A run
detects an issue with probability logistic(logit(rate) - difficulty + shift); false
alarms, latency (case effect x run noise) and token cost vary per case.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bench_analytics.stats import CaseTable
from bench_analytics.stats.cases import prf_from_sums

BASE_RATE = 0.65
FALSE_ALARM_RATE = 0.25


@dataclass(frozen=True)
class CaseSet:
    """The cases of one simulated benchmark."""

    issues: np.ndarray  # (n, 3) bool: which of the case's three issue slots hold an issue
    difficulty: np.ndarray  # (n, 3)
    latency: np.ndarray  # (n,) the case's typical latency in ms
    tokens: np.ndarray  # (n,) the case's typical tokens


def case_set(rng: np.random.Generator, n: int) -> CaseSet:
    counts = rng.choice(4, size=n, p=[0.25, 0.40, 0.25, 0.10])
    issues = np.arange(3)[None, :] < counts[:, None]
    return CaseSet(
        issues=issues,
        difficulty=rng.normal(0, 1.5, size=(n, 3)),
        latency=np.exp(rng.normal(np.log(3000), 0.3, size=n)),
        tokens=rng.normal(1600, 200, size=n).clip(200),
    )


def _logit(p: float) -> float:
    return float(np.log(p / (1 - p)))


def run(rng: np.random.Generator, cases: CaseSet, shift: float = 0.0) -> CaseTable:
    """One run over ``cases``; ``shift`` < 0 is a worse model (logit scale)."""
    n = cases.issues.shape[0]
    chance = 1 / (1 + np.exp(-(_logit(BASE_RATE) - cases.difficulty + shift)))
    found = (rng.random((n, 3)) < chance) & cases.issues
    tp = found.sum(axis=1)
    fn = cases.issues.sum(axis=1) - tp
    fp = rng.binomial(2, FALSE_ALARM_RATE, size=n)
    latency = cases.latency * np.exp(rng.normal(0, 0.2, size=n))
    cost = cases.tokens * np.exp(rng.normal(0, 0.1, size=n)) / 1000 * 0.0003
    return CaseTable(
        ids=np.arange(n).astype(str).astype(object),
        tp=tp.astype(np.int64),
        fp=fp.astype(np.int64),
        fn=fn.astype(np.int64),
        latency=latency,
        cost=cost,
        scored=True,
        errored=0,
    )


def f1(table: CaseTable) -> float:
    """Micro F1 of a run (what aggregate-only tools see)."""
    sums = table.counts().sum(axis=0)
    return float(prf_from_sums(*sums)[2])


def expected_f1(shift: float, n: int = 200_000, seed: int = 99) -> float:
    """F1 of a very large run: the population value at this shift."""
    rng = np.random.default_rng(seed)
    return f1(run(rng, case_set(rng, n), shift))


def shift_for_drop(points: float) -> float:
    """The logit shift that lowers the expected F1 by ``points`` (0.03 = 3 points)."""
    target = expected_f1(0.0) - points
    low, high = -3.0, 0.0
    for _ in range(40):
        middle = (low + high) / 2
        if expected_f1(middle) > target:
            high = middle
        else:
            low = middle
    return (low + high) / 2
