"""Readers: detect a file's format, read it into RunResults, collect files from folders."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from pydantic import ValidationError

from bench_analytics.errors import BadInputError, UsageError
from bench_analytics.formats import (
    helm,
    inspect_log,
    lm_eval,
    native,
    openai_evals,
    promptfoo,
    seed_documents,
    seed_monitoring,
    seed_patients,
    supabase_export,
)
from bench_analytics.formats.collector import deferred_collection
from bench_analytics.formats.common import ReadOptions
from bench_analytics.formats.source import Source, load_source, validation_failure
from bench_analytics.formats.strictjson import NonFiniteNumber
from bench_analytics.model import KEY_PATTERN, NAME_MAX, RunResult
from bench_analytics.pricing import apply_prices
from bench_analytics.summary import with_case_metrics

READERS: dict[str, ModuleType] = {
    module.NAME: module
    for module in (
        native,
        supabase_export,
        seed_patients,
        seed_documents,
        seed_monitoring,
        inspect_log,
        helm,
        lm_eval,
        promptfoo,
        openai_evals,
    )
}
FORMAT_NAMES = ("auto", *READERS)
_SUMMARY_KEYS = {"model_summary", "leaderboard", "total_transactions"}
# Formats whose results may hold no per-case rows while stating how many cases ran.
AGGREGATE_FORMATS = frozenset({seed_monitoring.NAME, supabase_export.NAME, openai_evals.NAME})


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
    """Reject a results list shorter (or longer) than the total the file declares.

    A run without cases that declares some is refused too, unless it comes from a format
    that holds aggregates only (its ``provenance.source_format`` says which).
    """
    declared = run.dataset.declared_cases
    if declared is None or declared == len(run.cases):
        return
    if not run.cases:
        if run.provenance.source_format in AGGREGATE_FORMATS:
            return
        raise BadInputError(
            source,
            f"holds no results but declares {declared} cases",
            where=f"field {where}",
            hint="a truncated file, or results lost on the way: regenerate it (a result "
            "of aggregates only names its format in provenance.source_format)",
        )
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


def cases_field(reader: ModuleType) -> str:
    """Where a reader's format keeps its per-case rows (for messages)."""
    return str(getattr(reader, "CASES_FIELD", "cases"))


def claiming_reader(path: Path, fmt: str = "auto") -> ModuleType | None:
    """The reader that loads ``path`` its own way (JSON Lines logs, zip archives, run
    folders: a module with ``claims(path)`` and ``load(path) -> Source``), if one does."""
    readers = [READERS[fmt]] if fmt in READERS else list(READERS.values())
    for reader in readers:
        claims = getattr(reader, "claims", None)
        if claims is not None and claims(path):
            return reader
    return None


def _load_json(path: Path, fmt: str) -> Source:
    """The file as strict JSON; NaN and Infinity only for a reader that takes them
    (``NON_FINITE = True``: tools such as lm-evaluation-harness write them)."""
    try:
        return load_source(path)
    except NonFiniteNumber as strict:
        lenient = load_source(path, non_finite=True)
        try:
            reader = READERS[fmt] if fmt in READERS else detect(lenient)
        except BadInputError:
            raise strict from None
        if not getattr(reader, "NON_FINITE", False):
            raise strict from None
        return lenient


def check_model_key(key: str | None) -> str | None:
    """Validate an explicit model key (lower case letters, digits, '.', '_', '-')."""
    if key is not None and (len(key) > NAME_MAX or not re.match(KEY_PATTERN, key)):
        shown = key if len(key) <= 60 else key[:57] + "..."
        raise UsageError(
            f"model key '{shown}' is not valid: use lower case, digits, . _ - "
            f"(at most {NAME_MAX} characters)"
        )
    return key


def check_options(options: ReadOptions) -> None:
    """Validate what the caller gives instead of the file (model key, dataset version)."""
    check_model_key(options.model_key)
    version = options.dataset_version
    if version is not None and not 0 < len(version) <= NAME_MAX:
        raise UsageError(
            f"dataset version must be 1 to {NAME_MAX} characters long, got {len(version)}"
        )
    if version is not None and "\x00" in version:
        raise UsageError("dataset version holds a NUL character, which the store cannot keep")


def read_source(
    source: Source, fmt: str = "auto", options: ReadOptions | None = None
) -> list[RunResult]:
    """Read an already-loaded source with the named reader (or the detected one)."""
    options = options or ReadOptions()
    check_options(options)
    if fmt != "auto" and fmt not in READERS:
        raise UsageError(f"unknown format '{fmt}'; choose one of {', '.join(FORMAT_NAMES)}")
    reader = detect(source) if fmt == "auto" else READERS[fmt]
    if fmt != "auto" and not isinstance(source.data, dict | list):
        raise BadInputError(
            source.name, f"not a {fmt} file: the JSON is a {type(source.data).__name__}"
        )
    try:
        runs = reader.read(source, options)
    except ValidationError as exc:  # a value the reader derived fails the model's rules
        raise validation_failure(source.name, exc) from None
    return [_finalise(source.name, run, cases_field(reader), options) for run in runs]


def read_file(path: Path, fmt: str = "auto", options: ReadOptions | None = None) -> list[RunResult]:
    """Read one file into its RunResults (a table export holds many)."""
    with deferred_collection():
        if fmt != "auto" and fmt not in READERS:
            raise UsageError(f"unknown format '{fmt}'; choose one of {', '.join(FORMAT_NAMES)}")
        claimed = claiming_reader(path, fmt)
        if claimed is not None:
            return read_source(claimed.load(path), claimed.NAME, options)
        return read_source(_load_json(path, fmt), fmt, options)


def result_suffixes() -> tuple[str, ...]:
    """File endings a folder is searched for: JSON, and those readers add (``SUFFIXES``)."""
    extra = (suffix for reader in READERS.values() for suffix in getattr(reader, "SUFFIXES", ()))
    return tuple(dict.fromkeys((".json", *extra)))


def _hidden(path: Path, folder: Path) -> bool:
    return any(part.startswith(".") for part in path.relative_to(folder).parts)


def _json_files(folder: Path) -> list[Path]:
    """Every result file below ``folder`` (hidden entries skipped), sorted: ``*.json`` and
    the endings readers add, and folders a reader reads as one result (a run directory),
    whose own files are then not listed apart.

    A symbolic link that leads nowhere (a loop, or a missing target) is listed too, so that
    reading it refuses it by name instead of skipping it without a word.
    """
    suffixes = result_suffixes()
    runs = sorted(
        path
        for path in folder.rglob("*")
        if path.is_dir() and not _hidden(path, folder) and claiming_reader(path) is not None
    )
    return sorted(
        [
            *runs,
            *(
                path
                for path in folder.rglob("*")
                if path.name.endswith(suffixes)
                and (path.is_file() or (path.is_symlink() and not path.exists()))
                and not _hidden(path, folder)
                and not any(run in path.parents for run in runs)
            ),
        ]
    )


def read_with_another(path: Path, listed: set[Path]) -> bool:
    """A file some reader reads together with another file that is listed too (lm-eval's
    samples beside their results): listed once, through that other file."""
    for reader in READERS.values():
        main_file = getattr(reader, "main_file", None)
        found = main_file(path) if main_file is not None else None
        if found is not None and found in listed:
            return True
    return False


def expand_inputs(inputs: Iterable[Path]) -> list[Path]:
    """Files as given, and every result file below a directory (sorted, hidden entries
    skipped); a directory a reader reads as one result stays one input."""
    files: list[Path] = []
    for item in inputs:
        if item.is_dir() and claiming_reader(item) is None:
            found = _json_files(item)
            if not found:
                raise BadInputError(
                    str(item), "no result files (*.json) in this directory", hint="check the path"
                )
            files.extend(found)
        elif item.exists() or item.is_symlink():  # a broken link is refused when read
            files.append(item)
        else:
            raise BadInputError(str(item), "no such file or directory")
    listed = set(files)
    return [path for path in files if not read_with_another(path, listed)]


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
