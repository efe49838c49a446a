"""The dashboard: the Panel app served on the store until Ctrl-C, read-only unless asked."""

from __future__ import annotations

import errno

import typer

from bench_analytics.cli import render
from bench_analytics.cli.app import app, examples, open_bench
from bench_analytics.errors import UsageError

DEFAULT_PORT = 8502
DEFAULT_ADDRESS = "127.0.0.1"
PortOpt = typer.Option(DEFAULT_PORT, "--port", min=1, max=65535, help="Port to listen on.")


def _in_use(address: str, port: int) -> UsageError:
    other = port + 1 if port < 65535 else port - 1
    return UsageError(
        f"port {port} is already in use on {address}",
        cli_hint=f"stop what listens there, or pick another port: --port {other}",
    )


def check_port(address: str, port: int) -> None:
    """Bind the port as the server will (SO_REUSEADDR, IPv6 only on IPv6 sockets) and let
    it go: a port that something listens on is refused before anything starts."""
    import socket

    try:
        found = socket.getaddrinfo(address, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as error:
        raise UsageError(f"cannot listen on '{address}': {error.strerror}") from None
    problem: OSError | None = None
    bound = 0
    for family, kind, proto, _, where in dict.fromkeys(found):
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6:
                probe.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            try:
                probe.bind(where)
            except OSError as error:
                if error.errno == errno.EADDRINUSE:
                    raise _in_use(address, port) from None
                problem = error  # e.g. ::1 on a host without IPv6: the server skips it too
                continue
            bound += 1
    if not bound:
        reason = problem.strerror if problem and problem.strerror else "no usable address"
        raise UsageError(f"cannot listen on {address}:{port}: {reason}")


def serve(*, url: str, where: str, port: int, address: str, allow_writes: bool, show: bool) -> None:
    """Serve the dashboard on the store at ``url`` (shown as ``where``) until Ctrl-C, which
    ends it quietly (exit 0)."""

    def ready(page: str) -> None:
        render.line(f"dashboard: {page} — Ctrl-C stops it")
        render.line(f"store:     {where}")
        render.line(
            "writes:    allowed: rollback, auto-rollback and quarantine from the page"
            if allow_writes
            else "writes:    off, a read-only connection (`bench-analytics dashboard "
            "--allow-writes` allows rollback, auto-rollback, quarantine)"
        )

    try:
        from bench_analytics.dashboard.server import serve_dashboard  # Panel: loaded only here

        serve_dashboard(
            port=port,
            address=address,
            allow_writes=allow_writes,
            url=url,
            show=show,
            on_ready=ready,
        )
    except KeyboardInterrupt:
        return
    except OSError as error:
        if error.errno == errno.EADDRINUSE:  # taken between the check and the start
            raise _in_use(address, port) from None
        raise


@app.command(
    epilog=examples(
        "bench-analytics dashboard",
        "bench-analytics dashboard --port 8600 --show",
        "bench-analytics dashboard --allow-writes",
        "bench-analytics dashboard --address 0.0.0.0 --port 8502   [dim](reachable from other "
        "hosts)[/]",
        "BENCH_DATABASE_URL=postgresql://reader@db.example/bench bench-analytics dashboard",
    )
)
def dashboard(
    port: int = PortOpt,
    address: str = typer.Option(
        DEFAULT_ADDRESS, "--address", help="Address to listen on (0.0.0.0: every interface)."
    ),
    allow_writes: bool = typer.Option(
        False,
        "--allow-writes",
        help="Let the page move the pointer: rollback, auto-rollback, quarantine.",
    ),
    show: bool = typer.Option(False, "--show/--no-show", help="Open the page in a browser."),
) -> None:
    """Serve the dashboard in the browser until Ctrl-C.

    It reads the store at BENCH_DATABASE_URL, or the embedded one under ./.bench/, through
    a read-only connection; rollback, auto-rollback and quarantine from the page need
    --allow-writes. A port already in use is refused (exit 2).
    """
    check_port(address, port)
    with open_bench() as bench:
        store = bench.store()  # reachable, and a schema this package reads (else exit 3)
        url, where = store.url, store.display_url
    serve(url=url, where=where, port=port, address=address, allow_writes=allow_writes, show=show)
