"""The log rows of the seeded history: transactions, metrics, intervals, verdicts, and the
pointer replayed in push order (snapshots, events, quarantines).
"""

from __future__ import annotations

import hashlib
import math
import sys
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import orjson

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from benchmarks.perf.dashboard_plan import (
    DATASETS,
    ENVIRONMENTS,
    GATE_METRICS,
    GATED,
    MODELS,
    NULL,
    PEOPLE,
    PROMPTS,
    SPECS,
    Plan,
    configurations,
    esc,
    num,
    opt_int,
    stamp,
)


def transaction_texts(plan: Plan, seed: int) -> Iterator[str]:
    configs = configurations()
    lines: list[str] = []
    for i in range(plan.n):
        m, d, p, e = configs[int(plan.config[i])]
        model, env = MODELS[m], ENVIRONMENTS[e][0]
        f1, precision, recall = plan.headline(i)
        cost, cases, errors = plan.cost_usd(i), int(plan.cases[i]), plan.errors(i)
        imported = bool(plan.imported[i])
        started = None if imported else plan.started[i]
        finished = None if imported else plan.finished[i]
        triggered = "ci-bot" if env != "local" else PEOPLE[i % len(PEOPLE)]
        run_id = None if env == "local" else str(9_000_000 + i)
        metrics = {
            "case_count": cases,
            "error_count": errors,
            "f1": f1,
            "precision": precision,
            "recall": recall,
            "true_positives": int(plan.tp[i]),
            "false_positives": int(plan.fp[i]),
            "false_negatives": int(plan.fn[i]),
            "input_tokens": int(plan.tokens_in[i]),
            "output_tokens": int(plan.tokens_out[i]),
            "latency_ms": float(plan.latency[i]),
            "cost_usd": cost,
        }
        document = {
            "schema": "bench-analytics/result",
            "schema_version": 1,
            "model": {
                "key": model.key,
                "display_name": model.display_name,
                "version": None,
                "provider": model.provider,
            },
            "dataset": {"name": "patients", "version": DATASETS[d][0], "declared_cases": cases},
            "prompt_version": PROMPTS[p][0],
            "benchmark_type": "patients",
            "environment": env,
            "started_at": _iso(started),
            "finished_at": _iso(finished),
            "averaging": "micro",
            "metrics": {k: v for k, v in metrics.items() if v is not None},
            "provenance": {
                "commit_sha": plan.commit[i],
                "branch": plan.branch[i],
                "run_id": run_id,
                "triggered_by": triggered,
                "tags": [],
                "source_format": "legacy" if imported else "native",
                "legacy_id": f"legacy-{i + 1}" if imported else None,
            },
        }
        fields = (
            str(i + 1),
            hashlib.sha256(f"dashboard-seed:{seed}:{i}".encode()).hexdigest(),
            model.key,
            model.display_name,
            NULL,
            model.provider,
            "patients",
            DATASETS[d][0],
            PROMPTS[p][0],
            "patients",
            env,
            plan.commit[i],
            plan.branch[i],
            run_id or NULL,
            triggered,
            "{}",
            NULL,
            stamp(started),
            stamp(finished),
            "failed" if plan.failed[i] else "healthy",
            esc(plan.reason[i] or "") or NULL,
            str(cases),
            str(errors),
            num(f1, 17),
            num(precision, 17),
            num(recall, 17),
            num(float(plan.latency[i]), 10),
            num(cost, 10),
            "legacy" if imported else "native",
            f"run-{i + 1}.json",
            f"legacy-{i + 1}" if imported else NULL,
            esc(orjson.dumps(document).decode()),
            stamp(plan.pushed_at[i]),
        )
        lines.append("\t".join(fields) + "\n")
        if len(lines) == 5000:
            yield "".join(lines)
            lines = []
    yield "".join(lines)


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


class _Tables:
    """Rows of the tables the pointer replay writes, as COPY text."""

    def __init__(self) -> None:
        self.metrics: list[str] = []
        self.intervals: list[str] = []
        self.snapshots: list[tuple[int, str]] = []  # (run, text without is_current, created_at)
        self.events: list[tuple[datetime, str]] = []
        self.annotations: list[tuple[datetime, str]] = []
        self.verdicts: list[str] = []

    def snapshot_rows(self, current: set[int]) -> Iterator[str]:
        for run, text in self.snapshots:
            yield text.replace("\x00", "t" if run in current else "f")


def _values(plan: Plan, i: int, jitter: float) -> dict[str, float | None]:
    """What the gate compares, for run ``i``."""
    f1, precision, recall = plan.headline(i)
    ok, cases = int(plan.ok[i]), int(plan.cases[i])
    values: dict[str, float | None] = {
        "f1": f1,
        "precision": precision,
        "recall": recall,
        "latency_ms": float(plan.latency[i]),
        "cost_usd": plan.cost_usd(i),
        "pass_rate": int(plan.passed[i]) / ok if ok else None,
        "success_rate": ok / cases,
    }
    for name in ("f1", "precision", "recall"):
        value = values[name]
        macro = None if value is None else min(1.0, max(0.0, value - 0.03 + 0.02 * jitter))
        values[f"{name}_macro"] = macro
    return values


def _metric_rows(plan: Plan, i: int, out: _Tables) -> None:
    f1, precision, recall = plan.headline(i)
    tx, ok = i + 1, int(plan.ok[i])
    for name, value in (
        ("f1", f1),
        ("precision", precision),
        ("recall", recall),
        ("true_positives", float(plan.tp[i])),
        ("input_tokens", float(plan.tokens_in[i])),
        ("output_tokens", float(plan.tokens_out[i])),
        ("cost_usd", plan.cost_usd(i)),
    ):
        if value is not None:
            spec = SPECS[name]
            out.metrics.append(f"{tx}\t{name}\t{value!r}\t{spec.unit}\t{spec.direction}\n")
    if not ok:
        return
    found, said = max(1, int(plan.tp[i] + plan.fn[i])), max(1, int(plan.tp[i] + plan.fp[i]))
    for name, value, count in (
        ("f1", f1, found),
        ("precision", precision, said),
        ("recall", recall, found),
    ):
        if value is not None:
            half = 1.96 * math.sqrt(max(value * (1 - value), 0.01) / count)
            low, high = max(0.0, value - half), min(1.0, value + half)
            out.intervals.append(
                f"{tx}\t{name}\t{value!r}\t{low!r}\t{high!r}\t"
                f"bootstrap over cases (pooled counts)\t{ok}\n"
            )
    lat = float(plan.latency[i])
    half = 1.96 * 0.35 * lat / math.sqrt(ok)
    out.intervals.append(
        f"{tx}\tlatency_ms\t{lat!r}\t{max(0.0, lat - half)!r}\t{lat + half!r}\t"
        f"bootstrap over cases\t{ok}\n"
    )


def _verdicts(
    plan: Plan,
    i: int,
    base: int,
    values: dict[str, float | None],
    baseline: dict[str, float | None],
    reason: str,
    out: _Tables,
) -> list[str]:
    """Ten verdicts of run ``i`` against run ``base``; the gated regressions, described."""
    regressed: list[str] = []
    at = stamp(plan.pushed_at[i] - timedelta(milliseconds=40))
    pairs = min(int(plan.cases[i]), int(plan.cases[base]))
    for metric in GATE_METRICS:
        b, v = baseline.get(metric), values.get(metric)
        delta = p_value = p_adj = low = high = None
        decision = "not tested"
        if b is not None and v is not None:
            delta = v - b
            relative = metric in ("latency_ms", "cost_usd")
            se = 0.08 * max(abs(b), 1e-9) if relative else 0.06
            p_value = math.erfc(abs(delta / se) / math.sqrt(2.0))
            p_adj = min(1.0, p_value * 3.0)
            low, high = delta - 1.96 * se, delta + 1.96 * se
            worse = delta > 0 if SPECS[metric].direction == "lower" else delta < 0
            decision = "no significant change"
            if p_adj < 0.05:
                decision = "regression" if worse else "improvement"
        gated = metric in GATED
        if decision == "regression" and gated:
            regressed.append(f"{metric} {delta:+.3f} (p={p_adj:.3f})")
        mde = None if metric in ("latency_ms", "cost_usd") else 0.09
        out.verdicts.append(
            f"{i + 1}\t{base + 1}\tcurrent\t{esc(reason)}\tpaired\t{metric}\t"
            f"{num(b, 10)}\t{num(v, 10)}\t{num(delta, 10)}\t{num(low, 10)}\t"
            f"{num(high, 10)}\t{num(p_value)}\t{num(p_adj)}\t0\t{num(mde, 4)}\t"
            f"{decision}\t{'t' if gated else 'f'}\t{pairs}\t{at}\n"
        )
    return regressed


def replay_pointer(plan: Plan, rng: np.random.Generator) -> tuple[_Tables, set[int]]:
    """Replay the pushes in order (snapshot, verdicts, promote or hold), with a few manual
    rollbacks and quarantines; returns the rows and the runs current at the end."""
    configs = configurations()
    out = _Tables()
    names = [
        (MODELS[m].key, DATASETS[d][0], PROMPTS[p][0], ENVIRONMENTS[e][0]) for m, d, p, e in configs
    ]
    current: list[int | None] = [None] * len(configs)
    healthy: list[list[int]] = [[] for _ in configs]  # healthy runs so far, oldest first
    quarantined: set[int] = set()
    regressed_runs: set[int] = set()
    values: list[dict[str, float | None]] = []
    draws = rng.random((plan.n, 3))
    # a manual move comes after the push and before the configuration's next push
    room: list[timedelta] = [timedelta(hours=3)] * plan.n
    following: dict[int, datetime] = {}
    for i in range(plan.n - 1, -1, -1):
        c = int(plan.config[i])
        if c in following:
            room[i] = min(room[i], (following[c] - plan.pushed_at[i]) / 2)
        following[c] = plan.pushed_at[i]
    for i in range(plan.n):
        values.append(_values(plan, i, float(draws[i, 2])))
        _metric_rows(plan, i, out)
        c = int(plan.config[i])
        key = "\t".join(names[c])
        at, version = plan.pushed_at[i], int(plan.version[i])
        actor = "ci-bot" if names[c][3] != "local" else PEOPLE[i % len(PEOPLE)]
        before = current[c]
        before_v = None if before is None else int(plan.version[before])
        out.snapshots.append((i, f"{i + 1}\t{key}\t{version}\t{i + 1}\t\x00\t{stamp(at)}\n"))

        def event(
            kind: str,
            frm: int | None,
            to: int | None,
            run: int,
            why: str,
            who: str,
            when: datetime,
            key: str = key,
        ) -> None:
            out.events.append(
                (
                    when,
                    f"{key}\t{kind}\t{opt_int(frm)}\t{opt_int(to)}\t{run + 1}\t{esc(why)}\t{who}\t"
                    f"{stamp(when)}\n",
                )
            )

        if plan.failed[i]:
            why = f"run failed the health check, pointer kept: {plan.reason[i]}"
            event("hold", before_v, before_v, i, why, actor, at)
            continue
        healthy[c].append(i)
        if before is None:
            current[c] = i
            event(
                "promote",
                None,
                version,
                i,
                "first healthy version of this configuration",
                actor,
                at,
            )
            continue
        reason = (
            f"version {before_v} of {'/'.join(names[c])} (transaction {before + 1}): "
            "the current snapshot"
        )
        regressed = _verdicts(plan, i, before, values[i], values[before], reason, out)
        if regressed:
            regressed_runs.add(i)
            why = f"held: significant regression vs version {before_v}: {', '.join(regressed)}"
            event("hold", before_v, before_v, i, why, actor, at)
            continue
        current[c] = i
        event(
            "promote",
            before_v,
            version,
            i,
            f"new healthy version replaces version {before_v}",
            actor,
            at,
        )
        earlier = [h for h in healthy[c][:-1] if h not in quarantined]
        if not earlier:
            continue
        # the newest earlier healthy version, one without a gated regression first
        target = max(earlier, key=lambda h: (h not in regressed_runs, h))
        who = PEOPLE[i % len(PEOPLE)]
        if draws[i, 0] < 0.0008:  # quarantined soon after: the pointer goes back
            when = at + room[i] / 3
            why = "endpoint degraded: answers truncated by a proxy, not the model's result"
            quarantined.add(i)
            out.annotations.append((when, f"{i + 1}\tquarantine\t{why}\t{who}\t{stamp(when)}\n"))
            current[c] = target
            event("quarantine", version, int(plan.version[target]), i, why, who, when)
            if draws[i, 1] < 0.2:  # ... and released two days later (the pointer stays)
                later = when + timedelta(days=2)
                why = "proxy ruled out: the answers are the model's"
                out.annotations.append((later, f"{i + 1}\trelease\t{why}\t{who}\t{stamp(later)}\n"))
                quarantined.discard(i)
        elif draws[i, 0] > 0.998:  # a manual rollback soon after
            when = at + room[i] / 2
            to_v = int(plan.version[target])
            why = f"manual rollback to version {to_v}: answers in production looked off"
            current[c] = target
            event("rollback", version, to_v, target, why, who, when)
    return out, {run for run in current if run is not None}
