"""Audited moves of the current pointer: rollback/checkout and quarantine. Never an edit."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import psycopg

from bench_analytics.errors import UsageError
from bench_analytics.store.push import lock_configuration
from bench_analytics.store.queries import Config, config_of, transaction


@dataclass(frozen=True)
class PointerMove:
    """The outcome of a pointer command."""

    config: Config
    event: str | None
    from_version: int | None
    to_version: int | None
    message: str

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def _current_version(conn: psycopg.Connection, config: Config) -> int | None:
    row = conn.execute(
        """SELECT version FROM benchmark_snapshots
           WHERE (model_key, dataset_version, prompt_version, environment) = (%s, %s, %s, %s)
             AND is_current""",
        config,
    ).fetchone()
    return row[0] if row else None


def _set_current(conn: psycopg.Connection, config: Config, version: int | None) -> None:
    conn.execute(
        """UPDATE benchmark_snapshots SET is_current = false
           WHERE (model_key, dataset_version, prompt_version, environment) = (%s, %s, %s, %s)
             AND is_current""",
        config,
    )
    if version is not None:
        conn.execute(
            """UPDATE benchmark_snapshots SET is_current = true
               WHERE (model_key, dataset_version, prompt_version, environment)
                     = (%s, %s, %s, %s) AND version = %s""",
            (*config, version),
        )


def _event(
    conn: psycopg.Connection,
    config: Config,
    kind: str,
    from_version: int | None,
    to_version: int | None,
    transaction_id: int | None,
    reason: str,
    actor: str,
) -> None:
    conn.execute(
        """INSERT INTO snapshot_events (model_key, dataset_version, prompt_version, environment,
               event_type, from_version, to_version, transaction_id, reason, actor)
           VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)""",
        (*config, kind, from_version, to_version, transaction_id, reason, actor),
    )


def rollback(
    conn: psycopg.Connection,
    config: Config,
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
            """SELECT transaction_id, effective_status, COALESCE(quarantine_reason, status_reason)
               FROM snapshot_history
               WHERE (model_key, dataset_version, prompt_version, environment)
                     = (%s, %s, %s, %s) AND version = %s""",
            (*config, to_version),
        ).fetchone()
        if target is None:
            top = conn.execute(
                """SELECT max(version) FROM benchmark_snapshots
                   WHERE (model_key, dataset_version, prompt_version, environment)
                         = (%s, %s, %s, %s)""",
                config,
            ).fetchone()
            raise UsageError(
                f"version {to_version} does not exist for {'/'.join(config)} "
                f"(versions 1..{top[0] if top else 0})"
            )
        tx_id, status, why = target
        if status != "healthy" and not force:
            raise UsageError(
                f"version {to_version} is {status} ({why}); it cannot become current "
                "unless you pass --force"
            )
        current = _current_version(conn, config)
        if current == to_version:
            return PointerMove(
                config, None, current, current, f"version {current} is already current"
            )
        kind = "rollback" if current is None or to_version < current else "checkout"
        text = reason or f"manual {kind} to version {to_version}"
        if status != "healthy":
            text += f" (forced: version is {status})"
        _set_current(conn, config, to_version)
        _event(conn, config, kind, current, to_version, tx_id, text, actor)
    return PointerMove(config, kind, current, to_version, f"{kind}: {current} -> {to_version}")


def _previous_healthy(conn: psycopg.Connection, config: Config, below: int) -> int | None:
    row = conn.execute(
        """SELECT max(version) FROM snapshot_history
           WHERE (model_key, dataset_version, prompt_version, environment) = (%s, %s, %s, %s)
             AND version < %s AND effective_status = 'healthy'""",
        (*config, below),
    ).fetchone()
    return row[0] if row else None


def quarantine(
    conn: psycopg.Connection, transaction_id: int, *, reason: str, actor: str, release: bool = False
) -> PointerMove:
    """Mark a run as not a model result (or release it); a current run hands the pointer back."""
    if not reason.strip():
        raise UsageError("--reason is required: say why (e.g. 'endpoint outage, HTTP 503')")
    info = transaction(conn, transaction_id)
    config = config_of(info)
    with conn.transaction():
        lock_configuration(conn, config)
        info = transaction(conn, transaction_id)  # re-read under the lock
        if info["quarantined"] != release:
            state = "not quarantined" if release else "already quarantined"
            return PointerMove(config, None, None, None, f"transaction {transaction_id} is {state}")
        conn.execute(
            """INSERT INTO transaction_annotations (transaction_id, kind, reason, actor)
               VALUES (%s, %s, %s, %s)""",
            (transaction_id, "release" if release else "quarantine", reason, actor),
        )
        if release or not info["is_current"]:
            verb = "released" if release else "quarantined"
            return PointerMove(
                config, None, None, None, f"transaction {transaction_id} {verb}; pointer unchanged"
            )
        version = info["version"]
        fallback = _previous_healthy(conn, config, version)
        _set_current(conn, config, fallback)
        _event(conn, config, "quarantine", version, fallback, transaction_id, reason, actor)
    target = f"version {fallback}" if fallback else "no current version (none healthy before it)"
    return PointerMove(
        config, "quarantine", version, fallback, f"quarantined; pointer {version} -> {target}"
    )


def auto_rollback(
    conn: psycopg.Connection, config: Config, *, reason: str | None, actor: str
) -> PointerMove:
    """Return the pointer to the newest healthy version without a gated regression verdict."""
    with conn.transaction():
        lock_configuration(conn, config)
        row = conn.execute(
            """SELECT max(h.version) FROM snapshot_history h
               WHERE (h.model_key, h.dataset_version, h.prompt_version, h.environment)
                     = (%s, %s, %s, %s)
                 AND h.effective_status = 'healthy'
                 AND h.transaction_id NOT IN (SELECT transaction_id FROM regressed_transactions)""",
            config,
        ).fetchone()
        target = row[0] if row else None
        if target is None:
            raise UsageError(
                f"{'/'.join(config)} has no healthy version without a regression to return to"
            )
        current = _current_version(conn, config)
        if current == target:
            return PointerMove(
                config,
                None,
                current,
                current,
                f"version {current} is already the newest healthy, non-regressed version",
            )
        tx = conn.execute(
            """SELECT transaction_id FROM benchmark_snapshots
               WHERE (model_key, dataset_version, prompt_version, environment)
                     = (%s, %s, %s, %s) AND version = %s""",
            (*config, target),
        ).fetchone()[0]
        text = "auto: newest healthy version without a significant regression"
        if reason:
            text += f" ({reason})"
        kind = "rollback" if current is None or target < current else "checkout"
        _set_current(conn, config, target)
        _event(conn, config, kind, current, target, tx, text, actor)
    return PointerMove(config, kind, current, target, f"{kind} (auto): {current} -> {target}")


def pin(
    conn: psycopg.Connection,
    config: Config,
    version: int | None,
    *,
    reason: str,
    actor: str,
) -> PointerMove:
    """Pin the baseline `check --baseline pinned` uses (None unpins); an append-only row."""
    if version is not None:
        exists = conn.execute(
            """SELECT 1 FROM benchmark_snapshots
               WHERE (model_key, dataset_version, prompt_version, environment)
                     = (%s, %s, %s, %s) AND version = %s""",
            (*config, version),
        ).fetchone()
        if not exists:
            raise UsageError(f"version {version} does not exist for {'/'.join(config)}")
    conn.execute(
        """INSERT INTO baseline_pins (model_key, dataset_version, prompt_version, environment,
               version, reason, actor) VALUES (%s, %s, %s, %s, %s, %s, %s)""",
        (*config, version, reason, actor),
    )
    message = f"baseline pinned to version {version}" if version else "baseline unpinned"
    return PointerMove(config, None, None, version, message)
