"""Evidence for the regression gate: calibration, power against other tools' rules, real noise.

1. Calibration: null comparisons (no true change) at n = 50, 200, 500 cases, 10 metrics:
   the share with any false regression must stay at most alpha + 1 point.
2. Power: true F1 drops of 3, 5, 10 points at n = 200 and 500: our paired test next to
   conbench (|z| > 5 on a history of run aggregates), Bencher (t-test, 0.99 boundary) and
   github-action-benchmark (alert when 200 % worse than the previous run), on the same data.
3. Real noise: the history rules over the real metric histories in
   $BENCH_REALDATA/external/gh-action-benchmark/ and asv/: alerts per 100 commits.

    python benchmarks/stats/evidence.py                  # full run, writes docs/statistics.md
    python benchmarks/stats/evidence.py --quick -o out.md  # a smoke run (tests use it)
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench_analytics.comparison import Comparison, decide_paired
from bench_analytics.config import Settings
from bench_analytics.stats import compare_paired, wilson
from bench_analytics.stats.history import (
    bencher_t,
    bencher_threshold,
    conbench_alert,
    ratio_alert,
)
from benchmarks.stats import document, real_noise, simulate

ALPHA = 0.05
DRIFT = 0.08  # logit units per commit: the true F1 wanders about one point per commit
NO_THRESHOLDS = {
    m: "0"
    for m in (
        "f1",
        "precision",
        "recall",
        "f1_macro",
        "precision_macro",
        "recall_macro",
        "pass_rate",
        "latency_ms",
        "latency_p95_ms",
        "cost_per_case_usd",
    )
}


def _settings(correction: str, thresholds: bool, resamples: int) -> Settings:
    return Settings(
        correction=correction, resamples=resamples, min_effect={} if thresholds else NO_THRESHOLDS
    )


def _decide(paired, settings: Settings) -> Comparison:
    base = Comparison("a", "b", "none", 0, settings.alpha, settings.correction)
    return decide_paired(base, paired, settings)


def _pct(k: int, n: int) -> str:
    low, high = wilson(k, n)
    return f"{100 * k / n:.1f} % [{100 * low:.1f}, {100 * high:.1f}]"


def calibration(trials: int, sizes: list[int], resamples: int, seed: int) -> list[str]:
    """Null comparisons: share with any (false) regression among the 10 metrics."""
    variants = {
        "Holm, tests only": _settings("holm", False, resamples),
        "max-T, tests only": _settings("maxt", False, resamples),
        "Holm + thresholds": _settings("holm", True, resamples),
        "max-T + thresholds (default)": _settings("maxt", True, resamples),
    }
    rows = ["| n | " + " | ".join(variants) + " |", "|---:|" + "---|" * len(variants)]
    for n in sizes:
        rng = np.random.default_rng(seed + n)
        alarms = dict.fromkeys(variants, 0)
        for _ in range(trials):
            cases = simulate.case_set(rng, n)
            paired = compare_paired(
                simulate.run(rng, cases), simulate.run(rng, cases), resamples=resamples, rng=rng
            )
            for name, settings in variants.items():
                verdicts = _decide(paired, settings).verdicts
                alarms[name] += any(v.decision == "regression" for v in verdicts)
        rows.append(f"| {n} | " + " | ".join(_pct(alarms[v], trials) for v in variants) + " |")
    return rows


def power(
    trials: int,
    sizes: list[int],
    drops: list[float],
    resamples: int,
    seed: int,
    *,
    drift: float = 0.0,
    history: int = 20,
) -> list[str]:
    """Detection rate of a true F1 drop, per rule, on the same simulated data.

    ``drift`` is the per-commit standard deviation of the model's true level (logit scale)
    over the history; the drop is relative to the current (last) version.
    """
    rules = (
        "ours: paired, Holm",
        "ours: paired, max-T",
        "conbench: z beyond 5",
        "Bencher t-test 0.99",
        "github-action-benchmark 200 %",
    )
    settings = {
        "holm": _settings("holm", True, resamples),
        "maxt": _settings("maxt", True, resamples),
    }
    t_crit = bencher_threshold(history)
    rows = ["| n | true F1 drop | " + " | ".join(rules) + " |", "|---:|---:|" + "---|" * len(rules)]
    shifts = {drop: simulate.shift_for_drop(drop) if drop else 0.0 for drop in drops}
    for n in sizes:
        for drop in drops:
            rng = np.random.default_rng(seed + n + int(drop * 1000) + int(drift * 1e4))
            hits = dict.fromkeys(rules, 0)
            for _ in range(trials):
                cases = simulate.case_set(rng, n)
                levels = (
                    np.cumsum(rng.normal(0, drift, size=history)) if drift else np.zeros(history)
                )
                past = [simulate.run(rng, cases, level) for level in levels]
                scores = [simulate.f1(table) for table in past]
                candidate = simulate.run(rng, cases, levels[-1] + shifts[drop])
                value = simulate.f1(candidate)
                paired = compare_paired(past[-1], candidate, resamples=resamples, rng=rng)
                hits[rules[0]] += bool(_decide(paired, settings["holm"]).regressions())
                hits[rules[1]] += bool(_decide(paired, settings["maxt"]).regressions())
                hits[rules[2]] += (conbench_alert(scores, value) or 0) < -5
                hits[rules[3]] += (bencher_t(scores, value) or 0) < -t_crit
                hits[rules[4]] += ratio_alert(scores[-1], value, higher_is_better=True)
            label = f"{100 * drop:.0f} points" if drop else "0 (no change)"
            rows.append(
                f"| {n} | {label} | " + " | ".join(_pct(hits[r], trials) for r in rules) + " |"
            )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="few trials, for a smoke test")
    parser.add_argument("--trials", type=int, help="null comparisons per n (default 2000)")
    parser.add_argument("--power-trials", type=int, help="trials per power cell (default 500)")
    parser.add_argument("--resamples", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("-o", "--output", type=Path, default=Path("docs/statistics.md"))
    args = parser.parse_args()
    trials = args.trials or (20 if args.quick else 2000)
    power_trials = args.power_trials or (10 if args.quick else 500)
    sizes = [50, 200] if args.quick else [50, 200, 500]
    power_sizes = [200] if args.quick else [200, 500]
    drops = [0.0, 0.10] if args.quick else [0.0, 0.03, 0.05, 0.10]
    realdata = Path(os.environ["BENCH_REALDATA"]) if os.environ.get("BENCH_REALDATA") else None

    started = time.perf_counter()
    sections = {
        "calibration": calibration(trials, sizes, args.resamples, args.seed),
        "power": power(power_trials, power_sizes, drops, args.resamples, args.seed),
        "drift": power(power_trials, power_sizes, drops, args.resamples, args.seed, drift=DRIFT),
        "noise": real_noise.tables(realdata) if realdata else ["(BENCH_REALDATA not set)"],
    }
    minutes = (time.perf_counter() - started) / 60
    text = document.document(
        sections,
        trials=trials,
        power_trials=power_trials,
        resamples=args.resamples,
        minutes=minutes,
        alpha=ALPHA,
    )
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text, encoding="utf-8")
    print(text)
    print(f"wrote {args.output} in {minutes:.1f} min")


if __name__ == "__main__":
    main()
