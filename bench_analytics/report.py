"""Comparison reports: Markdown for CI summaries and PR comments, dicts for JSON."""

from __future__ import annotations

import math

from bench_analytics.comparison import Comparison, Verdict
from bench_analytics.metrics import spec_for

ICONS = {
    "regression": "🔻 regression",
    "improvement": "🔺 improvement",
    "no significant change": "no significant change",
    "not tested": "not tested",
}
CORRECTIONS = {
    "holm": "Holm-adjusted",
    "maxt": "max-T (Westfall-Young) adjusted",
    "bh": "Benjamini-Hochberg adjusted",
    "none": "unadjusted",
}


def fmt_value(metric: str, value: float | None, *, signed: bool = False) -> str:
    """A value in its metric's unit: 0.642, 5.35 s, 412 ms, $0.0123."""
    if value is None:
        return "—"
    unit = spec_for(metric).unit
    sign = "+" if signed and value > 0 else ("-" if value < 0 else "")
    magnitude = abs(value)
    if unit == "ms":
        text = f"{magnitude / 1000:.2f} s" if magnitude >= 1000 else f"{magnitude:.1f} ms"
    elif unit == "usd":
        text = "$" + _three_significant(magnitude)
    elif unit in {"count", "tokens"}:
        text = f"{magnitude:,.0f}"
    else:
        text = f"{magnitude:.3f}"
    return sign + text


def _three_significant(value: float) -> str:
    """0.000327, 0.0123, 1.23, 1,234.56 — never an exponent."""
    if value == 0:
        return "0"
    if value >= 100:
        return f"{value:,.2f}"
    decimals = max(2, 2 - math.floor(math.log10(value)))
    return f"{value:.{decimals}f}"


def delta_text(v: Verdict) -> str:
    if v.delta is None:
        return "—"
    text = fmt_value(v.metric, v.delta, signed=True)
    if v.low is not None and v.high is not None:
        text += (
            f" [{fmt_value(v.metric, v.low, signed=True)}, "
            f"{fmt_value(v.metric, v.high, signed=True)}]"
        )
    return text


def _verdict_text(v: Verdict) -> str:
    text = ICONS[v.decision]
    if v.decision == "no significant change" and v.mde is not None and v.threshold is not None:
        text += f" (detectable: {fmt_value(v.metric, max(v.mde, v.threshold))})"
    elif v.note:
        text += f" ({v.note})"
    return text


def headline(comparison: Comparison, subject: str) -> str:
    """One line: ❌/✅ and what was compared."""
    regressions = comparison.regressions()
    if regressions:
        names = ", ".join(v.metric for v in regressions)
        return f"❌ Significant regression of {names}: {subject}"
    if comparison.method == "none":
        return f"⚪ Not tested: {subject}"
    return f"✅ No significant regression: {subject}"


def markdown(comparison: Comparison, subject: str, candidate: str) -> str:
    """The report printed by `check` and appended to $GITHUB_STEP_SUMMARY."""
    lines = [f"### {headline(comparison, subject)}", ""]
    lines.append(f"- **Candidate:** {candidate}")
    lines.append(f"- **Baseline:** {comparison.baseline_reason or comparison.baseline}")
    if comparison.method == "paired":
        lines.append(
            f"- **Method:** paired tests on {comparison.n} shared cases "
            f"(permutation p-values, bootstrap 95% intervals), "
            f"{CORRECTIONS.get(comparison.correction, comparison.correction)} across "
            f"{len(comparison.verdicts)} metrics, α = {comparison.alpha:g}"
        )
    elif comparison.method == "history":
        lines.append(
            f"- **Method:** robust z against {comparison.n} healthy versions (weaker: no "
            f"per-case data), {CORRECTIONS.get(comparison.correction, comparison.correction)}, "
            f"α = {comparison.alpha:g}"
        )
    lines.append("")
    if comparison.verdicts:
        lines.append(
            "| metric | baseline | candidate | Δ [95% CI] | p (adj.) | threshold | verdict |"
        )
        lines.append("|---|---:|---:|---|---:|---:|---|")
        for v in comparison.verdicts:
            name = f"**{v.metric}** (gated)" if v.gated else v.metric
            p = "—" if v.p_adjusted is None else f"{v.p_adjusted:.3g}"
            lines.append(
                f"| {name} | {fmt_value(v.metric, v.baseline)} | "
                f"{fmt_value(v.metric, v.candidate)} | {delta_text(v)} | {p} | "
                f"{fmt_value(v.metric, v.threshold)} | {_verdict_text(v)} |"
            )
        lines.append("")
    for note in comparison.notes:
        lines.append(f"> {note}")
    return "\n".join(lines).rstrip() + "\n"
