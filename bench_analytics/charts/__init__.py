"""Charts shared by the dashboard and the notebooks: pure HoloViews over pandas.

Every builder takes DataFrames or rows (anything with the attributes it reads) and returns
a HoloViews object, or None when there is nothing to draw: the caller says so in its own
way (a Panel alert in the dashboard, a printed line in a notebook). Nothing here imports
Panel, the dashboard, the store or the API.
"""

from __future__ import annotations

from bench_analytics.charts.breakdowns import latency_chart, latency_frame, misses_chart
from bench_analytics.charts.compare import forest, precision_recall_chart, precision_recall_frame
from bench_analytics.charts.cost import frontier_chart, frontier_frame, spend_chart
from bench_analytics.charts.style import EVENT_STYLE, PALETTE, UNITS, configuration_label, number
from bench_analytics.charts.trends import (
    LINES,
    chosen_lines,
    epoch_ms,
    events_frame,
    points_frame,
    trend_chart,
)

__all__ = [
    "EVENT_STYLE",
    "LINES",
    "PALETTE",
    "UNITS",
    "chosen_lines",
    "configuration_label",
    "epoch_ms",
    "events_frame",
    "forest",
    "frontier_chart",
    "frontier_frame",
    "latency_chart",
    "latency_frame",
    "misses_chart",
    "number",
    "points_frame",
    "precision_recall_chart",
    "precision_recall_frame",
    "spend_chart",
    "trend_chart",
]
