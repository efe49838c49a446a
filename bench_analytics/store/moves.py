"""The one way the current pointer moves: under the configuration's lock, with an event."""

from __future__ import annotations

import psycopg

from bench_analytics.configuration import Configuration

CONFIG_MATCH = "(model_key, dataset_version, prompt_version, environment) = (%s, %s, %s, %s)"


def lock_configuration(conn: psycopg.Connection, config: Configuration) -> None:
    """Serialise everything that allocates versions or moves the pointer of one configuration."""
    conn.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 7))", ("\x1f".join(config),))


def current_version(conn: psycopg.Connection, config: Configuration) -> int | None:
    """The version that is current now, or None."""
    row = conn.execute(
        f"SELECT version FROM benchmark_snapshots WHERE {CONFIG_MATCH} AND is_current", config
    ).fetchone()
    return row[0] if row else None


def record_event(
    conn: psycopg.Connection,
    config: Configuration,
    kind: str,
    *,
    from_version: int | None,
    to_version: int | None,
    transaction_id: int | None,
    reason: str,
    actor: str,
) -> None:
    """Append one row to ``snapshot_events`` (every move and every deliberate hold)."""
    conn.execute(
        """INSERT INTO snapshot_events (model_key, dataset_version, prompt_version, environment,
               event_type, from_version, to_version, transaction_id, reason, actor)
           VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)""",
        (*config, kind, from_version, to_version, transaction_id, reason, actor),
    )


def move_pointer(
    conn: psycopg.Connection,
    config: Configuration,
    kind: str,
    *,
    from_version: int | None,
    to_version: int | None,
    transaction_id: int | None,
    reason: str,
    actor: str,
) -> None:
    """Make ``to_version`` current (None: no version is current) and record the event.

    The caller holds the configuration's lock inside its transaction.
    """
    conn.execute(
        f"UPDATE benchmark_snapshots SET is_current = false WHERE {CONFIG_MATCH} AND is_current",
        config,
    )
    if to_version is not None:
        conn.execute(
            f"""UPDATE benchmark_snapshots SET is_current = true
                WHERE {CONFIG_MATCH} AND version = %s""",
            (*config, to_version),
        )
    record_event(
        conn,
        config,
        kind,
        from_version=from_version,
        to_version=to_version,
        transaction_id=transaction_id,
        reason=reason,
        actor=actor,
    )
