"""Identity of results written by other eval tools (lm-evaluation-harness, promptfoo,
Inspect, HELM, OpenAI evals): model keys, dataset and prompt versions, metric directions.

Readers of those tools put two things in ``RunResult.extra`` for the rest of the product:
``metric_directions`` (``{metric: "higher" | "lower"}`` as the file states them) and
``score_metric`` (the run metric whose per-case values are the cases' ``score``, so that
two runs pair on their cases for that metric).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping
from typing import Any

import orjson

from bench_analytics.formats.common import ReadOptions, model_ref
from bench_analytics.model import NAME_MAX, DatasetRef, ModelRef

UNVERSIONED = "unversioned"  # the prompt version of a tool that records no prompt hash
DIRECTIONS = "metric_directions"  # RunResult.extra key: {metric: "higher" | "lower"}
SCORE_METRIC = "score_metric"  # RunResult.extra key: the metric the cases' score is


def tool_model(name: str, options: ReadOptions, provider: str | None = None) -> ModelRef:
    """The model as the tool names it (a hub id, a local path, an API model): its key is
    the name made key-shaped, so ``/data/ckpt/llama-7b`` and ``meta-llama/Llama-2-7b-hf``
    stay two models; the display name keeps the original. Over-long keys end in a hash."""
    ref = model_ref(name, options, provider)
    if len(ref.key) <= NAME_MAX:
        return ref
    digest = hashlib.sha256(ref.key.encode()).hexdigest()[:10]
    return ref.model_copy(update={"key": f"{ref.key[: NAME_MAX - 11].rstrip('-._')}-{digest}"})


def tool_dataset(
    task: str, version: Any = None, samples: int | None = None, options: ReadOptions | None = None
) -> DatasetRef:
    """The dataset of a task: its name, plus the task's version and sample count, so that a
    new task version or a ``--limit`` run is another dataset version."""
    if options is not None and options.dataset_version:
        return DatasetRef(name=task, version=options.dataset_version, declared_cases=samples)
    parts = [task]
    if version not in (None, ""):
        parts.append(f"v{version}")
    if samples is not None:
        parts.append(f"n{samples}")
    text = "-".join(str(part) for part in parts)
    if len(text) > NAME_MAX:
        digest = hashlib.sha256(text.encode()).hexdigest()[:10]
        text = f"{text[: NAME_MAX - 11]}-{digest}"
    return DatasetRef(name=task, version=text, declared_cases=samples)


def prompt_version(prompt_hash: str | None) -> str:
    """``prompt-<hash>`` from the tool's prompt or template hash, else ``unversioned``."""
    return f"prompt-{prompt_hash[:16]}" if prompt_hash else UNVERSIONED


def directions(higher_is_better: Mapping[str, Any]) -> dict[str, str]:
    """``{metric: True|False}`` as the file states it, as ``{metric: "higher"|"lower"}``."""
    return {
        str(metric): "higher" if better else "lower"
        for metric, better in higher_is_better.items()
        if isinstance(better, bool)
    }


# --- values as other tools write them -----------------------------------------------------

TEXT_MAX = 300  # characters of an answer, target or reason kept in a case's details


def short(value: Any, limit: int = TEXT_MAX) -> Any:
    """A value kept small for case details: numbers as they are; a text (or a one-text
    list) cut at ``limit``; a structure kept when small, else as cut compact JSON."""
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, list) and len(value) == 1 and isinstance(value[0], str):
        value = value[0]
    if isinstance(value, str):
        return value if len(value) <= limit else value[: limit - 3] + "..."
    text = orjson.dumps(value, option=orjson.OPT_SORT_KEYS | orjson.OPT_SERIALIZE_NUMPY).decode()
    return value if len(text) <= limit else text[: limit - 3] + "..."


def mapping(value: Any) -> dict[str, Any]:
    """The value when it is an object, else an empty one."""
    return value if isinstance(value, dict) else {}


def number(value: Any) -> float | None:
    """A finite number as a float, else None (absent, "N/A", NaN, Infinity, booleans)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def count(value: Any) -> int | None:
    """A non-negative integer, else None."""
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None
