"""``pull``: the store's runs, cases and metrics into a Parquet warehouse, incrementally.

Only runs not pulled before are copied: everything above the last transaction id of the
manifest, plus ids that were missing below it (a push that had not committed yet when the
last pull ran; kept for a day). ``since`` only ever widens what the warehouse holds: a pull
with an earlier ``since`` backfills older runs, one without ``since`` keeps the window.
Files are written to ``_staging/`` first and moved in before the manifest is replaced, so
a pull that dies leaves the warehouse as it was. Reads only: the store is never written.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench_analytics.errors import UsageError
from bench_analytics.local.columns import literal
from bench_analytics.local.sources import MANIFEST
from bench_analytics.local.warehouse import (
    HISTORY_FILE,
    PARTITIONED,
    STATE_FILE,
    new_manifest,
    read_manifest,
    write_manifest,
)

if TYPE_CHECKING:
    import duckdb

    from bench_analytics.local.central import Central

CHUNK_ROWS = 250_000
KEEP_PULLS = 100  # entries of the manifest's pull log
_PULL_FILE = re.compile(r"^pull-(\d{6})-")
PENDING_TTL = timedelta(hours=24)
STAGING = "_staging"
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class PullResult:
    """What one pull added."""

    directory: str
    runs: int
    cases: int
    metrics: int
    history: int
    files: int
    last_transaction_id: int
    since: str | None
    mode: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _requested(since: str | datetime | None, now: datetime) -> datetime | str | None:
    """The asked-for lower bound: a time, None for everything, or 'keep'."""
    from bench_analytics.store.costs import parse_since

    if since is None:
        return "keep"
    return since if isinstance(since, datetime) else parse_since(since, now)


def _window(wanted: datetime | str | None, manifest: dict[str, Any]) -> datetime | None:
    """The effective lower bound of run times: never narrower than the warehouse's."""
    first = not manifest["pulls"]
    held = datetime.fromisoformat(manifest["since"]) if manifest["since"] else None
    if wanted == "keep":
        return None if first else held
    assert not isinstance(wanted, str)
    if first:
        return wanted
    return None if wanted is None or held is None else min(wanted, held)


def _selection(
    con: duckdb.DuckDBPyConnection,
    manifest: dict[str, Any],
    window: datetime | None,
    now: datetime,
) -> tuple[list[tuple[int, int]], int, dict[str, str]]:
    """([(id, case_count)] to pull, new last id, pending ids) from the store's run list."""
    rows = con.execute(
        "SELECT transaction_id, epoch_us(run_at), case_count FROM central.runs"
    ).fetchall()
    last = int(manifest["last_transaction_id"])
    pending = {int(k): v for k, v in manifest["pending_ids"].items()}
    held = manifest["since"] and datetime.fromisoformat(manifest["since"])
    low = None if window is None else int(window.timestamp() * 1_000_000)
    high = None if not held or not manifest["pulls"] else int(held.timestamp() * 1_000_000)
    chosen, existing = [], set()
    for tx, run_at, cases in rows:
        existing.add(tx)
        in_window = low is None or run_at >= low
        fresh = tx > last or tx in pending
        backfill = not fresh and high is not None and run_at < high and in_window
        if (fresh and in_window) or backfill:
            chosen.append((tx, cases or 0))
    new_last = max([last, *existing])
    stamp = now.isoformat()
    gaps = {tx: stamp for tx in range(last + 1, new_last) if tx not in existing}
    for tx, seen in pending.items():
        if tx not in existing and now - datetime.fromisoformat(seen) < PENDING_TTL:
            gaps.setdefault(tx, seen)
    return sorted(chosen), new_last, {str(k): v for k, v in sorted(gaps.items())}


def _chunks(selected: list[tuple[int, int]]) -> list[list[int]]:
    """Consecutive ids grouped so each group holds about CHUNK_ROWS cases."""
    chunks: list[list[int]] = []
    size = CHUNK_ROWS
    for tx, cases in selected:
        if size + cases > CHUNK_ROWS and (not chunks or chunks[-1]):
            chunks.append([])
            size = 0
        chunks[-1].append(tx)
        size += cases
    return chunks


def _filter(ids: list[int]) -> str:
    listed = ", ".join(map(str, ids))
    return f"transaction_id BETWEEN {ids[0]} AND {ids[-1]} AND transaction_id IN ({listed})"


_SELECT = {
    "runs": "SELECT * EXCLUDE (effective_status), strftime(run_at, '%Y-%m') AS month "
    "FROM central.runs",
    "cases": "SELECT *, strftime(run_at, '%Y-%m') AS month FROM central.cases",
    "metrics": "SELECT *, strftime(run_at, '%Y-%m') AS month FROM central.metrics",
}


def _write(
    central: Central,
    stage: Path,
    seq: int,
    selected: list[tuple[int, int]],
    on_progress: Progress | None,
) -> dict[str, int]:
    """Write the selected runs' rows into ``stage``; rows written per table."""
    con = central.con
    chunks = _chunks(selected)
    central.ensure(["cases", "metrics"], ids=[tx for tx, _ in selected])
    written = dict.fromkeys(PARTITIONED, 0)
    stage.mkdir(parents=True, exist_ok=True)
    steps, done = len(chunks) * len(PARTITIONED), 0
    for number, ids in enumerate(chunks):
        for table in PARTITIONED:
            target = literal(str(stage / table))
            pattern = literal(f"pull-{seq:06d}-{number:04d}-{{i}}")
            row = con.execute(
                f"COPY ({_SELECT[table]} WHERE {_filter(ids)}) TO {target} (FORMAT parquet, "
                f"PARTITION_BY (model, month), FILENAME_PATTERN {pattern}, "
                "OVERWRITE_OR_IGNORE true, COMPRESSION zstd)"
            ).fetchone()
            written[table] += row[0] if row else 0
            done += 1
            if on_progress:
                on_progress(done, steps)
    return written


def _snapshots(central: Central, stage: Path) -> int:
    """Rewrite history (every version, current flag) and state (effective status of runs)."""
    con = central.con
    stage.mkdir(parents=True, exist_ok=True)
    con.execute(
        "COPY (SELECT transaction_id, effective_status FROM central.runs) "
        f"TO {literal(str(stage / STATE_FILE))} (FORMAT parquet)"
    )
    row = con.execute(
        f"COPY (SELECT * FROM central.history) TO {literal(str(stage / HISTORY_FILE))} "
        "(FORMAT parquet)"
    ).fetchone()
    return row[0] if row else 0


def _clean(directory: Path, manifest: dict[str, Any]) -> None:
    """Remove what a pull that died left behind (staging, files of unrecorded pulls)."""
    shutil.rmtree(directory / STAGING, ignore_errors=True)
    last_seq = max((p["seq"] for p in manifest["pulls"]), default=0)
    for table in PARTITIONED:
        for path in (directory / table).glob("**/pull-*"):
            match = _PULL_FILE.match(path.name)
            if match and int(match.group(1)) > last_seq:
                path.unlink()


def _move_in(stage: Path, directory: Path) -> int:
    moved = 0
    for path in sorted(stage.rglob("*.parquet")):
        target = directory / path.relative_to(stage)
        target.parent.mkdir(parents=True, exist_ok=True)
        path.replace(target)
        moved += 1
    return moved


def _open_manifest(directory: Path) -> dict[str, Any]:
    if (directory / MANIFEST).exists():
        return read_manifest(directory)
    ours = {".pull.lock", STAGING}
    if directory.exists() and any(p.name not in ours for p in directory.iterdir()):
        raise UsageError(
            f"{directory} is not empty and holds no warehouse {MANIFEST}: "
            "pull into a new or empty directory"
        )
    return new_manifest()


def _check_anchor(store: Any, directory: Path, manifest: dict[str, Any]) -> None:
    """Refuse a store other than the one pulled before (its first pulled run must be there)."""
    anchor = manifest["store_anchor"]
    if not anchor:
        return
    row = store.conn.execute(
        "SELECT content_sha256 FROM benchmark_transactions WHERE id = %s",
        (anchor["transaction_id"],),
    ).fetchone()
    if not row or row[0] != anchor["content_sha256"]:
        raise UsageError(
            f"{directory} was pulled from another store ({manifest['store']}): its transaction "
            f"{anchor['transaction_id']} is not here; pull this store into a new directory"
        )


def _anchor(store: Any, selected: list[tuple[int, int]]) -> dict[str, Any] | None:
    if not selected:
        return None
    tx = selected[0][0]
    row = store.conn.execute(
        "SELECT content_sha256 FROM benchmark_transactions WHERE id = %s", (tx,)
    ).fetchone()
    return {"transaction_id": tx, "content_sha256": row[0]} if row else None


def pull(
    directory: str | Path,
    *,
    since: str | datetime | None = None,
    store_url: str | None = None,
    extension: str | Path | None = None,
    on_notice: Callable[[str], None] | None = None,
    on_progress: Progress | None = None,
    now: datetime | None = None,
) -> PullResult:
    """Pull what is new in the store into the warehouse at ``directory``.

    ``since``: '90d', '12h', a date, 'all', or a datetime; None keeps the warehouse's window
    (everything on a first pull). Partitioned by model and UTC month (hive layout).
    """
    from filelock import FileLock

    from bench_analytics.config import get_settings
    from bench_analytics.local.central import Central
    from bench_analytics.local.session import new_connection
    from bench_analytics.store import Store

    directory = Path(directory)
    now = now or datetime.now(UTC)
    wanted = _requested(since, now)  # bad input is refused before anything is opened or written
    _open_manifest(directory)
    with Store.open(store_url, settings=get_settings(), migrate=False) as store:
        directory.mkdir(parents=True, exist_ok=True)
        with FileLock(str(directory / ".pull.lock")):
            manifest = _open_manifest(directory)  # again, under the lock
            if not (directory / MANIFEST).exists():
                write_manifest(directory, manifest)  # leftovers of a crash are known from now on
            _clean(directory, manifest)
            con = new_connection()
            try:
                central = Central(con, store, extension=extension, on_notice=on_notice)
                _check_anchor(store, directory, manifest)
                window = _window(wanted, manifest)
                central.ensure(["runs", "history"])
                selected, last, pending = _selection(con, manifest, window, now)
                seq = max((p["seq"] for p in manifest["pulls"]), default=0) + 1
                stage = directory / STAGING / f"pull-{seq:06d}"
                written = _write(central, stage, seq, selected, on_progress) if selected else {}
                history = _snapshots(central, stage)
                files = _move_in(stage, directory)
                newest = con.execute("SELECT max(pushed_at)::VARCHAR FROM central.runs").fetchone()
                mode = central.mode
            finally:
                con.close()
            rows = {table: written.get(table, 0) for table in PARTITIONED}
            manifest.update(
                store=store.display_url,
                store_anchor=manifest["store_anchor"] or _anchor(store, selected),
                since=_iso(window),
                last_transaction_id=last,
                pending_ids=pending,
                last_pushed_at=newest[0] if newest else None,
                pulled_at=now.isoformat(),
            )
            manifest["rows"] = {t: manifest["rows"].get(t, 0) + n for t, n in rows.items()}
            manifest["rows"]["history"] = history
            manifest["pulls"].append(
                {
                    "seq": seq,
                    "pulled_at": now.isoformat(),
                    "since": _iso(window),
                    "up_to_transaction_id": last,
                    "transactions": len(selected),
                    "rows": rows,
                    "files": files,
                }
            )
            manifest["pulls"] = manifest["pulls"][-KEEP_PULLS:]
            write_manifest(directory, manifest)
            shutil.rmtree(directory / STAGING, ignore_errors=True)
    return PullResult(
        directory=str(directory),
        runs=rows["runs"],
        cases=rows["cases"],
        metrics=rows["metrics"],
        history=history,
        files=files,
        last_transaction_id=last,
        since=_iso(window),
        mode=mode,
    )
