"""End-to-end wall time of the read commands people type most, with the server already up.

A dashboard or a notebook usually holds the embedded server, so the CLI joins it:
  * ``bench-analytics --version`` (target < 0.15 s), next to ``python -c pass``;
  * ``bench-analytics snapshots`` on the demo history (target < 0.3 s);
  * the same query from Python with the process already warm (connection and SQL only).
Median of N runs, a new process each time.

    python benchmarks/perf/cli_read.py [--runs 15]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from benchmarks.perf.processes import CLI, server_held, time_command, user_env


def _warm_query(env: dict[str, str], cwd: Path, runs: int) -> float:
    """Connection + snapshots query inside one warm process (imports excluded)."""
    code = (
        "import time, statistics\nfrom bench_analytics.api import Bench\n"
        "Bench().snapshots()\nxs = []\n"
        f"for _ in range({runs}):\n"
        "    s = time.perf_counter(); b = Bench(); b.snapshots(); b.close()\n"
        "    xs.append(time.perf_counter() - s)\n"
        "print(statistics.median(xs))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=cwd, capture_output=True, text=True, check=True
    )
    return float(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()

    root = Path(tempfile.mkdtemp(prefix="bench-cli-read-"))
    env = user_env(root / ".bench")
    runs = range(args.runs)
    try:
        time_command([CLI, "demo"], env, root)
        with server_held(env, root):
            python = [time_command([sys.executable, "-c", "pass"], env, root) for _ in runs]
            version = [time_command([CLI, "--version"], env, root) for _ in runs]
            snapshots = [time_command([CLI, "snapshots"], env, root) for _ in runs]
            warm = _warm_query(env, root, args.runs)
    finally:
        shutil.rmtree(root, ignore_errors=True)

    med = statistics.median
    print(f"python -c pass                  : {med(python):.3f} s (reference)")
    for label, values, target in (
        ("bench-analytics --version", version, 0.15),
        ("bench-analytics snapshots", snapshots, 0.3),
    ):
        verdict = "PASS" if med(values) < target else "FAIL"
        print(
            f"{label:<32}: {med(values):.3f} s  (target < {target} s: {verdict}; "
            f"{med(values) / med(python):.1f}x bare python; min {min(values):.3f}, "
            f"max {max(values):.3f})"
        )
    print(f"{'snapshots, warm process':<32}: {warm * 1000:.1f} ms  (connection + query only)")


if __name__ == "__main__":
    main()
