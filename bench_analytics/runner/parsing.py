"""Read a model's answer robustly: code fences, prose around the JSON, several shapes."""

from __future__ import annotations

import json
import re
from typing import Any

_FENCE = re.compile(r"```(?:json|JSON)?\s*(.*?)```", re.DOTALL)
_LIST_KEYS = ("issues", "detected_issues", "findings", "problems")


class AnswerError(ValueError):
    """The answer could not be read as a list of issues (recorded per case)."""


def _first_json(text: str) -> Any:
    """The first complete JSON object or array in ``text``."""
    decoder = json.JSONDecoder()
    for index, char in enumerate(text):
        if char in "[{":
            try:
                value, _ = decoder.raw_decode(text, index)
                return value
            except json.JSONDecodeError:
                continue
    raise AnswerError("no JSON object or array in the answer")


def _issues(value: Any) -> list[dict[str, Any]]:
    if isinstance(value, dict):
        for key in _LIST_KEYS:
            if key in value:
                value = value[key]
                break
        else:
            if {"type", "issue_type"} & value.keys():
                value = [value]
            else:
                raise AnswerError(f"JSON object without an issue list (keys: {', '.join(value)})")
    if not isinstance(value, list):
        raise AnswerError(f"issues must be a list, got {type(value).__name__}")
    if not all(isinstance(item, dict) for item in value):
        raise AnswerError("every issue must be a JSON object")
    return value


def parse_answer(text: str | None) -> list[dict[str, Any]]:
    """The issues in an answer; AnswerError says why when there are none to read."""
    if text is None or not text.strip():
        raise AnswerError("empty answer")
    fenced = _FENCE.search(text)
    candidates = [fenced.group(1)] if fenced else []
    candidates.append(text)
    error: AnswerError | None = None
    for candidate in candidates:
        try:
            return _issues(_first_json(candidate))
        except AnswerError as exc:
            error = exc
    assert error is not None
    raise error
