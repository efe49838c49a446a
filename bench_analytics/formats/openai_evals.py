"""Reader for OpenAI evals logs (``oaieval ... --record_path LOG``), JSON Lines of any suffix.

Line 1 is ``{"spec": ...}`` (completion functions, eval name, run id, time); then events
``{run_id, event_id, sample_id, type, data, created_at}`` and a ``{"final_report": ...}``
line (oaieval flushes events at exit, so it need not be the last). ``match`` events
(``correct``) and ``metrics`` events with a numeric ``score`` become cases; the final report
gives the run's metrics. A log without a final report is read from its events (said in the
provenance notes) or refused when no event gives a score.
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson
from pydantic import Field, ValidationError

from bench_analytics.errors import BadInputError
from bench_analytics.formats.common import LegacyModel, ReadOptions
from bench_analytics.formats.external import (
    DIRECTIONS,
    SCORE_METRIC,
    TEXT_MAX,
    UNVERSIONED,
    directions,
    mapping,
    short,
    tool_dataset,
    tool_model,
)
from bench_analytics.formats.external import (
    number as finite,
)
from bench_analytics.formats.source import Source, parse_json_bytes, read_bytes, validation_failure
from bench_analytics.formats.strictjson import BOM
from bench_analytics.metrics import check_value
from bench_analytics.model import NAME_MAX, CaseResult, Provenance, RunResult

NAME = "openai-evals"
DESCRIPTION = "OpenAI evals log (oaieval --record_path): spec, events, final_report"
CASES_FIELD = "events"
SUFFIXES = (".jsonl",)
PEEK_BYTES = 1 << 20  # the spec line is a few kB
STDERR_KEYS = frozenset({"boostrap_std", "bootstrap_std"})  # oaieval's own spelling, too
TOKEN_KEYS = {
    "usage_prompt_tokens": "input_tokens",
    "usage_completion_tokens": "output_tokens",
    "usage_total_tokens": "total_tokens",
}
_HIGHER = re.compile(r"^(accuracy.*|f1_score|score)$")


class _Spec(LegacyModel):
    completion_fns: list[str] = Field(min_length=1)
    eval_name: str = Field(min_length=1)
    base_eval: str | None = None
    split: str | None = None
    run_config: dict[str, Any] | None = None
    run_id: str | None = None
    created_at: datetime | None = None


class _Event(LegacyModel):
    run_id: str | None = None
    event_id: int | None = None
    sample_id: str | None = None
    type: str
    data: Any = None
    created_at: datetime | None = None


def claims(path: Path) -> bool:
    """A file whose first line is a JSON object with a ``spec`` (any suffix)."""
    try:
        if not path.is_file():
            return False
        with path.open("rb") as handle:
            head = handle.readline(PEEK_BYTES)
    except OSError:
        return False
    head = head.removeprefix(BOM).strip()
    if not head.startswith(b"{") or b'"spec"' not in head:
        return False
    try:
        first = orjson.loads(head)
    except orjson.JSONDecodeError:
        return False
    return isinstance(first, dict) and isinstance(first.get("spec"), dict)


def _line_error(error: BadInputError, number: int) -> BadInputError:
    where = re.sub(r"\bline 1\b", f"line {number}", error.where) if error.where else None
    return BadInputError(
        error.source,
        error.problem,
        where=where or f"line {number}",
        hint="each line of an oaieval log is one JSON object",
    )


def load(path: Path) -> Source:
    """Read the log once and parse every line strictly; a bad line is named by number."""
    raw = read_bytes(path)
    lines: list[Any] = []
    numbers: list[int] = []
    for number, line in enumerate(raw.removeprefix(BOM).split(b"\n"), start=1):
        if not line.strip():
            continue
        try:
            lines.append(parse_json_bytes(line, str(path)))
        except BadInputError as error:
            raise _line_error(error, number) from None
        numbers.append(number)
    if not lines:
        raise BadInputError(str(path), "the file is empty", hint="re-run oaieval or remove it")
    return Source(str(path), raw, {"lines": lines, "numbers": numbers})


def matches(data: Any) -> bool:
    """A loaded log, or a one-line log parsed as JSON (``{"spec": {..., "eval_name"}}``)."""
    if not isinstance(data, dict):
        return False
    if isinstance(data.get("lines"), list) and isinstance(data.get("numbers"), list):
        return True
    return isinstance(data.get("spec"), dict) and "eval_name" in data["spec"]


class _Sample:
    """What the events say about one sample."""

    def __init__(self) -> None:
        self.correct: list[bool] = []
        self.scores: list[float] = []
        self.details: dict[str, Any] = {}
        self.error: str | None = None
        self.tokens: dict[str, int] = {}

    def add(self, event: _Event) -> None:
        data = mapping(event.data)
        if event.type == "match" and isinstance(data.get("correct"), bool):
            self.correct.append(data["correct"])
            for key in ("expected", "picked", "sampled"):
                if data.get(key) is not None:
                    self.details[key] = short(data[key])
        elif event.type == "metrics":
            score = finite(data.get("score"))
            if score is not None:
                self.scores.append(score)
            small = {k: v for k, v in data.items() if k != "score" and short(v) == v}
            self.details.update(small)
        elif event.type == "sampling":
            if data.get("sampled") is not None:
                self.details.setdefault("sampled", short(data["sampled"]))
            usage = mapping(data.get("usage"))
            for key, field in (("prompt_tokens", "input"), ("completion_tokens", "output")):
                value = usage.get(key)
                if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
                    self.tokens[field] = self.tokens.get(field, 0) + value
        elif event.type == "error":
            kind, message = data.get("type"), data.get("message")
            self.error = (f"{kind}: {message}" if kind else str(message or "error"))[:TEXT_MAX]

    @property
    def result(self) -> bool:
        return bool(self.correct or self.scores or self.error or "choice" in self.details)

    def case(self, sample_id: str) -> CaseResult:
        values = [1.0 if ok else 0.0 for ok in self.correct] or self.scores
        details = dict(self.details)
        if len(values) > 1:
            details["n_scored_events"] = len(values)
        return CaseResult(
            case_id=sample_id,
            status="error" if self.error else "ok",
            score=sum(values) / len(values) if values and not self.error else None,
            input_tokens=self.tokens.get("input"),
            output_tokens=self.tokens.get("output"),
            error=self.error,
            details=details,
        )


def _validated(shape: type[LegacyModel], data: Any, source: str, number: int, prefix: str) -> Any:
    try:
        return shape.model_validate(data)
    except ValidationError as exc:
        error = validation_failure(source, exc, (prefix,) if prefix else ())
        where = f"line {number}, {error.where}" if error.where else f"line {number}"
        raise BadInputError(source, error.problem, where=where, hint=error.hint) from None


def _report_metrics(
    source: str, report: dict[str, Any], number: int
) -> tuple[dict[str, float], dict[str, Any]]:
    """The final report's numbers as metrics; the rest (stderr, texts) for ``extra``."""
    metrics: dict[str, float] = {}
    other: dict[str, Any] = {}
    for key, value in report.items():
        number_value = finite(value)
        if key in STDERR_KEYS or key == "n_samples" or number_value is None:
            if value is not None:
                other[key] = short(value)
            continue
        name = TOKEN_KEYS.get(key, key)[:NAME_MAX]
        problem = check_value(name, number_value)
        if problem:
            raise BadInputError(source, problem, where=f"line {number}, field final_report.{key}")
        metrics[name] = number_value
    return metrics, other


def _lines(source: Source) -> tuple[list[Any], list[int]]:
    data = source.data
    if isinstance(data, dict) and isinstance(data.get("lines"), list):
        return data["lines"], list(data.get("numbers") or range(1, len(data["lines"]) + 1))
    if isinstance(data, dict) and "spec" in data:
        return [data], [1]
    raise BadInputError(
        source.name,
        'not an OpenAI evals log: its first line must be a {"spec": ...} object',
        hint="pass the file oaieval wrote with --record_path",
    )


def read(source: Source, options: ReadOptions) -> list[RunResult]:
    """One RunResult for the log."""
    lines, numbers = _lines(source)
    first = lines[0] if isinstance(lines[0], dict) else {}
    spec = _validated(_Spec, first.get("spec"), source.name, numbers[0], "spec")
    report: dict[str, Any] | None = None
    report_line = 0
    samples: dict[str, _Sample] = {}
    last_time: datetime | None = None
    for line, number in zip(lines[1:], numbers[1:], strict=True):
        if isinstance(line, dict) and "final_report" in line:
            if report is not None or not isinstance(line["final_report"], dict):
                problem = "a second final_report" if report is not None else "not an object"
                raise BadInputError(
                    source.name, problem, where=f"line {number}, field final_report"
                )
            report, report_line = line["final_report"], number
            continue
        event = _validated(_Event, line, source.name, number, "")
        if spec.run_id and event.run_id and event.run_id != spec.run_id:
            raise BadInputError(
                source.name,
                f"event of run {event.run_id} in the log of run {spec.run_id}",
                where=f"line {number}, field run_id",
                hint="two logs were joined into one file; push each log on its own",
            )
        last_time = event.created_at or last_time
        if event.sample_id is not None:
            samples.setdefault(event.sample_id, _Sample()).add(event)
    cases = [sample.case(sid) for sid, sample in samples.items() if sample.result]
    events = len(lines) - 1 - (report is not None)
    notes: list[str] = []
    if report is not None:
        metrics, other = _report_metrics(source.name, report, report_line)
    elif any(case.score is not None for case in cases):
        metrics, other = {}, {}
        notes.append(
            f"no final_report: metrics computed from the {events} events of the log "
            "(the run may not have finished)"
        )
    else:
        raise BadInputError(
            source.name,
            f"the log has no final_report and none of its {events} events gives a score "
            "(no match event, no metrics event with a numeric score)",
            hint="the run was cut off before it finished; push the log of a completed run",
        )
    matched = any(sample.correct for sample in samples.values())
    scored = any(case.score is not None for case in cases)
    score_metric = ("accuracy" if matched else "score") if scored else None
    if score_metric and score_metric not in metrics:
        values = [score for case in cases if (score := case.score) is not None]
        metrics[score_metric] = sum(values) / len(values)
    declared = finite((report or {}).get("n_samples"))
    if cases and declared is not None and int(declared) != len(cases):
        notes.append(f"final_report.n_samples is {int(declared)}; the log holds {len(cases)}")
    count = len(cases) if cases else (int(declared) if declared is not None else None)
    config = spec.run_config or {}
    eval_spec = mapping(config.get("eval_spec"))
    extra = {
        DIRECTIONS: directions({name: True for name in metrics if _HIGHER.match(name)}),
        SCORE_METRIC: score_metric,
        "eval_name": spec.eval_name,
        "base_eval": spec.base_eval,
        "split": spec.split,
        "eval_class": eval_spec.get("cls"),
        "eval_args": short(eval_spec.get("args")),
        "seed": config.get("seed"),
        "completion_fns": spec.completion_fns,
        "final_report": other or None,
    }
    return [
        RunResult(
            model=tool_model(",".join(spec.completion_fns), options),
            dataset=tool_dataset(spec.eval_name, None, count, options),
            prompt_version=UNVERSIONED,
            benchmark_type="openai-evals",
            started_at=spec.created_at,
            finished_at=last_time,
            metrics=metrics,
            cases=cases,
            provenance=Provenance(
                source_format=NAME, run_id=spec.run_id, notes="; ".join(notes) or None
            ),
            extra={key: value for key, value in extra.items() if value is not None},
        )
    ]
