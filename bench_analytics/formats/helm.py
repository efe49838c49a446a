"""Reader for Stanford HELM runs: ``benchmark_output/runs/<suite>/<run name>/``.

A run directory holds ``run_spec.json`` (model, adapter, scenario), ``stats.json`` (one Stat
per metric, split and perturbation: ``{name: {name, split, perturbation?}, count, sum, mean,
stddev, …}``) and ``per_instance_stats.json`` (the same stats per evaluation instance). The
directory is pushed as one input, or its ``stats.json`` (its siblings are read with it).

* Model: ``adapter_spec.model`` (else ``model_deployment``); no time anywhere in the files.
* Dataset: the run name without its ``model=``/``model_deployment=`` arguments
  (``mmlu:subject=abstract_algebra,method=multiple_choice_joint``) plus the instance count.
* Prompt version: a hash of the ``adapter_spec`` without the model fields and the instance
  limit (instructions, prefixes, in-context examples, trials): another prompt is another
  configuration.
* Metrics: each stat's ``mean`` on the unperturbed ``test`` split (``valid`` when there is no
  test split); stats without a mean (``training_co2_cost``) are skipped. Perturbation stats
  become ``<name>@<perturbation>`` metrics (``exact_match@robustness``) when the run applies
  perturbations; without perturbation specs they only repeat the unperturbed values and are
  left out. ``stddev`` is over train trials, not a standard error, and is not kept.
  The other split's unperturbed means are kept in ``extra["helm"]["other_split"]``.
* Cases: the unperturbed instances of that split, ``instance_id`` as case id
  (``<instance_id>#<trial>`` when the run has several train trials); ``score`` is the
  instance's main metric (``exact_match`` for multiple choice), every stat in ``details``,
  ``inference_runtime`` as latency, prompt and output tokens.

HELM's ``groups/*.json`` summary tables and lone ``stats.json``, ``per_instance_stats.json``
or ``run_spec.json`` files are refused with what to push instead.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from pydantic import Field

from bench_analytics.errors import BadInputError
from bench_analytics.formats.common import LegacyModel, ReadOptions, validated
from bench_analytics.formats.external import (
    DIRECTIONS,
    SCORE_METRIC,
    prompt_version,
    tool_dataset,
    tool_model,
)
from bench_analytics.formats.source import Source, parse_json_bytes, read_bytes
from bench_analytics.metrics import check_value
from bench_analytics.model import CaseResult, Count, Number, Provenance, RunResult

NAME = "helm"
DESCRIPTION = "Stanford HELM run directories (run_spec.json, stats.json, per_instance_stats.json)"
CASES_FIELD = "per_instance_stats.json"

RUN_SPEC, STATS, PER_INSTANCE = "run_spec.json", "stats.json", "per_instance_stats.json"
_BUNDLE = "helm-run"  # the key of the structure ``load`` builds from a run directory
_PUSH_RUN = "push the run directory benchmark_output/runs/<suite>/<run name>/ (or its stats.json)"
_MODEL_ARGS = frozenset({"model", "model_deployment"})
_NOT_PROMPT = frozenset({"model", "model_deployment", "max_eval_instances"})  # not the prompt
_MAIN_METRICS = (
    "exact_match",
    "quasi_exact_match",
    "prefix_exact_match",
    "quasi_prefix_exact_match",
    "f1_score",
    "rouge_l",
    "bleu_4",
)


class StatName(LegacyModel):
    name: str = Field(min_length=1)
    split: str | None = None
    perturbation: dict[str, Any] | None = None


class Stat(LegacyModel):
    name: StatName
    count: Number | None = None
    mean: Number | None = None


class Instance(LegacyModel):
    instance_id: str = Field(min_length=1)
    train_trial_index: Count = 0
    perturbation: dict[str, Any] | None = None
    stats: list[Stat]


class AdapterSpec(LegacyModel):
    model: str | None = None
    model_deployment: str | None = None
    method: str | None = None
    num_train_trials: Count | None = None


class RunSpec(LegacyModel):
    name: str = Field(min_length=1)
    adapter_spec: AdapterSpec
    scenario_spec: dict[str, Any] | None = None
    metric_specs: list[dict[str, Any]] = Field(default_factory=list)
    data_augmenter_spec: dict[str, Any] | None = None
    groups: list[str] = Field(default_factory=list)


# ---- files: claims, load, main_file --------------------------------------------------


def _run_dir(path: Path) -> Path | None:
    folder = path if path.is_dir() else path.parent if path.name == STATS else None
    if folder is not None and (folder / RUN_SPEC).is_file() and (folder / STATS).is_file():
        return folder
    return None


def claims(path: Path) -> bool:
    """A run directory (``run_spec.json`` and ``stats.json`` in it), or its ``stats.json``."""
    return _run_dir(path) is not None


def main_file(path: Path) -> Path | None:
    """``per_instance_stats.json`` and ``run_spec.json`` are read with their ``stats.json``."""
    if path.name in {PER_INSTANCE, RUN_SPEC} and _run_dir(path.parent) is not None:
        return path.parent / STATS
    return None


def _read_json(path: Path) -> Any:
    return parse_json_bytes(read_bytes(path), str(path))


def load(path: Path) -> Source:
    """The run directory's three files, parsed (``per_instance_stats.json`` may be absent)."""
    folder = _run_dir(path)
    if folder is None:
        raise BadInputError(str(path), f"not a HELM run directory (no {RUN_SPEC} beside {STATS})")
    raw = read_bytes(folder / STATS)
    instances = folder / PER_INSTANCE
    data = {
        _BUNDLE: str(folder),
        "run_spec": _read_json(folder / RUN_SPEC),
        "stats": parse_json_bytes(raw, str(folder / STATS)),
        "per_instance_stats": _read_json(instances) if instances.exists() else None,
    }
    return Source(str(path), raw, data)


# ---- detection and refusals -----------------------------------------------------------


def _is_table(data: Any) -> bool:
    return isinstance(data, dict) and {"title", "header", "rows"} <= data.keys()


def _is_stat_list(data: Any) -> bool:
    return bool(data) and all(
        isinstance(item, dict) and isinstance(item.get("name"), dict) and "count" in item
        for item in data[:5]
    )


def _what(data: Any) -> str | None:
    """Which HELM file ``data`` is, when it is one."""
    if isinstance(data, dict):
        if _BUNDLE in data:
            return "run"
        if {"adapter_spec", "scenario_spec", "name"} <= data.keys():
            return "run_spec"
        if _is_table(data):
            return "table"
    elif isinstance(data, list) and data:
        if all(_is_table(item) for item in data):
            return "table"
        if all(isinstance(item, dict) and {"instance_id", "stats"} <= item.keys() for item in data):
            return "per_instance"
        if _is_stat_list(data):
            return "stats"
    return None


def matches(data: Any) -> bool:
    """A HELM run (as ``load`` reads it) or one of HELM's own JSON files."""
    return _what(data) is not None


def _refuse(source: Source, kind: str | None) -> BadInputError:
    if kind == "table":
        data = source.data
        first = data[0] if isinstance(data, list) else data
        title = str(first.get("title", ""))[:80]
        return BadInputError(
            source.name,
            f"a HELM summary table ('{title}', written by helm-summarize), not a run result",
            hint=f"{_PUSH_RUN}; the table is built from such runs",
        )
    names = {"stats": STATS, "per_instance": PER_INSTANCE, "run_spec": RUN_SPEC}
    if kind in names:
        return BadInputError(
            source.name,
            f"a HELM {names[kind]} on its own: a run needs {RUN_SPEC}, {STATS} and "
            f"{PER_INSTANCE} side by side in its run directory",
            hint=_PUSH_RUN,
        )
    return BadInputError(source.name, "not a HELM run", hint=_PUSH_RUN)


# ---- reading a run ---------------------------------------------------------------------


def _stats(source: str, raw: Any, prefix: tuple[Any, ...] = ()) -> list[Stat]:
    if not isinstance(raw, list):
        where = f"field {prefix[0]}" if prefix else None
        raise BadInputError(source, "must be a list of HELM stats", where=where)
    return [validated(Stat, item, source, (*prefix, i)) for i, item in enumerate(raw)]


def _label(stat: Stat) -> str:
    """The metric name of a stat: ``exact_match``, or ``exact_match@robustness``."""
    perturbation = stat.name.perturbation
    if not perturbation:
        return stat.name.name
    label = f"{stat.name.name}@{perturbation.get('name', 'perturbed')}"
    computed_on = perturbation.get("computed_on")
    return label if computed_on in (None, "worst") else f"{label}-{computed_on}"


def _split(stats: list[Stat]) -> str | None:
    splits = {s.name.split for s in stats if s.mean is not None and not s.name.perturbation}
    return next((split for split in ("test", "valid") if split in splits), None)


def _means(stats: list[Stat], split: str, perturbed: bool) -> dict[str, float]:
    out: dict[str, float] = {}
    for stat in stats:
        if stat.name.split != split or stat.mean is None:
            continue
        if stat.name.perturbation and not perturbed:
            continue
        out.setdefault(_label(stat), float(stat.mean))
    return out


def dataset_name(run_name: str) -> str:
    """The run name without its model arguments: the scenario and how it was run."""
    scenario, _, args = run_name.partition(":")
    kept = [arg for arg in args.split(",") if arg and arg.split("=")[0] not in _MODEL_ARGS]
    return f"{scenario}:{','.join(kept)}" if kept else scenario


def _main_metric(spec: RunSpec, metrics: dict[str, float]) -> str | None:
    if (spec.adapter_spec.method or "").startswith("multiple_choice") and "exact_match" in metrics:
        return "exact_match"
    for metric_spec in spec.metric_specs:
        args = metric_spec.get("args")
        names = args.get("names") if isinstance(args, dict) else None
        for name in names if isinstance(names, list) else []:
            if name in metrics:
                return str(name)
    return next((name for name in _MAIN_METRICS if name in metrics), None)


def _count(value: float | None) -> int | None:
    return int(value) if value is not None and value >= 0 and float(value).is_integer() else None


def _case(entry: Instance, case_id: str, main: str | None) -> CaseResult:
    values = {_label(s): float(s.mean) for s in entry.stats if s.mean is not None}
    runtime = values.get("inference_runtime")
    output = values.get("num_output_tokens", values.get("num_completion_tokens"))
    return CaseResult(
        case_id=case_id,
        score=values.get(main) if main else None,
        latency_ms=runtime * 1000 if runtime is not None and runtime >= 0 else None,
        input_tokens=_count(values.get("num_prompt_tokens")),
        output_tokens=_count(output),
        details=values,
    )


def _cases(
    source: str, raw: Any, split: str, trials: int, main: str | None
) -> tuple[list[CaseResult], int]:
    """The unperturbed instances of ``split`` as cases, and how many perturbed ones were left."""
    if not isinstance(raw, list):
        raise BadInputError(source, "must be a list of instances", where=f"file {PER_INSTANCE}")
    cases: list[CaseResult] = []
    perturbed = 0
    for index, item in enumerate(raw):
        entry = validated(Instance, item, source, (index,))
        splits = {s.name.split for s in entry.stats}
        if split not in splits:
            continue
        if entry.perturbation:
            perturbed += 1
            continue
        case_id = entry.instance_id
        if trials > 1:
            case_id = f"{case_id}#{entry.train_trial_index}"
        cases.append(_case(entry, case_id, main))
    return cases, perturbed


def _prompt_hash(raw_spec: dict[str, Any]) -> str:
    adapter = raw_spec.get("adapter_spec") or {}
    kept = {k: v for k, v in adapter.items() if k not in _NOT_PROMPT}
    text = json.dumps(kept, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def _read_run(source: Source, options: ReadOptions) -> RunResult:
    folder = Path(source.data[_BUNDLE])
    spec_name, stats_name = str(folder / RUN_SPEC), str(folder / STATS)
    raw_spec = source.data["run_spec"]
    spec = validated(RunSpec, raw_spec, spec_name)
    model_name = spec.adapter_spec.model or spec.adapter_spec.model_deployment
    if not model_name:
        raise BadInputError(
            spec_name, "names no model", where="field adapter_spec.model", hint="regenerate it"
        )
    stats = _stats(stats_name, source.data["stats"])
    split = _split(stats)
    if split is None:
        raise BadInputError(
            stats_name,
            "holds no statistic with a mean on the test or valid split",
            hint="an interrupted HELM run: run it again",
        )
    augmenter = spec.data_augmenter_spec or {}
    perturbed = bool(augmenter.get("perturbation_specs"))
    metrics = _means(stats, split, perturbed)
    for name, value in metrics.items():
        problem = check_value(name, value)
        if problem:
            raise BadInputError(stats_name, f"metric '{name}' {problem}", where=f"split {split}")
    main = _main_metric(spec, metrics)
    trials = spec.adapter_spec.num_train_trials or 1
    cases: list[CaseResult] = []
    left_out = 0
    per_instance = source.data["per_instance_stats"]
    if per_instance is not None:
        cases, left_out = _cases(str(folder / PER_INSTANCE), per_instance, split, trials, main)
    instances = _count(metrics.get("num_instances"))
    samples = -(-len(cases) // trials) if cases else instances
    declared = instances * trials if cases and not left_out and instances is not None else None
    other = "valid" if split == "test" else "test"
    other_means = _means(stats, other, False)
    helm: dict[str, Any] = {
        "run_name": spec.name,
        "split": split,
        "method": spec.adapter_spec.method,
        "groups": spec.groups,
        "train_trials": trials,
        "other_split": {other: other_means} if other_means else {},
    }
    if left_out:
        helm["perturbed_instances"] = left_out
    provider = model_name.split("/", 1)[0] if "/" in model_name else None
    return RunResult(
        model=tool_model(model_name, options, provider),
        dataset=tool_dataset(dataset_name(spec.name), None, samples, options).model_copy(
            update={"declared_cases": declared}
        ),
        prompt_version=prompt_version(_prompt_hash(raw_spec)),
        benchmark_type=NAME,
        metrics=metrics,
        cases=cases,
        provenance=Provenance(source_format=NAME, source_name=folder.name),
        extra={
            "helm": helm,
            **({SCORE_METRIC: main, DIRECTIONS: {main: "higher"}} if main and cases else {}),
        },
    )


def read(source: Source, options: ReadOptions) -> list[RunResult]:
    """One RunResult from a run directory; HELM's other files are refused with a reason."""
    kind = _what(source.data)
    if kind != "run":
        raise _refuse(source, kind)
    return [_read_run(source, options)]
