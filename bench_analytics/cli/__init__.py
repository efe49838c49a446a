"""The ``bench-analytics`` command line: thin commands over the library."""

from __future__ import annotations

import importlib
import sys

from bench_analytics.cli.app import app
from bench_analytics.errors import EXIT_STORE_UNREACHABLE, BenchError

# Importing a command module registers its commands; --help lists them in this order.
for _module in ("run_cmds", "ingest", "store_cmds", "gate_cmds", "local_cmds", "demo"):
    importlib.import_module(f"bench_analytics.cli.{_module}")

__all__ = ["app", "main"]


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; package errors become one line on stderr and their exit code."""
    from bench_analytics.cli.render import err

    try:
        app(args=argv, prog_name="bench-analytics")  # usage errors exit 2 by themselves
    except BenchError as error:
        err.print(f"[red]error:[/] {error}", soft_wrap=True, markup=True)
        return error.exit_code
    except Exception as error:
        if not type(error).__module__.startswith("psycopg"):
            raise
        import psycopg

        code = EXIT_STORE_UNREACHABLE if isinstance(error, psycopg.OperationalError) else 1
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else repr(error)
        err.print(f"[red]error:[/] the store refused the operation: {first_line}", markup=True)
        return code
    except SystemExit as done:
        return done.code if isinstance(done.code, int) else 0
    return 0


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())
