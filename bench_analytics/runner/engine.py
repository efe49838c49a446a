"""Run a provider over a case set: bounded concurrency, per-case scoring, one RunResult.

Nothing is written here: the caller writes the finished result, so an interrupted run
leaves nothing partial behind.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime

from bench_analytics.model import CaseResult, DatasetRef, Provenance, RunResult
from bench_analytics.runner.cases import Case, CaseSet
from bench_analytics.runner.parsing import AnswerError, parse_answer
from bench_analytics.runner.providers.base import Answer, Provider
from bench_analytics.runner.scoring import breakdowns, score_case
from bench_analytics.summary import case_scores, metrics_from_cases

OnCase = Callable[[CaseResult], None]


def case_result(case: Case, answer: Answer) -> CaseResult:
    """Score one answer; endpoint failures and unreadable answers become errored cases."""
    common = {
        "case_id": case.case_id,
        "latency_ms": None if answer.latency_ms is None else round(answer.latency_ms, 3),
        "input_tokens": answer.input_tokens,
        "output_tokens": answer.output_tokens,
        "cost_usd": answer.cost_usd,
    }
    details = {"raw_response": answer.raw}
    if answer.error:
        return CaseResult(status="error", error=answer.error, details=details, **common)
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


async def _run_cases(
    provider: Provider, cases: list[Case], concurrency: int, on_case: OnCase | None
) -> list[CaseResult]:
    gate = asyncio.Semaphore(concurrency)

    async def one(case: Case) -> CaseResult:
        async with gate:
            answer = await provider.answer(case)
        return case_result(case, answer)

    tasks = [asyncio.create_task(one(case)) for case in cases]
    results: dict[str, CaseResult] = {}
    try:
        for finished in asyncio.as_completed(tasks):
            result = await finished
            results[result.case_id] = result
            if on_case:
                on_case(result)
    finally:
        for task in tasks:
            task.cancel()
        await provider.close()
    return [results[case.case_id] for case in cases]


def run_benchmark(
    provider: Provider,
    case_set: CaseSet,
    *,
    concurrency: int = 8,
    on_case: OnCase | None = None,
) -> RunResult:
    """Run every case and return the result (scores, raw answers, breakdowns, cost)."""
    started = datetime.now(UTC)
    cases = asyncio.run(_run_cases(provider, case_set.cases, max(1, concurrency), on_case))
    finished = datetime.now(UTC)
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
