"""Errors the CLI turns into exit codes: bad input (2), store unreachable (3)."""

from __future__ import annotations

EXIT_OK = 0
EXIT_REGRESSION = 1
EXIT_BAD_INPUT = 2
EXIT_STORE_UNREACHABLE = 3


class BenchError(Exception):
    """Base class of every error the package raises on purpose."""

    exit_code = EXIT_BAD_INPUT


class BadInputError(BenchError):
    """A file, field or argument is wrong; nothing was written.

    The message names the source (file), where in it (line, column or field),
    what is wrong and, when known, what to do about it.
    """

    exit_code = EXIT_BAD_INPUT

    def __init__(
        self, source: str, problem: str, *, where: str | None = None, hint: str | None = None
    ) -> None:
        self.source = source
        self.where = where
        self.problem = problem
        self.hint = hint
        super().__init__(self.render())

    def render(self) -> str:
        head = f"{self.source}: {self.where}: " if self.where else f"{self.source}: "
        text = head + self.problem
        if self.hint:
            text += f" ({self.hint})"
        return text


class UsageError(BenchError):
    """The command was called in a way that cannot work (unknown model, ambiguous config)."""

    exit_code = EXIT_BAD_INPUT


class StoreUnavailableError(BenchError):
    """The Postgres store cannot be reached (after retries)."""

    exit_code = EXIT_STORE_UNREACHABLE
