"""Spend by a grouping, and the cost-vs-F1 frontier of the current versions."""

from __future__ import annotations

from typing import Any

import holoviews as hv
import pandas as pd

from bench_analytics.charts.style import configuration_label

PERIODS = ("day", "week", "month")


def spend_chart(rows: list[Any], by: str) -> hv.Bars | None:
    """Spend per group (``Bench.cost`` rows); None when no run in them was priced."""
    priced = [r for r in rows if r.cost_usd]
    if not priced:
        return None
    frame = pd.DataFrame({by: [r.group for r in priced], "USD": [r.cost_usd for r in priced]})
    if by in PERIODS:
        frame = frame.sort_values(by)
    return hv.Bars(frame, by, "USD").opts(
        title=f"Spend by {by} (USD)",
        responsive=True,
        height=320,
        xrotation=30 if len(frame) > 6 else 0,
        color="#1f77b4",
        tools=["hover"],
        show_grid=True,
    )


def frontier_frame(rows: list[Any]) -> pd.DataFrame:
    """The rows of ``Bench.frontier`` as a frame, cheapest first; ``frontier`` marks the
    versions no other beats on both cost and F1."""
    return pd.DataFrame(
        {
            "configuration": [configuration_label(r) for r in rows],
            "cost_usd": [r.cost_usd for r in rows],
            "f1": [r.f1 for r in rows],
            "frontier": [bool(r.on_frontier) for r in rows],
        },
        columns=["configuration", "cost_usd", "f1", "frontier"],
    ).sort_values(["cost_usd", "f1"], ascending=[True, False])


def frontier_chart(frame: pd.DataFrame) -> hv.Overlay | None:
    """Every current version as a grey point, the frontier as a red staircase; None when
    no version has both an F1 and a cost."""
    if frame.empty:
        return None
    points = hv.Scatter(frame, "cost_usd", ["f1", "configuration"]).opts(
        size=9, color="#7f7f7f", tools=["hover"]
    )
    edge = frame[frame["frontier"]]
    line = hv.Curve(edge, "cost_usd", ["f1", "configuration"]).opts(
        color="#d62728", line_width=2, interpolation="steps-post"
    )
    dots = hv.Scatter(edge, "cost_usd", ["f1", "configuration"], label="frontier").opts(
        size=11, color="#d62728", tools=["hover"]
    )
    return (points * line * dots).opts(
        title="Cost per run vs F1 of the current versions (red: the frontier)",
        responsive=True,
        height=360,
        xlabel="cost per run (USD)",
        ylabel="F1",
        show_grid=True,
        logx=bool(frame["cost_usd"].max() / max(frame["cost_usd"].min(), 1e-12) > 100),
    )
