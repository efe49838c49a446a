"""The look every chart shares: colours, labels of configurations, units, event styles."""

from __future__ import annotations

from typing import Any

import holoviews.plotting.bokeh  # noqa: F401  (the backend: .opts() needs one loaded)

PALETTE = (
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#17becf",
    "#bcbd22",
    "#7f7f7f",
    "#d62728",
)
EVENT_STYLE = {
    "hold": ("#d62728", "held promotion"),
    "rollback": ("#9467bd", "rollback"),
    "quarantine": ("#ff7f0e", "quarantine"),
    "promote": ("#2ca02c", "promote"),
    "checkout": ("#8c564b", "checkout"),
}
UNITS = {
    "f1": "F1",
    "precision": "precision",
    "recall": "recall",
    "latency_ms": "mean latency (ms)",
    "cost_usd": "cost per run (USD)",
}


def configuration_label(row: Any) -> str:
    """'medgemma · v2-structured · demo-patients-v1 · ci' for any row with the four columns."""
    return f"{row.model_key} · {row.prompt_version} · {row.dataset_version} · {row.environment}"


def number(value: float) -> str:
    """A number for a table, never in scientific notation: whole numbers and hundreds as
    integers, costs of fractions of a cent with six decimals, rates with four (for
    ``pandas``'s ``display.float_format``)."""
    if value != value:
        return "NaN"
    size = abs(value)
    if size == 0:
        return "0"
    if size >= 100 or (value == int(value) and size < 1e15):
        return f"{value:,.0f}"
    if size >= 1:
        return f"{value:.2f}"
    if size >= 0.01:
        return f"{value:.4f}"
    return f"{value:.6f}"


def colors(names: list[str]) -> dict[str, str]:
    """A palette colour for each name, in order."""
    return {name: PALETTE[i % len(PALETTE)] for i, name in enumerate(names)}
