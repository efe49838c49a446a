"""Current: headline cards, the current version of every configuration (status, interval,
age), the best by F1 with their intervals and the fastest by latency."""

from __future__ import annotations

from typing import Any

import holoviews as hv
import pandas as pd
import panel as pn

from bench_analytics.charts import configuration_label, forest
from bench_analytics.dashboard import data
from bench_analytics.dashboard.data import filter_key
from bench_analytics.dashboard.widgets import (
    EMPTY_STORE,
    age,
    card,
    empty,
    fmt,
    guarded,
    interval,
    ms,
    table,
    usd,
)

TOP = 10


def current_frame(rows: list[Any]) -> pd.DataFrame:
    """One row per configuration, formatted for reading (numbers kept for sorting)."""
    return pd.DataFrame(
        {
            "model": [r.model_key for r in rows],
            "prompt": [r.prompt_version for r in rows],
            "dataset": [r.dataset_version for r in rows],
            "environment": [r.environment for r in rows],
            "version": [
                f"v{r.version} of {r.versions}" if r.version else f"none of {r.versions}"
                for r in rows
            ],
            "status": [r.status for r in rows],
            "F1 [95% CI]": [interval(r.f1, r.f1_low, r.f1_high) for r in rows],
            "precision": [fmt(r.precision) for r in rows],
            "recall": [fmt(r.recall) for r in rows],
            "latency": [ms(r.latency_ms) for r in rows],
            "cost / run": [usd(r.cost_usd) for r in rows],
            "age": [age(r.run_at) for r in rows],
            "commit": [(r.commit_sha or "")[:8] for r in rows],
        }
    )


def cards(rows: list[Any], failed: int) -> pn.FlexBox:
    """Best F1, best recall, fastest, cheapest per detected issue, failed runs in range."""
    healthy = [r for r in rows if r.status == "healthy"]
    out = []
    scored = [r for r in healthy if r.f1 is not None]
    if scored:
        best = max(scored, key=lambda r: r.f1)
        out.append(
            card("Best F1", interval(best.f1, best.f1_low, best.f1_high), configuration_label(best))
        )
    recalled = [r for r in healthy if r.recall is not None]
    if recalled:
        best = max(recalled, key=lambda r: r.recall)
        out.append(card("Best recall", fmt(best.recall), configuration_label(best)))
    timed = [r for r in healthy if r.latency_ms is not None]
    if timed:
        best = min(timed, key=lambda r: r.latency_ms)
        out.append(card("Fastest (mean latency)", ms(best.latency_ms), configuration_label(best)))
    priced = [r for r in healthy if r.cost_per_detected_issue_usd]  # free runs say nothing
    if priced:
        best = min(priced, key=lambda r: r.cost_per_detected_issue_usd)
        out.append(
            card(
                "Cheapest per detected issue",
                usd(best.cost_per_detected_issue_usd),
                configuration_label(best),
            )
        )
    out.append(
        card(
            "Failed runs in range",
            str(failed),
            "outages and quarantined runs (never counted as 0 %)",
        )
    )
    return pn.FlexBox(*out, gap="12px", sizing_mode="stretch_width", name="cards")


def top_by_f1(rows: list[Any]) -> Any:
    """The top configurations by F1 with their 95 % intervals, or why there are none."""
    chart = forest(rows, TOP)
    if chart is None:
        return empty("No healthy configuration with an F1 in this selection.")
    return chart


def fastest(rows: list[Any]) -> hv.Bars | pn.pane.Alert:
    timed = sorted(
        (r for r in rows if r.status == "healthy" and r.latency_ms is not None),
        key=lambda r: r.latency_ms,
    )[:TOP]
    if not timed:
        return empty("No latency recorded in this selection.")
    frame = pd.DataFrame(
        {
            "configuration": [configuration_label(r) for r in timed][::-1],
            "latency_s": [r.latency_ms / 1000 for r in timed][::-1],
        }
    )
    return hv.Bars(frame, "configuration", "latency_s").opts(
        invert_axes=True,
        title=f"Fastest {len(timed)} (mean latency, s)",
        height=70 + 32 * len(timed),
        responsive=True,
        xlabel="",
        ylabel="seconds",
        color="#2ca02c",
        tools=["hover"],
        show_grid=True,
    )


@guarded
def view(
    models: list[str], environments: list[str], datasets: list[str], prompts: list[str], span: str
) -> pn.viewable.Viewable:
    key = filter_key(models, environments, datasets, prompts, span)
    if data.options().runs == 0:
        return pn.pane.Markdown(EMPTY_STORE, name="empty-store")
    rows = list(data.current(key))
    failed, _ = data.failures(key)
    if not rows:
        return empty("No configuration matches these filters.", "Clear a filter in the sidebar.")
    return pn.Column(
        cards(rows, failed),
        pn.pane.Markdown("### Current version of every configuration"),
        table(current_frame(rows), name="current-table", frozen_columns=["model"]),
        pn.Row(  # drawn right after the page shows: cards and table come first
            pn.panel(lambda: top_by_f1(rows), defer_load=True, sizing_mode="stretch_width"),
            pn.panel(lambda: fastest(rows), defer_load=True, sizing_mode="stretch_width"),
            sizing_mode="stretch_width",
        ),
        sizing_mode="stretch_width",
    )
