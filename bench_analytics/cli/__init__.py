"""The ``bench-analytics`` command line: thin commands over the library."""

from __future__ import annotations

import sys

from bench_analytics.cli import ingest, store_cmds, demo  # noqa: F401, I001  (registers commands in this order)
from bench_analytics.cli.app import app
from bench_analytics.errors import BenchError

__all__ = ["app", "main"]


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; package errors become one line on stderr and their exit code."""
    from bench_analytics.cli.render import err

    try:
        app(args=argv, prog_name="bench-analytics", standalone_mode=False)
    except BenchError as error:
        err.print(f"[red]error:[/] {error}", soft_wrap=True, markup=True)
        return error.exit_code
    except KeyboardInterrupt:
        err.print("interrupted")
        return 130
    except SystemExit as done:
        return done.code if isinstance(done.code, int) else 0
    return 0


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())
