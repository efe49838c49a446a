"""What runs cost: totals by model, prompt, environment or period, and cost per found issue."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import psycopg
from psycopg.rows import dict_row

from bench_analytics.configuration import RunFilter
from bench_analytics.errors import UsageError
from bench_analytics.store.overview import roomy, run_sql
from bench_analytics.store.records import CostRow
from bench_analytics.tables import Table

GROUPS = {
    "model": "model_key",
    "prompt": "model_key || ' / ' || prompt_version",
    "environment": "environment",
    "day": "to_char(date_trunc('day', run_at), 'YYYY-MM-DD')",
    "week": "to_char(date_trunc('week', run_at), 'IYYY-\"W\"IW')",
    "month": "to_char(date_trunc('month', run_at), 'YYYY-MM')",
}
# What runs are grouped by: each group's key, cheap per run; the label above is computed
# from it once per group (one label per key: a day, a Monday, the first of a month).
_KEYS = {period: f"date_trunc('{period}', run_at)" for period in ("day", "week", "month")}
_SPAN = re.compile(r"^(\d+)\s*([hdwm])$")
_UNITS = {
    "h": timedelta(hours=1),
    "d": timedelta(days=1),
    "w": timedelta(weeks=1),
    "m": timedelta(days=30),
}


def parse_since(text: str | None, now: datetime | None = None) -> datetime | None:
    """'30d', '12h', '4w', '6m', an ISO date, or None/'all' for everything."""
    if text is None or text == "all":
        return None
    now = now or datetime.now(UTC)
    match = _SPAN.match(text.strip().lower())
    if match:
        return now - int(match.group(1)) * _UNITS[match.group(2)]
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise UsageError(
            f"since '{text}': use 30d, 12h, 4w, 6m, a date (2026-01-31) or all"
        ) from None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def cost_report(
    conn: psycopg.Connection, since: datetime | None, by: str, where: RunFilter | None = None
) -> Table[CostRow]:
    """One row per group: runs, failed runs, cases, tokens, cost, cost per detected issue.
    ``where`` narrows the runs (models, environments, versions, time range)."""
    if by not in GROUPS:
        raise UsageError(f"cost by '{by}': choose one of {', '.join(GROUPS)}")
    narrow, narrow_params = run_sql(where or RunFilter(), "t")
    # one row per run: its three metrics joined by (run, name), which is the key of
    # benchmark_metrics (never more than one row each), not pivoted per run with a sort
    sql = f"""
        WITH runs AS (
            SELECT t.id, t.model_key, t.prompt_version, t.environment, t.effective_status,
                   t.case_count, t.cost_usd,
                   COALESCE(t.run_finished_at, t.run_started_at, t.pushed_at) AS run_at
            FROM transaction_state t
            WHERE {narrow}
              AND (%s::timestamptz IS NULL
                   OR COALESCE(t.run_finished_at, t.run_started_at, t.pushed_at)
                      >= %s::timestamptz))
        SELECT {GROUPS[by]} AS "group",
               count(*)::int AS runs,
               (count(*) FILTER (WHERE effective_status <> 'healthy'))::int AS unhealthy_runs,
               sum(case_count)::int AS cases,
               sum(i.value) AS input_tokens,
               sum(o.value) AS output_tokens,
               sum(cost_usd) AS cost_usd,
               count(cost_usd)::int AS priced_runs,
               sum(f.value) FILTER (WHERE cost_usd IS NOT NULL) AS issues_found
        FROM runs r
        LEFT JOIN benchmark_metrics i ON i.transaction_id = r.id AND i.name = 'input_tokens'
        LEFT JOIN benchmark_metrics o ON o.transaction_id = r.id AND o.name = 'output_tokens'
        LEFT JOIN benchmark_metrics f ON f.transaction_id = r.id AND f.name = 'true_positives'
        GROUP BY {_KEYS.get(by, GROUPS[by])}
        ORDER BY sum(cost_usd) DESC NULLS LAST, 1"""
    with roomy(conn), conn.cursor(row_factory=dict_row) as cur:
        found_rows = cur.execute(sql, (*narrow_params, since, since)).fetchall()
    table = Table(CostRow)
    for row in found_rows:
        cost, found = row["cost_usd"], row["issues_found"]
        table.append(
            CostRow(
                **row,
                cost_per_run_usd=(
                    cost / row["priced_runs"] if cost is not None and row["priced_runs"] else None
                ),
                cost_per_detected_issue_usd=cost / found if cost is not None and found else None,
            )
        )
    return table
