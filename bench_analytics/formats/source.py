"""Load a JSON file strictly: one clear error for empty files, merge conflicts, bad JSON, NaN."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from pydantic import ValidationError

from bench_analytics.errors import BadInputError

_CONFLICT = re.compile(r"^(<{7}|>{7})(?: |$)|^={7}$", re.MULTILINE)
# A JSON string, or a bare non-finite token outside strings.
_NON_FINITE = re.compile(r'"(?:[^"\\]|\\.)*"|(-?Infinity|NaN)')


@dataclass(frozen=True)
class Source:
    """A parsed file: its name for messages, its text and its JSON value."""

    name: str
    text: str
    data: Any


class _NonFinite:
    """Placeholder for a bare NaN/Infinity token, so its JSON path can be reported."""

    def __init__(self, token: str) -> None:
        self.token = token


def line_col(text: str, offset: int) -> tuple[int, int]:
    """1-based line and column of a character offset."""
    line = text.count("\n", 0, offset) + 1
    column = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return line, column


def _find_non_finite(value: Any, path: str = "") -> tuple[str, str] | None:
    if isinstance(value, _NonFinite):
        return path or "(top level)", value.token
    items: Iterable[tuple[Any, Any]]
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, list):
        items = ((f"[{i}]", v) for i, v in enumerate(value))
    else:
        return None
    for key, child in items:
        child_path = f"{path}{key}" if str(key).startswith("[") else f"{path}.{key}".lstrip(".")
        found = _find_non_finite(child, child_path)
        if found:
            return found
    return None


def _conflict(text: str, name: str) -> None:
    """Raise on an unresolved git merge-conflict marker at the start of a line."""
    marked = "<<<<<<<" in text or ">>>>>>>" in text or "\n=======" in text
    conflict = _CONFLICT.search(text) if marked else None
    if conflict:
        line, _ = line_col(text, conflict.start())
        marker = text[conflict.start() : text.find("\n", conflict.start())].strip()
        raise BadInputError(
            name,
            f"unresolved git merge-conflict marker '{marker}'",
            where=f"line {line}",
            hint="resolve the conflict (keep one side) or regenerate the results; "
            "results kept in the store never conflict",
        )


def parse_json_text(text: str, name: str) -> Any:
    """Parse ``text`` as JSON, turning every way it can be wrong into one BadInputError.

    The fast path parses first: a conflict marker starts a line, and no valid JSON has a
    line that starts with one (strings cannot hold a raw newline), so a file that parses
    has none and is not searched for them.
    """
    if not text or text.isspace():
        raise BadInputError(name, "the file is empty", hint="re-run the benchmark or remove it")
    try:
        return orjson.loads(text)  # fast path; strict: NaN/Infinity land in the slow path
    except orjson.JSONDecodeError:
        pass
    _conflict(text, name)
    try:
        data = json.loads(text, parse_constant=_NonFinite)
    except json.JSONDecodeError as exc:
        hint = "the file must hold one JSON document"
        first = text.lstrip()[:1]
        if first not in {"{", "["}:
            hint = "this looks like text, not JSON (a printed table?); export it as JSON"
        raise BadInputError(
            name,
            f"invalid JSON: {exc.msg}",
            where=f"line {exc.lineno}, column {exc.colno}",
            hint=hint,
        ) from None
    found = _find_non_finite(data)
    if found:
        path, token = found
        offset = next(m.start(1) for m in _NON_FINITE.finditer(text) if m.group(1))
        line, column = line_col(text, offset)
        raise BadInputError(
            name,
            f"{token} where a number is required",
            where=f"field {path} (line {line}, column {column})",
            hint="use null for a missing value or fix the producer",
        )
    return data


def load_source(path: Path) -> Source:
    """Read and parse one file."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise BadInputError(str(path), f"cannot read the file: {exc.strerror}") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise BadInputError(
            str(path), f"not UTF-8 text (byte {exc.start})", hint="save the file as UTF-8 JSON"
        ) from None
    return Source(str(path), text, parse_json_text(text, str(path)))


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
