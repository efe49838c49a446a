"""The ingest notebook against a plain push: what papermill, the kernel, the chart and the
HTML report add to ``bench-analytics push`` on the same 20 result files.

Each trial pushes the 20 newest results of a sample history (100 cases each) into a store
that already holds the rest of it, once with ``bench-analytics push`` and once with
``bench-analytics ingest-notebook`` (each on its own copy of the same store), with the
embedded server held up as in a working session. Median of N trials.
Target: the notebook adds under 2 s.

    python benchmarks/perf/ingest_notebook.py [--runs 3]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench_analytics.fixtures import sample_history, write_results
from benchmarks.perf.processes import CLI, server_held, time_command, user_env

FILES = 20


def _history(root: Path, seed: int) -> tuple[list[Path], list[Path]]:
    """Result files of a sample history: the older ones (loaded first) and 20 new ones."""
    runs = sample_history(seed=seed, commits=10, patients=100)
    files = sorted(write_results(runs, root / f"results-{seed}"), key=lambda p: p.name[-30:])
    return files[:-FILES], files[-FILES:]


def _trial(root: Path, seed: int) -> tuple[float, float]:
    """(push seconds, ingest-notebook seconds) for the same 20 new files."""
    older, new = _history(root, seed)
    newest = root / f"new-{seed}"
    newest.mkdir()
    for path in new:
        shutil.copy(path, newest / path.name)
    timings = []
    for name in ("push", "notebook"):
        env = user_env(root / f"{name}-{seed}" / ".bench")
        cwd = root / f"{name}-{seed}"
        time_command([CLI, "push", *map(str, older)], env, cwd.parent)  # the history
        with server_held(env, cwd.parent):
            if name == "push":
                cmd = [CLI, "push", str(newest)]
            else:
                cmd = [CLI, "ingest-notebook", "-i", f"{newest}/*.json", "--reports-dir", str(cwd)]
            timings.append(time_command(cmd, env, cwd.parent))
    return timings[0], timings[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="bench-nb-perf-"))
    try:
        results = [_trial(root, seed) for seed in range(11, 11 + args.runs)]
    finally:
        shutil.rmtree(root, ignore_errors=True)
    push = statistics.median(r[0] for r in results)
    notebook = statistics.median(r[1] for r in results)
    print(f"push of {FILES} files          {push:6.2f} s  (median of {args.runs})")
    print(f"ingest-notebook, same files  {notebook:6.2f} s")
    added = notebook - push
    verdict = "met" if added < 2.0 else "MISSED"
    print(
        f"added by the notebook        {added:6.2f} s  ratio {notebook / push:.2f}x "
        f"(target < 2 s: {verdict})"
    )


if __name__ == "__main__":
    main()
