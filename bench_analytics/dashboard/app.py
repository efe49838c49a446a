"""The dashboard page: the sidebar's filters, seven lazily loaded tabs, every selection in
the URL. This module only assembles; the tabs and the data layer do the work.

Serve it with ``bench-analytics dashboard`` or ``panel serve bench_analytics/dashboard/app.py``
(``--args --allow-writes`` there, or ``BENCH_DASHBOARD_ALLOW_WRITES=1``, enables writes).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import Any

import holoviews as hv
import panel as pn

from bench_analytics.dashboard import data
from bench_analytics.dashboard.state import RANGES, TAB_TITLES, TABS, DashboardState
from bench_analytics.dashboard.tabs import cases, compare, cost, current, history, regressions
from bench_analytics.dashboard.tabs import trends as trends_tab
from bench_analytics.dashboard.widgets import esc, store_down

TITLE = "bench-analytics"
pn.extension("tabulator", sizing_mode="stretch_width", notifications=False)
hv.extension("bokeh", logo=False)


def lazy(build: Callable[[], Any]) -> pn.param.ParamFunction:
    """A tab built the first time it is shown (with ``pn.Tabs(dynamic=True)``)."""
    return pn.param.ParamFunction(build, lazy=True, sizing_mode="stretch_width")


def sidebar(state: DashboardState) -> list[Any]:
    """Filter widgets bound to the state; their choices come from the store."""
    try:
        found = data.options()
    except data.StoreDown as error:
        return [store_down(error.reason)]
    choices = {
        "environments": ("Environment", found.environments),
        "models": ("Models", found.models),
        "datasets": ("Dataset version", found.datasets),
        "prompts": ("Prompt version", found.prompts),
    }
    widgets: list[Any] = [
        pn.widgets.Select.from_param(
            state.param.range, label="Time range", options={v: k for k, v in RANGES.items()}
        )
    ]
    for name, (label, values) in choices.items():
        selected = [v for v in getattr(state, name) if v in values]
        widgets.append(
            pn.widgets.MultiChoice.from_param(
                getattr(state.param, name),
                label=label,
                options=list(values),
                value=selected,
                placeholder="all",
                solid=False,
            )
        )
    span = ""
    if found.first_run and found.last_run:
        span = f"{found.first_run:%Y-%m-%d} – {found.last_run:%Y-%m-%d}"
    widgets.append(
        pn.pane.Markdown(
            f"<small>{found.runs:,} runs stored{' · ' + span if span else ''}.<br>"
            "Every selection is in the URL: copy it to share this view.</small>",
            name="store-summary",
        )
    )
    return widgets


def trends_view(state: DashboardState) -> pn.Column:
    metric = pn.widgets.Select.from_param(state.param.metric, label="Metric", width=160)
    bucket = pn.widgets.Select.from_param(state.param.bucket, label="Points per", width=160)
    return pn.Column(
        pn.Row(metric, bucket),
        pn.panel(
            pn.bind(
                trends_tab.view,
                metric=state.param.metric,
                bucket=state.param.bucket,
                **state.filters(),
            )
        ),
        sizing_mode="stretch_width",
    )


def tabs(state: DashboardState) -> pn.Tabs:
    filters = state.filters()
    builders: dict[str, Callable[[], Any]] = {
        "current": lambda: pn.panel(pn.bind(current.view, **filters)),
        "trends": lambda: trends_view(state),
        "compare": lambda: compare.view(state),
        "cases": lambda: cases.view(state),
        "regressions": lambda: pn.panel(pn.bind(regressions.view, **filters)),
        "history": lambda: history.view_for(state),
        "cost": lambda: cost.view_for(state),
    }
    panes = pn.Tabs(
        *[(TAB_TITLES[name], lazy(builders[name])) for name in TABS],
        dynamic=True,
        active=TABS.index(state.tab),
        sizing_mode="stretch_width",
        name="tabs",
    )
    panes.param.watch(lambda e: setattr(state, "tab", TABS[e.new]), "active")
    state.param.watch(lambda e: setattr(panes, "active", TABS.index(e.new)), "tab")
    return panes


def header_note() -> str:
    mode = "writes allowed (audited)" if data.writes_allowed() else "read-only"
    try:
        where = data.SESSIONS.read(lambda b: f"{b.store().display_url} as {b.connected_as}")
    except data.StoreDown:
        where = "unreachable"
    return f"store: {esc(where)} · {mode}"


def create_app() -> pn.template.FastListTemplate:
    """One page per browser session, its state synced to the URL."""
    state = DashboardState()
    if pn.state.location is not None:
        pn.state.location.sync(
            state, list(DashboardState.URL_PARAMS), on_error=state.apply_url_values
        )
    template = pn.template.FastListTemplate(
        title=TITLE,
        sidebar=sidebar(state),
        main=[
            pn.pane.HTML(f"<small>{header_note()}</small>", name="store-note", margin=(0, 10)),
            tabs(state),
        ],
        accent="#1f6feb",
        sidebar_width=300,
        main_layout=None,
    )
    return template


def _writes_from_command_line() -> bool:
    return "--allow-writes" in sys.argv[1:] or os.environ.get(
        "BENCH_DASHBOARD_ALLOW_WRITES", ""
    ).lower() in ("1", "true", "yes")


if __name__.startswith("bokeh"):  # `panel serve bench_analytics/dashboard/app.py`
    if not data.SESSIONS.configured:
        data.configure(None, allow_writes=_writes_from_command_line())
    create_app().servable(title=TITLE)
