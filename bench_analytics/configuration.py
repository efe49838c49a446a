"""What a history of versions belongs to: one model on one dataset, prompt and environment;
and which runs a grouped read looks at.

Its own small module (no pydantic), so that reading the store never loads the result model.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple


class Configuration(NamedTuple):
    """(model key, dataset version, prompt version, environment): one line of history."""

    model: str
    dataset: str
    prompt: str
    environment: str

    def __str__(self) -> str:
        return "/".join(self)

    @property
    def subject(self) -> str:
        """'medgemma on demo-patients-v1 / v2-structured / local' (for reports)."""
        return f"{self.model} on {self.dataset} / {self.prompt} / {self.environment}"


@dataclass(frozen=True)
class RunFilter:
    """Which runs to look at: None (or empty) means any; ``since``/``until`` bound run time
    (since inclusive, until exclusive)."""

    models: tuple[str, ...] | None = None
    environments: tuple[str, ...] | None = None
    datasets: tuple[str, ...] | None = None
    prompts: tuple[str, ...] | None = None
    since: datetime | None = None
    until: datetime | None = None
