"""A metric over time, one line per configuration, with its 95 % band; failed and
quarantined runs as red crosses on the line (never as zeros); pointer events on the time
axis."""

from __future__ import annotations

from typing import Any

import holoviews as hv
import numpy as np
import pandas as pd

from bench_analytics.charts.style import EVENT_STYLE, UNITS, colors, configuration_label

LINES = 10  # configurations drawn at once; the caller names the rest
HOVER = [
    "when",
    "configuration",
    "runs",
    "last_version",
    "commit",
    "branch",
    "failed",
    "quarantined",
]


def points_frame(points: list[Any]) -> pd.DataFrame:
    """Trend points (``Bench.trend``) as a frame: a configuration label, times in epoch ms
    (empty when there are none)."""
    if not points:
        return pd.DataFrame()
    frame = pd.DataFrame([p.as_dict() for p in points])
    frame["configuration"] = [configuration_label(p) for p in points]
    frame["commit"] = frame["commit_sha"].fillna("").str[:8]
    frame["branch"] = frame["branch"].fillna("")
    frame["at"] = epoch_ms(frame["at"])
    frame["when"] = pd.to_datetime(frame["at"], unit="ms").dt.strftime("%Y-%m-%d %H:%M")
    return frame


def events_frame(events: list[Any]) -> pd.DataFrame:
    """Pointer events (``Bench.pointer_events``) as a frame, times in epoch ms."""
    frame = pd.DataFrame([e.as_dict() for e in events])
    if not frame.empty:
        frame["at"] = epoch_ms(frame["at"])
    return frame


def epoch_ms(values: pd.Series) -> pd.Series:
    """Times as milliseconds since the epoch (Bokeh's own time unit; one numeric axis lets
    all bands be one element)."""
    stamps = pd.to_datetime(values, utc=True)
    return (stamps - pd.Timestamp(0, tz="UTC")) // pd.Timedelta(milliseconds=1)


def chosen_lines(frame: pd.DataFrame) -> list[str]:
    """The configurations to draw: the ones with the most healthy runs in the range."""
    runs = frame.groupby("configuration")["runs"].sum().sort_values(ascending=False)
    return list(runs.index[:LINES])


def trend_chart(
    frame: pd.DataFrame, metric: str, events: pd.DataFrame | None = None
) -> hv.Overlay | None:
    """Lines with their bands, points with hover, failed runs and pointer events; bands,
    points and failures are one element each (HoloViews draws each element separately).
    None when the frame holds no point."""
    if frame.empty:
        return None
    names = chosen_lines(frame)
    palette = colors(names)
    shown = frame[frame["configuration"].isin(names)].sort_values(["configuration", "at"]).copy()
    shown["color"] = shown["configuration"].map(palette)
    healthy = shown[shown["value"].notna()]
    layers: list[Any] = []
    bands = _bands(healthy, palette)
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
                hv.Curve(line, "at", ["value", *HOVER], label=name).opts(
                    color=palette[name], line_width=2, tools=["hover"]
                )
            )
    if not healthy.empty:
        layers.append(
            hv.Scatter(healthy, "at", ["value", "color", *HOVER]).opts(
                color="color", size=5, tools=["hover"]
            )
        )
    bad = _failures(shown)
    if not bad.empty:
        layers.append(
            hv.Scatter(bad, "at", ["value", "what", *HOVER], label="failed / quarantined").opts(
                color="#d62728", marker="x", size=12, line_width=3, tools=["hover"]
            )
        )
    layers += _event_lines(events)
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


def _bands(healthy: pd.DataFrame, palette: dict[str, str]) -> list[dict[str, Any]]:
    """One polygon per line: along the lows, back along the highs."""
    bands = []
    with_interval = healthy[healthy["low"].notna() & healthy["high"].notna()]
    for name, line in with_interval.groupby("configuration", sort=False):
        xs = np.concatenate([line["at"].to_numpy(), line["at"].to_numpy()[::-1]])
        ys = np.concatenate([line["low"].to_numpy(), line["high"].to_numpy()[::-1]])
        bands.append({"at": xs, "value": ys, "color": palette[str(name)]})
    return bands


def _event_lines(events: pd.DataFrame | None) -> list[Any]:
    """Dashed vertical lines: held promotions, rollbacks, quarantines."""
    if events is None or events.empty:
        return []
    lines = []
    for kind, (color, label) in EVENT_STYLE.items():
        chosen = events[events["event_type"] == kind]
        if not chosen.empty:
            lines.append(
                hv.VLines(chosen, kdims=["at"], label=label).opts(
                    color=color, line_dash="dashed", alpha=0.6
                )
            )
    return lines


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
