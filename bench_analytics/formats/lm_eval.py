"""Reader for EleutherAI lm-evaluation-harness results (every generation) and their samples.

``results_<timestamp>.json`` (pre-0.4: ``acc``/``acc_stderr``; 0.4+: ``"acc,none"``, metric
and filter) becomes one run per task; a group (``mmlu``) is a run too, an aggregate of its
subtasks without cases. The ``samples_<task>_<timestamp>.jsonl`` logs beside the results
file become the cases of their task's run (``lm_eval_samples``).
"""

from __future__ import annotations

import hashlib
import math
from pathlib import Path
from typing import Any

from bench_analytics.errors import BadInputError
from bench_analytics.formats import lm_eval_samples as logs
from bench_analytics.formats.common import ReadOptions
from bench_analytics.formats.external import (
    DIRECTIONS,
    SCORE_METRIC,
    directions,
    number,
    prompt_version,
    tool_dataset,
    tool_model,
)
from bench_analytics.formats.source import Source, parse_json_bytes, read_bytes
from bench_analytics.metrics import check_value
from bench_analytics.model import NAME_MAX, CaseResult, DatasetRef, Provenance, RunResult

NAME = "lm-eval"
DESCRIPTION = "EleutherAI lm-evaluation-harness results_<time>.json (+ samples_<task>_<time>.jsonl)"
CASES_FIELD = "samples"
NON_FINITE = True  # the harness writes bare NaN and Infinity
SUFFIXES = (".jsonl",)
_NOT_METRICS = frozenset({"alias", "samples", "sample_len", "name", " "})
_MODEL_ARGS = ("pretrained", "model", "engine", "path", "model_name")
_SAMPLE_KEYS = frozenset({"doc_id", "filtered_resps", "resps"})


class WithSamples(dict[str, Any]):
    """A results document with the samples logs read beside it (``samples``: by task)."""

    samples: dict[str, logs.SamplesLog]


def _is_sample(data: Any) -> bool:
    return isinstance(data, dict) and data.keys() >= _SAMPLE_KEYS


def matches(data: Any) -> bool:
    """A ``results`` object of task objects plus ``versions`` or ``config``; or a sample."""
    if isinstance(data, list):
        return bool(data) and _is_sample(data[0])
    if not isinstance(data, dict):
        return False
    if _is_sample(data):
        return True
    results = data.get("results")
    return (
        isinstance(results, dict)
        and bool(results)
        and ("versions" in data or isinstance(data.get("config"), dict))
        and all(isinstance(row, dict) for row in results.values())
    )


def claims(path: Path) -> bool:
    """A samples log (read with its results file, or refused), or a results file with
    samples logs beside it."""
    name = path.name
    if not name.endswith((".json", ".jsonl")):
        return False
    if logs.SAMPLES_LIKE.search(name):
        return path.is_file()
    return logs.RESULTS_NAME.match(name) is not None and bool(logs.sibling_logs(path))


def main_file(path: Path) -> Path | None:
    """The results file a samples log (by its name) is read with."""
    match = logs.SAMPLES_NAME.match(path.name)
    return path.parent / logs.results_name(match["stamp"]) if match else None


def load(path: Path) -> Source:
    """A results file with its samples logs; a samples log alone is refused."""
    sample = logs.SAMPLES_LIKE.search(path.name)
    if sample is not None:
        needed = logs.results_name(sample["stamp"])
        present = logs.SAMPLES_NAME.match(path.name) and (path.parent / needed).is_file()
        raise BadInputError(
            str(path),
            f"an lm-evaluation-harness samples log is read with its results file {needed}"
            + (", which is beside it" if present else ", which is not in this folder"),
            hint=f"push {needed} (or its folder): its samples logs are read with it"
            if present
            else f"put {needed} beside it under that name and push it",
        )
    raw = read_bytes(path)
    data = parse_json_bytes(raw, str(path), non_finite=True)
    if not matches(data) or _is_sample(data):
        raise BadInputError(
            str(path), "not an lm-evaluation-harness results file (no results object)"
        )
    bundle = WithSamples(data)
    bundle.samples = {task: logs.parse_log(log, task) for task, log in logs.sibling_logs(path)}
    return Source(str(path), raw, bundle)


def _version(value: Any) -> Any:
    """A task version as written (3.0 is 3); "Yaml" (no version set) is none."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None if value in ("Yaml", "") else value


def _dataset(
    task: str, version: Any, samples: int | None, shots: Any, options: ReadOptions
) -> DatasetRef:
    """tool_dataset, plus the few-shot count (0-shot and 5-shot are different evaluations)."""
    dataset = tool_dataset(task, _version(version), samples, options)
    if options.dataset_version or isinstance(shots, bool) or not isinstance(shots, int):
        return dataset
    text = f"{dataset.version}-{shots}shot"
    if len(text) > NAME_MAX:  # as tool_dataset shortens: the start, then a hash of it all
        text = f"{text[: NAME_MAX - 11]}-{hashlib.sha256(text.encode()).hexdigest()[:10]}"
    return dataset.model_copy(update={"version": text})


class _File:
    """The file-level facts every run of a results file shares."""

    def __init__(self, source: Source, options: ReadOptions) -> None:
        data = source.data
        self.name = source.name
        self.data = data
        self.config = data.get("config") if isinstance(data.get("config"), dict) else {}
        args = logs.model_args(self.config)
        named = data.get("model_name")
        model = named if isinstance(named, str) and named else None
        model = model or next((args[k] for k in _MODEL_ARGS if args.get(k)), None)
        if model is None and not options.model_key:
            raise BadInputError(
                source.name,
                "names no model (no model_name, no pretrained=/model= in config.model_args)",
                where="field config.model_args",
                hint="give the model key explicitly",
                cli_hint="give the model key with --model KEY",
            )
        backend = self.config.get("model") or data.get("model_source")
        self.model = tool_model(
            model or str(options.model_key), options, backend if isinstance(backend, str) else None
        )
        revision = args.get("revision") or self.config.get("model_revision")
        if isinstance(revision, str) and revision not in ("", "main"):
            self.model = self.model.model_copy(update={"version": revision})
        self.started, self.finished = logs.times(data, source.name)
        self.samples: dict[str, logs.SamplesLog] = getattr(data, "samples", {})
        self.shared = {
            key: value
            for key, value in (
                ("backend", backend),
                ("model_args", self.config.get("model_args")),
                ("model_sha", self.config.get("model_sha") or None),
                ("limit", self.config.get("limit")),
                ("lm_eval_version", data.get("lm_eval_version")),
                ("harness_git_hash", data.get("git_hash")),
                ("chat_template_sha", data.get("chat_template_sha")),
                ("system_instruction_sha", data.get("system_instruction_sha")),
            )
            if value is not None
        }

    def table(self, key: str) -> dict[str, Any]:
        value = self.data.get(key)
        return value if isinstance(value, dict) else {}


def _leaves(task: str, subtasks: dict[str, Any], depth: int = 0) -> list[str]:
    children = subtasks.get(task)
    if not isinstance(children, list) or not children or depth > 20:
        return [task]
    return [leaf for child in children for leaf in _leaves(str(child), subtasks, depth + 1)]


def _effective(task: str, n_samples: dict[str, Any]) -> int | None:
    counts = n_samples.get(task)
    value = counts.get("effective") if isinstance(counts, dict) else None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _metrics(f: _File, task: str, row: dict[str, Any]) -> tuple[dict[str, float], dict[str, Any]]:
    """(metrics, extra about them): stderr kept apart, values not reported left out."""
    metrics: dict[str, float] = {}
    stderr: dict[str, float] = {}
    unreported: dict[str, str] = {}
    for key, value in row.items():
        if key in _NOT_METRICS or (isinstance(value, str) and "_stderr" not in key):
            continue
        found = number(value)
        base, _, filt = key.partition(",")
        if base.endswith("_stderr"):
            if found is not None:
                stderr[base.removesuffix("_stderr") + ("," + filt if filt else "")] = found
            continue
        if found is None:
            if isinstance(value, float):
                unreported[key] = "NaN" if value != value else "Infinity"
            continue
        problem = check_value(key, found)
        if problem:
            raise BadInputError(f.name, problem, where=f"field results.{task}.{key}")
        metrics[key] = found
    extra: dict[str, Any] = {}
    if stderr:
        extra["stderr"] = stderr
    if unreported:
        extra["not_reported"] = unreported
    return metrics, extra


def _run(f: _File, task: str, row: dict[str, Any], options: ReadOptions) -> RunResult | None:
    subtasks = f.table("group_subtasks")
    n_samples = f.table("n-samples")
    n_shot = f.table("n-shot")
    is_group = task in f.table("groups") or bool(subtasks.get(task))
    metrics, extra = _metrics(f, task, row)
    log = None if is_group else f.samples.get(task)
    if not metrics and log is None:
        return None
    leaves = _leaves(task, subtasks) if is_group else [task]
    counts = [_effective(leaf, n_samples) for leaf in leaves]
    samples = sum(c for c in counts if c is not None) if None not in counts and counts else None
    shots = {n_shot.get(leaf, f.config.get("num_fewshot")) for leaf in leaves}
    shot = shots.pop() if len(shots) == 1 else None
    dataset = _dataset(task, f.table("versions").get(task), samples, shot, options)
    stated = f.table("higher_is_better").get(task)
    bases = directions(stated) if isinstance(stated, dict) else {}
    metric_names = [k for k in row if k not in _NOT_METRICS and "_stderr" not in k]
    said = {k: bases[k.split(",")[0]] for k in metric_names if k.split(",")[0] in bases}
    extra.update(f.shared, task=task)
    alias = row.get("alias")
    if isinstance(alias, str) and alias.strip(" -") not in ("", task):
        extra["alias"] = alias.strip(" -")
    if said:
        extra[DIRECTIONS] = said
    if shot is not None:
        extra["n_shot"] = shot
    if task in n_samples:
        extra["n_samples"] = n_samples[task]
    if is_group:
        extra["aggregate_of"] = [str(t) for t in subtasks.get(task) or []]
    task_hash = f.table("task_hashes").get(task)
    if task_hash:
        extra["task_hash"] = task_hash
    cases: list[CaseResult] = []
    prompt = None
    if log is not None:
        pairs = [(k.partition(",")[0], k.partition(",")[2] or "none") for k in metric_names]
        built = logs.build_cases(log, pairs)
        cases, prompt = built.cases, built.prompt_hash
        extra["samples_file"] = log.path.name
        if built.score_metric:
            extra[SCORE_METRIC] = built.score_metric
        if samples is not None and samples != len(cases):
            raise BadInputError(
                str(log.path),
                f"holds {len(cases)} samples but {Path(f.name).name} states {samples} "
                f"(n-samples.{task}.effective)",
                hint="a truncated or mixed-up samples log; regenerate it",
            )
    else:  # no cases: the sample count stays in the dataset version only
        dataset = dataset.model_copy(update={"declared_cases": None})
    return RunResult(
        model=f.model,
        dataset=dataset,
        prompt_version=prompt_version(prompt),
        benchmark_type=NAME,
        started_at=f.started,
        finished_at=f.finished,
        metrics=metrics,
        cases=cases,
        provenance=Provenance(source_format=NAME),
        extra=extra,
    )


def _unreported(rows: dict[str, Any]) -> dict[str, list[str]]:
    """Metrics written as NaN or Infinity, by task."""
    found: dict[str, list[str]] = {}
    for task, row in rows.items():
        for key, value in row.items():
            if isinstance(value, float) and not math.isfinite(value) and "_stderr" not in key:
                found.setdefault(str(task), []).append(f"{key} is {value}")
    return found


def read(source: Source, options: ReadOptions) -> list[RunResult]:
    """One run per task and per group (an aggregate without cases)."""
    data = source.data
    if _is_sample(data) or (isinstance(data, list) and data and _is_sample(data[0])):
        raise BadInputError(
            source.name,
            "an lm-evaluation-harness samples log, not its results",
            hint="push results_<time>.json with its samples_<task>_<time>.jsonl beside it",
        )
    if not isinstance(data, dict) or not isinstance(data.get("results"), dict):
        raise BadInputError(source.name, "must hold a results object", where="field results")
    for task, row in data["results"].items():
        if not isinstance(row, dict):
            raise BadInputError(source.name, "must be an object", where=f"field results.{task}")
    f = _File(source, options)
    rows = dict(data["results"])
    for group, row in f.table("groups").items():
        if isinstance(row, dict):
            rows.setdefault(group, row)  # 0.4.2-0.4.x repeat group rows there: stored once
    unknown = sorted(set(f.samples) - set(rows))
    if unknown:
        raise BadInputError(
            str(f.samples[unknown[0]].path),
            f"a samples log of task '{unknown[0]}', which {Path(source.name).name} does not hold",
            hint="a samples log of another run with the same time? keep it apart",
        )
    runs = [run for task, row in rows.items() if (run := _run(f, str(task), row, options))]
    if not runs:
        unreported = [f"{t}: {', '.join(r)}" for t, r in _unreported(rows).items()]
        raise BadInputError(
            source.name,
            "no task reports a finite metric"
            + (f" ({'; '.join(unreported)[:200]})" if unreported else ""),
            where="field results",
            hint="push it with its samples_<task>_<time>.jsonl beside it to store the "
            "per-sample results"
            if unreported
            else "an empty or failed evaluation; nothing to store",
        )
    return runs
