"""Trends: a metric over time per configuration with its 95 % band; failed and quarantined
runs as their own markers (never as zeros); pointer events on the time axis. Points are
aggregated in SQL per run, day, week, month or commit."""

from __future__ import annotations

from typing import Any

import holoviews as hv
import numpy as np
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
    frame["at"] = _epoch_ms(frame["at"])
    frame["when"] = pd.to_datetime(frame["at"], unit="ms").dt.strftime("%Y-%m-%d %H:%M")
    return frame


def _epoch_ms(values: pd.Series) -> pd.Series:
    """Times as milliseconds since the epoch (Bokeh's own time unit; one numeric axis lets
    all bands be one element)."""
    stamps = pd.to_datetime(values, utc=True)
    return (stamps - pd.Timestamp(0, tz="UTC")) // pd.Timedelta(milliseconds=1)


def chosen_lines(frame: pd.DataFrame) -> list[str]:
    """The configurations to draw: the ones with the most healthy runs in the range."""
    runs = frame.groupby("configuration")["runs"].sum().sort_values(ascending=False)
    return list(runs.index[:LINES])


def chart(frame: pd.DataFrame, metric: str, events: pd.DataFrame) -> hv.Overlay:
    """Lines with their bands, points with hover, failed runs and pointer events; bands,
    points and failures are one element each (HoloViews draws each element separately)."""
    hover = [
        "when",
        "configuration",
        "runs",
        "last_version",
        "commit",
        "branch",
        "failed",
        "quarantined",
    ]
    names = chosen_lines(frame)
    colors = {name: PALETTE[i % len(PALETTE)] for i, name in enumerate(names)}
    shown = frame[frame["configuration"].isin(names)].sort_values(["configuration", "at"]).copy()
    shown["color"] = shown["configuration"].map(colors)
    healthy = shown[shown["value"].notna()]
    bands = []
    for name, line in healthy[healthy["low"].notna() & healthy["high"].notna()].groupby(
        "configuration", sort=False
    ):
        xs = np.concatenate([line["at"].to_numpy(), line["at"].to_numpy()[::-1]])
        ys = np.concatenate([line["low"].to_numpy(), line["high"].to_numpy()[::-1]])
        bands.append({"at": xs, "value": ys, "color": colors[str(name)]})
    layers: list[Any] = []
    if bands:
        layers.append(
            hv.Polygons(bands, kdims=["at", "value"], vdims=["color"]).opts(
                color="color", alpha=0.16, line_alpha=0
            )
        )
    for name in names:
        line = healthy[healthy["configuration"] == name]
        if not line.empty:
            layers.append(
                hv.Curve(line, "at", ["value", *hover], label=name).opts(
                    color=colors[name], line_width=2, tools=["hover"]
                )
            )
    if not healthy.empty:
        layers.append(
            hv.Scatter(healthy, "at", ["value", "color", *hover]).opts(
                color="color", size=5, tools=["hover"]
            )
        )
    bad = _failures(shown)
    if not bad.empty:
        layers.append(
            hv.Scatter(bad, "at", ["value", "what", *hover], label="failed / quarantined").opts(
                color="#d62728", marker="x", size=12, line_width=3, tools=["hover"]
            )
        )
    if not events.empty:
        for kind, (color, label) in EVENT_STYLE.items():
            chosen = events[events["event_type"] == kind]
            if chosen.empty:
                continue
            layers.append(
                hv.VLines(chosen, kdims=["at"], label=label).opts(
                    color=color, line_dash="dashed", alpha=0.6
                )
            )
    from bokeh.models import DatetimeTickFormatter

    return hv.Overlay(layers).opts(
        responsive=True,
        height=460,
        xformatter=DatetimeTickFormatter(),
        legend_position="right",
        legend_limit=200,
        ylabel=UNITS.get(metric, metric),
        xlabel="run time (UTC)",
        show_grid=True,
        title=f"{UNITS.get(metric, metric)} over time, 95 % band",
    )


def _failures(shown: pd.DataFrame) -> pd.DataFrame:
    """Buckets with failed or quarantined runs, placed where their line was last healthy
    (or at its median), never at zero."""
    parts = []
    for _, line in shown.groupby("configuration", sort=False):
        bad = line[(line["failed"] > 0) | (line["quarantined"] > 0)].copy()
        if bad.empty:
            continue
        level = line["value"].ffill().bfill()
        fallback = float(line["value"].median()) if line["value"].notna().any() else 0.5
        bad["value"] = level.loc[bad.index].fillna(fallback)
        parts.append(bad)
    if not parts:
        return pd.DataFrame()
    bad = pd.concat(parts)
    bad["what"] = [
        f"{f} failed, {q} quarantined"
        for f, q in zip(bad["failed"], bad["quarantined"], strict=True)
    ]
    return bad


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
        events["at"] = _epoch_ms(events["at"])
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
