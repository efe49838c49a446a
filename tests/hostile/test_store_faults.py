"""The embedded store under hostile starts: many processes on a fresh home at once, a
BENCH_HOME that cannot be one, a postmaster.pid naming a live stranger, a server that will
not start, and a push ended by SIGTERM. Every case is a real process on a real server."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import psutil
import psycopg
import pytest

from bench_analytics.fixtures import DEMO_START, simulate_run, synthetic_patients, write_results
from bench_analytics.store.schema import HEAD_REVISION

pytestmark = pytest.mark.slow

# Imports first and says so, then waits for the start flag: the commands really start together.
LAUNCHER = """
import os, sys, time
from bench_analytics.cli import main
import bench_analytics.api, bench_analytics.gate, bench_analytics.store.embedded
print("ready", flush=True)
deadline = time.monotonic() + 120
while not os.path.exists(sys.argv[1]) and time.monotonic() < deadline:
    time.sleep(0.002)
sys.exit(main(sys.argv[2:]))
"""

# What the store holds once they are done (joins the server through the package).
INSPECT = """
import json, sys
from pathlib import Path
import psycopg
from bench_analytics.store.embedded import start_embedded
url = start_embedded(Path(sys.argv[1]))
with psycopg.connect(url.replace("/bench?", "/postgres?")) as conn:
    names = [r[0] for r in conn.execute("SELECT datname FROM pg_database ORDER BY 1")]
with psycopg.connect(url) as conn:
    revision = conn.execute("SELECT version_num FROM alembic_version").fetchall()
    stored = conn.execute("SELECT count(*) FROM benchmark_transactions").fetchone()[0]
print(json.dumps({"databases": names, "revision": revision, "stored": stored}))
"""


def _env(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BENCH_")}
    env.pop("CI", None)
    return {**env, "BENCH_HOME": str(home), **extra}


def _cli(
    home: Path, *args: str, timeout: float = 60, **extra: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bench_analytics", *args],
        capture_output=True,
        text=True,
        env=_env(home, **extra),
        timeout=timeout,
    )


def _server_pid(home: Path) -> int | None:
    """The pid of the live postmaster of ``home``, if any."""
    try:
        pid = int((home / "pgdata" / "postmaster.pid").read_text().split()[0])
        alive = psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except (OSError, ValueError, IndexError, psutil.Error):
        return None
    return pid if alive else None


def _wait_stopped(home: Path, seconds: float = 20) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if _server_pid(home) is None:
            return True
        time.sleep(0.05)
    return False


def _registered(home: Path) -> list[int]:
    try:
        return list(json.loads((home / "pgdata" / ".handle_pids.json").read_text()))
    except (OSError, ValueError):
        return []


def _one_error_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), stderr
    assert "Traceback" not in stderr
    return lines[0]


@pytest.fixture
def home() -> Iterator[Path]:
    """A fresh BENCH_HOME outside pytest's 0700 tmp root (the server runs as another user)."""
    root = Path(tempfile.mkdtemp(prefix="bench-hostile-"))
    yield root / "home"
    pid = _server_pid(root / "home")
    if pid is not None:  # a test that failed half-way: fast shutdown by pid
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGINT)
        _wait_stopped(root / "home", 30)
    shutil.rmtree(root, ignore_errors=True)


# --- 1. first use from many processes at once ---------------------------------------------

PUSHES = 12
READERS = [["db", "status", "--json"]] * 2 + [["snapshots", "--json"]] * 2  # never migrate


def test_sixteen_processes_on_a_fresh_home_all_succeed(home: Path, tmp_path: Path) -> None:
    patients = synthetic_patients(5, seed=3)
    runs = [
        simulate_run("medgemma", patients, commit=f"{i:040x}", when=DEMO_START + timedelta(hours=i))
        for i in range(PUSHES)
    ]
    files = [tmp_path / f"run-{i}.json" for i in range(PUSHES)]
    for path, run in zip(files, runs, strict=True):
        path.write_bytes(run.to_json())
    commands = [["push", str(path), "--json"] for path in files]
    commands += READERS
    flag = tmp_path / "go"
    assert not home.exists()
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", LAUNCHER, str(flag), *command],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=_env(home),
        )
        for command in commands
    ]
    try:
        for proc in procs:
            ready = proc.stdout.readline() if proc.stdout else ""
            assert ready.strip() == "ready", proc.communicate(timeout=60)[1]
        flag.touch()
        done = [(c, p.communicate(timeout=180)) for c, p in zip(commands, procs, strict=True)]
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    failed = [
        (c, p.returncode, e) for (c, (_, e)), p in zip(done, procs, strict=True) if p.returncode
    ]
    assert failed == [], failed
    created = sum(json.loads(out)[0]["created"] for (c, (out, _)) in done if c[0] == "push")
    assert created == PUSHES
    assert _wait_stopped(home), "the last of them did not stop the server"

    shown = subprocess.run(
        [sys.executable, "-c", INSPECT, str(home)],
        capture_output=True,
        text=True,
        env=_env(home),
        timeout=60,
    )
    assert shown.returncode == 0, shown.stderr
    found = json.loads(shown.stdout)
    assert found["databases"] == ["bench", "postgres", "template0", "template1"]
    assert found["revision"] == [[HEAD_REVISION]]  # one stamp, at head
    assert found["stored"] == PUSHES
    assert _wait_stopped(home)
    print(f"\n{len(procs)} processes on a fresh home: all exit 0, one database, schema at head")


# --- 2. a home that cannot be one, a lock file naming a stranger, a start that fails --------


def _a_file(root: Path) -> Path:
    (root / "file").write_text("x")
    return root / "file"


@pytest.mark.parametrize(
    ("make", "command", "reason"),
    [
        (_a_file, "db status", "it exists and is not a folder"),
        (lambda root: Path("/proc/x"), "snapshots", "it cannot be created"),
        (lambda root: _a_file(root) / "sub", "history x", "a part of that path is a file"),
    ],
    ids=["regular file", "/proc/x", "under a file"],
)
def test_unusable_home_is_exit_3_with_the_reason(
    make: Callable[[Path], Path], command: str, reason: str, tmp_path: Path
) -> None:
    bad = make(tmp_path)
    done = _cli(bad, *command.split(), BENCH_DEBUG="1")
    assert done.returncode == 3, done.stderr
    line = _one_error_line(done.stderr)
    assert f"BENCH_HOME {bad} cannot hold the embedded PostgreSQL: {reason}" in line


def test_stale_lock_file_and_failed_start_say_what_is_wrong(home: Path, pg_server: str) -> None:
    """A postmaster.pid whose pid now names a live stranger; once it is removed, as the
    message says, a start that fails (the data directory lost its files) gives the reason."""
    pgdata = home / "pgdata"
    pgdata.mkdir(parents=True, mode=0o700)
    (pgdata / "PG_VERSION").write_text("18\n")  # initialised once; everything else is lost
    pidfile = pgdata.resolve() / "postmaster.pid"
    # A live PostgreSQL of another folder: the session's test server.
    with psycopg.connect(pg_server) as conn:
        [(other,)] = conn.execute("SELECT current_setting('data_directory')").fetchall()
    other_pid = int((Path(other) / "postmaster.pid").read_text().split()[0])
    sleeper = subprocess.Popen(["sleep", "60"])
    try:
        for pid, name in ((sleeper.pid, "sleep"), (other_pid, "postgres")):
            # What a server of this folder leaves behind, but its pid now names someone else.
            pidfile.write_text(
                f"{pid}\n{pgdata}\n{int(time.time())}\n5432\n{pgdata}\n\n  5432001    7\nready\n"
            )
            done = _cli(home, "db", "status")
            assert done.returncode == 3, (name, done.stderr)
            line = _one_error_line(done.stderr)
            assert f"{pidfile} names process {pid} ({name}), not a PostgreSQL server" in line
            assert "remove the file if no PostgreSQL server runs" in line
            assert pidfile.exists(), "a lock file naming a live process must be left to the user"
        assert psutil.pid_exists(other_pid) and sleeper.poll() is None  # nobody was signalled
    finally:
        sleeper.kill()
        sleeper.wait()

    pidfile.unlink()  # what the message says to do: now the start is tried, and fails
    done = _cli(home, "snapshots")
    assert done.returncode == 3, done.stderr
    line = _one_error_line(done.stderr)
    assert f"cannot start the embedded PostgreSQL in {pidfile.parent}: pg_ctl start failed" in line
    assert "pg_control" in line or "postgresql.conf" in line  # pg_ctl's and the log's reason
    assert "Command '[" not in line and "'-D'" not in line and "-o" not in line.split()


# --- 4. SIGTERM ------------------------------------------------------------------------------


def test_sigterm_during_push_leaves_the_registry_and_stops_the_server(
    home: Path, tmp_path: Path
) -> None:
    patients = synthetic_patients(40, seed=5)
    runs = [
        simulate_run("medgemma", patients, commit=f"{i:040x}", when=DEMO_START + timedelta(hours=i))
        for i in range(4)
    ]
    write_results(runs, tmp_path / "results")
    push = subprocess.Popen(
        [sys.executable, "-m", "bench_analytics", "push", str(tmp_path / "results")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(home),
    )
    try:
        deadline = time.monotonic() + 60
        while push.pid not in _registered(home) or _server_pid(home) is None:
            assert push.poll() is None, push.communicate()[1]
            assert time.monotonic() < deadline, "the push never joined the server"
            time.sleep(0.01)
        assert push.poll() is None, "the push ended before it could be terminated"
        push.send_signal(signal.SIGTERM)
        _, err = push.communicate(timeout=60)
    finally:
        if push.poll() is None:
            push.kill()
            push.wait()
    assert push.returncode == -signal.SIGTERM, err  # it still dies of the signal
    assert push.pid not in _registered(home)
    assert _wait_stopped(home, 5), "a SIGTERM'd last user left the server running"
    shown = _cli(home, "snapshots", "--json")  # the store is intact and starts again
    assert shown.returncode == 0, shown.stderr
    assert _wait_stopped(home)
