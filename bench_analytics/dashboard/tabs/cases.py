"""Cases: the per-case diff of two runs (by default only the cases that got worse), filtered
by issue type, category and domain knowledge, paged in SQL; a row's drawer holds the
expected and detected issues and the raw answer; one case across every model."""

from __future__ import annotations

import json
import math
from typing import Any

import pandas as pd
import panel as pn

from bench_analytics.charts import configuration_label
from bench_analytics.dashboard import data
from bench_analytics.dashboard.data import PAGE_SIZE, filter_key
from bench_analytics.dashboard.state import DashboardState
from bench_analytics.dashboard.tabs.compare import labels, resolve
from bench_analytics.dashboard.widgets import (
    EMPTY_STORE,
    empty,
    esc,
    fmt,
    guarded,
    md_escape,
    ms,
    table,
)

DETAIL_KEYS = ("expected", "expected_issues", "detected", "detected_issues", "findings")
ANSWER_KEYS = ("raw_answer", "raw_response", "answer", "response", "output")


def controls(state: DashboardState) -> pn.Row:
    """Change, issue type, category and domain-knowledge filters, bound to the state."""
    change = pn.widgets.RadioButtonGroup.from_param(
        state.param.change, label="Show", color="default", options=["worse", "all"]
    )
    issue = pn.widgets.TextInput.from_param(
        state.param.issue_type, label="Issue type", placeholder="any"
    )
    category = pn.widgets.TextInput.from_param(
        state.param.category, label="Category", placeholder="any"
    )
    domain = pn.widgets.Select.from_param(state.param.domain, label="Needs domain knowledge")
    return pn.Row(
        pn.Column(pn.pane.Markdown("**Show**", margin=(0, 5)), change),
        issue,
        category,
        domain,
        sizing_mode="stretch_width",
        name="case-filters",
    )


def _drawer_text(label: str, details: dict[str, Any] | None, error: str | None) -> str:
    if details is None:
        return f"<b>{esc(label)}</b>: not in this run"
    parts = [f"<b>{esc(label)}</b>"]
    if error:
        parts.append(f"<div>error: {esc(error)}</div>")
    for key in DETAIL_KEYS:
        if key in details:
            parts.append(
                f"<div><i>{esc(key)}</i><pre>{esc(json.dumps(details[key], indent=1))}</pre></div>"
            )
    answer = next((details[k] for k in ANSWER_KEYS if k in details), None)
    if answer is not None:
        text = answer if isinstance(answer, str) else json.dumps(answer, indent=1)
        parts.append(f"<div><i>raw answer</i><pre>{esc(text[:4000])}</pre></div>")
    shown = set(DETAIL_KEYS) | set(ANSWER_KEYS)
    rest = {k: v for k, v in details.items() if k not in shown}
    if rest:
        parts.append(
            f"<div><i>other details</i><pre>{esc(json.dumps(rest, indent=1)[:2000])}</pre></div>"
        )
    return "".join(parts)


def page_frame(page: Any, paired: bool) -> tuple[pd.DataFrame, list[str]]:
    """The page's rows for reading, and each row's drawer HTML."""
    rows = list(page.rows)
    if paired:
        frame = pd.DataFrame(
            {
                "case": [r.case_id for r in rows],
                "change": [r.change for r in rows],
                "Δ F1": [fmt(r.delta_f1) for r in rows],
                "baseline F1": [fmt(r.baseline_f1) for r in rows],
                "candidate F1": [fmt(r.candidate_f1) for r in rows],
                "baseline tp/fp/fn": [
                    f"{r.baseline_tp}/{r.baseline_fp}/{r.baseline_fn}" if r.baseline_status else "–"
                    for r in rows
                ],
                "candidate tp/fp/fn": [
                    f"{r.candidate_tp}/{r.candidate_fp}/{r.candidate_fn}"
                    if r.candidate_status
                    else "–"
                    for r in rows
                ],
                "candidate latency": [ms(r.candidate_latency_ms) for r in rows],
            }
        )
        drawers = [
            '<div style="display:flex;gap:24px">'
            f"<div style='flex:1'>{_drawer_text('baseline', r.baseline_details, r.baseline_error)}"
            "</div><div style='flex:1'>"
            f"{_drawer_text('candidate', r.candidate_details, r.candidate_error)}</div></div>"
            for r in rows
        ]
    else:
        frame = pd.DataFrame(
            {
                "case": [r.case_id for r in rows],
                "status": [r.status for r in rows],
                "F1": [fmt(r.f1) for r in rows],
                "tp/fp/fn": [f"{r.tp}/{r.fp}/{r.fn}" for r in rows],
                "latency": [ms(r.latency_ms) for r in rows],
            }
        )
        drawers = [_drawer_text("this run", r.details, r.error) for r in rows]
    return frame, drawers


def pager(state: DashboardState, page: int, total: int) -> pn.Row:
    pages = max(1, math.ceil(total / PAGE_SIZE))
    previous = pn.widgets.Button(label="◀ Previous", disabled=page <= 1, width=110)
    following = pn.widgets.Button(label="Next ▶", disabled=page >= pages, width=110)
    previous.on_click(lambda _: setattr(state, "page", max(1, state.page - 1)))
    following.on_click(lambda _: setattr(state, "page", min(pages, state.page + 1)))
    first = (page - 1) * PAGE_SIZE + 1 if total else 0
    last = min(page * PAGE_SIZE, total)
    text = pn.pane.Markdown(
        f"page **{page}** of {pages} · cases {first}–{last} of {total}", name="page-info"
    )
    return pn.Row(previous, text, following, name="pager")


@guarded
def diff(
    state: DashboardState,
    baseline: str,
    candidates: list[str],
    change: str,
    issue_type: str,
    category: str,
    domain: str,
    page: int,
    **filters: Any,
) -> pn.viewable.Viewable:
    if data.options().runs == 0:
        return pn.pane.Markdown(EMPTY_STORE, name="empty-store")
    choices = list(data.run_choices(filter_key(**filters)))
    baseline, candidates = resolve(baseline, candidates, choices)
    if not baseline:
        return empty("Pick two runs on the Compare tab.")
    candidate = candidates[0] if candidates else ""
    names = labels(choices)
    found = data.case_page(baseline, candidate, change, issue_type, category, domain, page)
    counts = ", ".join(f"{n} {what}" for what, n in sorted(found.counts.items())) or "none"
    base_name = md_escape(names.get(baseline, baseline))
    cand_name = md_escape(names.get(candidate, candidate))
    what = (
        f"**{cand_name}** against **{base_name}**"
        if candidate
        else f"**{base_name}** (pick a candidate on Compare for a diff)"
    )
    header = pn.pane.Markdown(
        f"{what}<br>cases by change: {counts}. Showing "
        f"{'only the cases that got worse' if change == 'worse' and candidate else 'every case'}"
        " — click a row for expected vs detected issues and the raw answer.",
        name="cases-header",
    )
    if not len(found):
        message = (
            "No case got worse with these filters." if change == "worse" else "No case matches."
        )
        return pn.Column(header, empty(message, "Switch Show to 'all' or clear a filter."))
    frame, drawers = page_frame(found, paired=bool(candidate))
    grid = table(
        frame,
        name="cases-table",
        page_size=PAGE_SIZE + 1,
        row_content=lambda row: pn.pane.HTML(drawers[row.name], sizing_mode="stretch_width"),
        embed_content=False,
        selectable=1,
    )

    def look_across(event: Any) -> None:
        state.case = str(frame["case"].iloc[event.row])

    grid.on_click(look_across)
    return pn.Column(header, grid, pager(state, page, found.total), sizing_mode="stretch_width")


@guarded
def across(case: str, **filters: Any) -> pn.viewable.Viewable:
    if not case:
        return pn.pane.Markdown(
            "Type a case id (or click a case above) to see it in the current version of every "
            "model.",
            name="across-hint",
        )
    found = list(data.case_across(case, filter_key(**filters)))
    if not found:
        return empty(f"No current version holds case '{md_escape(case)}'.")
    frame = pd.DataFrame(
        {
            "configuration": [configuration_label(r) for r in found],
            "version": [r.version for r in found],
            "status": [r.status for r in found],
            "F1": [fmt(r.f1) for r in found],
            "tp/fp/fn": [f"{r.tp}/{r.fp}/{r.fn}" for r in found],
            "latency": [ms(r.latency_ms) for r in found],
        }
    )
    drawers = [_drawer_text(configuration_label(r), r.details, r.error) for r in found]
    return table(
        frame,
        name="across-table",
        row_content=lambda row: pn.pane.HTML(drawers[row.name], sizing_mode="stretch_width"),
        embed_content=False,
    )


def view(state: DashboardState) -> pn.Column:
    filters = state.filters()
    case_input = pn.widgets.TextInput.from_param(
        state.param.case, label="Case id", placeholder="e.g. P0042"
    )
    return pn.Column(
        controls(state),
        pn.panel(
            pn.bind(
                diff,
                state,
                baseline=state.param.baseline,
                candidates=state.param.candidates,
                change=state.param.change,
                issue_type=state.param.issue_type,
                category=state.param.category,
                domain=state.param.domain,
                page=state.param.page,
                **filters,
            )
        ),
        pn.pane.Markdown("### One case across every model"),
        case_input,
        pn.panel(pn.bind(across, case=state.param.case, **filters)),
        sizing_mode="stretch_width",
    )
