"""Run a provider over a case set: bounded concurrency, per-case scoring, one RunResult.

Nothing is written here: the caller writes the finished result, so an interrupted run
leaves nothing partial behind. SIGINT (Ctrl-C) during a run stops it and raises
:class:`~bench_analytics.runner.interrupt.RunInterrupted` (a ``KeyboardInterrupt``),
whenever it arrives and whatever SIGINT's inherited disposition (see ``interrupt``).
A case never takes the run down: an endpoint failure, an unreadable answer, a provider
bug or a result that does not validate is one errored case with its reason.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from bench_analytics.model import CaseResult, DatasetRef, Provenance, RunResult
from bench_analytics.runner.cases import Case, CaseSet
from bench_analytics.runner.interrupt import RunInterrupted, SigintGuard, stop_on_sigint
from bench_analytics.runner.parsing import AnswerError, parse_answer
from bench_analytics.runner.providers.base import Answer, Provider
from bench_analytics.runner.scoring import breakdowns, score_case
from bench_analytics.summary import case_scores, metrics_from_cases

OnCase = Callable[[CaseResult], None]


def _validation_reason(error: ValidationError) -> str:
    """A pydantic error on one line: 'input_tokens: Input should be ... (got '12')'."""
    parts = []
    for item in error.errors():
        where = ".".join(map(str, item["loc"])) or "result"
        got = repr(item.get("input"))
        got = got if len(got) <= 60 else got[:57] + "..."
        parts.append(f"{where}: {item['msg']} (got {got})")
    return "; ".join(parts)


def _scored(case: Case, answer: Answer) -> CaseResult:
    latency = answer.latency_ms  # anything but a number is left to the model to reject
    common: dict[str, Any] = {
        "case_id": case.case_id,
        "latency_ms": round(latency, 3) if isinstance(latency, float | int) else latency,
        "input_tokens": answer.input_tokens,
        "output_tokens": answer.output_tokens,
        "cost_usd": answer.cost_usd,
    }
    details = {**answer.extra, "raw_response": answer.raw}
    if answer.error:
        return CaseResult(status="error", error=answer.error, details=details, **common)
    if answer.raw is not None and not isinstance(answer.raw, str):
        reason = f"the answer is {type(answer.raw).__name__}, not text"
        return CaseResult(status="error", error=reason, details=details, **common)
    try:
        issues = parse_answer(answer.raw)
    except AnswerError as error:
        return CaseResult(
            status="error", error=f"unparsable answer: {error}", details=details, **common
        )
    tp, fp, fn, scored = score_case(case, issues)
    f1 = case_scores(tp, fp, fn)[2]
    return CaseResult(
        tp=tp, fp=fp, fn=fn, score=round(f1, 6), details={**details, **scored}, **common
    )


def case_result(case: Case, answer: Answer) -> CaseResult:
    """Score one answer; endpoint failures, unreadable answers and results that do not
    validate (odd tokens, latency or cost from a provider) become errored cases."""
    try:
        return _scored(case, answer)
    except ValidationError as error:
        raw = answer.raw if isinstance(answer.raw, str) else None
        return CaseResult(
            case_id=case.case_id,
            status="error",
            error=f"invalid case result: {_validation_reason(error)}",
            details={"raw_response": raw},
        )


async def _answer(provider: Provider, case: Case) -> Answer:
    """The provider's answer; a provider bug costs this case, not the run."""
    try:
        return await provider.answer(case)
    except Exception as error:  # recorded as the case's reason
        return Answer(raw=None, error=f"provider error: {type(error).__name__}: {error}")


async def _run_cases(
    provider: Provider,
    cases: list[Case],
    concurrency: int,
    on_case: OnCase | None,
    guard: SigintGuard,
) -> list[CaseResult]:
    gate = asyncio.Semaphore(concurrency)

    async def one(case: Case) -> CaseResult:
        async with gate:
            answer = await _answer(provider, case)
        return case_result(case, answer)

    tasks: list[asyncio.Task[CaseResult]] = []
    results: dict[str, CaseResult] = {}
    current = asyncio.current_task()
    assert current is not None
    guard.attach(current)  # from here SIGINT cancels this task
    try:
        if guard.requested:  # SIGINT before the first request: ask nothing
            raise asyncio.CancelledError
        tasks = [asyncio.create_task(one(case)) for case in cases]
        for finished in asyncio.as_completed(tasks):
            result = await finished
            results[result.case_id] = result
            if on_case:
                on_case(result)
    finally:
        guard.detach()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await provider.close()
    return [results[case.case_id] for case in cases]


def run_benchmark(
    provider: Provider,
    case_set: CaseSet,
    *,
    concurrency: int = 8,
    on_case: OnCase | None = None,
) -> RunResult:
    """Run every case and return the result (scores, raw answers, breakdowns, cost).

    Raises RunInterrupted on SIGINT, whenever it arrives during the call: nothing is
    returned, so nothing can be written.
    """
    with stop_on_sigint() as guard:
        started = datetime.now(UTC)
        work = _run_cases(provider, case_set.cases, max(1, concurrency), on_case, guard)
        with asyncio.Runner() as runner:
            try:
                cases = runner.run(work)
            except asyncio.CancelledError:
                if guard.requested:
                    raise RunInterrupted from None
                raise
        finished = datetime.now(UTC)
        result = _result(provider, case_set, cases, started, finished, concurrency)
        guard.check()  # SIGINT after the last answer still means "stop, write nothing"
    return result


def _result(
    provider: Provider,
    case_set: CaseSet,
    cases: list[CaseResult],
    started: datetime,
    finished: datetime,
    concurrency: int,
) -> RunResult:
    metrics = metrics_from_cases(cases)
    for name in ("f1", "precision", "recall"):
        if f"{name}_micro" in metrics:
            metrics[name] = metrics[f"{name}_micro"]
    recalls, by_type = breakdowns(cases)
    metrics.update(recalls)
    return RunResult(
        model=provider.model,
        dataset=DatasetRef(
            name=case_set.name, version=case_set.version, declared_cases=len(case_set.cases)
        ),
        prompt_version=provider.prompt_version,
        benchmark_type="patients",
        started_at=started,
        finished_at=finished,
        averaging="micro",
        metrics=metrics,
        cases=cases,
        provenance=Provenance(source_format="native"),
        extra={
            "by_issue_type": by_type,
            "runner": provider.description,
            "concurrency": concurrency,
        },
    )
