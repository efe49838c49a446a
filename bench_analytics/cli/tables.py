"""The tables the commands print, each from one typed result of the API."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from rich.text import Text

from bench_analytics.cli.render import (
    DECISION_STYLE,
    Cell,
    Column,
    Footnotes,
    age,
    count,
    fitted,
    millis,
    opt,
    out,
    rate,
    short_sha,
    status,
    usd,
)

if TYPE_CHECKING:
    from bench_analytics.api import PushReport, RunIntervals
    from bench_analytics.comparison import Comparison
    from bench_analytics.store.cases import CasePage
    from bench_analytics.store.records import (
        ConfigurationHistory,
        CostRow,
        SnapshotRow,
    )


def print_snapshots(rows: Sequence[SnapshotRow]) -> None:
    """The current version of every configuration."""
    columns = [
        Column("model", keep=True),
        Column("dataset", keep=True, stack="config"),
        Column("prompt", keep=True, stack="config"),
        Column("env", keep=True, stack="config"),
        Column("version", "right", keep=True),
        Column("F1", "right", keep=True),
        Column("precision", "right", drop=4),
        Column("recall", "right", drop=1),
        Column("latency", "right", drop=3),
        Column("status"),
        Column("commit", drop=5),
        Column("age", "right", drop=2),
    ]
    body: list[list[Cell]] = []
    for row in rows:
        if row.version is None:
            version = f"—/{row.versions}"
            state = Text(f"no current ({row.unhealthy} unhealthy)", style="red")
        else:
            version = f"{row.version}/{row.versions}"
            state = status(row.effective_status)
        body.append(
            [
                row.model_key,
                row.dataset_version,
                row.prompt_version,
                row.environment,
                version,
                rate(row.f1),
                rate(row.precision),
                rate(row.recall),
                millis(row.latency_ms),
                state,
                short_sha(row.commit_sha),
                age(row.run_at),
            ]
        )
    out.print(fitted("Current snapshots", columns, body))


def print_history(found: Sequence[ConfigurationHistory]) -> None:
    """Each configuration's versions (the current one marked), then its pointer events."""
    for item in found:
        notes = Footnotes()
        columns = [
            Column("", keep=True),
            Column("version", "right", keep=True),
            Column("tx", "right", keep=True),
            Column("F1", "right", keep=True),
            Column("precision", "right", drop=3),
            Column("recall", "right", drop=4),
            Column("latency", "right", drop=2),
            Column("status", keep=True),
            Column("commit", drop=5),
            Column("branch", drop=6),
            Column("run at", drop=1),
            Column("note"),
        ]
        body: list[list[Cell]] = [
            [
                Text("●", style="bold green") if v.is_current else "",
                str(v.version),
                str(v.transaction_id),
                rate(v.f1),
                rate(v.precision),
                rate(v.recall),
                millis(v.latency_ms),
                status(v.effective_status),
                short_sha(v.commit_sha),
                v.branch or "—",
                v.run_at.strftime("%Y-%m-%d %H:%M") if v.run_at else "—",
                notes.ref(v.note),
            ]
            for v in item.versions
        ]
        out.print(fitted(f"History of {' / '.join(item.configuration)}", columns, body))
        notes.print()
        event_notes = Footnotes()
        event_columns = [
            Column("when", keep=True),
            Column("event", keep=True),
            Column("from", "right", keep=True),
            Column("to", "right", keep=True),
            Column("tx", "right", drop=2),
            Column("actor", drop=1),
            Column("reason"),
        ]
        events: list[list[Cell]] = [
            [
                e.created_at.strftime("%Y-%m-%d %H:%M:%S"),
                e.event_type,
                opt(e.from_version),
                opt(e.to_version),
                opt(e.transaction_id),
                e.actor,
                event_notes.ref(e.reason, limit=40),
            ]
            for e in item.events
        ]
        out.print(fitted("Pointer events", event_columns, events))
        event_notes.print()


def print_push(report: PushReport) -> None:
    """One line per pushed result; long reasons under the table."""
    notes = Footnotes()
    columns = [
        Column("source", drop=1),
        Column("model", keep=True),
        Column("dataset", keep=True, stack="config"),
        Column("prompt", keep=True, stack="config"),
        Column("env", keep=True, stack="config"),
        Column("tx", "right", keep=True),
        Column("version", "right", keep=True),
        Column("status", keep=True),
        Column("result"),
    ]
    body: list[list[Cell]] = []
    for item in report.pushed:
        o = item.outcome
        if not o.created:
            result = Text("unchanged (already stored)", style="dim")
        elif o.regressed and not o.current:
            result = Text("held: regression", style="bold red")
        elif o.current:
            result = Text("current", style="green")
        else:
            result = Text("stored, pointer held", style="yellow")
        state = status(o.status)
        if o.created and o.status_reason:
            state.append(f" {notes.ref(o.status_reason, limit=0)}", style="dim")
        if o.created and o.status == "healthy" and not o.current and o.event_reason:
            result.append(f" {notes.ref(o.event_reason, limit=0)}", style="dim")
        body.append(
            [
                o.source,
                o.model_key,
                o.dataset_version,
                o.prompt_version,
                o.environment,
                str(o.transaction_id),
                str(o.version),
                state,
                result,
            ]
        )
    out.print(fitted("Pushed", columns, body))
    notes.print()


def print_comparison(comparison: Comparison, title: str) -> None:
    """One row per metric: values, delta with interval, adjusted p, verdict."""
    from bench_analytics.report import delta_text, fmt_value

    heading = Text.assemble(
        title,
        (
            f"  ({comparison.method}, n={comparison.n}, {comparison.correction}, "
            f"α={comparison.alpha:g})",
            "dim",
        ),
    )
    columns = [
        Column("metric", keep=True),
        Column("baseline", "right", drop=2),
        Column("candidate", "right", drop=3),
        Column("Δ [95% CI]", min_width=14),
        Column("p adj.", "right", keep=True),
        Column("threshold", "right", drop=4),
        Column("MDE", "right", drop=1),
        Column("verdict", min_width=14),
    ]
    body: list[list[Cell]] = []
    for v in comparison.verdicts:
        verdict = Text(v.decision, style=DECISION_STYLE[v.decision])
        if v.note:
            verdict.append(f" ({v.note})", style="dim")
        body.append(
            [
                f"{v.metric}{' ⚑' if v.gated else ''}",
                fmt_value(v.metric, v.baseline),
                fmt_value(v.metric, v.candidate),
                delta_text(v),
                "—" if v.p_adjusted is None else f"{v.p_adjusted:.3g}",
                fmt_value(v.metric, v.threshold),
                fmt_value(v.metric, v.mde),
                verdict,
            ]
        )
    out.print(fitted(heading, columns, body))
    for line in (comparison.baseline_reason, *comparison.notes):
        if line:
            out.print(Text(line, style="dim"))


def print_cost(rows: Sequence[CostRow], by: str, since: str) -> None:
    """Cost totals per group."""
    columns = [
        Column(by, keep=True),
        Column("runs", "right", keep=True),
        Column("unhealthy", "right", drop=3),
        Column("cases", "right", drop=4),
        Column("input tokens", "right", drop=2),
        Column("output tokens", "right", drop=1),
        Column("cost", "right", keep=True),
        Column("per run", "right", drop=5),
        Column("per detected issue", "right", keep=True),
    ]
    body: list[list[Cell]] = [
        [
            str(row.group),
            str(row.runs),
            str(row.unhealthy_runs),
            count(row.cases),
            count(row.input_tokens),
            count(row.output_tokens),
            usd(row.cost_usd),
            usd(row.cost_per_run_usd),
            usd(row.cost_per_detected_issue_usd),
        ]
        for row in rows
    ]
    out.print(fitted(f"Cost by {by} (since {since})", columns, body))


def print_intervals(found: RunIntervals, title: str) -> None:
    """One row per metric: value and its 95 % interval."""
    from bench_analytics.report import fmt_value

    columns = [
        Column("metric", keep=True),
        Column("value", "right", keep=True),
        Column("95% interval", keep=True),
        Column("method", drop=1),
    ]
    body: list[list[Cell]] = [
        [
            e.metric,
            fmt_value(e.metric, e.value),
            f"[{fmt_value(e.metric, e.low)}, {fmt_value(e.metric, e.high)}]",
            e.method,
        ]
        for e in found.estimates
    ]
    out.print(fitted(f"{title} ({found.cases} cases)", columns, body))
    if found.source:
        out.print(Text(found.source, style="dim"))


def print_cases(page: CasePage, title: str) -> None:
    """A page of one run's cases, or of two runs' cases side by side."""
    from bench_analytics.store.cases import CaseChangeRow, CaseRow

    changes = [r for r in page.rows if isinstance(r, CaseChangeRow)]
    singles = [r for r in page.rows if isinstance(r, CaseRow)]
    if page.rows.row_type is CaseChangeRow:
        columns = [
            Column("case", keep=True),
            Column("change", keep=True),
            Column("Δ F1", "right", keep=True),
            Column("baseline tp/fp/fn", drop=1),
            Column("candidate tp/fp/fn", drop=2),
            Column("error"),
        ]
        body: list[list[Cell]] = [
            [
                r.case_id,
                Text(r.change, style=_CHANGE_STYLE.get(r.change, "")),
                "—" if r.delta_f1 is None else f"{r.delta_f1:+.3f}",
                _counts(r.baseline_tp, r.baseline_fp, r.baseline_fn, r.baseline_status),
                _counts(r.candidate_tp, r.candidate_fp, r.candidate_fn, r.candidate_status),
                r.candidate_error or r.baseline_error or "",
            ]
            for r in changes
        ]
    else:
        columns = [
            Column("case", keep=True),
            Column("status", keep=True),
            Column("tp/fp/fn", keep=True),
            Column("F1", "right", keep=True),
            Column("latency", "right", drop=1),
            Column("cost", "right", drop=2),
            Column("error"),
        ]
        body = [
            [
                r.case_id,
                status(r.status),
                _counts(r.tp, r.fp, r.fn, r.status),
                rate(r.f1),
                millis(r.latency_ms),
                usd(r.cost_usd),
                r.error or "",
            ]
            for r in singles
        ]
    rows = len(page.rows)
    shown = f"{page.offset + 1}–{page.offset + rows} of {page.total}" if rows else "none"
    out.print(fitted(f"{title}: {shown}", columns, body))
    if page.counts:
        summary = ", ".join(f"{n} {key}" for key, n in sorted(page.counts.items()))
        out.print(Text(f"matching: {summary}", style="dim"))


_CHANGE_STYLE = {"worse": "bold red", "better": "green", "error": "yellow", "same": "dim"}


def _counts(tp: int | None, fp: int | None, fn: int | None, state: str | None) -> str:
    if state is None:
        return "—"
    if state != "ok":
        return state
    return f"{opt(tp)}/{opt(fp)}/{opt(fn)}"
