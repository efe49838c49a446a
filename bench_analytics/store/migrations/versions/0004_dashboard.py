"""What the dashboard reads fast: every run's headline intervals, and the indexes its
grouped queries use.

- ``run_intervals``: each pushed run's headline metrics with their 95 % interval (the same
  estimate ``show`` prints), so the Current and Trends views draw intervals without
  resampling millions of case rows. Append-only like the log; runs pushed before this
  revision have none (the views say "no interval").
- An index on the time a run happened (``COALESCE(run_finished_at, run_started_at,
  pushed_at)``), on failed runs, and on pointer events by time.
- Narrow covering indexes the grouped reads scan instead of the tables (index-only, once
  vacuum has marked the pages visible): every run's configuration, time, status and
  headline numbers (the log's rows are wide: they hold the document); the intervals by
  metric; the metrics by name; and the runs with a gated regression (holds).
- ``transaction_state`` finds each run's latest quarantine mark with a join over the
  annotations (a hash join over a few rows) instead of one index probe per run.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

SCHEMA = """
CREATE TABLE run_intervals (
    transaction_id BIGINT NOT NULL REFERENCES benchmark_transactions (id),
    metric         TEXT NOT NULL,
    value          DOUBLE PRECISION NOT NULL,
    low            DOUBLE PRECISION NOT NULL,
    high           DOUBLE PRECISION NOT NULL,
    method         TEXT NOT NULL,
    n              INTEGER NOT NULL CHECK (n >= 0),
    PRIMARY KEY (transaction_id, metric),
    CHECK (low <= high)
);
COMMENT ON TABLE run_intervals IS
    'Append-only: the 95 % interval of each run''s headline metrics, computed at push.';

CREATE INDEX benchmark_transactions_run_at
    ON benchmark_transactions ((COALESCE(run_finished_at, run_started_at, pushed_at)));
CREATE INDEX benchmark_transactions_failed
    ON benchmark_transactions ((COALESCE(run_finished_at, run_started_at, pushed_at)))
    WHERE status <> 'healthy';
CREATE INDEX snapshot_events_created ON snapshot_events (created_at);
CREATE INDEX gate_verdicts_tx_id ON gate_verdicts (transaction_id, id);
CREATE INDEX benchmark_transactions_runs
    ON benchmark_transactions (model_key, dataset_version, prompt_version, environment,
                               (COALESCE(run_finished_at, run_started_at, pushed_at)))
    INCLUDE (id, status, case_count, f1, "precision", recall, latency_ms, cost_usd,
             run_finished_at, run_started_at, pushed_at);
CREATE INDEX run_intervals_metric ON run_intervals (metric, transaction_id) INCLUDE (low, high);
CREATE INDEX benchmark_metrics_name_tx ON benchmark_metrics (name, transaction_id)
    INCLUDE (value);
CREATE INDEX gate_verdicts_regressions ON gate_verdicts (transaction_id)
    WHERE gated AND decision = 'regression';

CREATE OR REPLACE VIEW transaction_state AS
SELECT t.*,
       COALESCE(q.kind = 'quarantine', false) AS quarantined,
       q.reason AS quarantine_reason,
       CASE WHEN q.kind = 'quarantine' THEN 'quarantined' ELSE t.status END AS effective_status
FROM benchmark_transactions t
LEFT JOIN (
    SELECT DISTINCT ON (a.transaction_id) a.transaction_id, a.kind, a.reason
    FROM transaction_annotations a
    WHERE a.kind IN ('quarantine', 'release')
    ORDER BY a.transaction_id, a.id DESC
) q ON q.transaction_id = t.id;
"""

OLD_STATE = """
CREATE OR REPLACE VIEW transaction_state AS
SELECT t.*,
       COALESCE(q.kind = 'quarantine', false) AS quarantined,
       q.reason AS quarantine_reason,
       CASE WHEN q.kind = 'quarantine' THEN 'quarantined' ELSE t.status END AS effective_status
FROM benchmark_transactions t
LEFT JOIN LATERAL (
    SELECT a.kind, a.reason FROM transaction_annotations a
    WHERE a.transaction_id = t.id AND a.kind IN ('quarantine', 'release')
    ORDER BY a.id DESC LIMIT 1
) q ON true;
"""

GRANTS = """
DO $$
BEGIN
    GRANT SELECT ON run_intervals TO bench_reader;
EXCEPTION WHEN undefined_object OR insufficient_privilege THEN
    RAISE NOTICE 'no grants for bench_reader';
END $$;
"""


def upgrade() -> None:
    op.execute(SCHEMA)
    op.execute(
        "CREATE TRIGGER run_intervals_append_only BEFORE UPDATE OR DELETE ON run_intervals "
        "FOR EACH ROW EXECUTE FUNCTION bench_reject_change()"
    )
    op.execute(
        "CREATE TRIGGER run_intervals_no_truncate BEFORE TRUNCATE ON run_intervals "
        "FOR EACH STATEMENT EXECUTE FUNCTION bench_reject_change()"
    )
    op.execute(GRANTS)


def downgrade() -> None:
    op.execute(OLD_STATE)
    op.execute(
        "DROP INDEX IF EXISTS benchmark_transactions_run_at, benchmark_transactions_failed, "
        "snapshot_events_created, gate_verdicts_tx_id, benchmark_transactions_runs, "
        "benchmark_metrics_name_tx, gate_verdicts_regressions"
    )
    op.execute("DROP TABLE IF EXISTS run_intervals")
