"""Grouped reads over the whole history (what a dashboard shows): every aggregation in SQL.

Each function filters with a ``RunFilter`` (any of several models, environments, dataset
and prompt versions, a time range) and returns one small typed table, never the log.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg

from bench_analytics.configuration import RunFilter
from bench_analytics.errors import UsageError
from bench_analytics.store.queries import rows
from bench_analytics.store.records import (
    CaseAcrossRow,
    CurrentRow,
    EventBucket,
    FailedRun,
    FilterOptions,
    HeldPromotion,
    LatestVerdict,
    RunChoice,
    TrendPoint,
)
from bench_analytics.tables import Table

RUN_AT = "COALESCE({a}.run_finished_at, {a}.run_started_at, {a}.pushed_at)"
TREND_METRICS = ("f1", "precision", "recall", "latency_ms", "cost_usd")
BUCKETS = ("run", "day", "week", "month", "commit")
_COLUMNS = {
    "models": "model_key",
    "environments": "environment",
    "datasets": "dataset_version",
    "prompts": "prompt_version",
}


# Every distinct configuration of a table, one index probe each: a skip through an index
# that starts with the four columns instead of a pass over every row. The statement using
# it starts with WITH RECURSIVE; ``configs`` narrows it with a filter over ``k``.
_DISTINCT_CONFIGS = """{name} AS (
        (SELECT model_key, dataset_version, prompt_version, environment
         FROM {table} ORDER BY 1, 2, 3, 4 LIMIT 1)
        UNION ALL
        SELECT n.* FROM {name} k CROSS JOIN LATERAL (
            SELECT x.model_key, x.dataset_version, x.prompt_version, x.environment
            FROM {table} x
            WHERE (x.model_key, x.dataset_version, x.prompt_version, x.environment)
                  > (k.model_key, k.dataset_version, k.prompt_version, k.environment)
            ORDER BY 1, 2, 3, 4 LIMIT 1) n)"""
# every configuration with a version (the unique index on configuration and version)
ALL_CONFIGS = _DISTINCT_CONFIGS.format(name="all_configs", table="benchmark_snapshots")
_CONFIG = "({a}.model_key, {a}.dataset_version, {a}.prompt_version, {a}.environment)"


def _same_config(a: str, b: str) -> str:
    """SQL: rows ``a`` and ``b`` belong to one configuration."""
    return f"{_CONFIG.format(a=a)} = {_CONFIG.format(a=b)}"


# Memory for a grouped read over every run in the range (PostgreSQL's default is 4 MB):
# enough to hash the groups of 100,000 runs in memory instead of sorting them on disk.
GROUPED_WORK_MEM = "64MB"


@contextmanager
def roomy(conn: psycopg.Connection) -> Iterator[None]:
    """A transaction whose statements may use GROUPED_WORK_MEM per sort or hash."""
    with conn.transaction():
        conn.execute(f"SET LOCAL work_mem = '{GROUPED_WORK_MEM}'")
        yield


def _configs(where: RunFilter) -> tuple[str, list[Any]]:
    """``all_configs`` and ``configs`` (those the filter keeps) for a WITH RECURSIVE."""
    sql, params = config_sql(where, "k")
    return f"{ALL_CONFIGS}, configs AS (SELECT k.* FROM all_configs k WHERE {sql})", params


def config_sql(where: RunFilter, alias: str) -> tuple[str, list[Any]]:
    """SQL over the four configuration columns of ``alias``."""
    clauses, params = [], []
    for name, column in _COLUMNS.items():
        values = getattr(where, name)
        if values:
            clauses.append(f"{alias}.{column} = ANY(%s)")
            params.append(list(values))
    return " AND ".join(clauses) or "true", params


def run_sql(where: RunFilter, alias: str, when: str | None = None) -> tuple[str, list[Any]]:
    """The configuration filter plus the time range over ``when`` (run time by default)."""
    sql, params = config_sql(where, alias)
    when = when or RUN_AT.format(a=alias)
    if where.since is not None:
        sql += f" AND {when} >= %s"
        params.append(where.since)
    if where.until is not None:
        sql += f" AND {when} < %s"
        params.append(where.until)
    return sql, params


def filter_options(conn: psycopg.Connection) -> FilterOptions:
    """The values each filter can take, and the time span of the history."""
    found = conn.execute(
        f"""WITH RECURSIVE {ALL_CONFIGS}
            SELECT array_agg(DISTINCT model_key ORDER BY model_key),
                   array_agg(DISTINCT environment ORDER BY environment),
                   array_agg(DISTINCT dataset_version ORDER BY dataset_version),
                   array_agg(DISTINCT prompt_version ORDER BY prompt_version)
            FROM all_configs"""
    ).fetchone()
    # first and last from the run-time index; the count on its own (any index serves it)
    span = conn.execute(
        f"""SELECT (SELECT min({RUN_AT.format(a="t")}) FROM benchmark_transactions t),
                   (SELECT max({RUN_AT.format(a="t")}) FROM benchmark_transactions t),
                   (SELECT count(*) FROM benchmark_transactions)"""
    ).fetchone()
    assert found is not None and span is not None
    models, environments, datasets, prompts = (tuple(v or ()) for v in found)
    return FilterOptions(models, environments, datasets, prompts, span[0], span[1], span[2])


def current(conn: psycopg.Connection, where: RunFilter) -> Table[CurrentRow]:
    """Every configuration's current version with its F1 interval and age; configurations
    with no current version (every run failed or was quarantined) too."""
    configs, params = _configs(where)
    return rows(
        conn,
        CurrentRow,
        f"""WITH RECURSIVE {configs}
            SELECT c.model_key, c.dataset_version, c.prompt_version, c.environment,
                   (SELECT count(*) FROM benchmark_snapshots v
                    WHERE (v.model_key, v.dataset_version, v.prompt_version, v.environment)
                          = (c.model_key, c.dataset_version, c.prompt_version, c.environment)
                   )::int AS versions,
                   s.version, s.transaction_id, t.model_display_name,
                   COALESCE(t.effective_status, 'none current') AS status,
                   t.f1, i.low AS f1_low, i.high AS f1_high, t."precision", t.recall,
                   t.latency_ms, t.cost_usd, t.case_count, t.error_count, t.commit_sha,
                   t.branch, {RUN_AT.format(a="t")} AS run_at,
                   (SELECT value FROM benchmark_metrics m WHERE m.transaction_id = t.id
                      AND m.name = 'true_positives') AS issues_found
            FROM configs c
            LEFT JOIN benchmark_snapshots s
                   ON s.is_current AND (s.model_key, s.dataset_version, s.prompt_version,
                      s.environment) = (c.model_key, c.dataset_version, c.prompt_version,
                      c.environment)
            LEFT JOIN transaction_state t ON t.id = s.transaction_id
            LEFT JOIN run_intervals i ON i.transaction_id = t.id AND i.metric = 'f1'
            ORDER BY t.f1 DESC NULLS LAST, c.model_key, c.dataset_version, c.prompt_version,
                     c.environment""",
        params,
    )


def failed_runs(conn: psycopg.Connection, where: RunFilter, limit: int = 200) -> Table[FailedRun]:
    """Failed and quarantined runs in the range, newest first, with the reason."""
    sql, params = run_sql(where, "t")
    return rows(
        conn,
        FailedRun,
        f"""SELECT t.model_key, t.dataset_version, t.prompt_version, t.environment,
                   s.version, t.id AS transaction_id, t.effective_status AS status,
                   COALESCE(t.quarantine_reason, t.status_reason) AS reason,
                   t.commit_sha, {RUN_AT.format(a="t")} AS run_at
            FROM transaction_state t JOIN benchmark_snapshots s ON s.transaction_id = t.id
            WHERE (t.status <> 'healthy' OR t.quarantined) AND {sql}
            ORDER BY {RUN_AT.format(a="t")} DESC LIMIT %s""",
        (*params, limit),
    )


def count_failed(conn: psycopg.Connection, where: RunFilter) -> int:
    """How many runs in the range failed or were quarantined."""
    sql, params = run_sql(where, "t")
    found = conn.execute(
        f"""SELECT count(*) FROM transaction_state t
            WHERE (t.status <> 'healthy' OR t.quarantined) AND {sql}""",
        params,
    ).fetchone()
    return int(found[0]) if found else 0


def _bucket_sql(bucket: str, when: str) -> str:
    if bucket in ("day", "week", "month"):
        return f"date_trunc('{bucket}', {when})"
    return when


def choose_bucket(conn: psycopg.Connection, where: RunFilter, most: int = 400) -> str:
    """The finest bucket (run, day, week, month) that keeps each line under ``most`` points.

    Settled from bounds where they suffice: each configuration's runs in the range (counted
    up to ``most`` + 1) and the days and weeks between its first and last run (a line has no
    more days than that); distinct days or weeks are counted for the widest line, and for
    every line only when the bounds and that line leave the answer open.
    """
    sql, params = run_sql(where, "t")
    when = RUN_AT.format(a="t")
    lines = conn.execute(
        f"""WITH RECURSIVE {_DISTINCT_CONFIGS.format(name="k", table="benchmark_transactions")}
            SELECT k.*, n.runs,
                   (span.last::date - span.first::date) + 1 AS days,
                   (date_trunc('week', span.last)::date
                    - date_trunc('week', span.first)::date) / 7 + 1 AS weeks
            FROM k
            CROSS JOIN LATERAL (
                SELECT count(*) AS runs FROM (
                    SELECT 1 FROM benchmark_transactions t
                    WHERE {_same_config("t", "k")} AND {sql} LIMIT %s) r) n
            CROSS JOIN LATERAL (
                SELECT min({when}) AS first, max({when}) AS last
                FROM benchmark_transactions t
                WHERE {_same_config("t", "k")} AND {sql}) span
            WHERE n.runs > 0""",
        (*params, most + 1, *params),
    ).fetchall()
    if not lines or max(line[4] for line in lines) <= most:
        return "run"
    for bucket, span in (("day", 5), ("week", 6)):
        # at most as many points as runs (when counted in full) and as the span allows
        bounds = [min(line[4], line[span]) if line[4] <= most else line[span] for line in lines]
        if max(bounds) <= most:
            return bucket
        widest = lines[bounds.index(max(bounds))]
        if _distinct_buckets(conn, where, bucket, widest[:4]) > most:
            continue
        if _distinct_buckets(conn, where, bucket, None) <= most:
            return bucket
    return "month"


def _distinct_buckets(
    conn: psycopg.Connection, where: RunFilter, bucket: str, config: tuple[str, ...] | None
) -> int:
    """The most distinct buckets of one line (``config``), or of any line (None)."""
    sql, params = run_sql(where, "t")
    if config is not None:
        sql += f" AND {_CONFIG.format(a='t')} = (%s, %s, %s, %s)"
        params += config
    found = conn.execute(
        f"""SELECT max(n) FROM (
                SELECT count(DISTINCT {_bucket_sql(bucket, RUN_AT.format(a="t"))}) AS n
                FROM benchmark_transactions t WHERE {sql}
                GROUP BY t.model_key, t.dataset_version, t.prompt_version, t.environment) g""",
        params,
    ).fetchone()
    return int(found[0]) if found and found[0] is not None else 0


def trend(
    conn: psycopg.Connection, where: RunFilter, metric: str, bucket: str
) -> Table[TrendPoint]:
    """A metric per configuration and bucket: the mean over healthy runs with the mean of
    their intervals, and how many runs failed or were quarantined there (never as values)."""
    if metric not in TREND_METRICS:
        raise UsageError(f"trend of '{metric}': choose one of {', '.join(TREND_METRICS)}")
    if bucket not in BUCKETS:
        raise UsageError(f"bucket '{bucket}': choose one of {', '.join(BUCKETS)}")
    sql, params = run_sql(where, "t")
    when = RUN_AT.format(a="t")
    group = "t.commit_sha" if bucket == "commit" else _bucket_sql(bucket, when)
    at = f"min({when})" if bucket == "commit" else group
    healthy = "t.status = 'healthy' AND NOT t.quarantined"
    # grouped in memory; each point keeps [version, transaction] of its newest version (an
    # array's max compares the version first, unique in a configuration), whose commit and
    # branch are then read by primary key for the few points instead of for every run
    with roomy(conn):
        return rows(
            conn,
            TrendPoint,
            f"""WITH points AS (
                    SELECT t.model_key, t.dataset_version, t.prompt_version, t.environment,
                           {at} AS at,
                           (count(*) FILTER (WHERE {healthy}))::int AS runs,
                           avg(t."{metric}") FILTER (WHERE {healthy}) AS value,
                           avg(i.low) FILTER (WHERE {healthy}) AS low,
                           avg(i.high) FILTER (WHERE {healthy}) AS high,
                           (count(*) FILTER (WHERE t.status <> 'healthy'
                                               AND NOT t.quarantined))::int AS failed,
                           (count(*) FILTER (WHERE t.quarantined))::int AS quarantined,
                           max(ARRAY[s.version::bigint, t.id]) AS newest
                    FROM transaction_state t
                    JOIN benchmark_snapshots s ON s.transaction_id = t.id
                    LEFT JOIN run_intervals i ON i.transaction_id = t.id AND i.metric = %s
                    WHERE {sql}
                    GROUP BY t.model_key, t.dataset_version, t.prompt_version, t.environment,
                             {group})
                SELECT p.model_key, p.dataset_version, p.prompt_version, p.environment, p.at,
                       p.runs, p.value, p.low, p.high, p.failed, p.quarantined,
                       p.newest[1]::int AS last_version, n.commit_sha, n.branch
                FROM points p
                LEFT JOIN LATERAL (
                    SELECT n.commit_sha, n.branch FROM benchmark_transactions n
                    WHERE n.id = p.newest[2] LIMIT 1) n ON true
                ORDER BY 1, 2, 3, 4, 5""",
            (metric, *params),
        )


def event_buckets(
    conn: psycopg.Connection,
    where: RunFilter,
    bucket: str,
    kinds: tuple[str, ...] = ("hold", "rollback", "quarantine", "checkout"),
) -> Table[EventBucket]:
    """Pointer events of the given kinds counted per bucket and type, with the newest
    reason. A hold is placed at the time its run happened (it belongs to that run); a
    rollback, quarantine or checkout at the time someone made it. Promotions are left out
    by default: every healthy new version is one."""
    when = f"""CASE WHEN e.event_type IN ('hold', 'promote') AND t.id IS NOT NULL
                    THEN {RUN_AT.format(a="t")} ELSE e.created_at END"""
    sql, params = run_sql(where, "e", when)
    group = _bucket_sql(bucket if bucket in ("day", "week", "month") else "run", when)
    return rows(
        conn,
        EventBucket,
        f"""SELECT {group} AS at, e.event_type, count(*)::int AS events,
                   (array_agg(e.reason ORDER BY e.id DESC))[1] AS last_reason,
                   (array_agg(e.actor ORDER BY e.id DESC))[1] AS last_actor
            FROM snapshot_events e
            LEFT JOIN benchmark_transactions t ON t.id = e.transaction_id
            WHERE e.event_type = ANY(%s) AND {sql}
            GROUP BY 1, 2 ORDER BY 1, 2""",
        (list(kinds), *params),
    )


def latest_verdicts(conn: psycopg.Connection, where: RunFilter) -> Table[LatestVerdict]:
    """Each configuration's newest gate verdicts: against which baseline, delta, interval,
    adjusted p, MDE, decision (one row per metric)."""
    configs, params = _configs(where)
    return rows(
        conn,
        LatestVerdict,
        f"""WITH RECURSIVE {configs},
            latest AS (
                SELECT c.*, x.version, x.transaction_id
                FROM configs c CROSS JOIN LATERAL (
                    SELECT s.version, s.transaction_id FROM benchmark_snapshots s
                    WHERE (s.model_key, s.dataset_version, s.prompt_version, s.environment)
                          = (c.model_key, c.dataset_version, c.prompt_version, c.environment)
                      AND EXISTS (SELECT 1 FROM gate_verdicts g
                                  WHERE g.transaction_id = s.transaction_id)
                    ORDER BY s.version DESC LIMIT 1) x)
            SELECT l.model_key, l.dataset_version, l.prompt_version, l.environment,
                   l.version, l.transaction_id, b.version AS baseline_version,
                   g.baseline_transaction_id, g.baseline_rule, g.baseline_reason, g.method,
                   g.metric, g.baseline_value, g.candidate_value, g.delta, g.ci_low, g.ci_high,
                   g.p_value, g.p_adjusted, g.threshold, g.mde, g.decision, g.gated, g.n,
                   g.created_at
            FROM latest l
            JOIN gate_verdicts g ON g.transaction_id = l.transaction_id
            LEFT JOIN benchmark_snapshots b ON b.transaction_id = g.baseline_transaction_id
            ORDER BY (g.decision = 'regression' AND g.gated) DESC, l.model_key,
                     l.dataset_version, l.prompt_version, l.environment, g.metric""",
        params,
    )


def held_promotions(
    conn: psycopg.Connection, where: RunFilter, limit: int = 200
) -> Table[HeldPromotion]:
    """Runs that did not become current because the gate held them (newest first)."""
    sql, params = run_sql(where, "e", "e.created_at")
    return rows(
        conn,
        HeldPromotion,
        f"""SELECT e.model_key, e.dataset_version, e.prompt_version, e.environment,
                   e.from_version AS current_version, s.version, e.transaction_id, e.reason,
                   e.actor, e.created_at
            FROM snapshot_events e
            JOIN benchmark_snapshots s ON s.transaction_id = e.transaction_id
            WHERE e.event_type = 'hold' AND e.transaction_id IN (
                      SELECT transaction_id FROM regressed_transactions)
              AND {sql}
            ORDER BY e.created_at DESC LIMIT %s""",
        (*params, limit),
    )


def run_choices(conn: psycopg.Connection, where: RunFilter, limit: int = 200) -> Table[RunChoice]:
    """Runs to compare: every current version and the newest ``limit`` runs in the range."""
    sql, params = run_sql(where, "t")
    cfg, cfg_params = config_sql(where, "t")
    return rows(
        conn,
        RunChoice,
        f"""SELECT * FROM (
                (SELECT t.id AS transaction_id, t.model_key, t.dataset_version,
                        t.prompt_version, t.environment, s.version, s.is_current,
                        t.effective_status AS status, t.f1, {RUN_AT.format(a="t")} AS run_at
                 FROM transaction_state t JOIN benchmark_snapshots s ON s.transaction_id = t.id
                 WHERE {sql} ORDER BY {RUN_AT.format(a="t")} DESC LIMIT %s)
                UNION
                (SELECT t.id, t.model_key, t.dataset_version, t.prompt_version, t.environment,
                        s.version, s.is_current, t.effective_status, t.f1,
                        {RUN_AT.format(a="t")}
                 FROM benchmark_snapshots s JOIN transaction_state t ON t.id = s.transaction_id
                 WHERE s.is_current AND {cfg})) r
            ORDER BY is_current DESC, model_key, dataset_version, prompt_version, environment,
                     version DESC""",
        (*params, limit, *cfg_params),
    )


def case_across(conn: psycopg.Connection, case_id: str, where: RunFilter) -> Table[CaseAcrossRow]:
    """One case in the current version of every configuration that has it."""
    sql, params = config_sql(where, "s")
    return rows(
        conn,
        CaseAcrossRow,
        f"""SELECT s.model_key, s.dataset_version, s.prompt_version, s.environment,
                   s.version, s.transaction_id, c.status, c.tp, c.fp, c.fn,
                   CASE WHEN c.status <> 'ok' THEN NULL
                        WHEN c.tp IS NULL OR c.fp IS NULL OR c.fn IS NULL THEN c.score
                        WHEN c.tp + c.fp + c.fn = 0 THEN 1.0
                        ELSE 2.0 * c.tp / (2 * c.tp + c.fp + c.fn) END AS f1,
                   c.latency_ms, c.error, c.details
            FROM benchmark_snapshots s
            JOIN benchmark_cases c ON c.transaction_id = s.transaction_id AND c.case_id = %s
            WHERE s.is_current AND {sql}
            ORDER BY f1 DESC NULLS LAST, s.model_key, s.prompt_version""",
        (case_id, *params),
    )
