"""What runs cost: totals by model, prompt, environment or period, and cost per found issue."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import psycopg
from psycopg.rows import dict_row

from bench_analytics.errors import UsageError
from bench_analytics.store.overview import RunFilter, roomy
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
    narrow, narrow_params = (where or RunFilter()).runs("t")
    runs = f"""
        SELECT t.id, t.model_key, t.prompt_version, t.environment, t.effective_status,
               t.case_count, t.cost_usd,
               COALESCE(t.run_finished_at, t.run_started_at, t.pushed_at) AS run_at
        FROM transaction_state t
        WHERE {narrow}
          AND (%s::timestamptz IS NULL
               OR COALESCE(t.run_finished_at, t.run_started_at, t.pushed_at) >= %s::timestamptz)"""
    # each run's group computed once (kept in memory); totals per group from the runs
    # alone, token and issue sums per group straight from the metric rows (one per run and
    # name), not pivoted per run first
    sql = f"""
        WITH runs AS MATERIALIZED (
            SELECT r.id, {GROUPS[by]} AS "group", r.effective_status, r.case_count,
                   r.cost_usd
            FROM ({runs}) r),
        totals AS (
            SELECT "group", count(*)::int AS runs,
                   (count(*) FILTER (WHERE effective_status <> 'healthy'))::int AS unhealthy_runs,
                   sum(case_count)::int AS cases, sum(cost_usd) AS cost_usd,
                   count(cost_usd)::int AS priced_runs
            FROM runs GROUP BY 1),
        tokens AS (
            SELECT r."group",
                   sum(m.value) FILTER (WHERE m.name = 'input_tokens') AS input_tokens,
                   sum(m.value) FILTER (WHERE m.name = 'output_tokens') AS output_tokens,
                   sum(m.value) FILTER (WHERE m.name = 'true_positives'
                                          AND r.cost_usd IS NOT NULL) AS issues_found
            FROM runs r
            JOIN benchmark_metrics m ON m.transaction_id = r.id
             AND m.name IN ('input_tokens', 'output_tokens', 'true_positives')
            GROUP BY 1)
        SELECT t."group", t.runs, t.unhealthy_runs, t.cases, k.input_tokens, k.output_tokens,
               t.cost_usd, t.priced_runs, k.issues_found
        FROM totals t LEFT JOIN tokens k ON k."group" = t."group"
        ORDER BY t.cost_usd DESC NULLS LAST, 1"""
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
