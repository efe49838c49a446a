"""What a ``--path`` holds: native result files, files of other formats, pulled warehouses.

A directory is searched recursively for ``*.json`` (hidden entries skipped); a directory
with a warehouse manifest is a warehouse and its subtree is not searched for JSON. Each
JSON file is classified from its first bytes: the native format states
``"schema": "bench-analytics/result"`` at the top, so no file is parsed here.
"""

from __future__ import annotations

import glob
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bench_analytics.errors import BadInputError

DEFAULT_PATH = Path("benchmarks/results")
MANIFEST = "manifest.json"
WAREHOUSE_FORMAT = "bench-analytics/warehouse"
HEAD_BYTES = 4096
_NATIVE = re.compile(rb'"schema"\s*:\s*"bench-analytics/result"')
_WAREHOUSE = re.compile(rb'"format"\s*:\s*"bench-analytics/warehouse"')
_GLOB_CHARS = re.compile(r"[*?\[]")


@dataclass
class Inputs:
    """The files behind the local views, by how they are read."""

    native: list[Path] = field(default_factory=list)
    other: list[Path] = field(default_factory=list)
    warehouses: list[Path] = field(default_factory=list)
    looked_for: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.native or self.other or self.warehouses)

    def describe_empty(self) -> str:
        """What was searched, for the 'nothing found' message."""
        return ", ".join(self.looked_for) or str(DEFAULT_PATH / "**" / "*.json")


def _head(path: Path) -> bytes:
    try:
        with path.open("rb") as handle:
            return handle.read(HEAD_BYTES)
    except OSError as exc:
        raise BadInputError(str(path), f"cannot read the file: {exc.strerror}") from None


def is_native(path: Path) -> bool:
    """True when the file says it is a bench-analytics result (read from its first bytes)."""
    return bool(_NATIVE.search(_head(path)))


def is_warehouse(directory: Path) -> bool:
    """True when ``directory`` holds a warehouse manifest written by ``pull``."""
    manifest = directory / MANIFEST
    return manifest.is_file() and bool(_WAREHOUSE.search(_head(manifest)))


def _json_below(directory: Path, inputs: Inputs) -> list[Path]:
    """Every result file below ``directory`` (``*.json`` and the endings other tools' readers
    add, such as ``.jsonl`` and ``.eval``; a file read with another one, such as lm-eval
    samples beside their results, only through that one); warehouses found on the way are
    recorded."""
    from bench_analytics.formats import read_with_another, result_suffixes

    suffixes = result_suffixes()
    found: list[Path] = []
    for root, dirs, files in os.walk(directory):
        here = Path(root)
        if here != directory and is_warehouse(here):
            inputs.warehouses.append(here)
            dirs.clear()
            continue
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        found.extend(here / f for f in sorted(files) if f.endswith(suffixes) and f[0] != ".")
    listed = set(found)
    return [path for path in found if not read_with_another(path, listed)]


def _add_file(path: Path, inputs: Inputs) -> None:
    if path.name == MANIFEST and is_warehouse(path.parent):
        inputs.warehouses.append(path.parent)
    elif is_native(path):
        inputs.native.append(path)
    else:
        inputs.other.append(path)


def discover(paths: Sequence[str | Path] | None) -> Inputs:
    """Classify the inputs; an explicit path that holds nothing is a BadInputError.

    With no paths, ``./benchmarks/results`` is used; when it holds nothing the result is
    empty (the views exist, with no rows) and queries that use them say what was searched.
    """
    inputs = Inputs()
    if not paths:
        inputs.looked_for.append(f"{DEFAULT_PATH}/**/*.json")
        if DEFAULT_PATH.is_dir():
            for path in _json_below(DEFAULT_PATH, inputs):
                _add_file(path, inputs)
        return inputs
    for item in paths:
        text = str(item)
        if _GLOB_CHARS.search(text):
            matched = sorted(Path(p) for p in glob.glob(text, recursive=True) if Path(p).is_file())
            if not matched:
                raise BadInputError(text, "no files match this pattern", hint="check the path")
            for path in matched:
                _add_file(path, inputs)
            continue
        path = Path(text)
        if path.is_dir():
            if is_warehouse(path):
                inputs.warehouses.append(path)
                continue
            before = len(inputs.warehouses)
            files = _json_below(path, inputs)
            if not files and len(inputs.warehouses) == before:
                raise BadInputError(
                    text,
                    f"no result files here: looked for {path}/**/*.json and a warehouse "
                    f"{MANIFEST} written by `bench-analytics pull`",
                    hint="check the path, or pull a warehouse first",
                )
            for file in files:
                _add_file(file, inputs)
        elif path.is_file():
            _add_file(path, inputs)
        else:
            raise BadInputError(text, "no such file or directory")
    return inputs
