"""Metrics computed from per-case results (micro and macro scores, latency, tokens, cost)."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from itertools import compress
from operator import attrgetter
from typing import Any

from bench_analytics.model import CaseResult


def _prf(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def case_scores(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    """Precision, recall, F1 of one case; a clean case answered clean scores 1 on all three."""
    if tp == fp == fn == 0:
        return 1.0, 1.0, 1.0
    return _prf(tp, fp, fn)


def _percentile(sorted_values: Sequence[float], q: float) -> float:
    """Linear-interpolated percentile (numpy's default) without importing numpy."""
    position = (len(sorted_values) - 1) * q
    low, high = math.floor(position), math.ceil(position)
    weight = position - low
    return sorted_values[low] * (1 - weight) + sorted_values[high] * weight


_FIELDS = ("status", "tp", "fp", "fn", "latency_ms", "input_tokens", "output_tokens", "cost_usd")


def _present(values: Iterable[Any]) -> list[Any]:
    return [value for value in values if value is not None]


def metrics_from_cases(cases: Sequence[CaseResult]) -> dict[str, float]:
    """Every metric the cases support; empty when there are no cases.

    The fields are read in one pass; sums run over the cases in their order, as floats are
    part of content hashes and must not change in their last bit.
    """
    if not cases:
        return {}
    status, tps, fps, fns, latency, input_tokens, output_tokens, cost = zip(
        *map(attrgetter(*_FIELDS), cases), strict=True
    )
    out: dict[str, float] = {"case_count": float(len(cases))}
    errors = status.count("error")
    out["error_count"] = float(errors)
    out["error_rate"] = errors / len(cases)
    out["success_rate"] = 1 - out["error_rate"]

    answered = [value == "ok" for value in status]
    scored = [t for t in compress(zip(tps, fps, fns, strict=True), answered) if None not in t]
    if scored:
        tp = sum(t[0] for t in scored)
        fp = sum(t[1] for t in scored)
        fn = sum(t[2] for t in scored)
        p, r, f = _prf(tp, fp, fn)
        out.update(precision_micro=p, recall_micro=r, f1_micro=f)
        known: dict[tuple[int, int, int], tuple[float, float, float]] = {}
        per_case = [known.get(t) or known.setdefault(t, case_scores(*t)) for t in scored]
        n = len(per_case)
        out.update(
            precision_macro=sum(x[0] for x in per_case) / n,
            recall_macro=sum(x[1] for x in per_case) / n,
            f1_macro=sum(x[2] for x in per_case) / n,
            true_positives=float(tp),
            false_positives=float(fp),
            false_negatives=float(fn),
        )

    latencies = sorted(_present(compress(latency, answered)))
    if latencies:
        out["latency_ms"] = sum(latencies) / len(latencies)
        out["latency_p50_ms"] = _percentile(latencies, 0.5)
        out["latency_p95_ms"] = _percentile(latencies, 0.95)

    for name, values in (("input_tokens", input_tokens), ("output_tokens", output_tokens)):
        present = _present(values)
        if present:
            out[name] = float(sum(present))
    costs = _present(cost)
    if costs:
        out["cost_usd"] = sum(costs)
        out["cost_per_case_usd"] = out["cost_usd"] / len(cases)
        if out.get("true_positives"):
            out["cost_per_detected_issue_usd"] = out["cost_usd"] / out["true_positives"]
    return out


# Every metric metrics_from_cases can give (a test keeps this in step with it).
CASE_METRICS = frozenset(
    {
        "case_count",
        "error_count",
        "error_rate",
        "success_rate",
        "precision_micro",
        "recall_micro",
        "f1_micro",
        "precision_macro",
        "recall_macro",
        "f1_macro",
        "true_positives",
        "false_positives",
        "false_negatives",
        "latency_ms",
        "latency_p50_ms",
        "latency_p95_ms",
        "input_tokens",
        "output_tokens",
        "cost_usd",
        "cost_per_case_usd",
        "cost_per_detected_issue_usd",
    }
)
HEADLINE_SCORES = frozenset({"f1", "precision", "recall"})


def with_case_metrics(
    reported: dict[str, float], cases: Sequence[CaseResult], averaging: str | None
) -> dict[str, float]:
    """Reported metrics, completed by what the cases say (reported values always win).

    A result that already reports every metric the cases could give (the runner's files)
    is taken as it is: computing them again could only be overruled.
    """
    if reported.keys() >= CASE_METRICS and reported.keys() >= HEADLINE_SCORES:
        return dict(reported)
    computed = metrics_from_cases(cases)
    if averaging in {"micro", "macro"}:
        for name in ("f1", "precision", "recall"):
            if f"{name}_{averaging}" in computed:
                computed.setdefault(name, computed[f"{name}_{averaging}"])
    return {**computed, **reported}
