"""Which run to compare against, and why: rules (current, previous, pinned) and references.

A reference names a stored run (``tx:42``, ``42``, ``medgemma@3``, ``medgemma@current``)
or a result file. The baseline chosen is always stated, so a verdict can be explained.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Literal

from bench_analytics.comparison import RunView, tool_fields
from bench_analytics.configuration import Configuration
from bench_analytics.errors import UsageError
from bench_analytics.store import ConfigFilter, Store, runs

BASELINE_RULES = ("current", "previous", "pinned")
_VERSION_REF = re.compile(
    r"^(?P<model>[a-z0-9][a-z0-9._-]*)@(?P<which>current|previous|pinned|\d+)$"
)
_TX_REF = re.compile(r"^(?:tx:|#)?(?P<id>\d+)$")
RefKind = Literal["tx", "version", "file"]


@dataclass(frozen=True)
class Baseline:
    """A run to compare against, and why it was chosen."""

    view: RunView
    transaction_id: int | None
    rule: str
    reason: str


def stored_view(store: Store, transaction_id: int, label: str) -> RunView:
    """A stored run as a comparison input."""
    from bench_analytics.stats import CaseTable

    stored = runs.stored_run(store.conn, transaction_id)
    table = CaseTable.from_rows(stored.cases) if stored.cases else None
    score_metric, directions = tool_fields(stored.extra)
    return RunView(
        label,
        stored.metrics,
        stored.averaging,
        table,
        stored.content_sha256,
        score_metric,
        directions,
    )


def _baseline(
    store: Store, config: Configuration, found: tuple[int, int], rule: str, why: str
) -> Baseline:
    tx, version = found
    reason = f"version {version} of {config} (transaction {tx}): {why}"
    return Baseline(stored_view(store, tx, f"{config.model}@{version}"), tx, rule, reason)


def resolve_baseline(
    store: Store,
    config: Configuration,
    rule: str,
    *,
    candidate: tuple[int, int] | None = None,
) -> Baseline | None:
    """The baseline a rule names in one configuration, or None when there is none.

    current: the current snapshot. previous: the newest healthy version (before the
    candidate, when the candidate is already stored). pinned: the pinned version.
    ``candidate`` is (transaction id, version) of a stored candidate, never its own baseline.
    """
    conn = store.conn
    if rule == "current":
        found = runs.current_version(conn, config, excluding=candidate[0] if candidate else None)
        if found is None and candidate and runs.is_current(conn, candidate[0]):
            return resolve_baseline(store, config, "previous", candidate=candidate)
        return _baseline(store, config, found, rule, "the current snapshot") if found else None
    if rule == "previous":
        below = candidate[1] if candidate else runs.NO_VERSION
        found = runs.previous_healthy(conn, config, below=below)
        why = "the newest healthy version" + (" before the candidate" if candidate else "")
        return _baseline(store, config, found, rule, why) if found else None
    if rule == "pinned":
        pinned = runs.pinned_version(conn, config)
        if pinned is None:
            raise UsageError(
                f"no pinned baseline for {config}",
                hint="pin one with Bench.pin()",
                cli_hint="pin one with `bench-analytics pin`",
            )
        return _baseline(
            store, config, runs.version(conn, config, pinned), rule, "the pinned baseline"
        )
    raise UsageError(f"unknown baseline rule '{rule}' (current, previous, pinned or a reference)")


def parse_ref(text: str) -> tuple[RefKind, str | int]:
    """('tx', id) | ('version', 'model@which') | ('file', path)."""
    match = _TX_REF.match(text)
    if match:
        return "tx", int(match.group("id"))
    if _VERSION_REF.match(text):
        return "version", text
    return "file", text


def is_stored_ref(text: str) -> bool:
    """True for tx:ID, #ID, ID and model@which."""
    return parse_ref(text)[0] != "file"


def split_version_ref(text: str) -> tuple[str, str]:
    """'medgemma@3' -> ('medgemma', '3')."""
    match = _VERSION_REF.match(text)
    if not match:
        raise UsageError(f"'{text}' is not model@current|previous|pinned|N")
    return match.group("model"), match.group("which")


def baseline_from_ref(store: Store, text: str, selector: ConfigFilter) -> Baseline:
    """A stored run named by 'tx:42' / '42' or 'model@current|previous|pinned|N'."""
    kind, value = parse_ref(text)
    if kind == "tx":
        info = store.transaction(int(value))
        config = info.configuration
        label = f"{info.model_key}@{info.version}"
        reason = f"transaction {value} ({config}, version {info.version})"
        return Baseline(stored_view(store, int(value), label), int(value), "explicit", reason)
    if kind != "version":
        raise UsageError(f"'{text}' is neither a stored run (tx:ID, model@N) nor a readable file")
    model, which = split_version_ref(str(value))
    config = store.resolve(replace(selector, model=model))
    if which.isdigit():
        tx, version = runs.version(store.conn, config, int(which))
        reason = f"version {version} of {config} (transaction {tx}), as asked"
        return Baseline(stored_view(store, tx, f"{model}@{version}"), tx, "explicit", reason)
    found = resolve_baseline(store, config, which)
    if found is None:
        raise UsageError(f"{config} has no {which} version")
    return found
