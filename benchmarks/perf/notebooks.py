"""Each analysis notebook executed on the demo store, against an empty notebook.

Loads the demo history (and its result files, for the SQL playground) into a fresh embedded
PostgreSQL, then executes every notebook of ``notebooks/`` except the ingest notebook with
papermill on the ``python3`` kernel, best of N, alternating with an empty notebook (one
empty code cell: the same kernel start-up and shutdown) measured in the same run. Prints
each notebook's time and its ratio to the empty one, and the time of a notebook that only
imports what the analysis notebooks import. Target: each under 10 s.

    python benchmarks/perf/notebooks.py [--rounds 3]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import nbformat
import papermill

from bench_analytics import Bench
from bench_analytics.config import get_settings
from benchmarks.perf.tempstore import temporary_database

REPO = Path(__file__).resolve().parents[2]
TARGET_S = 10.0


def _execute(notebook: Path, cwd: Path) -> float:
    """Seconds to execute ``notebook`` in ``cwd`` (kernel start to shutdown)."""
    started = time.perf_counter()
    papermill.execute_notebook(
        str(notebook),
        str(cwd / f"out-{notebook.name}"),
        kernel_name="python3",
        cwd=str(cwd),
        progress_bar=False,
        log_output=False,
    )
    return time.perf_counter() - started


IMPORTS = """import holoviews as hv
import hvplot.pandas
from bench_analytics import Bench, RunFilter, charts
hv.extension("bokeh")"""


def _notebook(folder: Path, name: str, source: str) -> Path:
    """A notebook of one code cell."""
    book = nbformat.v4.new_notebook()
    book.cells = [nbformat.v4.new_code_cell(source)]
    book.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    path = folder / f"{name}.ipynb"
    nbformat.write(book, path)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="best of this many runs")
    args = parser.parse_args()
    notebooks = [p for p in sorted((REPO / "notebooks").glob("*.ipynb")) if "ingest" not in p.name]
    with temporary_database() as (url, scratch), tempfile.TemporaryDirectory() as work:
        cwd = Path(work)
        os.environ["BENCH_DATABASE_URL"] = url  # the kernels inherit it
        get_settings.cache_clear()
        started = time.perf_counter()
        with Bench(url) as bench:
            bench.demo(write=cwd / "benchmarks" / "results")
        print(f"demo history loaded in {time.perf_counter() - started:.1f} s")
        empty = _notebook(scratch, "empty", "")
        imports = _notebook(scratch, "imports", IMPORTS)  # what every analysis notebook loads
        _execute(imports, cwd)  # warm the file cache once, for every side
        best_empty = best_imports = float("inf")
        best = dict.fromkeys(notebooks, float("inf"))
        for _ in range(args.rounds):
            for notebook in notebooks:
                best_empty = min(best_empty, _execute(empty, cwd))
                best[notebook] = min(best[notebook], _execute(notebook, cwd))
            best_imports = min(best_imports, _execute(imports, cwd))
        print(f"empty notebook (kernel start-up and shutdown): {best_empty:.2f} s")
        print(f"imports only (HoloViews, hvPlot, the package, hv.extension): {best_imports:.2f} s")
        print(f"{'notebook':<28} {'time':>7} {'ratio':>6}")
        for notebook, seconds in best.items():
            verdict = "ok" if seconds < TARGET_S else f"over {TARGET_S:.0f} s"
            print(f"{notebook.name:<28} {seconds:6.2f}s {seconds / best_empty:6.2f}  {verdict}")


if __name__ == "__main__":
    main()
