"""The pulled warehouse: its layout, its manifest, and the views over its Parquet files.

    warehouse/
      manifest.json                                  what was pulled, up to which transaction
      runs/model=<key>/month=<YYYY-MM>/pull-*.parquet     one row per run (append-only)
      cases/model=<key>/month=<YYYY-MM>/pull-*.parquet    one row per case (append-only)
      metrics/model=<key>/month=<YYYY-MM>/pull-*.parquet  one row per metric (append-only)
      history.parquet    every snapshot version with its current flag (rewritten each pull)
      state.parquet      effective status of every run, quarantine included (rewritten)

Any Parquet engine reads it: ``read_parquet('warehouse/cases/**/*.parquet',
hive_partitioning=true)``. The month is the UTC month of the run's time.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from bench_analytics.errors import BadInputError
from bench_analytics.local.columns import (
    CASES,
    HISTORY,
    METRICS,
    RUNS,
    empty_select,
    literal,
    passthrough,
    select_list,
)
from bench_analytics.local.sources import MANIFEST, WAREHOUSE_FORMAT

FORMAT_VERSION = 1
PARTITIONED = ("runs", "cases", "metrics")
HISTORY_FILE = "history.parquet"
STATE_FILE = "state.parquet"
_HIVE = "hive_partitioning=true, hive_types={'model': VARCHAR, 'month': VARCHAR}"


def new_manifest() -> dict[str, Any]:
    """The manifest of an empty warehouse."""
    return {
        "format": WAREHOUSE_FORMAT,
        "format_version": FORMAT_VERSION,
        "layout": {
            **{t: f"{t}/model=<model>/month=<YYYY-MM>/pull-<n>-*.parquet" for t in PARTITIONED},
            "history": HISTORY_FILE,
            "state": STATE_FILE,
        },
        "store": None,
        "store_anchor": None,
        "since": None,
        "last_transaction_id": 0,
        "pending_ids": {},
        "last_pushed_at": None,
        "pulled_at": None,
        "rows": {"runs": 0, "cases": 0, "metrics": 0, "history": 0},
        "pulls": [],
    }


def read_manifest(directory: Path) -> dict[str, Any]:
    """The manifest of a warehouse (BadInputError when it is not one)."""
    path = directory / MANIFEST
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise BadInputError(str(path), f"not a readable warehouse manifest: {exc}") from None
    if not isinstance(data, dict) or data.get("format") != WAREHOUSE_FORMAT:
        raise BadInputError(str(path), f"not a warehouse manifest (format {WAREHOUSE_FORMAT!r})")
    if data.get("format_version", 0) > FORMAT_VERSION:
        raise BadInputError(
            str(path),
            f"written by a newer bench-analytics (format_version {data['format_version']})",
            hint="upgrade bench-analytics",
        )
    return data


def write_manifest(directory: Path, manifest: dict[str, Any]) -> None:
    """Replace the manifest atomically."""
    path = directory / MANIFEST
    tmp = path.with_name(f".{MANIFEST}.tmp")
    tmp.write_text(json.dumps(manifest, indent=2, sort_keys=False) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def _parquet_files(directory: Path, table: str) -> bool:
    return any((directory / table).glob("**/*.parquet"))


def _partitioned(directory: Path, table: str) -> str:
    pattern = literal(str(directory / table / "**" / "*.parquet"))
    return f"read_parquet({pattern}, {_HIVE}, union_by_name=true)"


def runs_sql(directory: Path) -> str:
    """The runs of a warehouse; effective status from the latest state file."""
    if not _parquet_files(directory, "runs"):
        return empty_select(RUNS)
    exprs = passthrough(RUNS, "r")
    state = ""
    if (directory / STATE_FILE).is_file():
        exprs["effective_status"] = "coalesce(s.effective_status, r.status)"
        state = (
            f"LEFT JOIN read_parquet({literal(str(directory / STATE_FILE))}) s "
            "ON s.transaction_id = r.transaction_id"
        )
    else:
        exprs["effective_status"] = "r.status"
    return f"SELECT {select_list(RUNS, exprs)}\nFROM {_partitioned(directory, 'runs')} r {state}"


def table_sql(directory: Path, table: str) -> str:
    """Cases or metrics of a warehouse."""
    columns = {"cases": CASES, "metrics": METRICS}[table]
    if not _parquet_files(directory, table):
        return empty_select(columns)
    exprs = passthrough(columns, "t")
    return f"SELECT {select_list(columns, exprs)}\nFROM {_partitioned(directory, table)} t"


def history_sql(directory: Path) -> str:
    """Every snapshot version as of the last pull."""
    path = directory / HISTORY_FILE
    if not path.is_file():
        return empty_select(HISTORY)
    exprs = passthrough(HISTORY, "h")
    return f"SELECT {select_list(HISTORY, exprs)}\nFROM read_parquet({literal(str(path))}) h"
