"""The store: append-only log, cases, metrics, snapshots with one current row, events.

Revision ID: 0001
Revises:
Create Date: 2026-11-27
"""

from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

APPEND_ONLY = (
    "benchmark_transactions",
    "benchmark_cases",
    "benchmark_metrics",
    "snapshot_events",
    "transaction_annotations",
)

SCHEMA = """
CREATE TABLE benchmark_transactions (
    id                 BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    content_sha256     CHAR(64) NOT NULL UNIQUE,
    model_key          TEXT NOT NULL,
    model_display_name TEXT,
    model_version      TEXT,
    provider           TEXT,
    dataset_name       TEXT,
    dataset_version    TEXT NOT NULL,
    prompt_version     TEXT NOT NULL,
    benchmark_type     TEXT NOT NULL,
    environment        TEXT NOT NULL,
    commit_sha         TEXT,
    branch             TEXT,
    run_id             TEXT,
    triggered_by       TEXT,
    tags               TEXT[] NOT NULL DEFAULT '{}',
    notes              TEXT,
    run_started_at     TIMESTAMPTZ,
    run_finished_at    TIMESTAMPTZ,
    status             TEXT NOT NULL CHECK (status IN ('healthy', 'failed')),
    status_reason      TEXT,
    case_count         INTEGER NOT NULL CHECK (case_count >= 0),
    error_count        INTEGER NOT NULL CHECK (error_count >= 0),
    f1                 DOUBLE PRECISION CHECK (f1 BETWEEN 0 AND 1),
    "precision"        DOUBLE PRECISION CHECK ("precision" BETWEEN 0 AND 1),
    recall             DOUBLE PRECISION CHECK (recall BETWEEN 0 AND 1),
    latency_ms         DOUBLE PRECISION CHECK (latency_ms >= 0),
    cost_usd           DOUBLE PRECISION CHECK (cost_usd >= 0),
    source_format      TEXT NOT NULL,
    source_name        TEXT,
    legacy_id          TEXT,
    document           JSONB NOT NULL,
    pushed_at          TIMESTAMPTZ NOT NULL DEFAULT now()
);
COMMENT ON TABLE benchmark_transactions IS
    'Immutable log: one row per accepted result document. document holds the normalised '
    'result without its cases (they are in benchmark_cases); content_sha256 covers both.';
CREATE INDEX benchmark_transactions_config
    ON benchmark_transactions (model_key, dataset_version, prompt_version, environment);

CREATE TABLE benchmark_cases (
    transaction_id BIGINT NOT NULL REFERENCES benchmark_transactions (id),
    case_id        TEXT NOT NULL,
    status         TEXT NOT NULL CHECK (status IN ('ok', 'error')),
    tp             INTEGER CHECK (tp >= 0),
    fp             INTEGER CHECK (fp >= 0),
    fn             INTEGER CHECK (fn >= 0),
    score          DOUBLE PRECISION,
    latency_ms     DOUBLE PRECISION CHECK (latency_ms >= 0),
    input_tokens   INTEGER CHECK (input_tokens >= 0),
    output_tokens  INTEGER CHECK (output_tokens >= 0),
    cost_usd       DOUBLE PRECISION CHECK (cost_usd >= 0),
    error          TEXT,
    details        JSONB NOT NULL DEFAULT '{}',
    PRIMARY KEY (transaction_id, case_id)
);

CREATE TABLE benchmark_metrics (
    transaction_id BIGINT NOT NULL REFERENCES benchmark_transactions (id),
    name           TEXT NOT NULL,
    value          DOUBLE PRECISION NOT NULL,
    unit           TEXT NOT NULL,
    direction      TEXT NOT NULL CHECK (direction IN ('higher', 'lower', 'none', 'unknown')),
    PRIMARY KEY (transaction_id, name)
);
CREATE INDEX benchmark_metrics_name ON benchmark_metrics (name);

CREATE TABLE benchmark_snapshots (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    model_key       TEXT NOT NULL,
    dataset_version TEXT NOT NULL,
    prompt_version  TEXT NOT NULL,
    environment     TEXT NOT NULL,
    version         INTEGER NOT NULL CHECK (version >= 1),
    transaction_id  BIGINT NOT NULL UNIQUE REFERENCES benchmark_transactions (id),
    is_current      BOOLEAN NOT NULL DEFAULT false,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (model_key, dataset_version, prompt_version, environment, version)
);
CREATE UNIQUE INDEX benchmark_snapshots_one_current
    ON benchmark_snapshots (model_key, dataset_version, prompt_version, environment)
    WHERE is_current;

CREATE TABLE snapshot_events (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    model_key       TEXT NOT NULL,
    dataset_version TEXT NOT NULL,
    prompt_version  TEXT NOT NULL,
    environment     TEXT NOT NULL,
    event_type      TEXT NOT NULL
        CHECK (event_type IN ('promote', 'hold', 'rollback', 'checkout', 'quarantine')),
    from_version    INTEGER,
    to_version      INTEGER,
    transaction_id  BIGINT REFERENCES benchmark_transactions (id),
    reason          TEXT NOT NULL,
    actor           TEXT NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX snapshot_events_config
    ON snapshot_events (model_key, dataset_version, prompt_version, environment, id);

CREATE TABLE transaction_annotations (
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    transaction_id BIGINT NOT NULL REFERENCES benchmark_transactions (id),
    kind           TEXT NOT NULL CHECK (kind IN ('quarantine', 'release', 'note')),
    reason         TEXT NOT NULL CHECK (length(trim(reason)) > 0),
    actor          TEXT NOT NULL,
    created_at     TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX transaction_annotations_tx ON transaction_annotations (transaction_id, id);

CREATE FUNCTION bench_reject_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % is not allowed (add a correction row instead)',
        TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END $$;

CREATE FUNCTION bench_snapshot_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'UPDATE' THEN
        RAISE EXCEPTION 'benchmark_snapshots: % is not allowed', TG_OP
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF (NEW.id, NEW.model_key, NEW.dataset_version, NEW.prompt_version, NEW.environment,
        NEW.version, NEW.transaction_id, NEW.created_at)
       IS DISTINCT FROM
       (OLD.id, OLD.model_key, OLD.dataset_version, OLD.prompt_version, OLD.environment,
        OLD.version, OLD.transaction_id, OLD.created_at) THEN
        RAISE EXCEPTION 'benchmark_snapshots: only is_current may change'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER benchmark_snapshots_guard
    BEFORE UPDATE OR DELETE ON benchmark_snapshots
    FOR EACH ROW EXECUTE FUNCTION bench_snapshot_guard();
CREATE TRIGGER benchmark_snapshots_no_truncate
    BEFORE TRUNCATE ON benchmark_snapshots
    FOR EACH STATEMENT EXECUTE FUNCTION bench_reject_change();

CREATE VIEW transaction_state AS
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

CREATE VIEW snapshot_history AS
SELECT s.id AS snapshot_id, s.model_key, s.dataset_version, s.prompt_version, s.environment,
       s.version, s.is_current, s.created_at AS snapshot_created_at,
       t.id AS transaction_id, t.model_display_name, t.provider, t.benchmark_type,
       t.commit_sha, t.branch, t.run_id, t.triggered_by, t.run_started_at, t.run_finished_at,
       t.status, t.status_reason, t.effective_status, t.quarantined, t.quarantine_reason,
       t.case_count, t.error_count, t.f1, t."precision", t.recall, t.latency_ms, t.cost_usd,
       t.source_format, t.source_name, t.pushed_at
FROM benchmark_snapshots s
JOIN transaction_state t ON t.id = s.transaction_id;

CREATE VIEW current_snapshots AS
SELECT * FROM snapshot_history WHERE is_current;

CREATE VIEW healthy_transactions AS
SELECT * FROM transaction_state WHERE effective_status = 'healthy';
"""

READER_ROLE = """
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'bench_reader') THEN
        CREATE ROLE bench_reader NOLOGIN;
    END IF;
EXCEPTION WHEN insufficient_privilege OR duplicate_object THEN
    RAISE NOTICE 'role bench_reader not created here; read-only access is up to the DBA';
END $$;
DO $$
BEGIN
    GRANT USAGE ON SCHEMA public TO bench_reader;
    GRANT SELECT ON ALL TABLES IN SCHEMA public TO bench_reader;
EXCEPTION WHEN undefined_object OR insufficient_privilege THEN
    RAISE NOTICE 'no grants for bench_reader';
END $$;
"""


def upgrade() -> None:
    op.execute(SCHEMA)
    for table in APPEND_ONLY:
        op.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION bench_reject_change()"
        )
        op.execute(
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION bench_reject_change()"
        )
    op.execute(READER_ROLE)


def downgrade() -> None:
    op.execute(
        "DROP VIEW IF EXISTS healthy_transactions, current_snapshots, snapshot_history, "
        "transaction_state"
    )
    op.execute(
        "DROP TABLE IF EXISTS transaction_annotations, snapshot_events, benchmark_snapshots, "
        "benchmark_metrics, benchmark_cases, benchmark_transactions"
    )
    op.execute("DROP FUNCTION IF EXISTS bench_snapshot_guard(), bench_reject_change()")
