"""What every provider gives the runner: an identity and an answer per case."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from bench_analytics.model import ModelRef
from bench_analytics.runner.cases import Case


@dataclass
class Answer:
    """A model's answer to one case, or why there is none (endpoint failure)."""

    raw: str | None
    error: str | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    latency_ms: float | None = None
    cost_usd: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class Provider(Protocol):
    """A model to run: who it is, which prompt, and how to ask it about one case."""

    model: ModelRef
    prompt_version: str
    description: dict[str, Any]

    async def answer(self, case: Case) -> Answer: ...

    async def close(self) -> None: ...


def render_case(case: Case) -> str:
    """The user message: the patient, their history and every document, as plain text."""
    patient = case.patient
    lines = [
        f"Case {case.case_id}",
        f"Patient: {patient.name or 'unknown'}, age {patient.age}, sex {patient.sex}, "
        f"born {patient.date_of_birth}",
    ]
    for key, value in case.history.items():
        if value:
            shown = ", ".join(map(str, value)) if isinstance(value, list) else str(value)
            lines.append(f"{key.replace('_', ' ').capitalize()}: {shown}")
    if case.visit:
        for key, value in case.visit.items():
            shown = ", ".join(map(str, value)) if isinstance(value, list) else str(value)
            lines.append(f"Visit {key.replace('_', ' ')}: {shown}")
    for document in case.documents:
        lines += [
            "",
            f"--- {document.document_type} ({document.document_id}) ---",
            document.content,
        ]
    return "\n".join(lines)
