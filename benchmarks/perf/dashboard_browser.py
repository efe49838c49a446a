"""The dashboard in a real browser: first tab visible, tab switch, filter change, and the
server's resident memory, on stores of 0, 1,000 and 100,000 runs (5,000,000 case rows).

The server runs as its own process (`bench-analytics dashboard`, as a user starts it);
Debian's chromium is driven by Playwright. The reference, measured in the same run: a bare
Panel page (one Markdown pane) served and loaded the same way.

    python benchmarks/perf/dashboard_browser.py [--sizes 0,1000,100000] [--repeat 3]

Goals: first tab < 1.5 s (must < 3 s); tab switch and filter change < 1 s; server memory
< 400 MB (must < 600 MB).
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
from psycopg.conninfo import make_conninfo

sys.path.insert(0, str(Path(__file__).resolve().parent))
from dashboard_seed import seed
from tempstore import temporary_database

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
BARE_APP = """
import panel as pn
pn.extension()
pn.template.FastListTemplate(title="bare", main=[pn.pane.Markdown("# bare page")]).servable()
"""
TIMEOUT_MS = 60_000


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_listening(port: int, proc: subprocess.Popen, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the server exited with {proc.returncode}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise SystemExit(f"nothing listens on {port} after {seconds} s")


@contextmanager
def served(command: list[str], port: int, env: dict[str, str]) -> Iterator[subprocess.Popen]:
    proc = subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=ROOT
    )
    try:
        wait_listening(port, proc)
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def timed(action: Callable[[], None]) -> float:
    began = time.perf_counter()
    action()
    return (time.perf_counter() - began) * 1000


def chromium() -> str:
    found = os.environ.get("BENCH_CHROMIUM") or shutil.which("chromium")
    if not found:
        raise SystemExit("no chromium: apt-get install chromium (or set BENCH_CHROMIUM)")
    return found


def measure_bare(browser, repeat: int) -> float:  # type: ignore[no-untyped-def]
    folder = Path(tempfile.mkdtemp(prefix="bench-bare-"))
    app = folder / "bare.py"
    app.write_text(BARE_APP)
    port = free_port()
    command = [str(BIN / "panel"), "serve", str(app), "--port", str(port)]
    times = []
    with served(command, port, dict(os.environ)):
        page = browser.new_page(viewport={"width": 1500, "height": 1000})
        for _ in range(repeat + 1):
            times.append(
                timed(
                    lambda: (
                        page.goto(f"http://127.0.0.1:{port}/bare"),
                        page.get_by_text("bare page").wait_for(timeout=TIMEOUT_MS),
                    )
                )
            )
        page.close()
    shutil.rmtree(folder, ignore_errors=True)
    return statistics.median(times[1:])


def measure_dashboard(browser, url: str, runs: int, repeat: int) -> dict[str, float]:  # type: ignore[no-untyped-def]
    port = free_port()
    env = dict(os.environ, BENCH_DATABASE_URL=url)
    command = [str(BIN / "bench-analytics"), "dashboard", "--port", str(port)]
    first: list[float] = []
    switch: list[float] = []
    change: list[float] = []
    marker = "Best F1" if runs else "holds no results yet"
    with served(command, port, env) as proc:
        page = browser.new_page(viewport={"width": 1500, "height": 1000})
        base = f"http://127.0.0.1:{port}/app"
        for attempt in range(repeat + 1):
            elapsed = timed(
                lambda: (
                    page.goto(base + "?tab=current"),
                    page.get_by_text(marker).first.wait_for(timeout=TIMEOUT_MS),
                )
            )
            if attempt:  # the first load warms the process's caches and imports
                first.append(elapsed)
            if not runs:
                continue
            switch.append(
                timed(
                    lambda: (
                        page.get_by_text("Trends", exact=True).first.click(),
                        page.get_by_text("Each point: the mean over").first.wait_for(
                            timeout=TIMEOUT_MS
                        ),
                    )
                )
            )
            page.get_by_text("Regressions", exact=True).first.click()
            heading = page.get_by_text("Failed and quarantined runs in range (")
            heading.first.wait_for(timeout=TIMEOUT_MS)
            before = heading.first.inner_text()
            span = "Last 90 days" if attempt % 2 else "Last 30 days"
            page.locator("select").first.select_option(label=span)
            change.append(timed(lambda before=before: _wait_changed(page, before)))
            page.locator("select").first.select_option(label="All time")
        memory = rss_mb(proc.pid)
        page.close()
    out = {"first tab": statistics.median(first), "memory MB": memory}
    if runs:
        out["tab switch"] = statistics.median(switch)
        out["filter change"] = statistics.median(change)
    return out


def _wait_changed(page, before: str) -> None:  # type: ignore[no-untyped-def]
    """Until the failed-runs heading shows another count (the range filter took effect)."""
    locator = page.get_by_text("Failed and quarantined runs in range (").first
    deadline = time.monotonic() + TIMEOUT_MS / 1000
    while time.monotonic() < deadline:
        try:
            if locator.inner_text(timeout=1000) != before:
                return
        except Exception:  # re-rendering: the element is being replaced
            pass
        time.sleep(0.02)
    raise SystemExit("the filter change never showed")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="0,1000,100000")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium(), args=["--no-sandbox"])
        bare = measure_bare(browser, args.repeat)
        print(f"reference: bare Panel page visible in {bare:.0f} ms")
        print(
            f"{'runs':>8} {'first tab':>10} {'ratio':>6} {'tab switch':>11} "
            f"{'filter':>8} {'memory':>9}"
        )
        with temporary_database("bench-dash-browser-") as (root_url, _):
            for size in sizes:
                name = f"size_{size}"
                with psycopg.connect(root_url, autocommit=True) as conn:
                    conn.execute(f"CREATE DATABASE {name}")
                url = make_conninfo(root_url, dbname=name)
                report = seed(url, size, 50)
                found = measure_dashboard(browser, url, size, args.repeat)
                print(
                    f"{size:>8,} {found['first tab']:>8.0f} ms {found['first tab'] / bare:>6.2f} "
                    f"{found.get('tab switch', float('nan')):>8.0f} ms "
                    f"{found.get('filter change', float('nan')):>5.0f} ms "
                    f"{found['memory MB']:>6.0f} MB   (seeded in {report.seconds:.0f} s)",
                    flush=True,
                )
        browser.close()


if __name__ == "__main__":
    main()
