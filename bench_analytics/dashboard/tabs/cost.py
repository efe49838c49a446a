"""Cost: spend by model, prompt, environment or period; cost per detected issue; the
cost-vs-F1 frontier of the current versions."""

from __future__ import annotations

from typing import Any

import holoviews as hv
import pandas as pd
import panel as pn

from bench_analytics.dashboard import data
from bench_analytics.dashboard.data import filter_key
from bench_analytics.dashboard.state import DashboardState
from bench_analytics.dashboard.widgets import (
    EMPTY_STORE,
    configuration_label,
    empty,
    guarded,
    table,
    usd,
)


def spend_frame(rows: list[Any]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "group": [r.group for r in rows],
            "runs": [r.runs for r in rows],
            "failed runs": [r.unhealthy_runs for r in rows],
            "cases": [r.cases for r in rows],
            "tokens in": [f"{r.input_tokens:,.0f}" if r.input_tokens else "–" for r in rows],
            "tokens out": [f"{r.output_tokens:,.0f}" if r.output_tokens else "–" for r in rows],
            "spend": [usd(r.cost_usd) for r in rows],
            "per run": [usd(r.cost_per_run_usd) for r in rows],
            "per detected issue": [usd(r.cost_per_detected_issue_usd) for r in rows],
            "priced runs": [f"{r.priced_runs} of {r.runs}" for r in rows],
        }
    )


def spend_chart(rows: list[Any], by: str) -> hv.Bars | pn.pane.Alert:
    priced = [r for r in rows if r.cost_usd]
    if not priced:
        return empty("No priced runs in this selection (tokens without a price count as none).")
    frame = pd.DataFrame({by: [r.group for r in priced], "USD": [r.cost_usd for r in priced]})
    if by in ("day", "week", "month"):
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
    """Current versions with an F1 and a cost; ``frontier`` marks the ones no other beats on
    both (cheaper and at least as good)."""
    kept = [r for r in rows if r.status == "healthy" and r.f1 is not None and r.cost_usd]
    frame = pd.DataFrame(
        {
            "configuration": [configuration_label(r) for r in kept],
            "cost_usd": [r.cost_usd for r in kept],
            "f1": [r.f1 for r in kept],
        }
    ).sort_values(["cost_usd", "f1"], ascending=[True, False])
    best = -1.0
    marks = []
    for f1 in frame["f1"]:
        marks.append(f1 > best)
        best = max(best, f1)
    frame["frontier"] = marks
    return frame


def frontier_chart(frame: pd.DataFrame) -> hv.Overlay | pn.pane.Alert:
    if frame.empty:
        return empty("No current version has both an F1 and a cost.")
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


@guarded
def view(cost_by: str, **filters: Any) -> pn.viewable.Viewable:
    if data.options().runs == 0:
        return pn.pane.Markdown(EMPTY_STORE, name="empty-store")
    key = filter_key(**filters)
    rows = list(data.cost(key, cost_by))
    frontier = frontier_frame(list(data.current(key)))
    if not rows:
        return empty("No runs in this range.", "Widen the time range or clear a filter.")
    return pn.Column(
        table(spend_frame(rows), name="cost-table"),
        pn.Row(
            pn.panel(spend_chart(rows, cost_by), sizing_mode="stretch_width"),
            pn.panel(frontier_chart(frontier), sizing_mode="stretch_width"),
            sizing_mode="stretch_width",
        ),
        sizing_mode="stretch_width",
    )


def view_for(state: DashboardState) -> pn.Column:
    by = pn.widgets.RadioButtonGroup.from_param(
        state.param.cost_by, label="Group by", color="default"
    )
    return pn.Column(
        pn.Row(pn.pane.Markdown("**Group spend by**"), by),
        pn.panel(pn.bind(view, cost_by=state.param.cost_by, **state.filters())),
        sizing_mode="stretch_width",
    )
