"""Errors the package raises on purpose, each with the exit code a face maps it to.

Exit codes: 0 ok, 1 significant regression (and nothing else), 2 bad input, usage or
configuration, 3 store unreachable or schema too old, 4 any other failure.

A library message never names a command-line flag: an error may carry a ``hint`` for
Python callers and a ``cli_hint`` that the command line shows instead.
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_REGRESSION = 1
EXIT_BAD_INPUT = 2
EXIT_STORE_UNREACHABLE = 3
EXIT_FAILURE = 4
EXIT_INTERRUPTED = 130


class BenchError(Exception):
    """Base class of every error the package raises on purpose."""

    exit_code = EXIT_BAD_INPUT

    def __init__(
        self,
        message: str,
        *,
        hint: str | None = None,
        cli_hint: str | None = None,
        details: list[str] | None = None,
    ) -> None:
        self.message = message
        self.hint = hint
        self.cli_hint = cli_hint
        self.details = details or []  # one line each, shown before the message
        super().__init__(self.render())

    def render(self, *, cli: bool = False) -> str:
        """The message with the hint for the face that shows it."""
        hint = (self.cli_hint or self.hint) if cli else self.hint
        return f"{self.message} ({hint})" if hint else self.message


class BadInputError(BenchError):
    """A file, field or argument is wrong; nothing was written.

    The message names the source (file), where in it (line, column or field),
    what is wrong and, when known, what to do about it.
    """

    exit_code = EXIT_BAD_INPUT

    def __init__(
        self,
        source: str,
        problem: str,
        *,
        where: str | None = None,
        hint: str | None = None,
        cli_hint: str | None = None,
        details: list[str] | None = None,
    ) -> None:
        self.source = source
        self.where = where
        self.problem = problem
        head = f"{source}: {where}: " if where else f"{source}: "
        super().__init__(head + problem, hint=hint, cli_hint=cli_hint, details=details)


class UsageError(BenchError):
    """The call cannot work as made (unknown model, ambiguous configuration, bad setting)."""

    exit_code = EXIT_BAD_INPUT


class StoreUnavailableError(BenchError):
    """The Postgres store cannot be reached (after retries), or is not configured."""

    exit_code = EXIT_STORE_UNREACHABLE


class SchemaError(StoreUnavailableError):
    """The store's schema is older (or newer) than this package expects."""


class OperationFailedError(BenchError):
    """The store refused an operation (permissions, a broken invariant): nothing was changed."""

    exit_code = EXIT_FAILURE


class RegressionFound(BenchError):
    """A gated metric regressed significantly and the caller asked to fail on it."""

    exit_code = EXIT_REGRESSION
