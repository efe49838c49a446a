"""Parse a result file's bytes strictly: what the store and the readers can take, or one error.

The fast path is orjson's parse plus three checks that are exact yet cost a few passes of
``bytes.count`` and one ``orjson.dumps`` of the parsed value:

* **NUL** (``\\u0000``, which PostgreSQL text and JSONB refuse): JSON can only spell it
  as that escape (a raw control character is invalid JSON), so it is searched in the raw
  bytes, each hit checked for an odd run of backslashes in front of it.
* **Nesting deeper than** ``MAX_DEPTH`` levels: ``orjson.dumps`` refuses exactly those
  (its limit; the pydantic serialiser stops a few levels further), so a value it writes is
  shallow enough.
* **Duplicate keys** (orjson, like ``json``, keeps the last silently): the parsed value
  written back by orjson in the file's layout is byte for byte the file when the file was
  written by this package or orjson (then no pair was dropped). Otherwise colons are
  counted: every key/value pair is one ``:`` outside strings, and every ``:`` inside a
  string is a literal colon or the escape ``\\u003a``; the value written back has one
  ``:`` per pair it kept plus the same colons in strings. Equal counts: nothing dropped.

Anything else, and every file orjson refuses, goes to the slow path: ``json.loads`` with
hooks that mark NaN, numbers beyond a double, and duplicate keys, then one walk that finds
the first problem and says where. A file accepted is always orjson's parse, so content
hashes do not depend on which path ran.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

import orjson

from bench_analytics.canonical import nul_offset
from bench_analytics.errors import BadInputError

MAX_DEPTH = 254  # levels of nested arrays/objects: `[]` is 1; orjson writes up to 254
BOM = b"\xef\xbb\xbf"
_ESCAPES = b"\\u00"  # the prefix of both escapes the fast checks care about (NUL, colon)
_CONFLICT = re.compile(r"^(<{7}|>{7})(?: |$)|^={7}$", re.MULTILINE)
_NON_FINITE = re.compile(r'"(?:[^"\\]|\\.)*"|(-?Infinity|NaN)')
_STRUCTURE = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]')
_INDENT = orjson.OPT_INDENT_2
_PATH_MAX = 160  # characters of a field path shown in a message


class NonFiniteNumber(BadInputError):
    """A bare NaN/Infinity token: refused, unless the reader of the format takes them."""


class _Marker:
    """A value the slow parse could not take as it is, kept so its path can be reported."""

    def __init__(self, token: str) -> None:
        self.token = token


class _NonFinite(_Marker):
    """A bare NaN/Infinity token."""


class _TooLarge(_Marker):
    """A number beyond the range of a 64-bit float (orjson refuses it; so do we)."""


class _Duplicate(_Marker):
    """An object in which ``token`` is a key twice."""


def line_col(text: str, offset: int) -> tuple[int, int]:
    """1-based line and column of a character offset."""
    line = text.count("\n", 0, offset) + 1
    column = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return line, column


def _byte_line_col(raw: bytes, offset: int) -> tuple[int, int]:
    """1-based line and column (in characters) of a byte offset."""
    start = raw.rfind(b"\n", 0, offset) + 1
    column = len(raw[start:offset].decode("utf-8", "replace")) + 1
    return raw.count(b"\n", 0, offset) + 1, column


def _certainly_fine(raw: bytes, data: Any) -> bool:
    """No NUL, no nesting beyond MAX_DEPTH, no duplicate key: exact, in C passes only.

    ``data`` is written back in the file's own layout (two-space indent, as ``run`` and
    ``convert`` write, or compact): bytes equal to the file's prove that no key was
    dropped with one comparison; otherwise the colons are counted.
    """
    escapes = _ESCAPES in raw
    if escapes and nul_offset(raw) is not None:
        return False
    try:
        written = orjson.dumps(data, option=_INDENT if raw[1:4] == b"\n  " else 0)
    except orjson.JSONEncodeError:  # nesting beyond what orjson writes (MAX_DEPTH)
        return False
    if len(raw) - len(written) in (0, 1) and raw.startswith(written):
        return raw[len(written) :] in (b"", b"\n")
    colons = raw.count(b":")
    if escapes:
        colons += raw.count(b"\\u003a") + raw.count(b"\\u003A")
    return written.count(b":") == colons


def parse_json_bytes(raw: bytes, name: str, *, non_finite: bool = False) -> Any:
    """Parse ``raw`` (UTF-8 JSON, a BOM allowed); every way it can be wrong is one
    BadInputError naming the line or field. ``non_finite`` takes the bare NaN, Infinity
    and -Infinity tokens some tools write as floats (for readers that say what they mean)."""
    if raw.startswith(BOM):
        raw = raw[len(BOM) :]
    if not raw or raw.isspace():
        raise BadInputError(name, "the file is empty", hint="re-run the benchmark or remove it")
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        lenient = _explain(raw, name, non_finite=non_finite)  # raises for what it knows
        if non_finite and lenient is not _NOTHING:
            return lenient
        raise BadInputError(
            name,
            f"invalid JSON: {exc.msg}",
            where=f"line {exc.lineno}, column {exc.colno}",
            hint="the file must hold one JSON document in UTF-8",
        ) from None
    if not _certainly_fine(raw, data):
        _explain(raw, name)  # raises on a real problem; a false alarm returns
    return data


def parse_json_text(text: str, name: str) -> Any:
    """``parse_json_bytes`` of a text."""
    return parse_json_bytes(text.encode("utf-8", "surrogatepass"), name)


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


def _int(token: str) -> Any:
    return _TooLarge(token) if math.isinf(float(token)) else int(token)


def _float(token: str) -> Any:
    value = float(token)
    return _TooLarge(token) if math.isinf(value) else value


def _pairs(pairs: list[tuple[str, Any]]) -> Any:
    value = dict(pairs)
    if len(value) == len(pairs):
        return value
    seen: set[str] = set()
    for key, _ in pairs:
        if key in seen:
            return _Duplicate(key)
        seen.add(key)
    raise AssertionError("unreachable")  # pragma: no cover


_NOTHING = object()  # what _explain returns when it was not asked for the data


def _explain(raw: bytes, name: str, *, non_finite: bool = False) -> Any:
    """Raise the BadInputError that says what is wrong with ``raw`` (BOM stripped), or
    return when the slow parse finds nothing (a false alarm of the fast checks). With
    ``non_finite``, NaN and Infinity are floats, and the parsed data is returned."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadInputError(
            name, f"not UTF-8 text (byte {exc.start})", hint="save the file as UTF-8 JSON"
        ) from None
    _conflict(text, name)
    try:
        data = json.loads(
            text,
            parse_constant=float if non_finite else _NonFinite,
            parse_int=_int,
            parse_float=_float,
            object_pairs_hook=_pairs,
        )
    except RecursionError:
        _too_deep(text, name)
        raise  # pragma: no cover - the text scan finds the level json could not reach
    except json.JSONDecodeError as exc:
        hint = "the file must hold one JSON document"
        if text.lstrip()[:1] not in {"{", "["}:
            hint = "this looks like text, not JSON (a printed table?); export it as JSON"
        raise BadInputError(
            name,
            f"invalid JSON: {exc.msg}",
            where=f"line {exc.lineno}, column {exc.colno}",
            hint=hint,
        ) from None
    _report(_first_problem(data), raw, text, name)
    return data if non_finite else _NOTHING


def _first_problem(data: Any) -> tuple[str, str, Any] | None:
    """(kind, field path, detail) of the first problem in document order, or None.

    Kinds: ``deep`` (nesting beyond MAX_DEPTH), ``non-finite``, ``too-large``,
    ``duplicate`` (detail: the key), ``nul`` (a string or key with a NUL character).
    """
    kinds = {_NonFinite: "non-finite", _TooLarge: "too-large", _Duplicate: "duplicate"}
    stack: list[tuple[str, Any, int, str]] = [("", data, 1, "")]
    while stack:
        path, value, depth, key = stack.pop()
        if "\x00" in key:
            return "nul", path, key
        if isinstance(value, _Marker):
            return kinds[type(value)], path, value.token
        if isinstance(value, str):
            if "\x00" in value:
                return "nul", path, value
            continue
        if not isinstance(value, dict | list):
            continue
        if depth > MAX_DEPTH:
            return "deep", path, depth
        if isinstance(value, dict):
            items = [(f"{path}.{k}" if path else k, v, depth + 1, k) for k, v in value.items()]
        else:
            items = [(f"{path}[{i}]", v, depth + 1, "") for i, v in enumerate(value)]
        stack.extend(reversed(items))
    return None


def _shown(path: str) -> str:
    path = path or "(top level)"
    return path if len(path) <= _PATH_MAX else path[: _PATH_MAX - 1] + "…"


def _too_deep(text: str, name: str) -> None:
    """Raise for the first array/object nested deeper than MAX_DEPTH (found in the text)."""
    depth = 0
    for match in _STRUCTURE.finditer(text):
        char = match.group()
        if char in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                line, column = line_col(text, match.start())
                raise BadInputError(
                    name,
                    f"nesting deeper than {MAX_DEPTH} levels of arrays and objects",
                    where=f"line {line}, column {column}",
                    hint="a result is never nested this deep; fix the producer",
                )
        elif char in "]}":
            depth -= 1


def _token_offset(text: str, token: str) -> int | None:
    """Offset of ``token`` as a bare value (outside strings), or None."""
    pattern = re.compile(r'"(?:[^"\\]|\\.)*"|(?<![\w.+-])(' + re.escape(token) + r")(?![\w.])")
    return next((m.start(1) for m in pattern.finditer(text) if m.group(1)), None)


def _report(found: tuple[str, str, Any] | None, raw: bytes, text: str, name: str) -> None:
    """Raise the BadInputError for ``_first_problem``'s finding (nothing when None)."""
    if found is None:
        return
    kind, path, detail = found
    field = f"field {_shown(path)}"
    if kind == "deep":
        _too_deep(text, name)
        raise BadInputError(name, f"nesting deeper than {MAX_DEPTH} levels", where=field)
    if kind == "non-finite":
        first = next(m.start(1) for m in _NON_FINITE.finditer(text) if m.group(1))
        line, column = line_col(text, first)
        raise NonFiniteNumber(
            name,
            f"{detail} where a number is required",
            where=f"{field} (line {line}, column {column})",
            hint="use null for a missing value or fix the producer",
        )
    if kind == "too-large":
        shown = detail if len(detail) <= 24 else f"{detail[:12]}…({len(detail)} characters)"
        found_at = _token_offset(text, detail)
        place = (
            "" if found_at is None else " (line {}, column {})".format(*line_col(text, found_at))
        )
        raise BadInputError(
            name,
            f"number too large: {shown} is beyond the range of a 64-bit float (about 1.8e308)",
            where=field + place,
            hint="write it as a string if it is an identifier, or fix the producer",
        )
    if kind == "duplicate":
        raise BadInputError(
            name,
            f"key '{_shown(detail)}' appears twice in this object (JSON would keep the last "
            "silently)",
            where=field,
            hint="remove one of them, or fix the producer",
        )
    nul_at = nul_offset(raw)
    place = "" if nul_at is None else " (line {}, column {})".format(*_byte_line_col(raw, nul_at))
    raise BadInputError(
        name,
        "holds a NUL character (\\u0000), which the store cannot keep (PostgreSQL text and "
        "JSONB refuse it)",
        where=field + place,
        hint="remove the character, or fix the producer",
    )
