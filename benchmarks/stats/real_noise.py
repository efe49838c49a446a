"""The history rules over real metric histories: github-action-benchmark and asv results."""

from __future__ import annotations

import json
from collections import defaultdict
from itertools import pairwise
from pathlib import Path

import numpy as np

from bench_analytics.stats.history import (
    bencher_t,
    bencher_threshold,
    conbench_alert,
    ratio_alert,
    robust_z,
)

WINDOW = 20
MIN_HISTORY = 5
OUR_Z = 3.5
OUR_MIN_CHANGE = 0.10  # the gate's default practical threshold for time-like units
RULES = (
    "ours: robust z >= 3.5 and >= 10 %",
    "conbench: z beyond 5",
    "Bencher t-test 0.99",
    "github-action-benchmark 200 %",
)
LOWER_UNITS = {"ns/iter", "sec", "s", "ms", "us", "ns", "seconds", "bytes"}
HIGHER_UNITS = {"iter/sec", "ops/sec", "ops/s"}


def _direction(unit: str, tool: str) -> str | None:
    if tool == "customSmallerIsBetter":
        return "lower"
    if tool == "customBiggerIsBetter":
        return "higher"
    if unit in LOWER_UNITS:
        return "lower"
    if unit in HIGHER_UNITS:
        return "higher"
    return None


def gab_series(path: Path) -> dict[str, tuple[str, list[float]]]:
    """name -> (direction, values in run order) from a github-action-benchmark data.js."""
    text = path.read_text(encoding="utf-8")
    data = json.loads(text[text.index("{") :])
    series: dict[str, list[float]] = defaultdict(list)
    directions: dict[str, str] = {}
    for suite in data["entries"].values():
        for entry in suite:
            for bench in entry["benches"]:
                direction = _direction(bench.get("unit", ""), entry.get("tool", ""))
                if direction is None or not isinstance(bench.get("value"), int | float):
                    continue
                series[bench["name"]].append(float(bench["value"]))
                directions[bench["name"]] = direction
    return {name: (directions[name], values) for name, values in series.items()}


def _sustained(values: list[float], t: int, centre: float, worse: float) -> bool | None:
    """Does the change persist (median of this and the next 2 values still 10 % worse)?"""
    ahead = values[t : t + 3]
    if len(ahead) < 3 or not centre:
        return None
    return worse * (float(np.median(ahead)) - centre) / abs(centre) >= OUR_MIN_CHANGE


def alerts(direction: str, values: list[float]) -> tuple[int, dict[str, int], dict[str, int]]:
    """(points evaluated, alerts per rule, transient alerts per rule) for one series.

    An alert is transient when the next values return to normal: most likely noise.
    """
    higher = direction == "higher"
    worse = -1.0 if higher else 1.0
    counts = dict.fromkeys(RULES, 0)
    transient = dict.fromkeys(RULES, 0)
    evaluated = 0
    for t in range(MIN_HISTORY, len(values)):
        history = values[max(0, t - WINDOW) : t]
        value = values[t]
        evaluated += 1
        z = robust_z(history, value)
        change = abs(value - z.median) / abs(z.median) if z.median else np.inf
        score = conbench_alert(history, value)
        t_value = bencher_t(history, value)
        fired = (
            worse * z.z >= OUR_Z and change >= OUR_MIN_CHANGE,
            score is not None and worse * score > 5,
            t_value is not None and worse * t_value > bencher_threshold(len(history)),
            ratio_alert(values[t - 1], value, higher_is_better=higher),
        )
        lasting = _sustained(values, t, z.median, worse)
        for rule, hit in zip(RULES, fired, strict=True):
            if hit:
                counts[rule] += 1
                transient[rule] += lasting is False
    return evaluated, counts, transient


def _gab_table(folder: Path) -> list[str]:
    rows = [
        "| history | series | points evaluated | " + " | ".join(RULES) + " |",
        "|---|---:|---:|" + "---:|" * len(RULES),
    ]
    total_points = 0
    total, total_transient = dict.fromkeys(RULES, 0), dict.fromkeys(RULES, 0)
    for path in sorted(folder.glob("*.js")):
        series = gab_series(path)
        points, counts, transient = 0, dict.fromkeys(RULES, 0), dict.fromkeys(RULES, 0)
        for direction, values in series.values():
            evaluated, found, gone = alerts(direction, values)
            points += evaluated
            for rule in RULES:
                counts[rule] += found[rule]
                transient[rule] += gone[rule]
        total_points += points
        for rule in RULES:
            total[rule] += counts[rule]
            total_transient[rule] += transient[rule]
        name = path.name.split("__dev_bench")[0].replace("__", "/")
        rows.append(
            f"| {name} | {len(series)} | {points} | "
            + " | ".join(_cell(counts[r], transient[r], points) for r in RULES)
            + " |"
        )
    rows.append(
        f"| **all** | | {total_points} | "
        + " | ".join(f"**{_cell(total[r], total_transient[r], total_points)}**" for r in RULES)
        + " |"
    )
    return rows


def _cell(count: int, transient: int, points: int) -> str:
    """'2.5 (1.1 transient)' alerts per 100 points."""
    if not points:
        return "—"
    return f"{100 * count / points:.1f} ({100 * transient / points:.1f} transient)"


def _asv_value(entry) -> float | None:
    value = entry.get("result") if isinstance(entry, dict) else entry
    if isinstance(value, list):
        value = value[0] if len(value) == 1 else None
    return float(value) if isinstance(value, int | float) else None


def _asv_runs(folder: Path) -> dict[str, list[tuple[float, dict[str, float | None]]]]:
    """(project, machine, env) -> runs ordered by date, each {benchmark: value or None}."""
    runs: dict[str, list] = defaultdict(list)
    for path in sorted(folder.glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        if "results" not in data or "commit_hash" not in data:
            continue  # benchmarks.json: metadata, not a run
        project = path.name.split("__")[0] + "/" + path.name.split("__")[1]
        machine = path.name.split("__results_")[1].split("_")[0]
        columns = data.get("result_columns")
        values = {}
        for name, entry in data["results"].items():
            if columns:  # format version 2: positional arrays
                entry = dict(zip(columns, entry, strict=False))
            values[name] = _asv_value(entry)
        runs[f"{project} ({machine}, {data.get('env_name', '?')})"].append((data["date"], values))
    return {key: sorted(value, key=lambda run: run[0]) for key, value in runs.items()}


def _asv_table(folder: Path) -> list[str]:
    rows = [
        "| results | runs | benchmarks | failed runs (all null) | pairs for the ratio rule | "
        "ratio alerts | points for z/t rules |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for key, runs in _asv_runs(folder).items():
        failed = sum(all(v is None for v in values.values()) for _, values in runs)
        healthy = [values for _, values in runs if any(v is not None for v in values.values())]
        pairs = alerts_found = 0
        for before, after in pairwise(healthy):
            for name, value in after.items():
                previous = before.get(name)
                direction = (
                    "higher"
                    if "track_accuracy" in name
                    else (
                        "lower"
                        if name.split(".")[-1].startswith(("time_", "peakmem_", "mem_"))
                        else None
                    )
                )
                if value is None or previous is None or direction is None:
                    continue
                pairs += 1
                alerts_found += ratio_alert(previous, value, higher_is_better=direction == "higher")
        benchmarks = len({name for _, values in runs for name in values})
        rows.append(
            f"| {key} | {len(runs)} | {benchmarks} | {failed} | {pairs} | {alerts_found} "
            f"| 0 (needs {MIN_HISTORY} earlier runs) |"
        )
    return rows


def tables(realdata: Path) -> list[str]:
    """Both tables, as Markdown lines."""
    external = realdata / "external"
    return [
        "**github-action-benchmark histories** (alerts per 100 evaluated points; a point is "
        f"evaluated once it has {MIN_HISTORY} earlier values; window {WINDOW}; *transient*: "
        "the next values are back within 10 % of the history median, so most likely noise):",
        "",
        *_gab_table(external / "gh-action-benchmark"),
        "",
        "**asv results** (each file is one run at one commit):",
        "",
        *_asv_table(external / "asv"),
    ]
