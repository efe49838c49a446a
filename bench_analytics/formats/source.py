"""Load a result file: read it once, refuse a torn read, parse it strictly (``strictjson``)."""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from pydantic import ValidationError

from bench_analytics.errors import BadInputError
from bench_analytics.formats.strictjson import (
    BOM,
    MAX_DEPTH,
    line_col,
    parse_json_bytes,
    parse_json_text,
)

__all__ = [
    "MAX_DEPTH",
    "Source",
    "format_loc",
    "line_col",
    "load_source",
    "parse_json_bytes",
    "parse_json_text",
    "read_bytes",
    "validation_failure",
]

Reader = Callable[[BinaryIO], bytes]


@dataclass(frozen=True)
class Source:
    """A parsed file: its name for messages, the bytes read and their JSON value."""

    name: str
    raw: bytes
    data: Any

    @property
    def text(self) -> str:
        """The bytes as text (a BOM dropped)."""
        return self.raw.removeprefix(BOM).decode("utf-8")


def read_all(handle: BinaryIO) -> bytes:
    """The whole file, in one read."""
    return handle.read()


def _unreadable(path: Path, error: OSError) -> BadInputError:
    hint = None
    if error.errno == errno.ELOOP:
        hint = "a symbolic link loop: fix or remove the link"
    elif error.errno == errno.ENOENT and path.is_symlink():
        hint = f"a broken symbolic link (to {os.readlink(path)}): fix or remove the link"
    return BadInputError(str(path), f"cannot read the file: {error.strerror}", hint=hint)


def read_bytes(path: Path, reader: Reader = read_all) -> bytes:
    """The bytes of ``path``, read once (``reader`` takes the open file).

    A regular file whose size or modification time changed while it was read (a writer
    rewrote it meanwhile) is refused: the bytes may be half old, half new.
    """
    try:
        with path.open("rb") as handle:
            before = os.fstat(handle.fileno())
            raw = reader(handle)
            after = os.fstat(handle.fileno())
    except OSError as exc:
        raise _unreadable(path, exc) from None
    changed = (before.st_size, before.st_mtime_ns) != (after.st_size, after.st_mtime_ns)
    if stat.S_ISREG(after.st_mode) and changed:
        raise BadInputError(
            str(path),
            "the file changed while it was being read",
            hint="try again once whatever writes it has finished",
        )
    return raw


def load_source(path: Path, reader: Reader = read_all, *, non_finite: bool = False) -> Source:
    """Read ``path`` once and parse those bytes as JSON (``non_finite``: NaN and Infinity
    tokens taken as floats, for the readers of tools that write them)."""
    raw = read_bytes(path, reader)
    return Source(str(path), raw, parse_json_bytes(raw, str(path), non_finite=non_finite))


def format_loc(loc: tuple[Any, ...]) -> str:
    """('individual_results', 3, 'tp') -> 'individual_results[3].tp'."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out.lstrip(".") or "(top level)"


def validation_failure(
    name: str, error: ValidationError, prefix: tuple[Any, ...] = ()
) -> BadInputError:
    """Turn a pydantic ValidationError into one BadInputError naming the first bad field."""
    problems = error.errors(include_url=False)
    first = problems[0]
    where = "field " + format_loc(prefix + tuple(first["loc"]))
    message = first["msg"].removeprefix("Value error, ")
    if first["type"] not in {"missing", "value_error"} and "input" in first:
        message += f", got {first['input']!r}"[:200]
    more = len(problems) - 1
    hint = f"{more} more problem{'s' if more > 1 else ''} in this file" if more else None
    return BadInputError(name, message, where=where, hint=hint)
