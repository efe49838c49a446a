"""Per-case results as numpy arrays, and the metric formulas over them."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from bench_analytics.model import CaseResult


@dataclass(frozen=True)
class CaseTable:
    """The answered cases of one run, column-wise (errored cases are counted, not kept)."""

    ids: np.ndarray
    tp: np.ndarray
    fp: np.ndarray
    fn: np.ndarray
    latency: np.ndarray
    cost: np.ndarray
    scored: bool
    errored: int
    score: np.ndarray | None = None  # the tool's per-case score, when every case has one

    @classmethod
    def from_cases(cls, cases: Sequence[CaseResult]) -> CaseTable:
        """Build from CaseResults; a case counts as scored when it has tp, fp and fn."""
        return cls.from_rows(
            (c.case_id, c.status, c.tp, c.fp, c.fn, c.latency_ms, c.cost_usd, c.score)
            for c in cases
        )

    @classmethod
    def from_rows(cls, rows: Iterable[tuple]) -> CaseTable:
        """Build from (case_id, status, tp, fp, fn, latency_ms, cost_usd[, score]) tuples."""
        kept, errored = [], 0
        for row in sorted(rows, key=lambda r: r[0]):  # by case id: resamples need one order
            if row[1] == "ok":
                kept.append(row)
            else:
                errored += 1
        scored = bool(kept) and all(
            r[2] is not None and r[3] is not None and r[4] is not None for r in kept
        )

        def ints(i: int) -> np.ndarray:
            return np.array([r[i] or 0 for r in kept], dtype=np.int64)

        def floats(i: int) -> np.ndarray:
            return np.array([np.nan if r[i] is None else r[i] for r in kept], dtype=np.float64)

        scores = [r[7] if len(r) > 7 else None for r in kept]
        with_score = bool(kept) and all(v is not None and math.isfinite(v) for v in scores)
        return cls(
            ids=np.array([r[0] for r in kept], dtype=object),
            tp=ints(2),
            fp=ints(3),
            fn=ints(4),
            latency=floats(5),
            cost=floats(6),
            scored=scored,
            errored=errored,
            score=np.array(scores, dtype=np.float64) if with_score else None,
        )

    @property
    def n(self) -> int:
        return int(self.ids.shape[0])

    def take(self, index: np.ndarray) -> CaseTable:
        """The rows at ``index`` (used to align two runs on their shared cases)."""
        return CaseTable(
            self.ids[index],
            self.tp[index],
            self.fp[index],
            self.fn[index],
            self.latency[index],
            self.cost[index],
            self.scored,
            self.errored,
            None if self.score is None else self.score[index],
        )

    def counts(self) -> np.ndarray:
        """(n, 3) int matrix of tp, fp, fn."""
        return np.stack([self.tp, self.fp, self.fn], axis=1)

    def passed(self) -> np.ndarray:
        """A case passes when nothing was missed and nothing was made up."""
        return np.asarray((self.fp == 0) & (self.fn == 0), dtype=bool)

    def has_latency(self) -> bool:
        return self.n > 0 and not np.isnan(self.latency).any()

    def has_cost(self) -> bool:
        return self.n > 0 and not np.isnan(self.cost).any()


def align(a: CaseTable, b: CaseTable) -> tuple[CaseTable, CaseTable]:
    """Both runs restricted to the cases both answered, in the same order."""
    shared = np.intersect1d(a.ids.astype(str), b.ids.astype(str))
    pos_a = {case: i for i, case in enumerate(a.ids)}
    pos_b = {case: i for i, case in enumerate(b.ids)}
    ia = np.array([pos_a[c] for c in shared], dtype=np.int64)
    ib = np.array([pos_b[c] for c in shared], dtype=np.int64)
    return a.take(ia), b.take(ib)


def _safe_ratio(num: np.ndarray | float, den: np.ndarray | float) -> np.ndarray:
    top = np.asarray(num, dtype=np.float64)
    bottom = np.asarray(den, dtype=np.float64)
    out = np.zeros(np.broadcast(top, bottom).shape)
    return np.asarray(np.divide(top, bottom, out=out, where=bottom > 0))


def prf_from_sums(
    tp: np.ndarray | float, fp: np.ndarray | float, fn: np.ndarray | float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Vectorised precision, recall, F1 (0 where undefined) from count sums."""
    precision = _safe_ratio(tp, np.asarray(tp) + fp)
    recall = _safe_ratio(tp, np.asarray(tp) + fn)
    f1 = _safe_ratio(2 * precision * recall, precision + recall)
    return precision, recall, f1


def per_case_prf(table: CaseTable) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-case precision, recall, F1 (the inputs of macro averages).

    A clean case answered clean (nothing expected, nothing reported) scores 1 on all three.
    """
    precision, recall, f1 = prf_from_sums(table.tp, table.fp, table.fn)
    clean = (table.tp + table.fp + table.fn) == 0
    for values in (precision, recall, f1):
        values[clean] = 1.0
    return precision, recall, f1
