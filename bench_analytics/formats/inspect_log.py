"""Reader for UK AISI Inspect (``inspect_ai``) eval logs: JSON and ``.eval`` archives.

A log (``EvalLog``) is one run: ``eval`` (task, task_version, model, dataset, config,
revision), ``plan`` (solvers), ``results`` (scorers and their metrics), ``stats`` (times,
token usage), ``status`` and the ``samples``. The JSON form (``--log-format json``) is read
as any JSON file; the ``.eval`` form is a zip (``header.json``: the log without samples,
``samples/<id>_epoch_<n>.json``, ``summaries.json``, ``reductions.json``), read with the
standard library (early archives held ``start.json`` and ``results.json`` instead).

* Model: ``eval.model`` (``openai/gpt-4o``: the provider is the part before the slash).
* Dataset: the task, its ``task_version``, the number of samples (``eval.dataset.sample_ids``)
  and, with several epochs, the epoch count.
* Prompt version: a hash of the plan's solver steps and their parameters.
* Metrics: the first scorer's metrics by their names (``accuracy``; its ``stderr`` becomes
  ``accuracy_stderr``), further scorers' as ``<scorer>/<metric>``; token totals.
* Cases: every sample, ``id`` as case id; with several epochs every epoch is a case,
  ``<id>#<epoch>``. ``score`` is the first scorer's value: C/I/P/N (correct, incorrect,
  partial, no answer) become 1/0/0.5/0, booleans 1/0, numbers stay. A sample ``error``
  makes the case an error; ``total_time`` is the latency.
* A log whose status is ``error`` or ``cancelled`` is a failed run with that reason (never
  0 % accuracy); a log still ``started`` is refused until the eval has finished.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import zipfile
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import Field

from bench_analytics.errors import BadInputError
from bench_analytics.formats.common import LegacyModel, Name, ReadOptions, validated
from bench_analytics.formats.external import (
    DIRECTIONS,
    SCORE_METRIC,
    prompt_version,
    tool_dataset,
    tool_model,
)
from bench_analytics.formats.source import Source, parse_json_bytes, read_bytes
from bench_analytics.metrics import check_value
from bench_analytics.model import CaseResult, Count, NonNegativeNumber, Provenance, RunResult

NAME = "inspect"
DESCRIPTION = "Inspect (inspect_ai) eval logs: JSON logs and .eval archives"
SUFFIXES = (".eval",)
CASES_FIELD = "samples"

_STATUSES = ("started", "success", "cancelled", "error")
_LETTERS = {"C": 1.0, "I": 0.0, "P": 0.5, "N": 0.0}
_WORDS = {"yes": 1.0, "true": 1.0, "no": 0.0, "false": 0.0}
_TEXT_MAX = 300
_MEMBER_MAX = 1 << 30  # an archive member that inflates beyond 1 GiB is not a log


class Usage(LegacyModel):
    input_tokens: Count | None = None
    output_tokens: Count | None = None
    total_tokens: Count | None = None


class Failure(LegacyModel):
    message: str = ""
    traceback: str | None = None


class MetricValue(LegacyModel):
    name: str | None = None
    value: float | None = None


class EvalScore(LegacyModel):
    name: Name
    scorer: str | None = None
    reducer: str | None = None
    metrics: dict[str, MetricValue] = Field(default_factory=dict)


class Results(LegacyModel):
    total_samples: Count | None = None
    completed_samples: Count | None = None
    scores: list[EvalScore] = Field(default_factory=list)
    early_stopping: Any = None


class Stats(LegacyModel):
    started_at: str | None = None
    completed_at: str | None = None
    model_usage: dict[str, Usage] = Field(default_factory=dict)


class Dataset(LegacyModel):
    name: str | None = None
    samples: Count | None = None
    sample_ids: list[int | str] | None = None


class Config(LegacyModel):
    epochs: Count | None = None


class Revision(LegacyModel):
    commit: str | None = None


class Spec(LegacyModel):
    task: Name
    task_version: int | str = 0
    task_id: str | None = None
    run_id: str | None = None
    created: str | None = None
    model: Name
    dataset: Dataset = Field(default_factory=Dataset)
    config: Config = Field(default_factory=Config)
    revision: Revision | None = None
    tags: list[str] | None = None


class SampleScore(LegacyModel):
    value: Any = None
    answer: str | None = None


class Sample(LegacyModel):
    id: int | str
    epoch: Count = 1
    scores: dict[str, SampleScore] | None = None
    score: SampleScore | None = None  # logs before multiple scorers
    output: dict[str, Any] | None = None
    model_usage: dict[str, Usage] = Field(default_factory=dict)
    total_time: NonNegativeNumber | None = None
    working_time: NonNegativeNumber | None = None
    error: Failure | None = None
    limit: dict[str, Any] | None = None


class EvalLog(LegacyModel):
    version: int
    status: Literal["started", "success", "cancelled", "error"]
    eval: Spec
    plan: dict[str, Any] | None = None
    results: Results | None = None
    stats: Stats = Field(default_factory=Stats)
    error: Failure | None = None
    samples: list[Sample] | None = None


# ---- detection and the .eval archive -------------------------------------------------


def matches(data: Any) -> bool:
    """An EvalLog: ``eval`` with task and model, a known ``status`` and a ``version``."""
    return (
        isinstance(data, dict)
        and isinstance(data.get("eval"), dict)
        and {"task", "model"} <= data["eval"].keys()
        and data.get("status") in _STATUSES
        and "version" in data
    )


def claims(path: Path) -> bool:
    """An ``.eval`` file (a zip archive; ``load`` says so when it is not one)."""
    return path.suffix == ".eval" and not path.is_dir()


def _member(archive: zipfile.ZipFile, name: str, where: str) -> Any:
    info = archive.getinfo(name)
    if info.file_size > _MEMBER_MAX:
        raise BadInputError(where, f"{name} inflates to {info.file_size} bytes: not a log")
    try:
        raw = archive.read(name)
    except NotImplementedError as exc:  # a compression method this Python cannot read
        raise BadInputError(
            where,
            f"{name}: {exc}",
            hint="convert it with 'inspect log convert --to json' and push the JSON log",
        ) from None
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise BadInputError(where, f"{name} is damaged: {exc}", hint="copy the log again") from None
    return parse_json_bytes(raw, f"{where}:{name}")


def load(path: Path) -> Source:
    """The archive as one EvalLog dict: the header plus every ``samples/*.json``."""
    raw = read_bytes(path)
    name = str(path)
    try:
        archive = zipfile.ZipFile(io.BytesIO(raw))
    except zipfile.BadZipFile:
        raise BadInputError(
            name,
            "not a zip archive, as an Inspect .eval log is",
            hint="a truncated copy, or a JSON log named .eval: copy it again or rename it",
        ) from None
    with archive:
        names = archive.namelist()
        if "header.json" in names:
            log = _member(archive, "header.json", name)
        elif {"start.json", "results.json"} <= set(names):  # the first .eval generation
            log = {**_member(archive, "start.json", name), **_member(archive, "results.json", name)}
        elif "_journal/start.json" in names:
            raise BadInputError(
                name,
                "the eval has not finished: the archive has no header.json yet",
                hint="push the log once 'inspect eval' has finished (or was stopped)",
            )
        else:
            raise BadInputError(
                name, "not an Inspect .eval log: no header.json in the archive", hint=None
            )
        if not isinstance(log, dict):
            raise BadInputError(name, "header.json must be an object", where="file header.json")
        samples = [
            _member(archive, entry, name)
            for entry in sorted(names)
            if entry.startswith("samples/") and entry.endswith(".json") and entry.count("/") == 1
        ]
    if samples:
        log = {**log, "samples": samples}
    return Source(name, raw, log)


# ---- reading ---------------------------------------------------------------------------


def score_value(value: Any) -> float | None:
    """A sample's score as a number, as Inspect reads it (C/I/P/N, booleans, numbers)."""
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, int | float):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, str):
        text = value.strip()
        if text in _LETTERS:
            return _LETTERS[text]
        if text.lower() in _WORDS:
            return _WORDS[text.lower()]
        try:
            number = float(text)
        except ValueError:
            return None
        return number if math.isfinite(number) else None
    return None


def _time(source: str, value: str | None, where: str) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise BadInputError(
            source, f"not a time: {value!r}"[:200], where=f"field {where}"
        ) from None


def _short(value: Any) -> Any:
    if isinstance(value, str):
        return value if len(value) <= _TEXT_MAX else value[: _TEXT_MAX - 3] + "..."
    if isinstance(value, int | float | bool) or value is None:
        return value
    return _short(json.dumps(value, ensure_ascii=False, default=str))


def _metric_names(scores: list[EvalScore]) -> dict[str, float]:
    """Run metrics: the first scorer's by name, the others as ``<scorer>/<metric>``."""
    metrics: dict[str, float] = {}
    for index, score in enumerate(scores):
        prefix = "" if index == 0 else f"{score.name}/"
        if index and any(key.startswith(prefix) for key in metrics):
            prefix = f"{score.name}-{score.reducer or index}/"
        main = next((m for m in score.metrics if m not in {"stderr", "std"}), None)
        for key, metric in score.metrics.items():
            if metric.value is None or not math.isfinite(metric.value):
                continue  # N/A or NaN: not stored
            name = f"{main}_{key}" if key in {"stderr", "std"} and main else key
            metrics.setdefault(prefix + name, float(metric.value))
    return metrics


def _tokens(usages: dict[str, Usage]) -> tuple[int | None, int | None]:
    inputs = [u.input_tokens for u in usages.values() if u.input_tokens is not None]
    outputs = [u.output_tokens for u in usages.values() if u.output_tokens is not None]
    return (sum(inputs) if inputs else None), (sum(outputs) if outputs else None)


def _output_text(output: dict[str, Any] | None) -> str | None:
    choices = (output or {}).get("choices")
    if isinstance(choices, list) and choices and isinstance(choices[0], dict):
        message = choices[0].get("message")
        content = message.get("content") if isinstance(message, dict) else None
        if isinstance(content, str):
            return content
    return None


def _sample_scores(sample: Sample) -> dict[str, SampleScore]:
    return sample.scores or ({"score": sample.score} if sample.score else {})


def _first(sample: Sample, primary: str | None) -> SampleScore | None:
    """The sample's score of the first scorer (the one the run's headline metrics are of)."""
    scores = _sample_scores(sample)
    return (scores.get(primary) if primary else None) or next(iter(scores.values()), None)


def _case(sample: Sample, case_id: str, primary: str | None) -> CaseResult:
    scores = _sample_scores(sample)
    first = _first(sample, primary)
    usage = sample.model_usage
    if not usage and isinstance((sample.output or {}).get("usage"), dict):
        usage = {"output": Usage.model_validate((sample.output or {})["usage"])}
    input_tokens, output_tokens = _tokens(usage)
    details: dict[str, Any] = {"scores": {k: _short(v.value) for k, v in scores.items()}}
    if first is not None and first.answer is not None:
        details["answer"] = _short(first.answer)
    text = _output_text(sample.output)
    if text is not None:
        details["output"] = _short(text)
    if sample.working_time is not None:
        details["working_time_s"] = sample.working_time
    if sample.limit:
        details["limit"] = _short(sample.limit.get("type"))
    error = _short(sample.error.message or "sample error") if sample.error else None
    return CaseResult(
        case_id=case_id,
        status="error" if sample.error else "ok",
        score=score_value(first.value) if first is not None and not sample.error else None,
        latency_ms=sample.total_time * 1000 if sample.total_time is not None else None,
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        error=error,
        details=details,
    )


def _plan_hash(plan: dict[str, Any] | None) -> str | None:
    if not plan:
        return None
    steps = {"steps": plan.get("steps"), "finish": plan.get("finish")}
    text = json.dumps(steps, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def read(source: Source, options: ReadOptions) -> list[RunResult]:
    """One RunResult per log; an errored or cancelled eval is a failed run."""
    if not matches(source.data):
        raise BadInputError(
            source.name,
            "not an Inspect eval log (no 'eval' with task and model, 'status', 'version')",
        )
    log = validated(EvalLog, source.data, source.name)
    spec = log.eval
    if log.status == "started":
        raise BadInputError(
            source.name,
            "the eval has not finished (status 'started')",
            where="field status",
            hint="push the log once 'inspect eval' has finished (or was stopped)",
        )
    samples = log.samples or []
    epochs = max([spec.config.epochs or 1, *(s.epoch for s in samples)])
    scores = log.results.scores if log.results else []
    primary = scores[0].name if scores else None
    cases = [_case(s, str(s.id) if epochs == 1 else f"{s.id}#{s.epoch}", primary) for s in samples]
    metrics = _metric_names(scores)
    for name, value in metrics.items():
        problem = check_value(name, value)
        if problem:
            raise BadInputError(source.name, f"metric '{name}' {problem}", where="field results")
    input_tokens, output_tokens = _tokens(log.stats.model_usage)
    if input_tokens is not None:
        metrics["input_tokens"] = float(input_tokens)
    if output_tokens is not None:
        metrics["output_tokens"] = float(output_tokens)

    ids = spec.dataset.sample_ids
    total = log.results.total_samples if log.results else None
    n = len(ids) if ids else (total // epochs if total else spec.dataset.samples)
    failed = log.status in ("error", "cancelled")
    declared = (
        total if samples and not failed and not (log.results or Results()).early_stopping else None
    )
    outage = None
    if failed:
        reason = f": {_short(log.error.message)}" if log.error and log.error.message else ""
        outage = f"the Inspect eval ended with status '{log.status}'{reason}"

    score_metric = next((m for m in ("accuracy", "mean") if m in metrics), None)
    extra: dict[str, Any] = {
        "inspect": {
            "status": log.status,
            "log_version": log.version,
            "task_id": spec.task_id,
            "dataset": spec.dataset.name,
            "epochs": epochs,
            "scorers": [s.name for s in scores],
        }
    }
    if score_metric and any(c.score is not None for c in cases):
        extra[SCORE_METRIC] = score_metric
        values = (_first(s, primary) for s in samples)
        letters = {type(v.value) for v in values if v is not None} <= {str, bool, type(None)}
        if letters:
            extra[DIRECTIONS] = {score_metric: "higher"}
    version = spec.task_version if epochs == 1 else f"{spec.task_version}-e{epochs}"
    dataset = tool_dataset(spec.task, version, n, options)
    provider = spec.model.split("/", 1)[0] if "/" in spec.model else None
    return [
        RunResult(
            model=tool_model(spec.model, options, provider),
            dataset=dataset.model_copy(update={"declared_cases": declared}),
            prompt_version=prompt_version(_plan_hash(log.plan)),
            benchmark_type=NAME,
            started_at=_time(source.name, log.stats.started_at, "stats.started_at"),
            finished_at=_time(source.name, log.stats.completed_at, "stats.completed_at"),
            metrics=metrics,
            cases=cases,
            outage_evidence=outage,
            provenance=Provenance(
                source_format=NAME,
                run_id=spec.run_id or None,
                commit_sha=spec.revision.commit if spec.revision else None,
                tags=list(spec.tags or []),
            ),
            extra=extra,
        )
    ]
