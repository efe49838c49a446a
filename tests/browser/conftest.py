"""The dashboard in a real browser: a store with the demo history, the app served in this
process on a free port, one headless chromium for the whole module.

Chromium is Debian's (``apt-get install chromium``) or the one ``BENCH_CHROMIUM`` names;
Playwright's own browser download is not used. Without one the tests skip, except in CI,
where they fail (CI installs it).

The dashboard's store is a setting of the process (``data.configure``): a second server
started here (an empty store, a store that is down, writes allowed) serves every page of
this process until it stops, and then the main one's store is configured again.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from tests.conftest import REPO, _new_database

# Read when pytest imports this file: each test's fixtures remove BENCH_* and CI.
CHROMIUM_ENV = os.environ.get("BENCH_CHROMIUM", "")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
NO_CHROMIUM = (
    "no chromium: install Debian's chromium (apt-get install chromium) or set BENCH_CHROMIUM"
)
ARTIFACTS = REPO / "test-artifacts" / "dashboard"
VIEWPORT = {"width": 1500, "height": 1900}  # FastListTemplate scrolls inside its main area
WAIT_MS = 30_000  # generous: the suite must pass on a loaded machine
SERVER_START_S = 60.0


# every ``expect`` waits this long (Playwright's own default is 5 s: too short under load)
expect.set_options(timeout=WAIT_MS)


def find_chromium() -> tuple[str | None, str]:
    """(the browser to run, why there is none): BENCH_CHROMIUM, else chromium or
    chromium-browser on the PATH."""
    if CHROMIUM_ENV:
        found = CHROMIUM_ENV if Path(CHROMIUM_ENV).is_file() else shutil.which(CHROMIUM_ENV)
        return found, f"BENCH_CHROMIUM={CHROMIUM_ENV} is not a program"
    return shutil.which("chromium") or shutil.which("chromium-browser"), NO_CHROMIUM


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def database_name(url: str) -> str:
    return urlsplit(url).path.lstrip("/")


@dataclass
class Served:
    """A dashboard served in this process."""

    url: str  # the store's
    port: int
    server: Any

    def page_url(self, query: str = "") -> str:
        return f"http://127.0.0.1:{self.port}/app" + (f"?{query.lstrip('?')}" if query else "")


def _wait_listening(port: int) -> None:
    """Until the app's page answers (polled, no fixed sleep)."""
    deadline = time.monotonic() + SERVER_START_S
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/liveness", timeout=5):
                return
        except urllib.error.HTTPError:
            return  # it answers (liveness may be off): it listens
        except OSError as error:
            last = error
            time.sleep(0.05)
    raise RuntimeError(f"the dashboard did not listen on port {port}: {last}")


def serve(url: str, *, allow_writes: bool = False) -> Served:
    from bench_analytics.dashboard.server import start_server

    last: Exception | None = None
    for _ in range(5):  # a free port can be taken between the probe and the bind
        port = free_port()
        try:
            server = start_server(port=port, threaded=True, url=url, allow_writes=allow_writes)
        except OSError as error:
            last = error
            continue
        _wait_listening(port)
        return Served(url, port, server)
    raise RuntimeError(f"no free port for the dashboard: {last}")


def stop(served: Served) -> None:
    served.server.stop()
    served.server.join(timeout=30)


@pytest.fixture(scope="session")
def chromium_path() -> str:
    path, why = find_chromium()
    if path is None:
        if IN_CI:
            pytest.fail(f"{why} (CI installs chromium in .ci/run)", pytrace=False)
        pytest.skip(why)
    return path


@pytest.fixture(scope="module")
def browser(chromium_path: str) -> Iterator[Any]:
    """One browser per module: Playwright's sync API keeps an event loop running in this
    thread while it lives, so it must end before the worker runs other tests (the browser
    tests form one xdist group that runs in one go, see the Makefile's --dist loadgroup)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium_path, args=["--no-sandbox"])
        yield launched
        launched.close()


@pytest.fixture(scope="session")
def demo_store(chromium_path: str, pg_server: str) -> dict[str, str]:
    """Databases made once: the demo history, an untouched copy of it for the write test,
    and an empty (migrated) store."""
    from bench_analytics.api import Bench

    url = _new_database(pg_server, "bench_template")
    with Bench(url) as bench:
        bench.demo()
    return {
        "demo": url,
        "writable": _new_database(pg_server, database_name(url)),  # before any reader connects
        "empty": _new_database(pg_server, "bench_template"),
    }


@pytest.fixture(scope="module")
def dashboard(chromium_path: str, demo_store: dict[str, str]) -> Iterator[Served]:
    """The read-only dashboard on the demo history (no store is filled without a browser)."""
    served = serve(demo_store["demo"])
    yield served
    stop(served)


@pytest.fixture
def other_dashboard(dashboard: Served) -> Iterator[Any]:
    """``other_dashboard(url, allow_writes=...)``: a second server for one test; afterwards
    the main dashboard's store is configured again. Ask for it before ``page``: the page
    then closes first, and the server stops without an open session (seconds faster)."""
    from bench_analytics.dashboard import data

    started: list[Served] = []

    def start(url: str, *, allow_writes: bool = False) -> Served:
        started.append(serve(url, allow_writes=allow_writes))
        return started[-1]

    yield start
    for served in started:
        stop(served)
    data.configure(dashboard.url, allow_writes=False)


@pytest.fixture
def page(browser: Any, dashboard: Served) -> Iterator[Any]:
    """A fresh page (its own context) for one test; errors of the page's scripts are kept
    in ``page.errors``."""
    context = browser.new_context(viewport=VIEWPORT)
    context.set_default_timeout(WAIT_MS)
    opened = context.new_page()
    opened.errors = []
    opened.on("pageerror", lambda error: opened.errors.append(str(error)))
    yield opened
    with contextlib.suppress(Exception):
        context.close()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
