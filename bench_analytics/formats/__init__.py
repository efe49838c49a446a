"""Readers: detect a file's format, read it into RunResults, collect files from folders."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from bench_analytics.errors import BadInputError, UsageError
from bench_analytics.formats import (
    native,
    seed_documents,
    seed_monitoring,
    seed_patients,
    supabase_export,
)
from bench_analytics.formats.collector import deferred_collection
from bench_analytics.formats.common import ReadOptions
from bench_analytics.formats.source import Source, load_source
from bench_analytics.model import KEY_PATTERN, RunResult
from bench_analytics.pricing import apply_prices
from bench_analytics.summary import with_case_metrics

READERS: dict[str, ModuleType] = {
    module.NAME: module
    for module in (native, supabase_export, seed_patients, seed_documents, seed_monitoring)
}
FORMAT_NAMES = ("auto", *READERS)
_SUMMARY_KEYS = {"model_summary", "leaderboard", "total_transactions"}


def _not_results_hint(data: Any) -> str | None:
    if isinstance(data, dict) and data.keys() >= _SUMMARY_KEYS:
        return (
            "this is a dashboard summary (aggregates over many runs), not a result; "
            "push the result files or table export it was built from"
        )
    return None


def detect(source: Source) -> ModuleType:
    """The reader whose format the data has, or a BadInputError naming the formats tried."""
    for reader in READERS.values():
        if reader.matches(source.data):
            return reader
    shape = type(source.data).__name__
    if isinstance(source.data, dict):
        keys = ", ".join(list(source.data)[:6])
        shape = f"an object with keys {keys}" if keys else "an empty object"
    elif isinstance(source.data, list):
        shape = f"a list of {len(source.data)} items"
    raise BadInputError(
        source.name,
        f"not a known result format ({shape}); tried {', '.join(READERS)}",
        hint=_not_results_hint(source.data) or "name the format if it is one",
        cli_hint=_not_results_hint(source.data) or "name the format with --format if it is one",
    )


def check_declared(source: str, run: RunResult, where: str) -> None:
    """Reject a results list shorter (or longer) than the total the file declares."""
    declared = run.dataset.declared_cases
    if run.cases and declared is not None and declared != len(run.cases):
        relation = "shorter" if len(run.cases) < declared else "longer"
        raise BadInputError(
            source,
            f"holds {len(run.cases)} results but declares {declared}: "
            f"the results list is {relation} than its declared total",
            where=f"field {where}",
            hint="a truncated or badly merged file; regenerate it",
        )


def _finalise(source: str, run: RunResult, cases_field: str, options: ReadOptions) -> RunResult:
    check_declared(source, run, cases_field)
    if options.prices:
        run = apply_prices(run, dict(options.prices))
    metrics = with_case_metrics(run.metrics, run.cases, run.averaging)
    provenance = run.provenance
    if provenance.source_name is None:
        provenance = provenance.model_copy(update={"source_name": Path(source).name})
    return run.model_copy(update={"metrics": metrics, "provenance": provenance})


_CASES_FIELD = {
    native.NAME: "cases",
    seed_documents.NAME: "individual_results",
    seed_patients.NAME: "individual_results",
    supabase_export.NAME: "metrics.patient_results",
    seed_monitoring.NAME: "metrics",
}


def check_model_key(key: str | None) -> str | None:
    """Validate an explicit model key (lower case letters, digits, '.', '_', '-')."""
    if key is not None and not re.match(KEY_PATTERN, key):
        raise UsageError(f"model key '{key}' is not valid: use lower case, digits, . _ -")
    return key


def read_source(
    source: Source, fmt: str = "auto", options: ReadOptions | None = None
) -> list[RunResult]:
    """Read an already-loaded source with the named reader (or the detected one)."""
    options = options or ReadOptions()
    check_model_key(options.model_key)
    if fmt != "auto" and fmt not in READERS:
        raise UsageError(f"unknown format '{fmt}'; choose one of {', '.join(FORMAT_NAMES)}")
    reader = detect(source) if fmt == "auto" else READERS[fmt]
    if fmt != "auto" and not isinstance(source.data, dict | list):
        raise BadInputError(
            source.name, f"not a {fmt} file: the JSON is a {type(source.data).__name__}"
        )
    runs = reader.read(source, options)
    return [_finalise(source.name, run, _CASES_FIELD[reader.NAME], options) for run in runs]


def read_file(path: Path, fmt: str = "auto", options: ReadOptions | None = None) -> list[RunResult]:
    """Read one file into its RunResults (a table export holds many)."""
    with deferred_collection():
        return read_source(load_source(path), fmt, options)


def expand_inputs(inputs: Iterable[Path]) -> list[Path]:
    """Files as given, and every ``*.json`` below a directory (sorted, hidden entries skipped)."""
    files: list[Path] = []
    for item in inputs:
        if item.is_dir():
            found = sorted(
                p
                for p in item.rglob("*.json")
                if p.is_file()
                and not any(part.startswith(".") for part in p.relative_to(item).parts)
            )
            if not found:
                raise BadInputError(
                    str(item), "no result files (*.json) in this directory", hint="check the path"
                )
            files.extend(found)
        elif item.exists():
            files.append(item)
        else:
            raise BadInputError(str(item), "no such file or directory")
    return files


@dataclass
class Batch:
    """What a set of inputs held: the runs read, and the files refused with their error."""

    runs: list[tuple[Path, RunResult]] = field(default_factory=list)
    refused: list[tuple[Path, BadInputError]] = field(default_factory=list)


def read_batch(
    paths: Iterable[Path],
    fmt: str = "auto",
    options: ReadOptions | None = None,
    on_file: Callable[[Path], None] | None = None,
) -> Batch:
    """Read every input; refusals are collected so the caller decides (stop or skip)."""
    batch = Batch()
    for path in expand_inputs(paths):
        try:
            batch.runs.extend((path, run) for run in read_file(path, fmt, options))
        except BadInputError as error:
            batch.refused.append((path, error))
        if on_file:
            on_file(path)
    return batch
