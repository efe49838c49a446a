"""Honest at small n: when no case changed, the interval and the MDE come from what n cases
allow (an exact bound, the smallest significant discordance), never [0, 0] and 0."""

from __future__ import annotations

import math

import pytest

from bench_analytics.comparison import RunView, compare_views
from bench_analytics.config import Settings
from bench_analytics.fixtures import simulate_run, synthetic_patients
from bench_analytics.stats.paired import no_change_bound, smallest_detectable_share
from tests.conftest import REALDATA


def _same_twice(patients: int):
    run = simulate_run("medgemma", synthetic_patients(patients, seed=3), seed=3)
    return compare_views(RunView.from_run(run, "a"), RunView.from_run(run, "b"), Settings())


def test_the_exact_bounds_are_the_textbook_ones():
    assert no_change_bound(10) == pytest.approx(1 - 0.025**0.1)  # 0.3085
    assert no_change_bound(200) == pytest.approx(0.0183, abs=1e-4)
    assert smallest_detectable_share(10, 0.05) == 0.5  # 5 cases: 0.5^5 < 0.05
    assert smallest_detectable_share(1000, 0.01) == 0.007


def test_ten_unchanged_cases_claim_nothing_they_cannot_know():
    comparison = _same_twice(10)
    recall = comparison.verdict("recall")
    assert recall is not None and recall.delta == 0
    assert recall.low == pytest.approx(-no_change_bound(10)) and recall.high > 0.3
    assert recall.mde >= 0.5 and "exact bound" in recall.method
    assert any("small comparison" in note for note in comparison.notes)


def test_many_unchanged_cases_give_a_narrow_but_honest_interval():
    comparison = _same_twice(200)
    f1 = comparison.verdict("f1")
    assert f1 is not None and f1.low < 0 < f1.high and f1.high == pytest.approx(0.0183, abs=1e-3)
    family_alpha = comparison.alpha / len(comparison.verdicts)
    steps = math.ceil(math.log2(1 / family_alpha))
    assert f1.mde >= steps / 200
    assert not any("small comparison" in note for note in comparison.notes)


def test_latency_is_not_a_rate_and_keeps_its_bootstrap():
    latency = _same_twice(10).verdict("latency_ms")
    assert latency is not None and "exact bound" not in latency.method


@pytest.mark.realdata
@pytest.mark.skipif(REALDATA is None, reason="set BENCH_REALDATA to the shared real-data folder")
def test_the_old_systems_ten_patients_no_longer_claim_certainty(bench):
    folder = REALDATA / "seed-results"
    comparison = bench.compare(
        folder / "359f96a0__benchmarks_results_patient_benchmark_medgemma.json",
        folder / "d5eb6cc6__benchmarks_results_patient_benchmark_medgemma.json",
    )
    recall = comparison.verdict("recall")
    assert comparison.n == 10 and recall is not None and recall.delta == 0
    assert (recall.low, recall.high) != (0, 0) and recall.mde > 0.3
    assert any("small comparison" in note for note in comparison.notes)
