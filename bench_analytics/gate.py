"""The gate: pick a baseline from the store, compare, record the verdict, decide to hold.

The baseline used is always stated (which snapshot and why) and recorded with the
verdicts in ``gate_verdicts``, so a hold or a failed check can be explained later.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

import psycopg

from bench_analytics.comparison import HISTORY_METRICS, Comparison, RunView, compare_views
from bench_analytics.config import Settings
from bench_analytics.errors import UsageError
from bench_analytics.health import Health, assess
from bench_analytics.model import RunResult
from bench_analytics.store.queries import (
    Config,
    ConfigFilter,
    config_of,
    resolve_configuration,
    transaction,
)

BASELINE_RULES = ("current", "previous", "pinned")
_VERSION_REF = re.compile(
    r"^(?P<model>[a-z0-9][a-z0-9._-]*)@(?P<which>current|previous|pinned|\d+)$"
)
_TX_REF = re.compile(r"^(?:tx:|#)?(?P<id>\d+)$")


@dataclass(frozen=True)
class Baseline:
    """A run to compare against, and why it was chosen."""

    view: RunView
    transaction_id: int | None
    rule: str
    reason: str


def load_view(conn: psycopg.Connection, transaction_id: int, label: str) -> RunView:
    """A stored run as a comparison input (metrics from the log, cases from their table)."""
    from bench_analytics.stats import CaseTable

    row = conn.execute(
        "SELECT content_sha256, document->>'averaging' FROM benchmark_transactions WHERE id = %s",
        (transaction_id,),
    ).fetchone()
    if row is None:
        raise UsageError(f"no transaction {transaction_id} in the store")
    metrics = dict(
        conn.execute(
            "SELECT name, value FROM benchmark_metrics WHERE transaction_id = %s",
            (transaction_id,),
        ).fetchall()
    )
    cases = conn.execute(
        """SELECT case_id, status, tp, fp, fn, latency_ms, cost_usd FROM benchmark_cases
           WHERE transaction_id = %s""",
        (transaction_id,),
    ).fetchall()
    table = CaseTable.from_rows(cases) if cases else None
    return RunView(label, metrics, row[1] or "micro", table, row[0])


def _version_row(conn: psycopg.Connection, config: Config, sql_filter: str, params=()):
    return conn.execute(
        f"""SELECT transaction_id, version FROM snapshot_history
            WHERE (model_key, dataset_version, prompt_version, environment) = (%s, %s, %s, %s)
              AND {sql_filter}
            ORDER BY version DESC LIMIT 1""",
        (*config, *params),
    ).fetchone()


def resolve_baseline(
    conn: psycopg.Connection,
    config: Config,
    rule: str,
    *,
    candidate: tuple[int, int] | None = None,
) -> Baseline | None:
    """The baseline a rule names in one configuration, or None when there is none.

    current: the current snapshot. previous: the newest healthy version (before the
    candidate, when the candidate is already stored). pinned: the version pinned with
    ``bench-analytics pin``. ``candidate`` is (transaction id, version) of a stored
    candidate, which is never its own baseline.
    """
    name = "/".join(config)
    tx_out = candidate[0] if candidate else None
    if rule == "current":
        row = _version_row(
            conn, config, "is_current AND transaction_id IS DISTINCT FROM %s", (tx_out,)
        )
        why = "the current snapshot"
        if row is None and candidate and _is_current(conn, candidate[0]):
            return resolve_baseline(conn, config, "previous", candidate=candidate)
    elif rule == "previous":
        below = candidate[1] if candidate else 2**31 - 1
        row = _version_row(conn, config, "effective_status = 'healthy' AND version < %s", (below,))
        why = "the newest healthy version" + (" before the candidate" if candidate else "")
    elif rule == "pinned":
        pin = conn.execute(
            """SELECT version FROM baseline_pins
               WHERE (model_key, dataset_version, prompt_version, environment)
                     = (%s, %s, %s, %s) ORDER BY id DESC LIMIT 1""",
            config,
        ).fetchone()
        if not pin or pin[0] is None:
            raise UsageError(f"no pinned baseline for {name}: pin one with `bench-analytics pin`")
        row = _version_row(conn, config, "version = %s", (pin[0],))
        why = "the pinned baseline"
    else:
        raise UsageError(f"unknown baseline rule '{rule}' (current, previous, pinned or a ref)")
    if row is None:
        return None
    tx, version = row
    label = f"{config[0]}@{version}"
    reason = f"version {version} of {name} (transaction {tx}): {why}"
    return Baseline(load_view(conn, tx, label), tx, rule, reason)


def _is_current(conn: psycopg.Connection, transaction_id: int) -> bool:
    row = conn.execute(
        "SELECT is_current FROM benchmark_snapshots WHERE transaction_id = %s", (transaction_id,)
    ).fetchone()
    return bool(row and row[0])


def history_values(
    conn: psycopg.Connection, config: Config, *, exclude: int | None, window: int
) -> dict[str, list[float]]:
    """Headline metrics of the configuration's healthy versions, oldest first (last ``window``)."""
    rows = conn.execute(
        """SELECT f1, "precision", recall, latency_ms, cost_usd FROM (
               SELECT version, f1, "precision", recall, latency_ms, cost_usd
               FROM snapshot_history
               WHERE (model_key, dataset_version, prompt_version, environment)
                     = (%s, %s, %s, %s)
                 AND effective_status = 'healthy' AND transaction_id IS DISTINCT FROM %s
               ORDER BY version DESC LIMIT %s) recent
           ORDER BY version""",
        (*config, exclude, window),
    ).fetchall()
    out: dict[str, list[float]] = {}
    for index, metric in enumerate(HISTORY_METRICS):
        values = [row[index] for row in rows if row[index] is not None]
        if values:
            out[metric] = values
    return out


def evaluate(
    conn: psycopg.Connection,
    candidate: RunView,
    config: Config,
    baseline: Baseline,
    settings: Settings,
    *,
    exclude: int | None = None,
) -> Comparison:
    """Compare a candidate with a baseline, using the configuration's history as fallback."""
    history = history_values(conn, config, exclude=exclude, window=settings.history_window)
    comparison = compare_views(baseline.view, candidate, settings, history)
    comparison.baseline_reason = baseline.reason
    return comparison


def record(
    conn: psycopg.Connection, transaction_id: int, baseline: Baseline, comparison: Comparison
) -> None:
    """Store every verdict with the baseline it was made against (append-only)."""
    with conn.cursor() as cur:
        cur.executemany(
            """INSERT INTO gate_verdicts (transaction_id, baseline_transaction_id, baseline_rule,
                   baseline_reason, method, metric, baseline_value, candidate_value, delta,
                   ci_low, ci_high, p_value, p_adjusted, threshold, mde, decision, gated, n)
               VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)""",
            [
                (
                    transaction_id,
                    baseline.transaction_id,
                    baseline.rule,
                    baseline.reason,
                    comparison.method,
                    v.metric,
                    v.baseline,
                    v.candidate,
                    v.delta,
                    v.low,
                    v.high,
                    v.p_value,
                    v.p_adjusted,
                    v.threshold,
                    v.mde,
                    v.decision,
                    v.gated,
                    v.n,
                )
                for v in comparison.verdicts
            ],
        )


def summary(comparison: Comparison) -> str:
    """'f1 -0.154 [-0.261, -0.046] p=0.012 (holm)' for every gated regression."""
    parts = []
    for v in comparison.regressions():
        interval = f" [{v.low:+.3f}, {v.high:+.3f}]" if v.low is not None else ""
        evidence = v.note if v.p_adjusted is None else f"p={v.p_adjusted:.3g}"
        parts.append(f"{v.metric} {v.delta:+.3f}{interval} {evidence}")
    how = (
        comparison.method
        if comparison.method == "history"
        else (f"{comparison.correction}, {comparison.method}")
    )
    return "; ".join(parts) + f" ({how})"


def parse_ref(text: str) -> tuple[str, str | int]:
    """('tx', id) | ('version', 'model@which') | ('file', path)."""
    match = _TX_REF.match(text)
    if match:
        return "tx", int(match.group("id"))
    if _VERSION_REF.match(text):
        return "version", text
    return "file", text


def split_version_ref(text: str) -> tuple[str, str]:
    """'medgemma@3' -> ('medgemma', '3')."""
    match = _VERSION_REF.match(text)
    if not match:
        raise UsageError(f"'{text}' is not model@current|previous|pinned|N")
    return match.group("model"), match.group("which")


def baseline_from_ref(conn: psycopg.Connection, text: str, selector: ConfigFilter) -> Baseline:
    """A stored run named by 'tx:42' / '42' or 'model@current|previous|pinned|N'."""
    kind, value = parse_ref(text)
    if kind == "tx":
        info = transaction(conn, int(value))
        label = f"{info['model_key']}@{info['version']}"
        reason = f"transaction {value} ({'/'.join(config_of(info))}, version {info['version']})"
        return Baseline(load_view(conn, int(value), label), int(value), "explicit", reason)
    if kind != "version":
        raise UsageError(f"'{text}' is neither a stored run (tx:ID, model@N) nor a readable file")
    model, which = split_version_ref(str(value))
    config = resolve_configuration(conn, replace(selector, model=model))
    if which.isdigit():
        row = _version_row(conn, config, "version = %s", (int(which),))
        if row is None:
            raise UsageError(f"version {which} does not exist for {'/'.join(config)}")
        tx, version = row
        reason = f"version {version} of {'/'.join(config)} (transaction {tx}), as asked"
        return Baseline(load_view(conn, tx, f"{model}@{version}"), tx, "explicit", reason)
    found = resolve_baseline(conn, config, which)
    if found is None:
        raise UsageError(f"{'/'.join(config)} has no {which} version")
    return found


@dataclass
class CheckResult:
    """What `check` found for one result."""

    subject: str
    candidate: str
    config: Config
    health: Health
    comparison: Comparison | None
    note: str | None = None

    @property
    def regression(self) -> bool:
        return bool(self.comparison and self.comparison.regressions())

    def markdown(self) -> str:
        from bench_analytics.report import markdown

        if self.comparison is None:
            icon = "⚠️" if self.health.status == "failed" else "⚪"
            return (
                f"### {icon} {self.subject}\n\n- **Candidate:** {self.candidate}\n\n> {self.note}\n"
            )
        return markdown(self.comparison, self.subject, self.candidate)

    def as_dict(self) -> dict:
        return {
            "subject": self.subject,
            "candidate": self.candidate,
            "configuration": dict(
                zip(("model", "dataset", "prompt", "environment"), self.config, strict=True)
            ),
            "health": {"status": self.health.status, "reason": self.health.reason},
            "regression": self.regression,
            "note": self.note,
            "comparison": self.comparison.as_dict() if self.comparison else None,
        }


def check_run(
    conn: psycopg.Connection,
    run: RunResult,
    source: str,
    baseline_spec: str,
    settings: Settings,
    *,
    baseline: Baseline | None = None,
) -> CheckResult:
    """Compare a (not necessarily stored) result with its baseline; nothing is written."""
    config = run.configuration()
    subject = f"{config[0]} on {' / '.join(config[1:])}"
    commit = run.provenance.commit_sha
    candidate = f"{source}" + (f" (commit {commit[:8]})" if commit else "")
    health = assess(run, settings.failure_threshold)
    if health.status == "failed":
        note = (
            f"the run failed the health check ({health.reason}): an endpoint problem, not compared"
        )
        return CheckResult(subject, candidate, config, health, None, note)
    stored = conn.execute(
        """SELECT t.id, s.version FROM benchmark_transactions t
           JOIN benchmark_snapshots s ON s.transaction_id = t.id WHERE t.content_sha256 = %s""",
        (run.content_sha256(),),
    ).fetchone()
    exclude = stored[0] if stored else None
    if baseline is None:
        baseline = resolve_baseline(conn, config, baseline_spec, candidate=stored)
    if baseline is None:
        note = f"no {baseline_spec} version of this configuration yet: nothing to compare with"
        return CheckResult(subject, candidate, config, health, None, note)
    view = RunView.from_run(run, source)
    comparison = evaluate(conn, view, config, baseline, settings, exclude=exclude)
    return CheckResult(subject, candidate, config, health, comparison)
