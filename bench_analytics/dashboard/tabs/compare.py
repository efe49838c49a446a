"""Compare: a baseline and candidates (any stored run: current, pinned, any version), every
metric side by side with its interval, the gate's paired verdicts with the method and the
baseline stated, and a precision / recall / cost chart."""

from __future__ import annotations

from typing import Any

import pandas as pd
import panel as pn

from bench_analytics.charts import precision_recall_chart, precision_recall_frame
from bench_analytics.dashboard import data
from bench_analytics.dashboard.data import filter_key
from bench_analytics.dashboard.state import DashboardState
from bench_analytics.dashboard.units import delta_text, p_text, value_text
from bench_analytics.dashboard.widgets import EMPTY_STORE, empty, esc, guarded, md_escape, table

MOST_CANDIDATES = 5


def suggested(choices: list[Any]) -> tuple[str, list[str]]:
    """(baseline, candidates) when the URL names none: the newest run that is not current
    against its configuration's current version; else the two best current versions."""
    current = {c.configuration: c for c in choices if c.is_current}
    newest = sorted(
        (c for c in choices if not c.is_current and c.configuration in current),
        key=lambda c: (c.run_at is not None, c.run_at),
        reverse=True,
    )
    if newest:
        return current[newest[0].configuration].ref, [newest[0].ref]
    ranked = sorted(current.values(), key=lambda c: c.f1 or 0, reverse=True)
    if len(ranked) >= 2:
        return ranked[0].ref, [ranked[1].ref]
    return (ranked[0].ref, []) if ranked else ("", [])


def resolve(baseline: str, candidates: list[str], choices: list[Any]) -> tuple[str, list[str]]:
    """The runs to compare: the URL's, else the suggestion."""
    if baseline:
        return baseline, [c for c in candidates if c != baseline][:MOST_CANDIDATES]
    return suggested(choices)


def labels(choices: list[Any]) -> dict[str, str]:
    return {c.ref: c.label for c in choices}


@guarded
def controls(state: DashboardState, **filters: Any) -> pn.viewable.Viewable:
    """Pickers for the baseline and the candidates; they write to the state (and the URL)."""
    key = filter_key(**filters)
    choices = list(data.run_choices(key))
    if not choices:
        return empty("No stored runs match these filters.")
    names = labels(choices)
    baseline, candidates = resolve(state.baseline, state.candidates, choices)
    for ref in (baseline, *candidates):
        names.setdefault(ref, ref)  # a run from the URL outside this list stays selectable
    options = {label: ref for ref, label in names.items()}
    pick_base = pn.widgets.Select(
        label="Baseline", options=options, value=baseline, sizing_mode="stretch_width"
    )
    pick_cands = pn.widgets.MultiChoice(
        label=f"Candidates (up to {MOST_CANDIDATES})",
        options=options,
        value=candidates,
        max_items=MOST_CANDIDATES,
        sizing_mode="stretch_width",
    )
    pick_base.param.watch(lambda e: setattr(state, "baseline", e.new), "value")
    pick_cands.param.watch(lambda e: setattr(state, "candidates", list(e.new)), "value")
    return pn.Row(pick_base, pick_cands, sizing_mode="stretch_width", name="compare-controls")


def side_by_side(refs: list[str], names: dict[str, str]) -> pd.DataFrame:
    """Every metric of every run with its interval, one column per run."""
    columns: dict[str, dict[str, str]] = {}
    order: list[str] = []
    for ref in refs:
        found = data.intervals(ref)
        column = {}
        for e in found.estimates:
            column[e.metric] = (
                f"{value_text(e.metric, e.value)} [{value_text(e.metric, e.low)}, "
                f"{value_text(e.metric, e.high)}]"
            )
            if e.metric not in order:
                order.append(e.metric)
        columns[names.get(ref, ref)] = column
    frame = pd.DataFrame({"metric": order})
    for name, column in columns.items():
        frame[name] = [column.get(m, "–") for m in order]
    return frame


def verdict_frame(comparison: Any) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "metric": [v.metric for v in comparison.verdicts],
            "baseline": [value_text(v.metric, v.baseline) for v in comparison.verdicts],
            "candidate": [value_text(v.metric, v.candidate) for v in comparison.verdicts],
            "delta [95% CI]": [
                delta_text(v.metric, v.delta, v.low, v.high) for v in comparison.verdicts
            ],
            "adjusted p": [p_text(v.p_adjusted) for v in comparison.verdicts],
            "MDE": [delta_text(v.metric, v.mde, None, None) for v in comparison.verdicts],
            "verdict": [v.decision for v in comparison.verdicts],
            "gated": ["yes" if v.gated else "" for v in comparison.verdicts],
        }
    )


def verdicts(baseline: str, candidate: str, names: dict[str, str]) -> pn.Column:
    comparison = data.comparison(baseline, candidate)
    header = (
        f"#### {md_escape(names.get(candidate, candidate))}\n"
        f"against **{md_escape(names.get(baseline, baseline))}** · method: "
        f"**{md_escape(comparison.method)}** over {comparison.n} cases · correction: "
        f"{md_escape(comparison.correction)} at α = {comparison.alpha} · baseline: "
        f"{md_escape(comparison.baseline_reason)}"
    )
    regressed = comparison.regressions()
    parts: list[Any] = [pn.pane.Markdown(header)]
    if regressed:
        parts.append(
            pn.pane.Alert(
                "**Regression** in " + ", ".join(md_escape(v.metric) for v in regressed),
                alert_type="danger",
            )
        )
    parts.append(table(verdict_frame(comparison), name="verdicts", page_size=30))
    for line in comparison.notes:
        parts.append(pn.pane.Markdown(f"<small>{esc(line)}</small>"))
    return pn.Column(*parts, sizing_mode="stretch_width")


def scatter(refs: list[str], names: dict[str, str]) -> Any:
    """Precision against recall, one point per run, its size the cost per run."""
    frame = precision_recall_frame(
        {names.get(ref, ref): data.intervals(ref).estimates for ref in refs}
    )
    chart = precision_recall_chart(frame)
    return chart if chart is not None else empty("These runs have no precision and recall to draw.")


@guarded
def results(baseline: str, candidates: list[str], **filters: Any) -> pn.viewable.Viewable:
    if data.options().runs == 0:
        return pn.pane.Markdown(EMPTY_STORE, name="empty-store")
    choices = list(data.run_choices(filter_key(**filters)))
    baseline, candidates = resolve(baseline, candidates, choices)
    if not baseline:
        return empty("Pick a baseline run above.")
    names = labels(choices)
    refs = [baseline, *candidates]
    parts: list[Any] = [
        pn.pane.Markdown("### Every metric with its 95 % interval"),
        table(side_by_side(refs, names), name="side-by-side", page_size=30),
    ]
    if not candidates:
        parts.append(empty("Pick one or more candidates to see the gate's verdicts."))
    else:
        parts.append(pn.pane.Markdown("### The gate's paired verdicts"))
        parts += [verdicts(baseline, c, names) for c in candidates]
    parts.append(pn.panel(scatter(refs, names), sizing_mode="stretch_width"))
    return pn.Column(*parts, sizing_mode="stretch_width")


def view(state: DashboardState) -> pn.Column:
    filters = state.filters()
    return pn.Column(
        pn.panel(pn.bind(controls, state, **filters)),
        pn.panel(
            pn.bind(
                results, baseline=state.param.baseline, candidates=state.param.candidates, **filters
            )
        ),
        sizing_mode="stretch_width",
    )
