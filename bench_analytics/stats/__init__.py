"""Statistics on numpy arrays: intervals, paired comparisons, corrections, history detectors."""

from bench_analytics.stats.cases import CaseTable
from bench_analytics.stats.intervals import Estimate, jeffreys, run_intervals, wilson
from bench_analytics.stats.multiple import adjust, benjamini_hochberg, holm
from bench_analytics.stats.paired import (
    MetricTest,
    compare_paired,
    mcnemar_exact,
    minimum_detectable_effect,
)

__all__ = [
    "CaseTable",
    "Estimate",
    "MetricTest",
    "adjust",
    "benjamini_hochberg",
    "compare_paired",
    "holm",
    "jeffreys",
    "mcnemar_exact",
    "minimum_detectable_effect",
    "run_intervals",
    "wilson",
]
