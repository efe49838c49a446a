"""Canonical JSON values: every mapping key-sorted, computed in C when the value allows it.

``sorted_keys`` is the definition. ``canonical`` gives the same result, fast, for values
that are plain JSON (everything a result file holds): orjson serialises them with and
without ``OPT_SORT_KEYS``; equal bytes mean the value is already canonical, otherwise the
sorted bytes are parsed back. Anything orjson would write differently from pydantic
(datetimes, subclasses, dataclasses, integers beyond 64 bits, non-string keys) makes it
fall back to ``sorted_keys``; so does a value that does not survive the round trip
unchanged (tuples, UUIDs, enums, NaN), so the result is always exactly ``sorted_keys``'s.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from itertools import repeat
from operator import attrgetter
from typing import Any

import orjson

# orjson hands these to ``default`` instead of serialising them itself; ``refuse`` then
# aborts, so orjson's output is only used where it is byte-for-byte pydantic's.
PLAIN = (
    orjson.OPT_PASSTHROUGH_DATETIME
    | orjson.OPT_PASSTHROUGH_DATACLASS
    | orjson.OPT_PASSTHROUGH_SUBCLASS
)
_SORTED = PLAIN | orjson.OPT_SORT_KEYS
_DICT = attrgetter("__dict__")


def refuse(value: Any) -> Any:
    """orjson ``default``: decline every type orjson does not serialise like pydantic."""
    raise TypeError(f"not plain JSON: {type(value).__name__}")


def sorted_keys(value: Any) -> Any:
    """The same value with every dict's keys in sorted order (for canonical JSON)."""
    if isinstance(value, dict):
        return {key: sorted_keys(value[key]) for key in sorted(value)}
    if isinstance(value, list):
        return [sorted_keys(item) for item in value]
    return value


def canonical(value: dict[str, Any]) -> dict[str, Any]:
    """``sorted_keys(value)``, computed by orjson when ``value`` is plain JSON.

    An already sorted value is returned as it is (no copy).
    """
    try:
        as_is = orjson.dumps(value, default=refuse, option=PLAIN)
        ordered = orjson.dumps(value, default=refuse, option=_SORTED)
    except orjson.JSONEncodeError:
        return _sorted_dict(value)
    if as_is == ordered:
        return value
    parsed: dict[str, Any] = orjson.loads(ordered)
    return parsed if parsed == value else _sorted_dict(value)


def _sorted_dict(value: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = sorted_keys(value)
    return result


def objects_json(
    objects: Sequence[object], cls: type, fields: Mapping[str, frozenset[type]]
) -> bytes | None:
    """The JSON array pydantic writes for ``objects`` (models of ``cls``), by orjson.

    Only when every object is exactly a ``cls`` whose ``__dict__`` holds ``fields`` in
    order, each value of one of the field's types, and nothing orjson would write
    differently (``refuse``); otherwise None, and the caller uses pydantic. So a model
    changed with ``model_copy`` (no validation: an int in a float field, an unknown key)
    is never written here. The checks run in C, one pass each.
    """
    if not objects:
        return b"[]"
    if set(map(type, objects)) != {cls}:
        return None
    rows = list(map(_DICT, objects))
    if set(map(tuple, rows)) != {tuple(fields)}:
        return None
    allowed = tuple(fields.values())
    for types in set(map(tuple, map(map, repeat(type), map(dict.values, rows)))):
        if not all(map(frozenset.__contains__, allowed, types)):
            return None
    try:
        return orjson.dumps(rows, default=refuse, option=PLAIN)
    except orjson.JSONEncodeError:
        return None


_NUL = b"\\u0000"


def nul_offset(raw: bytes) -> int | None:
    """Byte offset of the first ``\\u0000`` escape that is one (not ``\\\\u0000``), or None."""
    found = raw.find(_NUL)
    while found >= 0:
        run = found
        while run > 0 and raw[run - 1] == 0x5C:  # backslashes before this one
            run -= 1
        if (found - run) % 2 == 0:
            return found
        found = raw.find(_NUL, found + 1)
    return None
