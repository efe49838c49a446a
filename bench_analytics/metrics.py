"""The metric registry: unit and direction of every known metric, and value checks."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

Unit = Literal["fraction", "ms", "usd", "tokens", "count", "ratio", "unknown"]
Direction = Literal["higher", "lower", "none", "unknown"]


@dataclass(frozen=True)
class MetricSpec:
    """What a metric measures, in which unit, and which way is better."""

    name: str
    unit: Unit
    direction: Direction
    description: str


def _specs(unit: Unit, direction: Direction, **described: str) -> dict[str, MetricSpec]:
    return {name: MetricSpec(name, unit, direction, text) for name, text in described.items()}


REGISTRY: dict[str, MetricSpec] = {
    **_specs(
        "fraction",
        "higher",
        f1="F1 of issue detection (averaging as the run states)",
        precision="precision of issue detection",
        recall="recall of issue detection",
        f1_micro="F1 over pooled tp/fp/fn of all cases",
        precision_micro="precision over pooled counts",
        recall_micro="recall over pooled counts",
        f1_macro="mean of per-case F1",
        precision_macro="mean of per-case precision",
        recall_macro="mean of per-case recall",
        accuracy="share of correct decisions",
        success_rate="share of cases the endpoint answered",
        extraction_accuracy="share of documents extracted",
        json_validity_rate="share of answers that were valid JSON",
        domain_knowledge_detection_rate="share of domain-knowledge issues found",
        domain_recall="recall on issues that need domain knowledge",
        domain_precision="precision on issues that need domain knowledge",
        generic_recall="recall on issues that need no domain knowledge",
        cross_document_recall="recall on issues spanning documents",
        risk_weighted_recall="recall weighted by issue severity",
        savings_capture_rate="share of potential savings found",
        pass_rate="share of cases with nothing missed and nothing made up",
        recall_billing="recall on billing issues",
        recall_clinical="recall on clinical issues",
        recall_other="recall on issues of other categories",
    ),
    **_specs("fraction", "lower", error_rate="share of cases the endpoint failed"),
    **_specs(
        "ms",
        "lower",
        latency_ms="mean latency per case",
        latency_p50_ms="median latency per case",
        latency_p95_ms="95th percentile latency per case",
        extraction_latency_ms="mean extraction latency per document",
    ),
    **_specs(
        "usd",
        "lower",
        cost_usd="total cost of the run",
        cost_per_case_usd="mean cost per case",
        cost_per_detected_issue_usd="cost per correctly detected issue",
        analysis_cost_usd="analysis cost reported by the old pipeline",
        inference_cost_usd="inference cost reported by the old pipeline",
        total_missed_savings_usd="savings of issues not found",
    ),
    **_specs(
        "usd",
        "higher",
        total_potential_savings_usd="savings of issues found",
        avg_savings_per_case_usd="mean savings found per case",
    ),
    **_specs(
        "tokens",
        "lower",
        input_tokens="input tokens of the run",
        output_tokens="output tokens of the run",
        total_tokens="all tokens of the run",
        avg_input_tokens="mean input tokens per case",
        avg_output_tokens="mean output tokens per case",
        avg_total_tokens="mean tokens per case",
    ),
    **_specs("count", "higher", true_positives="issues correctly found"),
    **_specs(
        "count",
        "lower",
        false_positives="issues reported that were not there",
        false_negatives="issues missed",
    ),
    **_specs(
        "count",
        "none",
        true_negatives="clean cases reported clean",
        case_count="cases in the run",
        error_count="cases the endpoint failed",
        issues_expected="issues the cases hold",
        issues_detected="issues the model reported",
    ),
    **_specs("ratio", "higher", roi_ratio="savings found per dollar spent"),
    # other eval tools' common metrics (lm-evaluation-harness, HELM, Inspect, OpenAI evals)
    **_specs(
        "fraction",
        "higher",
        acc="share of items answered right (lm-evaluation-harness)",
        acc_norm="accuracy with length-normalised likelihoods (lm-evaluation-harness)",
        exact_match="share of answers equal to the reference",
        quasi_exact_match="exact match after normalising case, spaces and punctuation",
        prefix_exact_match="share of answers that start with the reference",
        em="exact match",
        mc1="TruthfulQA: single-true multiple choice accuracy",
        mc2="TruthfulQA: probability mass on the true answers",
    ),
    **_specs(
        "unknown",
        "lower",
        perplexity="perplexity (lower is better)",
        word_perplexity="perplexity per word",
        byte_perplexity="perplexity per byte",
        bits_per_byte="bits per byte",
        mae="mean absolute error",
        brier_score="Brier score of predicted probabilities",
    ),
    **_specs("ratio", "unknown", conservatism_index="old pipeline's conservatism index"),
}

HEADLINE = ("f1", "precision", "recall", "latency_ms", "cost_usd")


def base_name(name: str) -> str:
    """The metric under a tool's qualifier: 'acc' of lm-eval's 'acc,none' (metric, filter)."""
    return name.split(",", 1)[0]


def spec_for(name: str) -> MetricSpec:
    """The registry entry (of the name, else of its base: 'acc,none' is 'acc'), or an entry
    with unknown unit and direction for a new metric."""
    found = REGISTRY.get(name) or REGISTRY.get(base_name(name))
    return found or MetricSpec(name, "unknown", "unknown", "not in the registry")


def direction_of(name: str, stated: dict[str, str] | None = None) -> Direction:
    """Which way is better: as the result file states it, else as the registry knows it."""
    said = (stated or {}).get(name)
    if said in ("higher", "lower"):
        return said  # type: ignore[return-value]
    return spec_for(name).direction


def check_value(name: str, value: float) -> str | None:
    """Return why ``value`` is impossible for metric ``name``, or None when it is fine."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return f"must be a number, got {value!r}"
    if not math.isfinite(value):
        return f"must be a finite number, got {value}"
    unit = spec_for(name).unit
    if unit == "fraction" and not 0.0 <= value <= 1.0:
        return f"is a rate and must lie in [0, 1], got {value}"
    if unit in {"ms", "usd", "tokens", "count"} and value < 0:
        return f"cannot be negative, got {value}"
    return None
