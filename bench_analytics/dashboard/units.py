"""Deltas in the metric's own unit: F1 in points (not percent), latency in ms, cost in USD."""

from __future__ import annotations

from bench_analytics.metrics import spec_for


def delta_text(metric: str, delta: float | None, low: float | None, high: float | None) -> str:
    """'−15.2 pts [−23.2, −7.2]' for fractions; '+120 ms [...]'; '+$0.0123 [...]'."""
    if delta is None or delta != delta:
        return "–"
    unit = spec_for(metric).unit
    if unit == "fraction":
        scale, suffix, digits = 100.0, " pts", 1
    elif unit == "ms":
        scale, suffix, digits = 1.0, " ms", 0
    elif unit == "usd":
        scale, suffix, digits = 1.0, " USD", 4
    else:
        scale, suffix, digits = 1.0, "", 3
    text = f"{delta * scale:+.{digits}f}{suffix}"
    if low is not None and high is not None:
        text += f" [{low * scale:+.{digits}f}, {high * scale:+.{digits}f}]"
    return text.replace("-", "−")


def value_text(metric: str, value: float | None) -> str:
    if value is None or value != value:
        return "–"
    unit = spec_for(metric).unit
    if unit == "ms":
        return f"{value:.0f} ms"
    if unit == "usd":
        return f"${value:.4f}"
    return f"{value:.3f}"


def p_text(p: float | None) -> str:
    if p is None or p != p:
        return "–"
    return "< 0.001" if p < 0.001 else f"{p:.3f}"
