"""Alerts through apprise (Slack, e-mail, generic JSON webhooks …): one message per event.

A regression verdict or a failed run becomes one message with model, metric, delta and
interval, commit and a link. Sending never fails a push or a check: failures are returned
so the command can report them.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from urllib.parse import urlsplit

from bench_analytics.comparison import Comparison
from bench_analytics.report import fmt_value


@dataclass(frozen=True)
class Alert:
    """One message."""

    title: str
    body: str
    level: str  # "failure" or "warning"


def default_link(configured: str | None) -> str | None:
    """The configured link, else the CI run (GitHub Actions), else nothing."""
    if configured:
        return configured
    env = os.environ
    if env.get("GITHUB_SERVER_URL") and env.get("GITHUB_REPOSITORY") and env.get("GITHUB_RUN_ID"):
        return (
            f"{env['GITHUB_SERVER_URL']}/{env['GITHUB_REPOSITORY']}/actions/runs/"
            f"{env['GITHUB_RUN_ID']}"
        )
    return None


def regression_alerts(
    subject: str, comparison: Comparison, commit: str | None, link: str | None
) -> list[Alert]:
    """One alert per gated metric that regressed significantly."""
    alerts = []
    for v in comparison.regressions():
        interval = ""
        if v.low is not None and v.high is not None:
            interval = (
                f" [{fmt_value(v.metric, v.low, signed=True)}, "
                f"{fmt_value(v.metric, v.high, signed=True)}]"
            )
        evidence = f"adjusted p = {v.p_adjusted:.3g}" if v.p_adjusted is not None else v.note
        lines = [
            f"{subject}: {v.metric} {fmt_value(v.metric, v.baseline)} -> "
            f"{fmt_value(v.metric, v.candidate)}, "
            f"delta {fmt_value(v.metric, v.delta, signed=True)}{interval}, "
            f"{evidence or v.method}",
            f"baseline: {comparison.baseline_reason or comparison.baseline}",
            f"commit: {commit or 'unknown'}",
        ]
        if link:
            lines.append(f"link: {link}")
        alerts.append(Alert(f"Regression in {v.metric}: {subject}", "\n".join(lines), "failure"))
    return alerts


def failure_alert(subject: str, reason: str | None, commit: str | None, link: str | None) -> Alert:
    """A run stored as failed (endpoint outage), so nobody reads it as a model result."""
    lines = [
        f"{subject}: run failed the health check: {reason or 'no reason given'}",
        f"commit: {commit or 'unknown'}",
    ]
    if link:
        lines.append(f"link: {link}")
    return Alert(f"Run failed (endpoint, not model): {subject}", "\n".join(lines), "warning")


def mask_alert_url(url: str) -> str:
    """scheme://host/… — alert URLs often carry tokens."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}/…"


def send(alerts: list[Alert], urls: list[str]) -> list[str]:
    """Deliver every alert to every URL; returns what failed (never raises)."""
    if not alerts or not urls:
        return []
    import apprise

    logging.getLogger("apprise").setLevel(logging.CRITICAL)  # failures are reported below
    failures = []
    for url in urls:
        try:
            target = apprise.Apprise()
            if not target.add(url):
                failures.append(f"{mask_alert_url(url)}: not a valid apprise URL")
                continue
            for alert in alerts:
                kind = (
                    apprise.NotifyType.FAILURE
                    if alert.level == "failure"
                    else (apprise.NotifyType.WARNING)
                )
                if not target.notify(title=alert.title, body=alert.body, notify_type=kind):
                    failures.append(f"{mask_alert_url(url)}: delivery of '{alert.title}' failed")
        except Exception as exc:  # an alert must never break the command
            failures.append(f"{mask_alert_url(url)}: {type(exc).__name__}: {exc}")
    return failures
