"""Runs of other eval tools pair on their cases' own score (``extra["score_metric"]``), with
the direction the file states; runs without one compare as before."""

from __future__ import annotations

import numpy as np
import pytest

from bench_analytics.comparison import RunView, compare_views
from bench_analytics.config import Settings
from bench_analytics.metrics import direction_of, spec_for
from bench_analytics.model import CaseResult, DatasetRef, ModelRef, RunResult


def _run(correct: np.ndarray, *, metric: str = "acc,none", stated: str | None = None) -> RunResult:
    extra: dict = {"score_metric": metric}
    if stated:
        extra["metric_directions"] = {metric: stated}
    return RunResult(
        model=ModelRef(key="meta-llama-llama-2-7b-hf"),
        dataset=DatasetRef(name="arc_easy", version="arc_easy-v1-n300"),
        prompt_version="unversioned",
        metrics={metric: float(correct.mean())},
        cases=[CaseResult(case_id=str(i), score=float(v)) for i, v in enumerate(correct)],
        extra=extra,
    )


def _answers(p: float, seed: int, n: int = 300) -> np.ndarray:
    return (np.random.default_rng(seed).random(n) < p).astype(float)


def test_two_tool_runs_pair_on_their_score_and_a_drop_is_a_regression():
    baseline, candidate = _run(_answers(0.75, 1)), _run(_answers(0.55, 2))
    comparison = compare_views(
        RunView.from_run(baseline, "a"), RunView.from_run(candidate, "b"), Settings()
    )
    assert comparison.method == "paired" and comparison.n == 300
    verdict = comparison.verdict("acc,none")
    assert verdict is not None and verdict.decision == "regression"
    assert verdict.direction == "higher" and verdict.low is not None and verdict.high < 0


def test_no_change_stays_no_change():
    answers = _answers(0.7, 3)
    comparison = compare_views(
        RunView.from_run(_run(answers), "a"),
        RunView.from_run(_run(answers.copy()), "b"),
        Settings(),
    )
    verdict = comparison.verdict("acc,none")
    assert verdict is not None and verdict.decision == "no significant change"


def test_the_files_direction_wins_and_an_unknown_one_decides_nothing():
    worse, better = _answers(0.3, 4), _answers(0.6, 5)  # 'errors' went up
    lower = compare_views(
        RunView.from_run(_run(worse, metric="errs,none", stated="lower"), "a"),
        RunView.from_run(_run(better, metric="errs,none", stated="lower"), "b"),
        Settings(),
    ).verdict("errs,none")
    assert lower is not None and lower.direction == "lower" and lower.decision == "regression"
    unknown = compare_views(
        RunView.from_run(_run(worse, metric="errs,none"), "a"),
        RunView.from_run(_run(better, metric="errs,none"), "b"),
        Settings(),
    ).verdict("errs,none")
    assert unknown is not None and unknown.decision == "no significant change"
    assert "no known better direction" in unknown.note


def test_runs_of_different_score_metrics_do_not_pair_on_score():
    comparison = compare_views(
        RunView.from_run(_run(_answers(0.7, 6), metric="acc,none"), "a"),
        RunView.from_run(_run(_answers(0.7, 7), metric="exact_match,none"), "b"),
        Settings(),
    )
    assert comparison.method != "paired" or comparison.verdict("acc,none") is None


def test_stored_tool_runs_pair_through_the_store(bench, tmp_path):
    baseline, candidate = _run(_answers(0.75, 8)), _run(_answers(0.5, 9))
    pushed = bench.push([("base.json", baseline)])
    assert pushed.created == 1
    comparison = bench.compare(f"tx:{pushed.outcomes[0].transaction_id}", candidate)
    assert comparison.method == "paired"
    verdict = comparison.verdict("acc,none")
    assert verdict is not None and verdict.decision == "regression"


@pytest.mark.parametrize(
    ("name", "unit", "direction"),
    [
        ("acc,none", "fraction", "higher"),
        ("perplexity,none", "unknown", "lower"),
        ("x,y", "unknown", "unknown"),
    ],
)
def test_a_tools_qualified_metric_is_its_base_metric(name, unit, direction):
    assert spec_for(name).unit == unit and direction_of(name) == direction


def test_a_qualified_tool_metric_can_be_gated():
    assert Settings(gate_metrics=["acc,none", "f1"]).gate_metrics == ["acc,none", "f1"]
    with pytest.raises(ValueError, match="unknown metric"):
        Settings(gate_metrics=["accuarcy"])


def test_the_format_help_names_every_reader():
    from bench_analytics.cli.app import FORMAT_HELP
    from bench_analytics.formats import FORMAT_NAMES

    listed = FORMAT_HELP.removeprefix("Input format: ").rstrip(".").split(", ")
    assert sorted(listed) == sorted(FORMAT_NAMES) and len(listed) >= 11
