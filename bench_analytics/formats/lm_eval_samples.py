"""lm-evaluation-harness per-sample logs (``--log_samples``): file names, parsing, cases.

The harness writes ``results_<timestamp>.json`` and, beside it, one
``samples_<task>_<timestamp>.jsonl`` per task (``.json`` holding JSON Lines in 0.4.2). Each
line is one sample of one filter: ``doc_id``, ``doc``, ``target``, ``resps``,
``filtered_resps``, hashes, optionally ``filter`` and ``metrics``, then the per-sample
metric values as top-level keys.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

from bench_analytics.errors import BadInputError
from bench_analytics.formats.source import parse_json_bytes, read_bytes
from bench_analytics.model import CaseResult

STAMP = r"\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}(?:\.\d+)?"
RESULTS_NAME = re.compile(rf"^results_(?P<stamp>{STAMP})\.json$")
SAMPLES_NAME = re.compile(rf"^samples_(?P<task>.+)_(?P<stamp>{STAMP})\.jsonl?$")
# a samples log under another name (a copy with a prefix): recognised, to refuse it clearly
SAMPLES_LIKE = re.compile(rf"samples_(?P<task>.+)_(?P<stamp>{STAMP})\.jsonl?$")
STANDARD_FIELDS = frozenset(
    {
        "doc_id",
        "doc",
        "target",
        "arguments",
        "resps",
        "filtered_resps",
        "doc_hash",
        "prompt_hash",
        "target_hash",
        "filter",
        "metrics",
    }
)
TEXT_MAX = 300  # characters of an answer or target kept in a case's details
VALUE_MAX = 200  # characters of a non-numeric per-sample value kept as it is


@dataclass
class SamplesLog:
    """One task's samples: the file, and its lines as (line number, object)."""

    path: Path
    task: str
    lines: list[tuple[int, dict[str, Any]]] = field(default_factory=list)


def results_name(stamp: str) -> str:
    """The results file a samples log of ``stamp`` belongs to."""
    return f"results_{stamp}.json"


def sibling_logs(results: Path) -> list[tuple[str, Path]]:
    """(task, path) of the samples logs beside ``results_<stamp>.json``, sorted."""
    named = RESULTS_NAME.match(results.name)
    if named is None:
        return []
    stamp = named["stamp"]
    found = []
    for path in sorted(results.parent.glob(f"samples_*_{stamp}.json*")):
        match = SAMPLES_NAME.match(path.name)
        if match and match["stamp"] == stamp and path.is_file():
            found.append((match["task"], path))
    return found


def model_args(config: dict[str, Any]) -> dict[str, str]:
    """``config.model_args`` ("pretrained=x,revision=y", or a mapping) as a mapping."""
    args = config.get("model_args")
    if isinstance(args, dict):
        return {str(k): str(v) for k, v in args.items() if v is not None}
    if not isinstance(args, str):
        return {}
    pairs = (part.split("=", 1) for part in args.split(",") if "=" in part)
    return {key.strip(): value.strip() for key, value in pairs}


def times(data: dict[str, Any], name: str) -> tuple[datetime | None, datetime | None]:
    """(started, finished): ``date`` is the start (epoch), plus the evaluation time; with
    no ``date``, the time in the file name (results_2025-03-03T00-05-19.750676.json)."""
    date = data.get("date")
    date = date if isinstance(date, int | float) and not isinstance(date, bool) else None
    if date is not None and 0 < date < 32503680000:
        started = datetime.fromtimestamp(date, UTC)
        try:
            took = float(data.get("total_evaluation_time_seconds"))  # type: ignore[arg-type]
        except (TypeError, ValueError):
            return started, None
        ok = math.isfinite(took) and took >= 0
        return started, started + timedelta(seconds=took) if ok else None
    stamp = re.search(rf"({STAMP})\.json$", Path(name).name)
    if stamp is None:
        return None, None
    text = stamp[1]
    return None, datetime.strptime(
        text, "%Y-%m-%dT%H-%M-%S.%f" if "." in text else "%Y-%m-%dT%H-%M-%S"
    )


def _line_error(path: Path, number: int, error: BadInputError) -> BadInputError:
    where = f"line {number}" + (f" ({error.where})" if error.where else "")
    return BadInputError(str(path), error.problem, where=where, hint=error.hint)


def parse_log(path: Path, task: str) -> SamplesLog:
    """Read and strictly parse a samples log (JSON Lines, or one JSON array); NaN and
    Infinity are taken as floats. Each line must be an object with a ``doc_id``."""
    raw = read_bytes(path)
    name = str(path)
    if raw.lstrip()[:1] == b"[":  # 0.4.0 wrote an indented JSON array
        data = parse_json_bytes(raw, name, non_finite=True)
        rows = list(enumerate(data if isinstance(data, list) else [data], start=1))
        where = "item"
    else:
        numbered = [(i, line) for i, line in enumerate(raw.split(b"\n"), start=1) if line.strip()]
        where = "line"
        try:  # one parse of all lines: the strict checks run once, in C
            joined = b"[" + b",".join(line for _, line in numbered) + b"]"
            parsed = parse_json_bytes(joined, name, non_finite=True) if numbered else []
        except BadInputError:
            parsed = []
            for number, line in numbered:  # find the line and say where
                try:
                    parsed.append(parse_json_bytes(line, name, non_finite=True))
                except BadInputError as error:
                    raise _line_error(path, number, error) from None
        rows = [(number, value) for (number, _), value in zip(numbered, parsed, strict=True)]
    if not rows:
        raise BadInputError(name, "the samples log is empty", hint="re-run with --log_samples")
    log = SamplesLog(path, task)
    for number, value in rows:
        doc_id = value.get("doc_id") if isinstance(value, dict) else None
        if isinstance(doc_id, bool) or not isinstance(doc_id, int | str):
            raise BadInputError(
                name,
                "a sample must be an object with a doc_id (a number or a string)",
                where=f"{where} {number}",
                hint="not an lm-evaluation-harness samples log, or a damaged one",
            )
        log.lines.append((number, value))
    return log


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float)


def _shown(value: Any) -> str:
    """A number that JSON cannot hold, as text."""
    return "NaN" if value != value else ("Infinity" if value > 0 else "-Infinity")


def _short(value: Any, limit: int = TEXT_MAX) -> Any:
    """Text kept small: one string as it is, anything else as compact JSON, truncated."""
    if isinstance(value, list) and len(value) == 1 and isinstance(value[0], str):
        value = value[0]
    if not isinstance(value, str):
        value = orjson.dumps(value, option=orjson.OPT_SERIALIZE_NUMPY).decode()
    return value if len(value) <= limit else value[: limit - 1] + "…"


def _small(value: Any) -> Any:
    """A non-numeric per-sample value: kept when small, else as truncated text."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str):
        return _short(value, VALUE_MAX)
    try:
        text = orjson.dumps(value).decode()
    except (TypeError, orjson.JSONEncodeError):
        return _short(repr(value), VALUE_MAX)
    return value if len(text) <= VALUE_MAX else text[: VALUE_MAX - 1] + "…"


@dataclass
class CaseBuild:
    """The cases of one task's log, with what the run needs to know about them."""

    cases: list[CaseResult]
    score_metric: str | None
    prompt_hash: str | None


def _filters_by_line(log: SamplesLog, filters: list[str]) -> list[str]:
    """The filter of each line: its ``filter`` field, or (older logs, which wrote every
    filter's samples one after another) the n-th filter of the task for the n-th line of
    a doc_id."""
    seen: dict[Any, int] = {}
    out = []
    for number, line in log.lines:
        stated = line.get("filter")
        if isinstance(stated, str):
            out.append(stated)
            continue
        count = seen.get(line["doc_id"], 0)
        seen[line["doc_id"]] = count + 1
        if count >= max(len(filters), 1):
            raise BadInputError(
                str(log.path),
                f"doc_id {line['doc_id']!r} appears {count + 1} times",
                where=f"line {number}",
                hint="each sample is logged once per filter; a log appended to twice?",
            )
        out.append(filters[count] if filters else "none")
    return out


def _metric_names(line: dict[str, Any], known: set[str]) -> list[str]:
    """The per-sample metric keys of a line: its ``metrics`` list, else the numbers and
    the task's metrics (``f1`` is a [prediction, reference] pair per sample)."""
    listed = line.get("metrics")
    if listed.__class__ is list and all(m.__class__ is str for m in listed):
        return [m for m in listed if m in line]
    return [
        k for k, v in line.items() if k not in STANDARD_FIELDS and (_is_number(v) or k in known)
    ]


def build_cases(log: SamplesLog, ordered_metrics: list[tuple[str, str]]) -> CaseBuild:
    """Cases from a task's log. ``ordered_metrics``: the task's (metric, filter) pairs in
    the results file's order; the first whose per-sample values are numbers is the score."""
    filters = list(dict.fromkeys(f for _, f in ordered_metrics)) or ["none"]
    known = {metric for metric, _ in ordered_metrics}
    line_filters = _filters_by_line(log, filters)
    first_line: dict[str, dict[str, Any]] = {}
    for (_, line), filt in zip(log.lines, line_filters, strict=True):
        first_line.setdefault(filt, line)
    score: tuple[str, str] | None = next(
        (
            (metric, filt)
            for metric, filt in ordered_metrics
            if filt in first_line and _is_number(first_line[filt].get(metric))
        ),
        None,
    )
    primary = score[1] if score else (filters[0] if filters[0] in first_line else line_filters[0])
    by_doc: dict[str, dict[str, Any]] = {}
    bad: dict[str, list[str]] = {}
    answers: dict[str, tuple[Any, Any]] = {}
    order: list[str] = []
    seen_primary: set[str] = set()
    hashes: set[Any] = set()
    for (number, line), filt in zip(log.lines, line_filters, strict=True):
        case_id = str(line["doc_id"])
        details = by_doc.get(case_id)
        if details is None:
            details = by_doc[case_id] = {}
            order.append(case_id)
        if filt == primary:
            if case_id in seen_primary:
                raise BadInputError(
                    str(log.path),
                    f"doc_id {line['doc_id']!r} appears twice for filter '{filt}'",
                    where=f"line {number}",
                    hint="a log appended to twice? regenerate it",
                )
            seen_primary.add(case_id)
            answers[case_id] = (line.get("filtered_resps"), line.get("target"))
            hashes.add(line.get("prompt_hash"))
        metrics = _metric_names(line, known)
        for name in metrics:
            value = line[name]
            if value.__class__ is float and not math.isfinite(value):
                bad.setdefault(case_id, []).append(f"{name} is {_shown(value)}")
                value = _shown(value)
            details[f"{name},{filt}"] = value if _is_number(value) else _small(value)
        for key in line.keys() - STANDARD_FIELDS:  # other fields ("hallucination")
            if key not in details and key not in metrics:
                value = line[key]
                details[key] = value if value.__class__ is float else _small(value)
    score_name = f"{score[0]},{score[1]}" if score else None
    cases = []
    for case_id in order:
        details = by_doc[case_id]
        answer, target = answers.get(case_id, (None, None))
        if answer is not None:
            details["filtered_resps"] = _short(answer)
        if target is not None:
            details["target"] = _short(target)
        value = details.get(score_name) if score_name else None
        problems = bad.get(case_id)
        cases.append(
            CaseResult(
                case_id=case_id,
                status="error" if problems else "ok",
                score=float(value) if isinstance(value, int | float) and not problems else None,
                error=f"per-sample {', '.join(problems)} (the tool could not score this answer)"
                if problems
                else None,
                details=details,
            )
        )
    shared = next(iter(hashes)) if len(hashes) == 1 else None
    return CaseBuild(cases, score_name, shared if isinstance(shared, str) else None)
