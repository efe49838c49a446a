"""Schema migrations (Alembic, shipped in the package), applied on first use under a lock."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import psycopg

from bench_analytics.errors import SchemaError
from bench_analytics.store.connection import sqlalchemy_url

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"
# Revisions in order; a test checks this against Alembic's own view of the scripts.
REVISIONS = ("0001", "0002", "0003", "0004")
HEAD_REVISION = REVISIONS[-1]
_MIGRATION_LOCK = 0x62656E6368  # 'bench': serialises concurrent first-use upgrades


def current_revision(conn: psycopg.Connection) -> str | None:
    """The revision stamped in the database, or None for an empty database."""
    exists = conn.execute("SELECT to_regclass('public.alembic_version') IS NOT NULL").fetchone()
    if not exists or not exists[0]:
        return None
    row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    return row[0] if row else None


def _check_known(revision: str | None) -> None:
    if revision is not None and revision not in REVISIONS:
        raise SchemaError(
            f"the store's schema is at revision {revision}, which this bench-analytics does not "
            f"know (newest here: {HEAD_REVISION}); upgrade bench-analytics"
        )


def check_readable(conn: psycopg.Connection) -> bool:
    """For reading without migrating: True when the schema is current, False when the
    database holds no schema yet; SchemaError when it is older or newer than this package."""
    revision = current_revision(conn)
    _check_known(revision)
    if revision is None:
        return False
    if revision != HEAD_REVISION:
        raise SchemaError(
            f"the store's schema is at revision {revision}, older than this bench-analytics "
            f"({HEAD_REVISION}); apply the migrations first",
            hint="Store.upgrade()",
            cli_hint="run `bench-analytics db upgrade`",
        )
    return True


def alembic_config(url: str) -> Config:
    """An Alembic Config pointing at the packaged migrations."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", sqlalchemy_url(url).replace("%", "%%"))
    return config


def _run_alembic(url: str, target: str) -> None:
    from alembic import command
    from sqlalchemy import create_engine, pool

    engine = create_engine(sqlalchemy_url(url), poolclass=pool.NullPool)
    try:
        with engine.begin() as connection:
            config = alembic_config(url)
            config.attributes["connection"] = connection
            command.upgrade(config, target)
    finally:
        engine.dispose()


def upgrade(conn: psycopg.Connection, url: str, target: str = "head") -> tuple[str | None, str]:
    """Apply pending migrations; returns (revision before, revision after)."""
    conn.execute("SELECT pg_advisory_lock(%s)", (_MIGRATION_LOCK,))
    try:
        before = current_revision(conn)
        _check_known(before)
        if before != HEAD_REVISION:
            _run_alembic(url, target)
        return before, current_revision(conn) or "none"
    finally:
        conn.execute("SELECT pg_advisory_unlock(%s)", (_MIGRATION_LOCK,))


def ensure_schema(conn: psycopg.Connection, url: str) -> None:
    """Cheap check on every open; migrations run only when the stamp is behind."""
    revision = current_revision(conn)
    _check_known(revision)
    if revision != HEAD_REVISION:
        upgrade(conn, url)
