"""Cost: spend by model, prompt, environment or period; cost per detected issue; the
cost-vs-F1 frontier of the current versions."""

from __future__ import annotations

from typing import Any

import pandas as pd
import panel as pn

from bench_analytics.charts import frontier_chart, frontier_frame, spend_chart
from bench_analytics.dashboard import data
from bench_analytics.dashboard.data import filter_key
from bench_analytics.dashboard.state import DashboardState
from bench_analytics.dashboard.widgets import EMPTY_STORE, empty, guarded, table, usd

NO_PRICED = "No priced runs in this selection (tokens without a price count as none)."
NO_FRONTIER = "No current version has both an F1 and a cost."


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


@guarded
def view(cost_by: str, **filters: Any) -> pn.viewable.Viewable:
    if data.options().runs == 0:
        return pn.pane.Markdown(EMPTY_STORE, name="empty-store")
    key = filter_key(**filters)
    rows = list(data.cost(key, cost_by))
    if not rows:
        return empty("No runs in this range.", "Widen the time range or clear a filter.")
    spend = spend_chart(rows, cost_by)
    frontier = frontier_chart(frontier_frame(list(data.frontier(key))))
    return pn.Column(
        table(spend_frame(rows), name="cost-table"),
        pn.Row(
            pn.panel(spend if spend is not None else empty(NO_PRICED), sizing_mode="stretch_width"),
            pn.panel(
                frontier if frontier is not None else empty(NO_FRONTIER),
                sizing_mode="stretch_width",
            ),
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
