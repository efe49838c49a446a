"""Replay: re-score the raw answers recorded in an earlier result, without any network."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bench_analytics.errors import BadInputError
from bench_analytics.formats import read_file
from bench_analytics.runner.cases import Case
from bench_analytics.runner.providers.base import Answer


class ReplayProvider:
    """Answers every case with what the recorded run answered (or its recorded failure)."""

    def __init__(self, path: Path) -> None:
        runs = read_file(path)
        if len(runs) != 1:
            raise BadInputError(str(path), f"holds {len(runs)} results; replay needs one")
        run = runs[0]
        self.recorded = {case.case_id: case for case in run.cases}
        if not any("raw_response" in case.details for case in run.cases):
            raise BadInputError(
                str(path),
                "records no raw answers (details.raw_response)",
                hint="replay needs a result written by `bench-analytics run`",
            )
        self.model = run.model
        self.prompt_version = run.prompt_version
        self.description: dict[str, Any] = {
            "provider": "replay",
            "source": Path(path).name,
            "source_sha256": run.content_sha256(),
        }

    async def answer(self, case: Case) -> Answer:
        recorded = self.recorded.get(case.case_id)
        if recorded is None:
            return Answer(raw=None, error=f"no recorded answer for case {case.case_id}")
        raw = recorded.details.get("raw_response")
        return Answer(
            raw=raw,
            error=recorded.error if raw is None and recorded.status == "error" else None,
            input_tokens=recorded.input_tokens,
            output_tokens=recorded.output_tokens,
            latency_ms=recorded.latency_ms,
            cost_usd=recorded.cost_usd,
            extra={k: v for k, v in recorded.details.items() if k == "usage_note"},
        )

    async def close(self) -> None:
        return None
