"""The ``bench-analytics`` command line: each command is one call of the library plus output.

Exit codes: 0 ok, 1 significant regression (and nothing else), 2 bad input, usage or
configuration, 3 store unreachable or schema too old, 4 any other failure (one line; the
traceback with ``BENCH_DEBUG=1``), 130 interrupted.
"""

from __future__ import annotations

import atexit
import contextlib
import importlib
import os
import sys

# The package's pydantic models use no pydantic plugin; looking for installed ones reads the
# metadata of every distribution, on every command.
os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")

from bench_analytics.cli.app import app
from bench_analytics.errors import (
    EXIT_FAILURE,
    EXIT_INTERRUPTED,
    EXIT_STORE_UNREACHABLE,
    BenchError,
)

# Importing a command module registers its commands; --help lists them in this order.
for _module in (
    "run_cmds",
    "ingest",
    "store_cmds",
    "gate_cmds",
    "local_cmds",
    "notebook_cmds",
    "dashboard_cmd",
    "demo",
):
    importlib.import_module(f"bench_analytics.cli.{_module}")

__all__ = ["app", "main"]


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; every failure becomes one line on stderr and its exit code."""
    from bench_analytics.cli import render

    render.configure()
    try:
        app(args=argv, prog_name="bench-analytics")  # usage errors exit 2 by themselves
    except SystemExit as done:
        return done.code if isinstance(done.code, int) else 0
    except BenchError as error:
        for detail in error.details:
            render.note(detail)
        render.error(error.render(cli=True))
        return error.exit_code
    except KeyboardInterrupt:
        render.error("interrupted")
        return EXIT_INTERRUPTED
    except Exception as error:  # the one place that turns a crash into exit 4
        return _unexpected(error)
    return 0


def _unexpected(error: Exception) -> int:
    """Exit 3 for a lost connection, 4 for anything else; the traceback only when asked."""
    from bench_analytics.cli import render

    if os.environ.get("BENCH_DEBUG", "").lower() in {"1", "true", "yes"}:
        import traceback

        traceback.print_exception(error, file=sys.stderr)
    text = str(error).strip()
    first = text.splitlines()[0] if text else type(error).__name__
    if type(error).__module__.startswith("psycopg"):
        import psycopg

        if isinstance(error, psycopg.OperationalError):
            render.error(f"the store connection failed: {first}")
            return EXIT_STORE_UNREACHABLE
        render.error(f"the store refused the operation: {first}")
        return EXIT_FAILURE
    render.error(f"unexpected {type(error).__name__}: {first} (BENCH_DEBUG=1 shows the traceback)")
    return EXIT_FAILURE


def run() -> None:
    """Console-script entry point (and ``python -m bench_analytics``).

    The exit handlers (the embedded server's among them) run as usual; then the process
    leaves without tearing down every imported module, which would add ~50 ms to each
    command for nothing.
    """
    from bench_analytics.cli import render

    outcome = {"code": 1}
    atexit.register(_leave, outcome)  # registered first, so it runs after every other
    render.FAST_EXIT = True
    outcome["code"] = main()
    sys.exit(outcome["code"])


def _leave(outcome: dict[str, int]) -> None:
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a closed pipe: nothing more to say
            stream.flush()
    os._exit(outcome["code"])
