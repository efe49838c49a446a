"""The sample history: deterministic, realistic, and what the demo pushes."""

from __future__ import annotations

import json
from collections import Counter

from bench_analytics.fixtures import sample_history
from bench_analytics.health import assess


def test_sample_history_is_deterministic():
    first = [run.content_sha256() for run in sample_history(seed=7)]
    again = [run.content_sha256() for run in sample_history(seed=7)]
    other = [run.content_sha256() for run in sample_history(seed=8)]
    assert first == again
    assert first != other
    assert len(set(first)) == len(first)


def test_sample_history_shape():
    runs = sample_history()
    assert Counter(run.model.key for run in runs) == {
        "baseline": 10,
        "gemini": 10,
        "openai": 13,
        "medgemma": 13,
    }
    assert {run.prompt_version for run in runs} == {"v1", "v2-structured", "v3-reasoning"}
    assert len({run.provenance.commit_sha for run in runs}) == 10
    assert all(len(run.cases) == 100 for run in runs)
    failed = [run for run in runs if assess(run, 0.5).status == "failed"]
    assert [
        (r.model.key, r.provenance.commit_sha == runs[0].provenance.commit_sha) for r in failed
    ] == [("gemini", False)]
    assert "HTTP 503" in assess(failed[0], 0.5).reason
    medgemma_v2 = [
        r.metrics["recall"]
        for r in runs
        if r.model.key == "medgemma" and r.prompt_version == "v2-structured"
    ]
    assert min(medgemma_v2) == medgemma_v2[2]  # the commit-6 regression
    openai_errors = [r.metrics["error_count"] for r in runs if r.model.key == "openai"]
    assert max(openai_errors) > 0  # a few timeouts that do not fail the run
    assert all(0 <= r.metrics["f1"] <= 1 for r in runs if r not in failed)
    assert "f1" not in failed[0].metrics  # nothing was answered, so nothing is scored
    assert all(
        r.metrics["cost_usd"] > 0 for r in runs if r.model.key != "baseline" and r not in failed
    )


def test_demo_pushes_and_prints_snapshots_idempotently(cli, use_db, tmp_path):
    first = cli("demo", "--write", tmp_path / "demo")
    assert first.code == 0, first.err
    assert "46 new" in first.out and "Current snapshots" in first.out
    assert len(list((tmp_path / "demo").glob("*.json"))) == 46
    for model in ("baseline", "openai", "gemini", "medgemma"):
        assert model in first.out
    again = cli("demo")
    assert "0 new, 46 already stored" in again.out
    snaps = json.loads(cli("snapshots", "--json").out)
    assert len(snaps) == 10
    gemini = next(
        s for s in snaps if s["model_key"] == "gemini" and s["prompt_version"] == "v2-structured"
    )
    assert gemini["unhealthy"] == 1 and gemini["version"] == 7
    medgemma = json.loads(cli("history", "medgemma", "--prompt", "v2-structured", "--json").out)
    events = [e["event_type"] for e in medgemma[0]["events"]]
    assert events.count("hold") == 1  # the commit-6 regression was held
    assert "regression held: medgemma v2-structured version 3: held: significant" in first.out
