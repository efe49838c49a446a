"""promptfoo ``eval -o`` output: versions 3 and 2, outages, refusals, the CLI, real files."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from bench_analytics.errors import BadInputError
from bench_analytics.formats import detect, read_file
from bench_analytics.formats.external import DIRECTIONS, SCORE_METRIC
from bench_analytics.formats.source import load_source
from bench_analytics.health import assess
from tests import samples
from tests.conftest import REALDATA

FIXTURES = Path(__file__).parent / "fixtures" / "external" / "promptfoo"
V3 = FIXTURES / "v3-two-providers.json"
OUTAGE = FIXTURES / "v3-outage.json"
V2 = FIXTURES / "v2-table.json"


def _write(path: Path, data) -> Path:
    path.write_text(json.dumps(data))
    return path


def _load(path: Path):
    return copy.deepcopy(json.loads(path.read_text()))


def test_detected_as_promptfoo():
    for path in (V3, OUTAGE, V2):
        assert detect(load_source(path)).NAME == "promptfoo"


def test_one_run_per_prompt_and_provider():
    mini, haiku = read_file(V3)
    assert mini.model.key == "openai-chat-gpt-4o-mini" and mini.model.provider == "openai"
    assert mini.model.display_name == "openai:chat:gpt-4o-mini"
    assert haiku.model.key == "anthropic-messages-claude-3-5-haiku-20241022"
    assert haiku.model.display_name == "Claude Haiku"  # the provider's label
    assert mini.dataset == haiku.dataset
    assert mini.dataset.name == "Smoke questions" and mini.dataset.declared_cases == 3
    assert mini.dataset.version.startswith("smoke-questions-v") and mini.dataset.version.endswith(
        "-n3"
    )
    assert mini.prompt_version == haiku.prompt_version and mini.prompt_version.startswith("prompt-")
    assert mini.benchmark_type == "promptfoo" and mini.provenance.source_format == "promptfoo"
    assert mini.provenance.run_id == "eval-fixture-2025-05-01T10:00:00"
    assert mini.started_at is not None and mini.started_at.isoformat().startswith(
        "2025-05-01T10:00"
    )
    assert (
        mini.finished_at is not None and (mini.finished_at - mini.started_at).total_seconds() == 4.2
    )


def test_cases_scores_and_metrics():
    mini, haiku = read_file(V3)
    assert [case.case_id for case in mini.cases] == ["0", "1", "2"]
    assert [case.score for case in mini.cases] == [1.0, 0.0, 1.0]
    failed = mini.cases[1]
    assert failed.status == "ok" and failed.details["pass"] is False
    assert failed.details["output"] == "64" and "regex" in failed.details["reason"]
    assert failed.details["assertions"] == [
        {"metric": "Tone", "pass": False, "score": 0.0, "type": "regex"}
    ]
    assert failed.details["named_scores"] == {"Tone": 0}
    assert failed.latency_ms == 600 and failed.input_tokens == 43 and failed.output_tokens == 2
    assert failed.cost_usd == pytest.approx(8.5e-06)
    assert mini.metrics["pass_rate"] == pytest.approx(2 / 3)
    assert mini.metrics["score"] == pytest.approx(2 / 3)
    assert mini.metrics["named_score.Tone"] == pytest.approx(2 / 3)
    assert mini.metrics["total_tokens"] == 135 and mini.metrics["input_tokens"] == 129
    assert mini.extra[SCORE_METRIC] == "score"
    assert mini.extra[DIRECTIONS]["pass_rate"] == "higher"
    assert mini.extra[DIRECTIONS]["named_score.Tone"] == "higher"
    # the provider error is an errored case, not a failed test
    errored = [case for case in haiku.cases if case.status == "error"]
    assert [case.case_id for case in errored] == ["1"]
    assert (
        errored[0].score is None and errored[0].error == "Error: API error: 429 Too Many Requests"
    )
    assert haiku.metrics["pass_rate"] == 1.0 and haiku.metrics["error_count"] == 1
    assert assess(mini, 0.5).status == "healthy" and assess(haiku, 0.5).status == "healthy"


def test_every_test_errored_is_an_outage_not_zero_pass_rate():
    (run,) = read_file(OUTAGE)
    assert all(case.status == "error" for case in run.cases)
    assert "pass_rate" not in run.metrics and "score" not in run.metrics
    assert SCORE_METRIC not in run.extra
    health = assess(run, 0.5)
    assert health.status == "failed" and "3/3 cases failed" in (health.reason or "")
    assert "429" in (health.reason or "") and "\n" not in (health.reason or "")


def test_version_2_reads_like_version_3():
    (old,) = read_file(V2)
    new = read_file(V3)[0]
    assert [case.case_id for case in old.cases] == ["0", "1", "2"]
    assert old.dataset == new.dataset and old.prompt_version == new.prompt_version
    assert old.model.key == new.model.key
    assert [case.score for case in old.cases] == [case.score for case in new.cases]
    assert old.metrics["pass_rate"] == new.metrics["pass_rate"]
    assert old.extra["results_version"] == 2


def test_summary_without_the_wrapper_is_read(tmp_path):
    summary = _load(V3)["results"]
    runs = read_file(_write(tmp_path / "summary.json", summary))
    assert [run.model.key for run in runs] == [run.model.key for run in read_file(V3)]


@pytest.mark.parametrize("version", [1, 4, "3"])
def test_unknown_results_version_is_refused(tmp_path, version):
    data = _load(V3)
    data["results"]["version"] = version
    with pytest.raises(BadInputError) as caught:
        read_file(_write(tmp_path / "v.json", data))
    assert caught.value.where == "field results.version"
    assert "is not supported (versions 2 and 3 are)" in caught.value.problem


@pytest.mark.parametrize(
    ("mutate", "where", "problem"),
    [
        (
            lambda d: d["results"]["results"][2].update(latencyMs=-5),
            "field results.results[2].latencyMs",
            "greater than or equal to 0",
        ),
        (
            lambda d: d["results"]["results"][0].pop("success"),
            "field results.results[0].success",
            "required",
        ),
        (
            lambda d: d["results"]["results"][0].update(promptIdx=7),
            "field results.results[0]",
            "joins no prompt",
        ),
        (
            lambda d: d["results"]["results"][2].update(testIdx=0),
            "field results.results[2].testIdx",
            "appears twice",
        ),
        (lambda d: d["results"].update(prompts=[]), "field results.prompts", "names no prompts"),
        (
            lambda d: d["results"]["prompts"][0]["metrics"].update(testPassCount=5),
            "field results.results",
            "declares 6",
        ),
    ],
)
def test_bad_fields_are_named(tmp_path, mutate, where, problem):
    data = _load(V3)
    mutate(data)
    with pytest.raises(BadInputError) as caught:
        read_file(_write(tmp_path / "bad.json", data))
    assert caught.value.where == where and problem in caught.value.problem


def test_named_format_on_another_file_is_refused(tmp_path):
    with pytest.raises(BadInputError) as caught:
        read_file(_write(tmp_path / "x.json", {"results": []}), fmt="promptfoo")
    assert "not a promptfoo output" in caught.value.problem


def test_push_convert_and_push_again(use_db, cli, tmp_path):
    done = cli("push", V3, OUTAGE, "--json")
    assert done.code == 0, done
    assert samples.created(done.out) == 3
    again = cli("push", V3, OUTAGE, "--json")
    assert again.code == 0 and samples.created(again.out) == 0
    named = cli("push", "--format", "promptfoo", V2, "--json")
    assert named.code == 0, named
    converted = cli("convert", OUTAGE, "-o", tmp_path / "native.json")
    assert converted.code == 0, converted
    native = json.loads((tmp_path / "native.json").read_text())
    assert native["provenance"]["source_format"] == "promptfoo"
    back = cli("push", tmp_path / "native.json", "--json")
    assert back.code == 0 and samples.created(back.out) == 0  # the same content


def test_an_outage_is_stored_as_failed(use_db, cli):
    done = cli("push", OUTAGE)
    assert done.code == 0, done
    assert "failed" in done.out


@pytest.mark.realdata
def test_real_promptfoo_files(use_db, cli):
    if REALDATA is None:
        pytest.skip("BENCH_REALDATA is not set: the real promptfoo files are not available")
    files = sorted((REALDATA / "external" / "promptfoo").glob("*.json"))
    assert files
    for path in files:  # every real file pushes; none is refused
        done = cli("push", path, "--json")
        assert done.code == 0, (path.name, done)
    outage = next(path for path in files if "@1630742" in path.name)
    runs = read_file(outage)
    assert len(runs) == 2 and all(assess(run, 0.5).status == "failed" for run in runs)
    assert all("RateLimitExhaustedError" in (run.cases[0].error or "") for run in runs)
    named = next(path for path in files if "@cb2be90" in path.name)
    (run,) = read_file(named)
    assert run.metrics["named_score.NoTherapistValidation"] == 1.0 and len(run.cases) == 8


def test_two_runs_of_a_prompt_pair_on_the_test_case(bench, tmp_path):
    """Two evals of the same prompt and provider compare per test case, on the score."""
    changed = json.loads(V3.read_text())
    for result in changed["results"]["results"]:
        if result["testIdx"] == 1:  # the failing test passes now
            result["success"], result["score"] = True, 1
            result["gradingResult"] = {**(result.get("gradingResult") or {}), "pass": True}
    later = tmp_path / "later.json"
    later.write_text(json.dumps(changed))
    first = read_file(V3)[0]
    second = next(r for r in read_file(later) if r.model.key == first.model.key)
    comparison = bench.compare(first, second)
    assert comparison.method == "paired" and comparison.n == 3
    verdict = comparison.verdict(first.extra["score_metric"])
    assert verdict is not None and verdict.delta > 0
