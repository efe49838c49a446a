"""Trends: a metric over time per configuration with its 95 % band; failed and quarantined
runs as their own markers (never as zeros); pointer events on the time axis. Points are
aggregated in SQL per run, day, week, month or commit."""

from __future__ import annotations

from typing import Any

import panel as pn

from bench_analytics.charts import chosen_lines, events_frame, points_frame, trend_chart
from bench_analytics.dashboard import data
from bench_analytics.dashboard.data import filter_key
from bench_analytics.dashboard.widgets import EMPTY_STORE, empty, guarded, note


@guarded
def view(
    models: list[str],
    environments: list[str],
    datasets: list[str],
    prompts: list[str],
    span: str,
    metric: str,
    bucket: str,
) -> pn.viewable.Viewable:
    key = filter_key(models, environments, datasets, prompts, span)
    if data.options().runs == 0:
        return pn.pane.Markdown(EMPTY_STORE, name="empty-store")
    used, points = data.trend(key, metric, bucket)
    if not points:
        return empty("No runs in this range.", "Widen the time range or clear a filter.")
    frame = points_frame(list(points))
    events = events_frame(list(data.events(key, "day" if used in ("run", "commit") else used)))
    shown = chosen_lines(frame)
    configurations = frame["configuration"].nunique()
    parts: list[Any] = [
        pn.pane.Markdown(
            f"Each point: the mean over the healthy runs of one **{used}**; the band: the mean "
            "of their 95 % intervals (computed per run at push). Red ✕: failed or quarantined "
            "runs, drawn on the line, never as 0. Dashed lines: held promotions, rollbacks and "
            "quarantines.",
            name="trend-legend",
        )
    ]
    if configurations > len(shown):
        parts.append(
            note(
                f"Showing the {len(shown)} configurations with the most runs of "
                f"{configurations}; narrow the filters to see the others.",
                "warning",
            )
        )
    parts.append(pn.pane.HoloViews(trend_chart(frame, metric, events), sizing_mode="stretch_width"))
    return pn.Column(*parts, sizing_mode="stretch_width")
