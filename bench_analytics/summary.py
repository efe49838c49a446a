"""Metrics computed from per-case results (micro and macro scores, latency, tokens, cost)."""

from __future__ import annotations

import math
from collections.abc import Sequence

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


def metrics_from_cases(cases: Sequence[CaseResult]) -> dict[str, float]:
    """Every metric the cases support; empty when there are no cases."""
    if not cases:
        return {}
    out: dict[str, float] = {"case_count": float(len(cases))}
    errors = sum(1 for case in cases if case.status == "error")
    out["error_count"] = float(errors)
    out["error_rate"] = errors / len(cases)
    out["success_rate"] = 1 - out["error_rate"]

    answered = [case for case in cases if case.status == "ok"]
    scored = [c for c in answered if c.tp is not None and c.fp is not None and c.fn is not None]
    if scored:
        tp = sum(c.tp or 0 for c in scored)
        fp = sum(c.fp or 0 for c in scored)
        fn = sum(c.fn or 0 for c in scored)
        p, r, f = _prf(tp, fp, fn)
        out.update(precision_micro=p, recall_micro=r, f1_micro=f)
        per_case = [case_scores(c.tp or 0, c.fp or 0, c.fn or 0) for c in scored]
        n = len(per_case)
        out.update(
            precision_macro=sum(x[0] for x in per_case) / n,
            recall_macro=sum(x[1] for x in per_case) / n,
            f1_macro=sum(x[2] for x in per_case) / n,
            true_positives=float(tp),
            false_positives=float(fp),
            false_negatives=float(fn),
        )

    latencies = sorted(c.latency_ms for c in answered if c.latency_ms is not None)
    if latencies:
        out["latency_ms"] = sum(latencies) / len(latencies)
        out["latency_p50_ms"] = _percentile(latencies, 0.5)
        out["latency_p95_ms"] = _percentile(latencies, 0.95)

    for field in ("input_tokens", "output_tokens"):
        values = [getattr(c, field) for c in cases if getattr(c, field) is not None]
        if values:
            out[field] = float(sum(values))
    costs = [c.cost_usd for c in cases if c.cost_usd is not None]
    if costs:
        out["cost_usd"] = sum(costs)
        out["cost_per_case_usd"] = out["cost_usd"] / len(cases)
        if out.get("true_positives"):
            out["cost_per_detected_issue_usd"] = out["cost_usd"] / out["true_positives"]
    return out


def with_case_metrics(
    reported: dict[str, float], cases: Sequence[CaseResult], averaging: str | None
) -> dict[str, float]:
    """Reported metrics, completed by what the cases say (reported values always win)."""
    computed = metrics_from_cases(cases)
    if averaging in {"micro", "macro"}:
        for name in ("f1", "precision", "recall"):
            if f"{name}_{averaging}" in computed:
                computed.setdefault(name, computed[f"{name}_{averaging}"])
    return {**computed, **reported}
