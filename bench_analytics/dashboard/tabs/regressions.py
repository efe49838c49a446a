"""Regressions: every configuration's latest verdict against its stated baseline, held
promotions with their reasons, failed runs with their outage reason. Units are explicit:
F1 in points, latency in ms, cost in USD."""

from __future__ import annotations

from typing import Any

import pandas as pd
import panel as pn

from bench_analytics.charts import configuration_label
from bench_analytics.dashboard import data
from bench_analytics.dashboard.data import filter_key
from bench_analytics.dashboard.units import delta_text, p_text
from bench_analytics.dashboard.widgets import (
    EMPTY_STORE,
    age,
    empty,
    guarded,
    table,
    wrapped,
)


def verdict_frame(rows: list[Any], gated_only: bool = True) -> pd.DataFrame:
    chosen = [r for r in rows if r.gated or not gated_only]
    return pd.DataFrame(
        {
            "configuration": [configuration_label(r) for r in chosen],
            "version": [f"v{r.version}" for r in chosen],
            "baseline": [
                f"v{r.baseline_version} ({r.baseline_rule})"
                if r.baseline_version
                else r.baseline_rule
                for r in chosen
            ],
            "metric": [r.metric for r in chosen],
            "delta [95% CI]": [delta_text(r.metric, r.delta, r.ci_low, r.ci_high) for r in chosen],
            "adjusted p": [p_text(r.p_adjusted) for r in chosen],
            "MDE": [delta_text(r.metric, r.mde, None, None) for r in chosen],
            "verdict": [r.decision for r in chosen],
            "method": [r.method for r in chosen],
            "judged": [age(r.created_at) for r in chosen],
        }
    )


def held_frame(rows: list[Any]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "configuration": [configuration_label(r) for r in rows],
            "held version": [f"v{r.version}" for r in rows],
            "current stayed": [f"v{r.current_version}" if r.current_version else "–" for r in rows],
            "reason": [r.reason for r in rows],
            "by": [r.actor for r in rows],
            "when": [age(r.created_at) for r in rows],
        }
    )


def failed_frame(rows: list[Any]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "configuration": [configuration_label(r) for r in rows],
            "version": [f"v{r.version}" for r in rows],
            "transaction": [r.transaction_id for r in rows],
            "status": [r.status for r in rows],
            "reason": [r.reason or "" for r in rows],
            "commit": [(r.commit_sha or "")[:8] for r in rows],
            "when": [age(r.run_at) for r in rows],
        }
    )


@guarded
def view(
    models: list[str], environments: list[str], datasets: list[str], prompts: list[str], span: str
) -> pn.viewable.Viewable:
    if data.options().runs == 0:
        return pn.pane.Markdown(EMPTY_STORE, name="empty-store")
    key = filter_key(models, environments, datasets, prompts, span)
    verdicts = list(data.verdicts(key))
    held = list(data.held(key))
    failed_count, failed = data.failures(key)
    regressed = {configuration_label(r) for r in verdicts if r.gated and r.decision == "regression"}
    parts: list[Any] = []
    if regressed:
        parts.append(
            pn.pane.Alert(
                f"**{len(regressed)} configuration(s) regressed in their latest verdict** "
                "(gated metrics, significant after correction and beyond the practical "
                "threshold).",
                alert_type="danger",
            )
        )
    parts.append(pn.pane.Markdown("### Latest verdict of every configuration (gated metrics)"))
    parts.append(
        table(verdict_frame(verdicts), name="verdicts-table")
        if verdicts
        else empty("No verdicts yet: the gate judges a push against the current version.")
    )
    parts.append(pn.pane.Markdown(f"### Held promotions ({len(held)})"))
    parts.append(
        table(held_frame(held), name="held-table", **wrapped("reason"))
        if held
        else empty("No promotion was held.")
    )
    parts.append(pn.pane.Markdown(f"### Failed and quarantined runs in range ({failed_count})"))
    parts.append(
        table(failed_frame(list(failed)), name="failed-table", **wrapped("reason", width=360))
        if failed
        else empty("No failed runs in this range.")
    )
    return pn.Column(*parts, sizing_mode="stretch_width")
