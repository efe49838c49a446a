"""History: the versions of one configuration (the current one marked) and its pointer's
events (who, when, why). With writes allowed: rollback, auto-rollback and quarantine, each
behind a confirmation with a required reason, through the library."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd
import panel as pn

from bench_analytics.charts import configuration_label
from bench_analytics.dashboard import data
from bench_analytics.dashboard.data import filter_key
from bench_analytics.dashboard.state import DashboardState
from bench_analytics.dashboard.widgets import (
    EMPTY_STORE,
    empty,
    fmt,
    guarded,
    md_escape,
    ms,
    note,
    table,
    usd,
    wrapped,
)
from bench_analytics.errors import BenchError

SEPARATOR = "|"


def config_key(row: Any) -> str:
    return SEPARATOR.join(row.configuration)


def versions_frame(versions: list[Any]) -> pd.DataFrame:
    newest_first = versions[::-1]
    return pd.DataFrame(
        {
            "version": [
                f"★ v{v.version}" if v.is_current else f"v{v.version}" for v in newest_first
            ],
            "status": [v.effective_status for v in newest_first],
            "why": [v.note or "" for v in newest_first],
            "F1": [fmt(v.f1) for v in newest_first],
            "precision": [fmt(v.precision) for v in newest_first],
            "recall": [fmt(v.recall) for v in newest_first],
            "latency": [ms(v.latency_ms) for v in newest_first],
            "cost": [usd(v.cost_usd) for v in newest_first],
            "cases": [v.case_count for v in newest_first],
            "errors": [v.error_count for v in newest_first],
            "commit": [(v.commit_sha or "")[:8] for v in newest_first],
            "branch": [v.branch or "" for v in newest_first],
            "by": [v.triggered_by or "" for v in newest_first],
            "run at": [
                v.run_at.strftime("%Y-%m-%d %H:%M") if v.run_at else "" for v in newest_first
            ],
            "transaction": [v.transaction_id for v in newest_first],
        }
    )


def events_frame(events: list[Any]) -> pd.DataFrame:
    newest_first = events[::-1]
    return pd.DataFrame(
        {
            "event": [e.event_type for e in newest_first],
            "from → to": [
                f"v{e.from_version or '–'} → v{e.to_version or '–'}" for e in newest_first
            ],
            "why": [e.reason for e in newest_first],
            "who": [e.actor for e in newest_first],
            "when": [e.created_at.strftime("%Y-%m-%d %H:%M:%S") for e in newest_first],
        }
    )


def confirmed(
    label: str, question: Callable[[], str], act: Callable[[str], str], *extra: Any
) -> pn.Column:
    """A button that asks for a reason and a confirmation before ``act(reason)`` runs."""
    start = pn.widgets.Button(label=label, color="warning")
    reason = pn.widgets.TextInput(label="Reason (required, kept in the audit log)")
    confirm = pn.widgets.Button(label="Confirm", color="danger", disabled=True)
    cancel = pn.widgets.Button(label="Cancel")
    asking = pn.pane.Markdown("")
    outcome = pn.Column()
    box = pn.Column(
        asking,
        reason,
        pn.Row(confirm, cancel),
        visible=False,
        styles={"border": "1px solid #d0d7de", "padding": "6px"},
    )

    def open_box(_: Any) -> None:
        asking.object = question()
        reason.value = ""
        box.visible = True

    def typed(event: Any) -> None:
        confirm.disabled = not str(event.new or "").strip()

    def run(_: Any) -> None:
        text = str(reason.value_input or reason.value or "").strip()
        if not text:
            return
        box.visible = False
        try:
            message = act(text)
            outcome[:] = [note(md_escape(message), "success")]
        except (BenchError, PermissionError) as error:
            outcome[:] = [note(f"**Not done:** {md_escape(error)}", "danger")]

    start.on_click(open_box)
    reason.param.watch(typed, ["value_input", "value"])
    confirm.on_click(run)
    cancel.on_click(lambda _: setattr(box, "visible", False))
    return pn.Column(pn.Row(*extra, start), box, outcome)


def write_controls(state: DashboardState, config: tuple[str, ...], versions: list[Any]) -> pn.Card:
    model, dataset, prompt, environment = config
    version = pn.widgets.Select(
        label="Version", options=[v.version for v in versions[::-1]], width=120
    )
    run = pn.widgets.Select(
        label="Run (transaction)",
        options={f"v{v.version} (tx {v.transaction_id})": v.transaction_id for v in versions[::-1]},
        width=200,
    )

    def refresh(message: str) -> str:
        """Redraw History with the outcome on top (the view showing it is replaced)."""
        state.notice = message
        state.param.trigger("config")
        return message

    def rollback(reason: str) -> str:
        moved = data.write(
            lambda b: b.rollback(
                model,
                version.value,
                reason=reason,
                dataset=dataset,
                prompt=prompt,
                environment=environment,
            )
        )
        return refresh(moved.message)

    def auto(reason: str) -> str:
        moved = data.write(
            lambda b: b.auto_rollback(
                model, reason=reason, dataset=dataset, prompt=prompt, environment=environment
            )
        )
        return refresh(moved.message)

    def quarantine(reason: str) -> str:
        moved = data.write(lambda b: b.quarantine(run.value, reason=reason))
        return refresh(moved.message)

    return pn.Card(
        confirmed(
            "Roll back…",
            lambda: f"Make **v{version.value}** of {md_escape(model)} current?",
            rollback,
            version,
        ),
        confirmed(
            "Auto-rollback…",
            lambda: "Go back to the newest healthy version without a significant regression?",
            auto,
        ),
        confirmed(
            "Quarantine…",
            lambda: f"Mark transaction **{run.value}** as not a model result (an outage)?",
            quarantine,
            run,
        ),
        title="Change the current version (audited)",
        collapsed=False,
        name="write-controls",
        sizing_mode="stretch_width",
    )


@guarded
def view(state: DashboardState, config: str, **filters: Any) -> pn.viewable.Viewable:
    if data.options().runs == 0:
        return pn.pane.Markdown(EMPTY_STORE, name="empty-store")
    rows = list(data.current(filter_key(**filters)))
    if not rows:
        return empty("No configuration matches these filters.")
    options = {configuration_label(r): config_key(r) for r in rows}
    chosen = config if config in options.values() else config_key(rows[0])
    picker = pn.widgets.Select(
        label="Configuration", options=options, value=chosen, sizing_mode="stretch_width"
    )
    picker.param.watch(lambda e: state.param.update(config=e.new, notice=""), "value")
    parts = tuple(chosen.split(SEPARATOR))
    model, dataset, prompt, environment = parts
    [found] = data.history(model, dataset, prompt, environment)
    versions, events = list(found.versions), list(found.events)
    column: list[Any] = [picker]
    if state.notice:
        column.append(note(f"**Done:** {md_escape(state.notice)}", "success"))
    if data.writes_allowed():
        column.append(write_controls(state, parts, versions))
    column += [
        pn.pane.Markdown(f"### Versions ({len(versions)}; ★ current)"),
        table(versions_frame(versions), name="versions-table", page_size=25),
        pn.pane.Markdown(f"### Pointer events ({len(events)})"),
        table(events_frame(events), name="events-table", page_size=25, **wrapped("why")),
    ]
    return pn.Column(*column, sizing_mode="stretch_width")


def view_for(state: DashboardState) -> Any:
    return pn.panel(pn.bind(view, state, config=state.param.config, **state.filters()))
