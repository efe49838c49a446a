"""Statistics: intervals, paired tests, corrections, history detectors — on known answers."""

from __future__ import annotations

import math

import numpy as np
import pytest

from bench_analytics.stats import (
    CaseTable,
    benjamini_hochberg,
    compare_paired,
    holm,
    jeffreys,
    mcnemar_exact,
    minimum_detectable_effect,
    run_intervals,
    wilson,
)
from bench_analytics.stats.history import bencher_t, conbench_alert, ratio_alert, robust_z
from bench_analytics.stats.resample import bootstrap_int_sums, pack_columns


def _table(rows):
    return CaseTable.from_rows(rows)


def _cases(rng, n, p_detect, latency=1000.0):
    rows = []
    for i in range(n):
        expected = 1 + (i % 3)
        tp = int(rng.binomial(expected, p_detect))
        rows.append(
            (
                f"c{i}",
                "ok",
                tp,
                int(rng.random() < 0.2),
                expected - tp,
                latency * math.exp(rng.normal(0, 0.2)),
                0.001,
            )
        )
    return rows


def test_wilson_and_jeffreys_never_collapse():
    for k, n in ((0, 10), (10, 10), (0, 1)):
        low, high = wilson(k, n)
        assert high - low > 0.05
        low, high = jeffreys(k, n)
        assert high - low > 0.05
    low, high = wilson(0, 10)
    assert low == 0 and high == pytest.approx(0.2775, abs=1e-3)  # textbook value
    low, high = jeffreys(5, 10)
    assert (low, high) == pytest.approx((0.2235, 0.7765), abs=1e-3)


def test_wilson_interval_covers_at_the_nominal_rate():
    rng = np.random.default_rng(3)
    hits = 0
    for _ in range(2000):
        k = rng.binomial(40, 0.1)
        low, high = wilson(int(k), 40)
        hits += low <= 0.1 <= high
    assert 0.93 <= hits / 2000 <= 0.985


def test_mcnemar_exact_matches_the_binomial():
    assert mcnemar_exact(0, 0) == 1.0
    assert mcnemar_exact(5, 5) == 1.0
    # two-sided exact binomial, 1 of 10 discordant pairs: 2 * 11 / 1024
    assert mcnemar_exact(1, 9) == pytest.approx(22 / 1024)
    assert mcnemar_exact(0, 30) < 1e-8
    assert mcnemar_exact(4000, 4200) == pytest.approx(0.0274, abs=2e-3)  # large m stays finite


def test_holm_and_bh():
    p = [0.01, 0.04, 0.03, 0.5]
    assert holm(p) == pytest.approx([0.04, 0.09, 0.09, 0.5])
    assert benjamini_hochberg(p) == pytest.approx([0.04, 0.0533333, 0.0533333, 0.5], abs=1e-6)
    assert holm([]) == []


def test_packed_sums_equal_plain_sums():
    rng = np.random.default_rng(0)
    columns = rng.integers(0, 50, size=(300, 5))
    words, layouts = pack_columns(columns)
    assert len(words) >= 1 and sum(len(layout) for layout in layouts) == 5
    sums = bootstrap_int_sums(columns, 50, np.random.default_rng(1))
    idx_rng = np.random.default_rng(1)
    idx = idx_rng.integers(0, 300, size=(50, 300), dtype=np.uint16)
    assert np.array_equal(sums, columns[idx].sum(axis=1))


def test_run_intervals_cover_every_metric():
    table = _table(_cases(np.random.default_rng(1), 200, 0.6))
    estimates = {e.metric: e for e in run_intervals(table)}
    assert {
        "f1",
        "precision",
        "recall",
        "f1_macro",
        "pass_rate",
        "latency_ms",
        "latency_p95_ms",
        "cost_usd",
        "success_rate",
    } <= estimates.keys()
    for estimate in estimates.values():
        assert estimate.low - 1e-9 <= estimate.value <= estimate.high + 1e-9
    assert estimates["recall"].high - estimates["recall"].low < 0.15
    assert estimates["success_rate"].method == "Jeffreys"


def test_errored_cases_count_in_success_rate_only():
    rows = [
        *_cases(np.random.default_rng(2), 20, 0.5),
        ("x", "error", None, None, None, None, None),
    ]
    table = _table(rows)
    assert table.n == 20 and table.errored == 1
    rate = next(e for e in run_intervals(table) if e.metric == "success_rate")
    assert rate.value == pytest.approx(20 / 21)


def test_paired_comparison_finds_a_real_drop_and_not_a_null():
    rng = np.random.default_rng(5)
    base = _table(_cases(rng, 300, 0.7))
    worse = _table(_cases(rng, 300, 0.5))
    same = _table(_cases(rng, 300, 0.7))
    result = compare_paired(base, worse, resamples=1000)
    tests = {t.metric: t for t in result.tests}
    assert tests["recall"].delta < -0.1 and tests["recall"].p_value < 0.01
    assert tests["recall"].high < 0
    null = {t.metric: t for t in compare_paired(base, same, resamples=1000).tests}
    assert null["recall"].low < 0 < null["recall"].high


def test_paired_comparison_uses_only_shared_answered_cases():
    rng = np.random.default_rng(6)
    a_rows = _cases(rng, 50, 0.6)
    b_rows = [*_cases(rng, 50, 0.6)[:40], ("extra", "ok", 1, 0, 0, 10.0, 0.0)]
    b_rows[0] = (b_rows[0][0], "error", None, None, None, None, None)
    result = compare_paired(_table(a_rows), _table(b_rows), resamples=300)
    assert result.tests[0].n == 39
    assert compare_paired(_table(a_rows[:1]), _table(b_rows[:1]), resamples=300) is None


def test_permutation_p_is_exact_under_swaps():
    # identical runs: every delta is 0, so every p-value is 1
    rows = _cases(np.random.default_rng(7), 30, 0.5)
    result = compare_paired(_table(rows), _table(rows), resamples=400)
    assert all(t.p_value == 1.0 and t.delta == 0 for t in result.tests)


def test_maxt_adjustment_is_never_below_the_raw_p_and_beats_bonferroni():
    rng = np.random.default_rng(8)
    base = _table(_cases(rng, 200, 0.7))
    worse = _table(_cases(rng, 200, 0.55))
    result = compare_paired(base, worse, resamples=2000)
    signs = [-1.0] * len(result.tests)  # test "the delta is lower" for every metric
    adjusted = result.maxt_adjusted(signs)
    raw = [t.p_lower for t in result.tests]
    assert all(a >= r - 1e-9 for a, r in zip(adjusted, raw, strict=True))
    recall = [t.metric for t in result.tests].index("recall")
    assert adjusted[recall] <= min(1.0, raw[recall] * len(raw))
    assert adjusted[recall] < 0.01


def test_one_sided_p_values_point_the_right_way():
    rng = np.random.default_rng(9)
    base = _table(_cases(rng, 300, 0.7))
    worse = _table(_cases(rng, 300, 0.5))
    recall = next(
        t for t in compare_paired(base, worse, resamples=1000).tests if t.metric == "recall"
    )
    assert recall.p_lower < 0.01 < 0.99 < recall.p_higher
    assert recall.p_lower <= recall.p_value


def test_mcnemar_one_sided():
    from bench_analytics.stats.paired import mcnemar_one_sided

    fewer, more = mcnemar_one_sided(9, 1)  # the candidate lost 9 passes and won 1
    assert fewer == pytest.approx(11 / 1024) and more == pytest.approx(1 - 1 / 1024)


def test_mde_grows_as_n_shrinks():
    assert minimum_detectable_effect(0.02) == pytest.approx(2.8016 * 0.02, abs=1e-3)
    one_sided = minimum_detectable_effect(0.02, two_sided=False)
    assert one_sided == pytest.approx((1.6449 + 0.8416) * 0.02, abs=1e-3)
    assert minimum_detectable_effect(0.04) > minimum_detectable_effect(0.02)


def test_history_rules():
    history = [0.50, 0.52, 0.49, 0.51, 0.50, 0.48, 0.51]
    assert abs(robust_z(history, 0.50).z) < 0.5
    assert robust_z(history, 0.30).z < -5
    assert robust_z([0.4] * 8, 0.4).z == 0  # no spread, no change
    assert robust_z([0.4] * 8, 0.39).z < -1e6  # no spread, any change stands out
    assert conbench_alert(history, 0.30) < -5
    assert bencher_t(history, 0.30) < -5
    assert conbench_alert([0.5], 0.3) is None
    assert ratio_alert(100, 250, higher_is_better=False)
    assert not ratio_alert(100, 150, higher_is_better=False)
    assert ratio_alert(0.4, 0.19, higher_is_better=True)
    assert not ratio_alert(0.4, 0.3, higher_is_better=True)
