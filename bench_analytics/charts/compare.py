"""Runs side by side: precision against recall (marker size: cost), and F1 with its
95 % interval per configuration."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import holoviews as hv
import pandas as pd

from bench_analytics.charts.style import configuration_label

TOP = 10
PR_COLUMNS = [
    "run",
    "precision",
    "precision_low",
    "precision_high",
    "recall",
    "recall_low",
    "recall_high",
    "cost_usd",
]


def precision_recall_frame(runs: Mapping[str, Iterable[Any]]) -> pd.DataFrame:
    """One row per run that has a precision and a recall, from its estimates (``metric``,
    ``value``, ``low``, ``high``: ``Bench.show(...).estimates``), keyed by the run's name."""
    rows = []
    for name, estimates in runs.items():
        found = {e.metric: e for e in estimates}
        if "precision" in found and "recall" in found:
            precision, recall = found["precision"], found["recall"]
            cost = found["cost_usd"].value if "cost_usd" in found else None
            rows.append(
                {
                    "run": name,
                    "precision": precision.value,
                    "precision_low": _or(precision.low, precision.value),
                    "precision_high": _or(precision.high, precision.value),
                    "recall": recall.value,
                    "recall_low": _or(recall.low, recall.value),
                    "recall_high": _or(recall.high, recall.value),
                    "cost_usd": cost if cost is not None else 0.0,
                }
            )
    return pd.DataFrame(rows, columns=PR_COLUMNS)


def _or(value: float | None, fallback: float) -> float:
    return fallback if value is None else value


def precision_recall_chart(frame: pd.DataFrame) -> hv.Overlay | None:
    """Precision against recall, one point per run, its size the cost per run; whiskers
    are the 95 % intervals of both. None when no run has both."""
    if frame.empty:
        return None
    frame = frame.copy()
    largest = max(frame["cost_usd"].max(), 1e-12)
    frame["size"] = 10 + 25 * frame["cost_usd"] / largest
    frame["up"] = frame["precision_high"] - frame["precision"]
    frame["down"] = frame["precision"] - frame["precision_low"]
    frame["right"] = frame["recall_high"] - frame["recall"]
    frame["left"] = frame["recall"] - frame["recall_low"]
    whisker = {"color": "#1f2328", "line_width": 1.5, "alpha": 0.8}  # drawn over the points
    vertical = hv.ErrorBars(frame, "recall", ["precision", "down", "up"]).opts(**whisker)
    across = hv.ErrorBars(frame, "recall", ["precision", "left", "right"], horizontal=True)
    points = hv.Points(frame, ["recall", "precision"], ["run", "cost_usd", "size"]).opts(
        size="size",
        color="run",
        cmap="Category10",
        tools=["hover"],
        alpha=0.8,
        legend_position="right",
    )
    return (points * vertical * across.opts(**whisker)).opts(
        title="Precision / recall with 95 % intervals (marker size: cost per run)",
        responsive=True,
        height=380,
        xlim=(0, 1.02),
        ylim=(0, 1.02),
        show_grid=True,
        xlabel="recall",
        ylabel="precision",
    )


def forest(rows: list[Any], top: int = TOP) -> hv.Overlay | None:
    """The top configurations by F1 (``Bench.current`` rows) as points with their 95 %
    intervals; None when no healthy configuration has an F1."""
    scored = sorted(
        (r for r in rows if r.status == "healthy" and r.f1 is not None),
        key=lambda r: r.f1,
        reverse=True,
    )[:top]
    if not scored:
        return None
    frame = pd.DataFrame(
        {
            "configuration": [configuration_label(r) for r in scored][::-1],
            "f1": [r.f1 for r in scored][::-1],
            "below": [r.f1 - r.f1_low if r.f1_low is not None else 0 for r in scored][::-1],
            "above": [r.f1_high - r.f1 if r.f1_high is not None else 0 for r in scored][::-1],
        }
    )
    bars = hv.ErrorBars(frame, "configuration", ["f1", "below", "above"]).opts(
        invert_axes=True, line_width=2, color="#57606a"
    )
    dots = hv.Scatter(frame, "configuration", "f1").opts(
        invert_axes=True, size=9, color="#1f77b4", tools=["hover"]
    )
    return (bars * dots).opts(
        title=f"Top {len(scored)} by F1 (95 % interval)",
        height=70 + 32 * len(scored),
        responsive=True,
        xlabel="",
        ylabel="F1",
        show_grid=True,
    )
