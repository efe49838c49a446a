"""Where models miss (a grid of recall by issue group) and per-case latency percentiles over
time, one colour per model."""

from __future__ import annotations

from typing import Any

import holoviews as hv
import pandas as pd

from bench_analytics.charts.style import colors, configuration_label

PERCENTILES = (("p50_ms", "solid", "p50"), ("p90_ms", "dashed", "p90"), ("p99_ms", "dotted", "p99"))


def _labels(rows: list[Any]) -> list[str]:
    """The model key when each model has one configuration in ``rows``, else the full label."""
    configs = {(r.model_key, configuration_label(r)) for r in rows}
    models = [model for model, _ in configs]
    if len(models) == len(set(models)):
        return [r.model_key for r in rows]
    return [configuration_label(r) for r in rows]


def misses_chart(rows: list[Any]) -> hv.Overlay | None:
    """Recall per issue group (columns) and configuration (rows) from ``Bench.misses``: the
    colour is the recall, each cell says how many expected issues were missed; hover adds
    the 95 % interval. None when no row."""
    if not rows:
        return None
    frame = pd.DataFrame(
        {
            "group": [r.group for r in rows],
            "configuration": _labels(rows),
            "recall": [r.recall for r in rows],
            "recall_low": [r.recall_low for r in rows],
            "recall_high": [r.recall_high for r in rows],
            "missed": [r.missed for r in rows],
            "expected": [r.expected for r in rows],
            "text": [f"{r.missed} of {r.expected}" for r in rows],
        }
    )
    by = str(rows[0].by).replace("_", " ")
    # numbers only in the grid's values (a string column cannot be reshaped into a grid)
    values = ["recall", "recall_low", "recall_high", "missed", "expected"]
    grid = hv.HeatMap(frame, ["group", "configuration"], values).opts(
        cmap="RdYlGn",
        clim=(0, 1),
        alpha=0.75,
        colorbar=True,
        tools=["hover"],
        xrotation=30 if frame["group"].nunique() > 3 else 0,
    )
    text = hv.Labels(frame, ["group", "configuration"], "text").opts(
        text_font_size="9pt", text_color="#1f2328"
    )
    lines = frame["configuration"].nunique()
    return (grid * text).opts(
        title=f"Recall by {by} (colour) and expected issues missed (text)",
        responsive=True,
        height=140 + 45 * lines,
        xlabel=by,
        ylabel="",
    )


def latency_frame(points: list[Any]) -> pd.DataFrame:
    """Latency points (``Bench.latency``) as a frame, times as naive UTC."""
    frame = pd.DataFrame([p.as_dict() for p in points])
    if not frame.empty:
        frame["at"] = pd.to_datetime(frame["at"], utc=True).dt.tz_localize(None)
    return frame


def latency_chart(frame: pd.DataFrame) -> hv.Overlay | None:
    """p50 (solid), p90 (dashed) and p99 (dotted) of per-case latency over time, one colour
    per model; a log axis when models differ a hundredfold. None when no point."""
    if frame.empty:
        return None
    palette = colors(sorted(frame["model_key"].unique()))
    layers = []
    hover = ["model_key", "runs", "cases", "p50_ms", "p90_ms", "p99_ms"]
    for model, line in frame.sort_values("at").groupby("model_key", sort=True):
        for column, dash, name in PERCENTILES:
            label = f"{model} {name}"
            extra = [h for h in hover if h != column]
            layers.append(
                hv.Curve(line, "at", [column, *extra], label=label)
                .redim(**{column: "latency_ms"})
                .opts(color=palette[str(model)], line_dash=dash, line_width=2, tools=["hover"])
            )
    low = max(float(frame["p50_ms"].min()), 1e-3)
    return hv.Overlay(layers).opts(
        title="Per-case latency: p50 (solid), p90 (dashed), p99 (dotted)",
        responsive=True,
        height=420,
        logy=bool(frame["p99_ms"].max() / low > 100),
        ylabel="latency (ms)",
        xlabel="run time (UTC)",
        legend_position="right",
        show_grid=True,
    )
