"""The regression gate: recorded verdicts (with the baseline used) and pinned baselines.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

SCHEMA = """
CREATE TABLE gate_verdicts (
    id                      BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    transaction_id          BIGINT NOT NULL REFERENCES benchmark_transactions (id),
    baseline_transaction_id BIGINT REFERENCES benchmark_transactions (id),
    baseline_rule           TEXT NOT NULL,
    baseline_reason         TEXT NOT NULL,
    method                  TEXT NOT NULL CHECK (method IN ('paired', 'history', 'none')),
    metric                  TEXT NOT NULL,
    baseline_value          DOUBLE PRECISION,
    candidate_value         DOUBLE PRECISION,
    delta                   DOUBLE PRECISION,
    ci_low                  DOUBLE PRECISION,
    ci_high                 DOUBLE PRECISION,
    p_value                 DOUBLE PRECISION,
    p_adjusted              DOUBLE PRECISION,
    threshold               DOUBLE PRECISION NOT NULL,
    mde                     DOUBLE PRECISION,
    decision                TEXT NOT NULL CHECK (decision IN
        ('regression', 'improvement', 'no significant change', 'not tested')),
    gated                   BOOLEAN NOT NULL,
    n                       INTEGER NOT NULL,
    created_at              TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX gate_verdicts_tx ON gate_verdicts (transaction_id);

CREATE TABLE baseline_pins (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    model_key       TEXT NOT NULL,
    dataset_version TEXT NOT NULL,
    prompt_version  TEXT NOT NULL,
    environment     TEXT NOT NULL,
    version         INTEGER,
    reason          TEXT NOT NULL,
    actor           TEXT NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp()
);
COMMENT ON TABLE baseline_pins IS
    'Append-only: the newest row per configuration is the pin; a NULL version unpins.';

CREATE VIEW regressed_transactions AS
SELECT DISTINCT transaction_id FROM gate_verdicts WHERE gated AND decision = 'regression';
"""

GRANTS = """
DO $$
BEGIN
    GRANT SELECT ON gate_verdicts, baseline_pins, regressed_transactions TO bench_reader;
EXCEPTION WHEN undefined_object OR insufficient_privilege THEN
    RAISE NOTICE 'no grants for bench_reader';
END $$;
"""


def upgrade() -> None:
    op.execute(SCHEMA)
    for table in ("gate_verdicts", "baseline_pins"):
        op.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION bench_reject_change()"
        )
        op.execute(
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION bench_reject_change()"
        )
    op.execute(GRANTS)


def downgrade() -> None:
    op.execute("DROP VIEW IF EXISTS regressed_transactions")
    op.execute("DROP TABLE IF EXISTS baseline_pins, gate_verdicts")
