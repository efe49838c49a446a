"""Terminal output: rich tables for people, JSON for machines."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from typing import Any

from rich.console import Console
from rich.table import Table

# Piped output (CI logs, `make demo | tee`) gets a wide page instead of 80 columns.
_WIDTH = None if sys.stdout.isatty() else 160
out = Console(highlight=False, soft_wrap=False, width=_WIDTH)
err = Console(stderr=True, highlight=False)


def emit_json(data: Any) -> None:
    """Machine output on stdout (dates as ISO strings)."""
    sys.stdout.write(json.dumps(data, indent=2, default=_default) + "\n")


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"cannot serialise {type(value).__name__}")


def rate(value: float | None) -> str:
    return "—" if value is None else f"{value:.3f}"


def millis(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value / 1000:.2f} s" if value >= 1000 else f"{value:.1f} ms"


def age(when: datetime | None, now: datetime | None = None) -> str:
    """'3d ago', '5h ago', '12m ago'."""
    if when is None:
        return "—"
    seconds = ((now or datetime.now(UTC)) - when).total_seconds()
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{int(seconds // size)}{unit} ago"
    return "just now"


def short_sha(sha: str | None) -> str:
    return sha[:8] if sha else "—"


STATUS_STYLE = {"healthy": "green", "failed": "red", "quarantined": "yellow"}


def status_text(status: str | None) -> str:
    if not status:
        return "—"
    return f"[{STATUS_STYLE.get(status, 'white')}]{status}[/]"


def snapshots_table(rows: list[dict[str, Any]]) -> Table:
    """The current snapshot of every configuration."""
    table = Table(title="Current snapshots", title_justify="left")
    for name, justify in (
        ("model", "left"),
        ("dataset", "left"),
        ("prompt", "left"),
        ("env", "left"),
        ("version", "right"),
        ("F1", "right"),
        ("precision", "right"),
        ("recall", "right"),
        ("latency", "right"),
        ("status", "left"),
        ("commit", "left"),
        ("age", "right"),
    ):
        table.add_column(name, justify=justify, no_wrap=name in {"model", "commit", "age"})
    for row in rows:
        if row["version"] is None:
            version = f"—/{row['versions']}"
            status = f"[red]no current ({row['unhealthy']} unhealthy)[/]"
        else:
            version = f"{row['version']}/{row['versions']}"
            status = status_text(row["effective_status"])
        table.add_row(
            row["model_key"],
            row["dataset_version"],
            row["prompt_version"],
            row["environment"],
            version,
            rate(row["f1"]),
            rate(row["precision"]),
            rate(row["recall"]),
            millis(row["latency_ms"]),
            status,
            short_sha(row["commit_sha"]),
            age(row["run_at"]),
        )
    return table


def versions_table(config: tuple[str, ...], rows: list[dict[str, Any]]) -> Table:
    """All versions of one configuration, the current one marked."""
    table = Table(title=f"History of {' / '.join(config)}", title_justify="left")
    for name in (
        "",
        "version",
        "tx",
        "F1",
        "precision",
        "recall",
        "latency",
        "status",
        "commit",
        "branch",
        "run at",
        "note",
    ):
        table.add_column(name, no_wrap=name not in {"note"})
    for row in rows:
        note = row["quarantine_reason"] or row["status_reason"] or ""
        table.add_row(
            "[bold green]●[/]" if row["is_current"] else "",
            str(row["version"]),
            str(row["transaction_id"]),
            rate(row["f1"]),
            rate(row["precision"]),
            rate(row["recall"]),
            millis(row["latency_ms"]),
            status_text(row["effective_status"]),
            short_sha(row["commit_sha"]),
            row["branch"] or "—",
            row["run_at"].strftime("%Y-%m-%d %H:%M") if row["run_at"] else "—",
            note,
        )
    return table


def events_table(rows: list[dict[str, Any]]) -> Table:
    """Every move of the pointer."""
    table = Table(title="Pointer events", title_justify="left")
    for name in ("when", "event", "from", "to", "tx", "actor", "reason"):
        table.add_column(name, no_wrap=name != "reason")
    for row in rows:
        table.add_row(
            row["created_at"].strftime("%Y-%m-%d %H:%M:%S"),
            row["event_type"],
            _opt(row["from_version"]),
            _opt(row["to_version"]),
            _opt(row["transaction_id"]),
            row["actor"],
            row["reason"],
        )
    return table


def _opt(value: Any) -> str:
    return "—" if value is None else str(value)


def push_table(outcomes: list[Any]) -> Table:
    """One line per pushed result."""
    table = Table(title="Pushed", title_justify="left")
    for name in (
        "source",
        "model",
        "dataset",
        "prompt",
        "env",
        "tx",
        "version",
        "status",
        "result",
    ):
        table.add_column(name, no_wrap=name != "source")
    for o in outcomes:
        if not o.created:
            result = "[dim]unchanged (already stored)[/]"
        elif o.regressions and not o.current:
            result = "[bold red]held: regression[/]"
        elif o.current:
            result = "[green]current[/]"
        else:
            result = "[yellow]stored, pointer held[/]"
        status = status_text(o.status)
        if o.status_reason and o.created:
            status += f"\n[dim]{o.status_reason}[/]"
        table.add_row(
            o.source,
            o.model_key,
            o.dataset_version,
            o.prompt_version,
            o.environment,
            str(o.transaction_id),
            str(o.version),
            status,
            result,
        )
    return table


DECISION_STYLE = {
    "regression": "bold red",
    "improvement": "green",
    "no significant change": "dim",
    "not tested": "yellow",
}


def comparison_table(comparison: Any, title: str) -> Table:
    """One row per metric: values, delta with interval, adjusted p, verdict."""
    from bench_analytics.report import delta_text, fmt_value

    table = Table(
        title=f"{title}  [dim]({comparison.method}, n={comparison.n}, "
        f"{comparison.correction}, α={comparison.alpha:g})[/]",
        title_justify="left",
    )
    for name, justify in (
        ("metric", "left"),
        ("baseline", "right"),
        ("candidate", "right"),
        ("Δ [95% CI]", "left"),
        ("p adj.", "right"),
        ("threshold", "right"),
        ("MDE", "right"),
        ("verdict", "left"),
    ):
        table.add_column(name, justify=justify)
    for v in comparison.verdicts:
        style = DECISION_STYLE[v.decision]
        table.add_row(
            f"{v.metric}{' ⚑' if v.gated else ''}",
            fmt_value(v.metric, v.baseline),
            fmt_value(v.metric, v.candidate),
            delta_text(v),
            "—" if v.p_adjusted is None else f"{v.p_adjusted:.3g}",
            fmt_value(v.metric, v.threshold),
            fmt_value(v.metric, v.mde),
            f"[{style}]{v.decision}[/]" + (f" [dim]({v.note})[/]" if v.note else ""),
        )
    return table


def _usd(value: float | None) -> str:
    return "—" if value is None else f"${value:,.4f}" if value < 10 else f"${value:,.2f}"


def _count(value: float | None) -> str:
    return "—" if value is None else f"{value:,.0f}"


def cost_table(rows: list[dict[str, Any]], by: str, since: str) -> Table:
    """Cost totals per group."""
    table = Table(title=f"Cost by {by} (since {since})", title_justify="left")
    for name in (
        by,
        "runs",
        "unhealthy",
        "cases",
        "input tokens",
        "output tokens",
        "cost",
        "per run",
        "per detected issue",
    ):
        table.add_column(name, justify="left" if name == by else "right")
    for row in rows:
        table.add_row(
            str(row["group"]),
            str(row["runs"]),
            str(row["unhealthy_runs"]),
            _count(row["cases"]),
            _count(row["input_tokens"]),
            _count(row["output_tokens"]),
            _usd(row["cost_usd"]),
            _usd(row["cost_per_run_usd"]),
            _usd(row["cost_per_detected_issue_usd"]),
        )
    return table


def intervals_table(estimates: list[Any], title: str) -> Table:
    """One row per metric: value and its 95 % interval."""
    from bench_analytics.report import fmt_value

    table = Table(title=title, title_justify="left")
    for name, justify in (
        ("metric", "left"),
        ("value", "right"),
        ("95% interval", "left"),
        ("method", "left"),
    ):
        table.add_column(name, justify=justify)
    for e in estimates:
        table.add_row(
            e.metric,
            fmt_value(e.metric, e.value),
            f"[{fmt_value(e.metric, e.low)}, {fmt_value(e.metric, e.high)}]",
            e.method,
        )
    return table
