"""Stable model keys: display names of every era map to one key, so renames never split history."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from bench_analytics.errors import BadInputError


@dataclass(frozen=True)
class KnownModel:
    """A model the package knows by key, with the names it has been shown under."""

    key: str
    provider: str
    calls_endpoint: bool
    aliases: tuple[str, ...]


KNOWN_MODELS: tuple[KnownModel, ...] = (
    KnownModel(
        "baseline",
        "heuristic",
        False,
        ("baseline", "heuristic baseline", "heuristic", "heuristic-baseline", "baseline-v1.0"),
    ),
    KnownModel("openai", "openai", True, ("openai", "openai gpt-4", "gpt-4", "openai-v1.0")),
    KnownModel(
        "gemini",
        "google",
        True,
        ("gemini", "google gemini 1.5 pro", "gemini-1.5-pro", "gemini-v1.0"),
    ),
    KnownModel(
        "medgemma",
        "google",
        True,
        ("medgemma", "google medgemma-4b-it", "medgemma-4b-it", "medgemma-v1.0"),
    ),
    KnownModel("gemma3", "google", True, ("gemma3", "google gemma-3-27b-it", "gemma-3-27b-it")),
    KnownModel(
        "medgemma-ensemble", "google", True, ("medgemma-ensemble", "medgemma-ensemble-v1.0")
    ),
)

_VERSION_SUFFIX = re.compile(r"-(v\d+(?:\.\d+)*)$", re.IGNORECASE)


def _normalise(name: str) -> str:
    return " ".join(name.strip().lower().split())


def slugify(name: str) -> str:
    """A key-shaped version of any name: lower case, words joined by '-'."""
    slug = re.sub(r"[^a-z0-9._]+", "-", _normalise(name)).strip("-._")
    return slug or "unnamed"


def _alias_table(extra_aliases: dict[str, str]) -> dict[str, str]:
    table = {_normalise(alias): known.key for known in KNOWN_MODELS for alias in known.aliases}
    table.update({_normalise(alias): key for alias, key in extra_aliases.items()})
    return table


def load_alias_file(path: Path) -> dict[str, str]:
    """Read a JSON object {display name: key} that teams keep for their own models."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise BadInputError(str(path), f"cannot read model aliases: {exc}") from exc
    if not isinstance(data, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in data.items()
    ):
        raise BadInputError(
            str(path), "model aliases must be a JSON object of strings", hint='{"GPT-4o": "openai"}'
        )
    return {alias: slugify(key) for alias, key in data.items()}


def model_key_for(display_name: str, extra_aliases: dict[str, str] | None = None) -> str:
    """The stable key for a display name: known alias, else the name without version suffix."""
    table = _alias_table(extra_aliases or {})
    name = _normalise(display_name)
    if name in table:
        return table[name]
    bare = _VERSION_SUFFIX.sub("", name)
    return table.get(bare, slugify(bare))


def version_from_name(display_name: str) -> str | None:
    """'baseline-v1.0' -> 'v1.0'; None when the name carries no version suffix."""
    match = _VERSION_SUFFIX.search(display_name.strip())
    return match.group(1) if match else None


def known_model(key: str) -> KnownModel | None:
    """The catalogue entry of a key, if the package knows it."""
    return next((known for known in KNOWN_MODELS if known.key == key), None)


def calls_endpoint(key: str, provider: str | None) -> bool:
    """False for rule-based models that run offline (they cannot have endpoint outages)."""
    known = known_model(key)
    if known is not None:
        return known.calls_endpoint
    return (provider or "").lower() not in {"heuristic", "baseline", "rules"}
