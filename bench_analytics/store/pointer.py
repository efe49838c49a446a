"""Audited moves of the current pointer: rollback/checkout, auto-rollback, quarantine, pins."""

from __future__ import annotations

import psycopg

from bench_analytics.configuration import Configuration
from bench_analytics.errors import UsageError
from bench_analytics.store.moves import (
    CONFIG_MATCH,
    current_version,
    lock_configuration,
    move_pointer,
)
from bench_analytics.store.queries import transaction
from bench_analytics.store.records import PointerMove


def _kind(current: int | None, target: int) -> str:
    return "rollback" if current is None or target < current else "checkout"


def rollback(
    conn: psycopg.Connection,
    config: Configuration,
    to_version: int,
    *,
    reason: str | None,
    actor: str,
    force: bool = False,
) -> PointerMove:
    """Make version ``to_version`` current; refuses failed or quarantined runs unless forced."""
    with conn.transaction():
        lock_configuration(conn, config)
        target = conn.execute(
            f"""SELECT transaction_id, effective_status,
                       COALESCE(quarantine_reason, status_reason)
                FROM snapshot_history WHERE {CONFIG_MATCH} AND version = %s""",
            (*config, to_version),
        ).fetchone()
        if target is None:
            top = conn.execute(
                f"SELECT max(version) FROM benchmark_snapshots WHERE {CONFIG_MATCH}", config
            ).fetchone()
            raise UsageError(
                f"version {to_version} does not exist for {config} "
                f"(versions 1..{top[0] if top and top[0] else 0})"
            )
        tx_id, status, why = target
        if status != "healthy" and not force:
            raise UsageError(
                f"version {to_version} is {status} ({why}); it cannot become current unless forced",
                hint="force=True",
                cli_hint="pass --force",
            )
        current = current_version(conn, config)
        if current == to_version:
            return PointerMove(
                config, None, current, current, f"version {current} is already current"
            )
        kind = _kind(current, to_version)
        text = reason or f"manual {kind} to version {to_version}"
        if status != "healthy":
            text += f" (forced: version is {status})"
        move_pointer(
            conn,
            config,
            kind,
            from_version=current,
            to_version=to_version,
            transaction_id=tx_id,
            reason=text,
            actor=actor,
        )
    return PointerMove(config, kind, current, to_version, f"{kind}: {current} -> {to_version}")


def auto_rollback(
    conn: psycopg.Connection, config: Configuration, *, reason: str | None, actor: str
) -> PointerMove:
    """Return the pointer to the newest healthy version without a gated regression verdict."""
    with conn.transaction():
        lock_configuration(conn, config)
        row = conn.execute(
            f"""SELECT version, transaction_id FROM snapshot_history
                WHERE {CONFIG_MATCH} AND effective_status = 'healthy'
                  AND transaction_id NOT IN (SELECT transaction_id FROM regressed_transactions)
                ORDER BY version DESC LIMIT 1""",
            config,
        ).fetchone()
        if row is None:
            raise UsageError(f"{config} has no healthy version without a regression to return to")
        target, tx_id = row
        current = current_version(conn, config)
        if current == target:
            return PointerMove(
                config,
                None,
                current,
                current,
                f"version {current} is already the newest healthy, non-regressed version",
            )
        text = "auto: newest healthy version without a significant regression"
        if reason:
            text += f" ({reason})"
        kind = _kind(current, target)
        move_pointer(
            conn,
            config,
            kind,
            from_version=current,
            to_version=target,
            transaction_id=tx_id,
            reason=text,
            actor=actor,
        )
    return PointerMove(config, kind, current, target, f"{kind} (auto): {current} -> {target}")


def _fallback(conn: psycopg.Connection, config: Configuration, leaving: int) -> int | None:
    """Where the pointer goes when version ``leaving`` stops being current: the newest
    healthy version before it; else (after a rollback to the oldest) the newest healthy
    version, those without a regression verdict first; else none."""
    row = conn.execute(
        f"""SELECT version FROM snapshot_history
            WHERE {CONFIG_MATCH} AND effective_status = 'healthy' AND version <> %s
            ORDER BY version < %s DESC,
                     transaction_id IN (SELECT transaction_id FROM regressed_transactions),
                     version DESC
            LIMIT 1""",
        (*config, leaving, leaving),
    ).fetchone()
    return row[0] if row else None


def quarantine(
    conn: psycopg.Connection, transaction_id: int, *, reason: str, actor: str, release: bool = False
) -> PointerMove:
    """Mark a run as not a model result (or release it); a current run hands the pointer back."""
    if not reason.strip():
        raise UsageError(
            "a reason is required: say why (e.g. 'endpoint outage, HTTP 503')",
            cli_hint="--reason '…'",
        )
    config = transaction(conn, transaction_id).configuration
    with conn.transaction():
        lock_configuration(conn, config)
        info = transaction(conn, transaction_id)  # re-read under the lock
        if info.quarantined != release:
            state = "not quarantined" if release else "already quarantined"
            return PointerMove(config, None, None, None, f"transaction {transaction_id} is {state}")
        conn.execute(
            """INSERT INTO transaction_annotations (transaction_id, kind, reason, actor)
               VALUES (%s, %s, %s, %s)""",
            (transaction_id, "release" if release else "quarantine", reason, actor),
        )
        if release or not info.is_current:
            verb = "released" if release else "quarantined"
            return PointerMove(
                config, None, None, None, f"transaction {transaction_id} {verb}; pointer unchanged"
            )
        fallback = _fallback(conn, config, info.version)
        move_pointer(
            conn,
            config,
            "quarantine",
            from_version=info.version,
            to_version=fallback,
            transaction_id=transaction_id,
            reason=reason,
            actor=actor,
        )
    target = f"version {fallback}" if fallback else "no current version (none healthy left)"
    return PointerMove(
        config,
        "quarantine",
        info.version,
        fallback,
        f"quarantined; pointer {info.version} -> {target}",
    )


def pin(
    conn: psycopg.Connection,
    config: Configuration,
    version: int | None,
    *,
    reason: str,
    actor: str,
) -> PointerMove:
    """Pin the baseline that the 'pinned' rule uses (None unpins); an append-only row."""
    if version is not None:
        exists = conn.execute(
            f"SELECT 1 FROM benchmark_snapshots WHERE {CONFIG_MATCH} AND version = %s",
            (*config, version),
        ).fetchone()
        if not exists:
            raise UsageError(f"version {version} does not exist for {config}")
    conn.execute(
        """INSERT INTO baseline_pins (model_key, dataset_version, prompt_version, environment,
               version, reason, actor) VALUES (%s, %s, %s, %s, %s, %s, %s)""",
        (*config, version, reason, actor),
    )
    message = f"baseline pinned to version {version}" if version else "baseline unpinned"
    return PointerMove(config, None, None, version, message)
