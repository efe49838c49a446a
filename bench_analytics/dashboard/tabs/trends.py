"""Trends: a metric over time per configuration with its 95 % band; failed and quarantined
runs as their own markers (never as zeros); pointer events on the time axis. Points are
aggregated in SQL per run, day, week, month or commit."""

from __future__ import annotations

from typing import Any

import holoviews as hv
import pandas as pd
import panel as pn

from bench_analytics.dashboard import data
from bench_analytics.dashboard.data import filter_key
from bench_analytics.dashboard.widgets import (
    EMPTY_STORE,
    PALETTE,
    configuration_label,
    empty,
    guarded,
    note,
)

LINES = 10  # configurations drawn at once; the rest are named in a note
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


def points_frame(points: list[Any]) -> pd.DataFrame:
    frame = pd.DataFrame([p.as_dict() for p in points])
    frame["configuration"] = [configuration_label(p) for p in points]
    frame["commit"] = frame["commit_sha"].fillna("").str[:8]
    frame["branch"] = frame["branch"].fillna("")
    frame["at"] = pd.to_datetime(frame["at"], utc=True).dt.tz_localize(None)
    return frame


def chosen_lines(frame: pd.DataFrame) -> list[str]:
    """The configurations to draw: the ones with the most healthy runs in the range."""
    runs = frame.groupby("configuration")["runs"].sum().sort_values(ascending=False)
    return list(runs.index[:LINES])


def chart(frame: pd.DataFrame, metric: str, events: pd.DataFrame) -> hv.Overlay:
    layers: list[Any] = []
    hover = ["runs", "last_version", "commit", "branch", "failed", "quarantined"]
    for index, name in enumerate(chosen_lines(frame)):
        color = PALETTE[index % len(PALETTE)]
        line = frame[frame["configuration"] == name].sort_values("at")
        healthy = line[line["value"].notna()]
        if not healthy.empty:
            banded = healthy[healthy["low"].notna() & healthy["high"].notna()]
            if not banded.empty:
                layers.append(
                    hv.Area(banded, "at", ["low", "high"], label=name).opts(
                        color=color, alpha=0.18, line_alpha=0
                    )
                )
            layers.append(
                hv.Curve(healthy, "at", ["value", *hover], label=name).opts(
                    color=color, line_width=2, tools=["hover"]
                )
            )
            layers.append(
                hv.Scatter(healthy, "at", ["value", *hover], label=name).opts(
                    color=color, size=5, tools=["hover"]
                )
            )
        bad = line[(line["failed"] > 0) | (line["quarantined"] > 0)].copy()
        if not bad.empty:
            # drawn where the line was last healthy (or its middle), never at zero
            level = line["value"].ffill().bfill()
            fallback = float(healthy["value"].median()) if not healthy.empty else 0.5
            bad["value"] = level.loc[bad.index].fillna(fallback)
            bad["what"] = [
                f"{f} failed, {q} quarantined"
                for f, q in zip(bad["failed"], bad["quarantined"], strict=True)
            ]
            layers.append(
                hv.Scatter(bad, "at", ["value", "what", *hover], label="failed / quarantined").opts(
                    color="#d62728", marker="x", size=12, line_width=3, tools=["hover"]
                )
            )
    if not events.empty:
        for kind, (color, label) in EVENT_STYLE.items():
            chosen = events[events["event_type"] == kind]
            if kind == "promote" or chosen.empty:
                continue
            layers.append(
                hv.VLines(chosen, kdims=["at"], label=label).opts(
                    color=color, line_dash="dashed", alpha=0.6
                )
            )
    return hv.Overlay(layers).opts(
        responsive=True,
        height=460,
        legend_position="right",
        legend_limit=200,
        ylabel=UNITS.get(metric, metric),
        xlabel="run time (UTC)",
        show_grid=True,
        title=f"{UNITS.get(metric, metric)} over time, 95 % band",
    )


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
    event_rows = data.events(key, "day" if used in ("run", "commit") else used)
    events = pd.DataFrame([e.as_dict() for e in event_rows])
    if not events.empty:
        events["at"] = pd.to_datetime(events["at"], utc=True).dt.tz_localize(None)
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
    parts.append(pn.pane.HoloViews(chart(frame, metric, events), sizing_mode="stretch_width"))
    return pn.Column(*parts, sizing_mode="stretch_width")
