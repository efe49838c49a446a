"""End-to-end ``bench-analytics push`` of a typical 60-case result, and CLI start-up time.

Measured as a user runs it (a new process each time, the embedded store by default):
  * start-up: ``bench-analytics --version`` minus nothing, next to ``python -c pass``;
  * push, warm: the embedded server is already up (a dashboard or notebook holds it);
  * push, cold: the CLI starts the embedded server and stops it on exit.
Each push sends new content (a real write, not an idempotent no-op). Median of N runs.
Targets: push < 1.5 s wall; start-up < 0.5 s.

    python benchmarks/perf/cli_push.py [--runs 7]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench_analytics.fixtures import simulate_run, synthetic_patients, write_results
from benchmarks.perf.processes import CLI, server_held, time_command, user_env

PUSH_IMPORTS = (  # every module a push loads, CLI included
    "import bench_analytics.cli, bench_analytics.api, bench_analytics.formats, "
    "bench_analytics.store, bench_analytics.store.embedded, bench_analytics.gate, "
    "rich.progress, psycopg"
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()

    root = Path(tempfile.mkdtemp(prefix="bench-cli-perf-"))
    env = user_env(root / ".bench")
    patients = synthetic_patients(60, seed=4)
    files = iter(
        write_results(
            [
                simulate_run("openai", patients, commit=f"{i:040x}", seed=i)
                for i in range(3 * args.runs)
            ],
            root / "results",
        )
    )
    runs = range(args.runs)
    try:
        python = [time_command([sys.executable, "-c", "pass"], env, root) for _ in runs]
        startup = [time_command([CLI, "--version"], env, root) for _ in runs]
        imports = [time_command([sys.executable, "-c", PUSH_IMPORTS], env, root) for _ in runs]
        time_command([CLI, "db", "upgrade"], env, root)  # create the store once
        cold = [time_command([CLI, "push", str(next(files))], env, root) for _ in runs]
        with server_held(env, root):
            warm = [time_command([CLI, "push", str(next(files))], env, root) for _ in runs]
    finally:
        shutil.rmtree(root, ignore_errors=True)
    med = statistics.median
    print(f"python -c pass                : {med(python):.3f} s (reference)")
    print(
        f"bench-analytics --version     : {med(startup):.3f} s  "
        f"(start-up, target < 0.5 s: {'PASS' if med(startup) < 0.5 else 'FAIL'}; "
        f"{med(startup) / med(python):.1f}x bare python)"
    )
    print(
        f"imports a push needs          : {med(imports):.3f} s  "
        f"(target < 0.5 s: {'PASS' if med(imports) < 0.5 else 'FAIL'})"
    )
    for label, values in (("push 60 cases, server up", warm), ("push 60 cases, cold start", cold)):
        verdict = "PASS" if med(values) < 1.5 else "FAIL"
        print(
            f"{label:<30}: {med(values):.3f} s  (target < 1.5 s: {verdict}; "
            f"min {min(values):.3f}, max {max(values):.3f})"
        )


if __name__ == "__main__":
    main()
