"""The login role ``bench_reader_login``: what `sql --central` and `pull` connect as.

A member of ``bench_reader`` (SELECT on every table and view) with no other privilege, so
SQL that reaches the server through DuckDB cannot write, signal other sessions, read
server files or reload the configuration. On the embedded server (trust authentication)
it logs in without a password; elsewhere a DBA gives it one (``~/.pgpass`` on the
readers' side). Roles belong to the whole server: an existing one is left as it is, and a
database user without CREATEROLE gets a notice instead (readers then fall back to
read-only transactions). The downgrade keeps the role: other databases may use it.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

READER_LOGIN = """
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'bench_reader_login') THEN
        CREATE ROLE bench_reader_login LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE
            NOREPLICATION NOBYPASSRLS INHERIT IN ROLE bench_reader;
        ALTER ROLE bench_reader_login SET default_transaction_read_only = on;
        ALTER ROLE bench_reader_login SET statement_timeout = '10min';
    END IF;
EXCEPTION WHEN insufficient_privilege OR duplicate_object OR unique_violation
               OR undefined_object THEN
    RAISE NOTICE 'role bench_reader_login not created here (docs/local-sql.md)';
END $$;
DO $$
BEGIN
    EXECUTE format('GRANT CONNECT ON DATABASE %I TO bench_reader', current_database());
EXCEPTION WHEN undefined_object OR insufficient_privilege THEN
    RAISE NOTICE 'no CONNECT grant for bench_reader';
END $$;
"""


def upgrade() -> None:
    op.execute(READER_LOGIN)


def downgrade() -> None:
    """Nothing: the role is the server's, not this database's."""
