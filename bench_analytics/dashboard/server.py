"""Serve the dashboard in this process (what `bench-analytics dashboard` and the demo call)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

APP_PATH = "app"


def start_server(
    *,
    port: int = 8502,
    address: str = "127.0.0.1",
    allow_writes: bool = False,
    url: str | None = None,
    show: bool = False,
    threaded: bool = False,
) -> Any:
    """Start serving; returns the server (a thread with ``stop()`` when ``threaded``)."""
    import panel as pn

    from bench_analytics.dashboard import data
    from bench_analytics.dashboard.app import TITLE, create_app

    data.configure(url, allow_writes=allow_writes)
    origin = [f"{address}:{port}", f"localhost:{port}", f"127.0.0.1:{port}"]
    return pn.serve(
        {APP_PATH: create_app},
        port=port,
        address=address,
        websocket_origin=origin,
        show=show,
        start=threaded,
        title=TITLE,
        verbose=False,
        threaded=threaded,
    )


def page_url(address: str, port: int) -> str:
    return f"http://{address}:{port}/{APP_PATH}"


def serve_dashboard(
    *,
    port: int = 8502,
    address: str = "127.0.0.1",
    allow_writes: bool = False,
    url: str | None = None,
    show: bool = False,
    on_ready: Callable[[str], None] | None = None,
) -> None:
    """Serve the dashboard until Ctrl-C; ``on_ready(url_of_the_page)`` once it listens."""
    server = start_server(port=port, address=address, allow_writes=allow_writes, url=url, show=show)
    server.start()
    if on_ready is not None:
        on_ready(page_url(address, port))
    if show:
        server.io_loop.add_callback(server.show, "/" + APP_PATH)
    try:
        server.io_loop.start()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
