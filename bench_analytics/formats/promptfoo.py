"""Reader for promptfoo's ``promptfoo eval -o out.json`` output (results versions 2 and 3).

One run per prompt x provider (``results.prompts[]``, or ``results.table.head.prompts[]`` in
version 2), joined with ``results.results[]`` by ``promptIdx`` (version 2 files that lack it:
by provider and prompt label). Each test is a case (``testIdx`` as its id); a test whose
provider errored (``failureReason`` 2, or no grading at all next to an ``error``) is an
errored case, so a run of rate-limit errors is an outage, never a 0 % pass rate.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta
from typing import Any

from pydantic import Field

from bench_analytics.errors import BadInputError
from bench_analytics.formats.common import LegacyModel, ReadOptions, validated
from bench_analytics.formats.external import (
    DIRECTIONS,
    SCORE_METRIC,
    TEXT_MAX,
    count,
    directions,
    mapping,
    number,
    prompt_version,
    short,
    tool_dataset,
    tool_model,
)
from bench_analytics.formats.source import Source
from bench_analytics.model import (
    NAME_MAX,
    CaseResult,
    Count,
    NonNegativeNumber,
    Provenance,
    RunResult,
)
from bench_analytics.naming import slugify

NAME = "promptfoo"
DESCRIPTION = "promptfoo eval -o output (results version 2 or 3): a run per prompt x provider"
CASES_FIELD = "results.results"
SUPPORTED_VERSIONS = (2, 3)
ERROR_REASON = 2  # promptfoo's ResultFailureReason: 0 none, 1 assertion failed, 2 error
NAMED_PREFIX = "named_score."


class _Provider(LegacyModel):
    id: str | None = None
    label: str | None = None


class _Result(LegacyModel):
    promptIdx: Count | None = None  # promptfoo's field names
    testIdx: Count | None = None
    provider: _Provider | str | None = None
    prompt: dict[str, Any] | None = None
    vars: dict[str, Any] | None = None
    testCase: dict[str, Any] | None = None
    description: str | None = None
    response: dict[str, Any] | None = None
    success: bool
    score: float | None = None
    latencyMs: NonNegativeNumber | None = None
    cost: NonNegativeNumber | None = None
    error: str | None = None
    failureReason: int | None = None
    gradingResult: dict[str, Any] | None = None
    namedScores: dict[str, Any] | None = None
    tokenUsage: dict[str, Any] | None = None


class _Metrics(LegacyModel):
    testPassCount: Count | None = None
    testFailCount: Count | None = None
    testErrorCount: Count | None = None
    assertPassCount: Count | None = None
    assertFailCount: Count | None = None
    cost: NonNegativeNumber | None = None
    tokenUsage: dict[str, Any] | None = None


class _Prompt(LegacyModel):
    raw: str
    label: str | None = None
    display: str | None = None  # the label's name in early version-2 files
    id: str | None = None
    provider: str | None = None
    metrics: _Metrics | None = None


class _Head(LegacyModel):
    prompts: list[_Prompt]


class _Table(LegacyModel):
    head: _Head
    body: list[Any] = Field(default_factory=list)


class _Summary(LegacyModel):
    version: int
    timestamp: datetime | None = None
    prompts: list[_Prompt] | None = None
    table: _Table | None = None
    results: list[_Result]
    stats: dict[str, Any] | None = None


def _summary(data: Any) -> tuple[dict[str, Any], str] | None:
    """The EvaluateSummary and where it sits: ``results`` of an ``eval -o`` file, or the
    summary itself (written from the library)."""
    if not isinstance(data, dict):
        return None
    inner = data.get("results")
    if isinstance(inner, dict) and isinstance(inner.get("results"), list):
        return (inner, "results.") if "version" in inner and "stats" in inner else None
    if isinstance(inner, list) and "version" in data and isinstance(data.get("stats"), dict):
        return (data, "") if "prompts" in data or "table" in data else None
    return None


def matches(data: Any) -> bool:
    """An ``eval -o`` file: ``results`` with a version, a results list and stats."""
    return _summary(data) is not None


def _is_error(result: _Result) -> bool:
    if result.failureReason is not None:
        return result.failureReason == ERROR_REASON
    provider_error = bool((result.response or {}).get("error"))
    return result.gradingResult is None and (bool(result.error) or provider_error)


def _reason(result: _Result) -> str:
    text = result.error or str((result.response or {}).get("error") or "") or "provider error"
    line = text.strip().splitlines()[0] if text.strip() else "provider error"
    return line[:TEXT_MAX]


def _assertions(grading: dict[str, Any] | None) -> list[dict[str, Any]]:
    out = []
    for part in (grading or {}).get("componentResults") or []:
        if not isinstance(part, dict):
            continue
        assertion = mapping(part.get("assertion"))
        item = {
            "type": assertion.get("type"),
            "metric": assertion.get("metric"),
            "pass": part.get("pass"),
            "score": number(part.get("score")),
        }
        out.append({key: value for key, value in item.items() if value is not None})
    return out[:50]


def _case(result: _Result, case_id: str) -> CaseResult:
    usage = (result.response or {}).get("tokenUsage") or result.tokenUsage or {}
    usage = usage if isinstance(usage, dict) else {}
    grading = result.gradingResult or {}
    named = {k: v for k, v in (result.namedScores or {}).items() if number(v) is not None}
    output = (result.response or {}).get("output")
    errored = _is_error(result)
    score = None if errored else result.score
    if score is None and not errored:
        score = number(grading.get("score"))
    details = {
        "pass": result.success,
        "description": _description(result),
        "vars": {k: short(v) for k, v in list((result.vars or {}).items())[:20]} or None,
        "output": short(output) if output is not None else None,
        "reason": short(grading.get("reason")) if not errored else None,
        "named_scores": named or None,
        "assertions": _assertions(grading) or None,
    }
    return CaseResult(
        case_id=case_id,
        status="error" if errored else "ok",
        score=score,
        latency_ms=result.latencyMs,
        input_tokens=count(usage.get("prompt")),
        output_tokens=count(usage.get("completion")),
        cost_usd=result.cost,
        error=_reason(result) if errored else None,
        details={key: value for key, value in details.items() if value is not None},
    )


def _description(result: _Result) -> str | None:
    described = (result.testCase or {}).get("description") or result.description
    return described if isinstance(described, str) else None


def _label(prompt: dict[str, Any] | _Prompt | None) -> str | None:
    if isinstance(prompt, _Prompt):
        return prompt.label or prompt.display
    return (prompt or {}).get("label") or (prompt or {}).get("display")


def _provider(result: _Result) -> tuple[str | None, str | None]:
    if isinstance(result.provider, str):
        return result.provider, None
    if result.provider is None:
        return None, None
    return result.provider.id, result.provider.label or None


def _prompt_index(result: _Result, prompts: list[_Prompt]) -> int | None:
    """``promptIdx``, or (version 2 files without it) the prompt of the same provider and
    label."""
    if result.promptIdx is not None:
        return result.promptIdx
    provider_id, provider_label = _provider(result)
    for index, prompt in enumerate(prompts):
        same_provider = prompt.provider in {provider_id, provider_label}
        if same_provider and _label(prompt) == _label(result.prompt):
            return index
    return None


def _case_id(result: _Result, rows: list[Any]) -> str:
    """``testIdx``; in version 2 files without it, the table row of the same vars."""
    if result.testIdx is not None:
        return str(result.testIdx)
    for index, row in enumerate(rows):
        test = row.get("test") if isinstance(row, dict) else None
        if isinstance(test, dict) and test.get("vars") == result.vars:
            return str(index)
    digest = hashlib.sha256(_canonical(result.vars).encode()).hexdigest()[:12]
    return f"vars-{digest}"


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)


def _refuse_version(source: str, summary: dict[str, Any], prefix: str) -> None:
    version = summary.get("version")
    if isinstance(version, int) and not isinstance(version, bool) and version in SUPPORTED_VERSIONS:
        return
    raise BadInputError(
        source,
        f"promptfoo results version {version!r} is not supported (versions 2 and 3 are)",
        where=f"field {prefix}version",
        hint="export the eval with a current promptfoo: promptfoo export <evalId> -o out.json",
    )


def _metrics(cases: list[CaseResult], results: list[_Result], prompt: _Prompt) -> dict[str, float]:
    ok = [
        (case, result) for case, result in zip(cases, results, strict=True) if case.status == "ok"
    ]
    out: dict[str, float] = {}
    if ok:
        out["pass_rate"] = sum(1 for _, result in ok if result.success) / len(ok)
        scores = [case.score for case, _ in ok if case.score is not None]
        if scores:
            out["score"] = sum(scores) / len(scores)
        named: dict[str, list[float]] = {}
        for case, _ in ok:
            for name, value in case.details.get("named_scores", {}).items():
                named.setdefault(name, []).append(float(value))
        for name, values in sorted(named.items()):
            out[(NAMED_PREFIX + name)[:NAME_MAX]] = sum(values) / len(values)
    metrics = prompt.metrics
    if metrics is not None:
        asserts = (metrics.assertPassCount or 0) + (metrics.assertFailCount or 0)
        if asserts:
            out["assert_pass_rate"] = (metrics.assertPassCount or 0) / asserts
        if metrics.cost is not None:
            out["cost_usd"] = float(metrics.cost)
        usage = metrics.tokenUsage or {}
        for field, name in (("prompt", "input_tokens"), ("completion", "output_tokens")):
            if count(usage.get(field)) is not None:
                out[name] = float(usage[field])
        if count(usage.get("total")) is not None:
            out["total_tokens"] = float(usage["total"])
    return out


def _declared(prompt: _Prompt) -> int | None:
    metrics = prompt.metrics
    counts = (metrics.testPassCount, metrics.testFailCount) if metrics else (None, None)
    if metrics is None or None in counts:
        return None
    return sum(count or 0 for count in (*counts, metrics.testErrorCount))


def _run(
    index: int,
    prompt: _Prompt,
    pairs: list[tuple[_Result, str]],
    doc: _Summary,
    data: dict[str, Any],
    options: ReadOptions,
) -> RunResult:
    results = [result for result, _ in pairs]
    cases = [_case(result, case_id) for result, case_id in pairs]
    provider_id, provider_label = _provider(results[0]) if results else (prompt.provider, None)
    provider_id = provider_id or prompt.provider or "unknown-provider"
    vendor = provider_id.split(":", 1)[0] if ":" in provider_id else None
    model = tool_model(
        provider_id, options, None if vendor in {"file", "http", "https"} else vendor
    )
    model = model.model_copy(update={"display_name": provider_label or provider_id})
    config = mapping(data.get("config"))
    suite = config.get("description") if isinstance(config.get("description"), str) else None
    tests = sorted(
        (
            [case_id, case.details.get("description"), result.vars]
            for (result, case_id), case in zip(pairs, cases, strict=True)
        ),
        key=lambda test: str(test[0]),
    )
    tests_hash = hashlib.sha256(_canonical(tests).encode()).hexdigest()[:8]
    dataset = tool_dataset(slugify(suite or "promptfoo"), tests_hash, len(cases), options)
    declared = _declared(prompt)
    dataset = dataset.model_copy(update={"name": suite or "promptfoo", "declared_cases": declared})
    metrics = _metrics(cases, results, prompt)
    duration = count((doc.stats or {}).get("durationMs"))
    finished = (
        doc.timestamp + timedelta(milliseconds=duration) if doc.timestamp and duration else None
    )
    meta = mapping(data.get("metadata"))
    scored = any(case.score is not None for case in cases)
    better = {name: True for name in metrics if name in {"pass_rate", "score", "assert_pass_rate"}}
    better.update({name: True for name in metrics if name.startswith(NAMED_PREFIX)})
    extra = {
        DIRECTIONS: directions(better),
        SCORE_METRIC: "score" if scored else None,
        "results_version": doc.version,
        "prompt_index": index,
        "prompt_label": short(_label(prompt)),
        "prompt_id": prompt.id,
        "promptfoo_version": meta.get("promptfooVersion"),
    }
    eval_id = data.get("evalId")
    return RunResult(
        model=model,
        dataset=dataset,
        prompt_version=prompt_version(hashlib.sha256(prompt.raw.encode()).hexdigest()),
        benchmark_type="promptfoo",
        started_at=doc.timestamp,
        finished_at=finished,
        metrics=metrics,
        cases=cases,
        provenance=Provenance(
            source_format=NAME, run_id=eval_id if isinstance(eval_id, str) else None
        ),
        extra={key: value for key, value in extra.items() if value is not None},
    )


def read(source: Source, options: ReadOptions) -> list[RunResult]:
    """One RunResult per prompt x provider of the file."""
    found = _summary(source.data)
    if found is None:
        raise BadInputError(
            source.name,
            "not a promptfoo output: expected 'results' with 'version', 'results' and 'stats'",
            hint="write it with promptfoo eval -o out.json",
        )
    summary, prefix = found
    _refuse_version(source.name, summary, prefix)
    where = tuple(prefix.rstrip(".").split(".")) if prefix else ()
    doc = validated(_Summary, summary, source.name, where)
    prompts = (
        doc.prompts if doc.prompts is not None else doc.table.head.prompts if doc.table else None
    )
    if not prompts:
        raise BadInputError(
            source.name,
            "names no prompts (results.prompts, or results.table.head.prompts in version 2)",
            where=f"field {prefix}prompts",
            hint="a truncated or hand-edited file; export the eval again",
        )
    rows = doc.table.body if doc.table else []
    grouped: dict[int, list[tuple[_Result, str]]] = {index: [] for index in range(len(prompts))}
    for position, result in enumerate(doc.results):
        index = _prompt_index(result, prompts)
        if index is None or index not in grouped:
            raise BadInputError(
                source.name,
                f"joins no prompt (promptIdx {index!r}, {len(prompts)} prompts)",
                where=f"field {prefix}results[{position}]",
                hint="a truncated or badly merged file; export the eval again",
            )
        case_id = _case_id(result, rows)
        if _description(result) is None and case_id.isdigit() and int(case_id) < len(rows):
            row = rows[int(case_id)]
            described = row.get("description") if isinstance(row, dict) else None
            if isinstance(described, str):
                result = result.model_copy(update={"description": described})
        if any(case_id == seen for _, seen in grouped[index]):
            raise BadInputError(
                source.name,
                f"test {case_id} appears twice for prompt {index}",
                where=f"field {prefix}results[{position}].testIdx",
                hint="a badly merged file; export the eval again",
            )
        grouped[index].append((result, case_id))
    data = source.data if isinstance(source.data, dict) else {}
    return [
        _run(index, prompts[index], pairs, doc, data, options) for index, pairs in grouped.items()
    ]
