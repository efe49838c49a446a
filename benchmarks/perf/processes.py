"""Timing whole CLI processes for the performance scripts, and holding the embedded server."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

BIN = Path(sys.executable).parent
CLI = str(BIN / "bench-analytics")
# Keeps the embedded server up, as a dashboard or a notebook would, until stdin gets a line.
HOLDER = (
    "import sys\nfrom bench_analytics.store import Store\ns = Store.open()\n"
    "print('ready', flush=True)\nsys.stdin.readline()\ns.close()\n"
)


def user_env(home: Path) -> dict[str, str]:
    """This environment as a user's shell has it: no BENCH_, GITHUB_ or CI variables, and
    the embedded store under ``home``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BENCH_", "GITHUB_"))}
    env.pop("CI", None)
    env["BENCH_HOME"] = str(home)
    return env


def time_command(cmd: list[str], env: dict[str, str], cwd: Path) -> float:
    """Wall seconds of one run of ``cmd`` (exits on failure with its stderr)."""
    start = time.perf_counter()
    done = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed: {done.stderr}")
    return elapsed


@contextmanager
def server_held(env: dict[str, str], cwd: Path) -> Iterator[None]:
    """The embedded server under env's BENCH_HOME stays up for the block."""
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=env,
        cwd=cwd,
    )
    assert holder.stdout and holder.stdout.readline().strip() == "ready"
    try:
        yield
    finally:
        holder.communicate("\n", timeout=60)
