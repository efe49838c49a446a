"""What the notebooks break results down by, in SQL: the expected issues each current
version missed (by issue type, category or need of domain knowledge), per-case latency
percentiles over time per model, and the cost-vs-F1 frontier of the current versions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import psycopg

from bench_analytics.configuration import RunFilter
from bench_analytics.errors import UsageError
from bench_analytics.store.overview import RUN_AT, config_sql, roomy, run_sql
from bench_analytics.store.queries import rows
from bench_analytics.tables import Record, Table

MISS_GROUPS = ("issue_type", "category", "domain_knowledge")
LATENCY_BUCKETS = ("run", "day", "week", "month")
Z = 1.959963984540054  # 95 % two-sided, as stats.intervals.wilson

# The group of one expected issue ``e`` (an element of details->'expected').
_GROUP = {
    "issue_type": "COALESCE(e->>'type', 'other')",
    "category": "COALESCE(e->>'category', 'other')",
    "domain_knowledge": """CASE WHEN e->'domain_knowledge' = 'true'::jsonb
                               THEN 'domain knowledge' ELSE 'generic' END""",
}
# Wilson score interval of found / expected, the same as the package's stats.
_WILSON = """((found + {z2} / 2) / (expected + {z2})
              {sign} {z} * sqrt(found::float8 * (expected - found) / expected + {z2} / 4)
                / (expected + {z2}))"""


@dataclass(frozen=True)
class MissRow(Record):
    """One configuration's current version and one group of expected issues: how many it
    expected, found and missed, and the recall with its 95 % (Wilson) interval."""

    model_key: str
    dataset_version: str
    prompt_version: str
    environment: str
    version: int
    transaction_id: int
    by: str
    group: str
    expected: int
    found: int
    missed: int
    cases_missed: int
    recall: float
    recall_low: float
    recall_high: float


@dataclass(frozen=True)
class LatencyPoint(Record):
    """Per-case latency of one model in one bucket, over its healthy runs."""

    model_key: str
    at: datetime
    runs: int
    cases: int
    p50_ms: float
    p90_ms: float
    p99_ms: float
    mean_ms: float


@dataclass(frozen=True)
class FrontierRow(Record):
    """A current healthy version with an F1 and a cost; ``on_frontier`` when no cheaper
    version (or one as cheap) has an F1 as high."""

    model_key: str
    dataset_version: str
    prompt_version: str
    environment: str
    version: int
    transaction_id: int
    f1: float
    f1_low: float | None
    f1_high: float | None
    cost_usd: float
    case_count: int
    cost_per_case_usd: float
    on_frontier: bool


def check_group(by: str) -> None:
    """UsageError unless ``by`` is a grouping of misses."""
    if by not in MISS_GROUPS:
        raise UsageError(f"misses by '{by}': choose one of {', '.join(MISS_GROUPS)}")


def check_bucket(bucket: str) -> None:
    """UsageError unless ``bucket`` is a latency bucket."""
    if bucket not in LATENCY_BUCKETS:
        raise UsageError(f"bucket '{bucket}': choose one of {', '.join(LATENCY_BUCKETS)}")


def misses(conn: psycopg.Connection, where: RunFilter, by: str) -> Table[MissRow]:
    """Expected issues of the answered cases of every current version, grouped by ``by``
    (issue_type, category, domain_knowledge); only cases that record which expected issue
    was found count (the runner's and the demo's ``details.expected[].found``). Most
    misses first within each configuration."""
    check_group(by)
    sql, params = config_sql(where, "s")
    z2 = Z * Z
    return rows(
        conn,
        MissRow,
        f"""WITH issues AS (
                SELECT s.model_key, s.dataset_version, s.prompt_version, s.environment,
                       s.version, s.transaction_id, c.case_id, {_GROUP[by]} AS grp,
                       e->'found' = 'true'::jsonb AS hit
                FROM benchmark_snapshots s
                JOIN benchmark_cases c ON c.transaction_id = s.transaction_id
                CROSS JOIN LATERAL jsonb_array_elements(
                    CASE WHEN jsonb_typeof(c.details->'expected') = 'array'
                         THEN c.details->'expected' ELSE '[]'::jsonb END) e
                WHERE s.is_current AND c.status = 'ok' AND jsonb_typeof(e) = 'object'
                  AND e ? 'found' AND {sql}),
            counted AS (
                SELECT model_key, dataset_version, prompt_version, environment, version,
                       transaction_id, grp, count(*)::int AS expected,
                       (count(*) FILTER (WHERE hit))::int AS found,
                       (count(*) FILTER (WHERE NOT hit))::int AS missed,
                       (count(DISTINCT case_id) FILTER (WHERE NOT hit))::int AS cases_missed
                FROM issues GROUP BY 1, 2, 3, 4, 5, 6, 7)
            SELECT model_key, dataset_version, prompt_version, environment, version,
                   transaction_id, %s AS by, grp AS "group", expected, found, missed,
                   cases_missed, found::float8 / expected AS recall,
                   CASE WHEN found = 0 THEN 0
                        ELSE greatest(0, {_WILSON.format(z=Z, z2=z2, sign="-")}) END::float8
                       AS recall_low,
                   CASE WHEN found = expected THEN 1
                        ELSE least(1, {_WILSON.format(z=Z, z2=z2, sign="+")}) END::float8
                       AS recall_high
            FROM counted
            ORDER BY model_key, dataset_version, prompt_version, environment, missed DESC,
                     grp""",
        (*params, by),
    )


def latency(conn: psycopg.Connection, where: RunFilter, bucket: str) -> Table[LatencyPoint]:
    """p50, p90 and p99 of per-case latency per model and bucket (run, day, week, month),
    over the cases with a latency of healthy, not quarantined runs in the range."""
    check_bucket(bucket)
    sql, params = run_sql(where, "t")
    when = RUN_AT.format(a="t")
    at = when if bucket == "run" else f"date_trunc('{bucket}', {when})"
    with roomy(conn):
        return rows(
            conn,
            LatencyPoint,
            f"""SELECT model_key, at, runs, cases, q[1] AS p50_ms, q[2] AS p90_ms,
                       q[3] AS p99_ms, mean_ms
                FROM (
                    SELECT t.model_key, {at} AS at, count(DISTINCT t.id)::int AS runs,
                           count(*)::int AS cases, avg(c.latency_ms) AS mean_ms,
                           percentile_cont(ARRAY[0.5, 0.9, 0.99])
                               WITHIN GROUP (ORDER BY c.latency_ms) AS q
                    FROM transaction_state t
                    JOIN benchmark_cases c ON c.transaction_id = t.id
                    WHERE t.status = 'healthy' AND NOT t.quarantined
                      AND c.latency_ms IS NOT NULL AND {sql}
                    GROUP BY 1, 2) g
                ORDER BY model_key, at""",
            params,
        )


def frontier(conn: psycopg.Connection, where: RunFilter) -> Table[FrontierRow]:
    """Current healthy versions with an F1 and a cost above zero, cheapest first (best F1
    first at equal cost), each marked when it beats every cheaper one on F1."""
    sql, params = config_sql(where, "s")
    return rows(
        conn,
        FrontierRow,
        f"""SELECT model_key, dataset_version, prompt_version, environment, version,
                   transaction_id, f1, f1_low, f1_high, cost_usd, case_count,
                   cost_usd / NULLIF(case_count, 0) AS cost_per_case_usd,
                   COALESCE(f1 > max(f1) OVER (ORDER BY cost_usd, f1 DESC, transaction_id
                            ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), true)
                       AS on_frontier
            FROM (
                SELECT s.model_key, s.dataset_version, s.prompt_version, s.environment,
                       s.version, s.transaction_id, t.f1, i.low AS f1_low, i.high AS f1_high,
                       t.cost_usd, t.case_count
                FROM benchmark_snapshots s
                JOIN transaction_state t ON t.id = s.transaction_id
                LEFT JOIN run_intervals i ON i.transaction_id = t.id AND i.metric = 'f1'
                WHERE s.is_current AND t.effective_status = 'healthy' AND t.f1 IS NOT NULL
                  AND t.cost_usd > 0 AND {sql}) v
            ORDER BY cost_usd, f1 DESC, transaction_id""",
        params,
    )
