"""OpenAI evals (oaieval --record_path) logs: match and model-graded evals, aggregate-only
and unfinished logs, refusals, the CLI, real files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench_analytics.errors import BadInputError
from bench_analytics.formats import claiming_reader, expand_inputs, read_file
from bench_analytics.formats.external import DIRECTIONS, SCORE_METRIC
from bench_analytics.formats.openai_evals import claims
from bench_analytics.health import assess
from tests import samples
from tests.conftest import REALDATA

FIXTURES = Path(__file__).parent / "fixtures" / "external" / "openai-evals"
MATCH = FIXTURES / "match-eval.jsonl"
GRADED = FIXTURES / "modelgraded.jsonl"
AGGREGATE = FIXTURES / "aggregate-only.log"
UNFINISHED = FIXTURES / "no-final-report.jsonl"


def _one(path: Path, **kwargs):
    runs = read_file(path, **kwargs)
    assert len(runs) == 1
    return runs[0]


def _lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def _write(path: Path, lines: list) -> Path:
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return path


def test_claims_logs_of_any_suffix(tmp_path):
    assert all(claims(path) for path in (MATCH, GRADED, AGGREGATE, UNFINISHED))
    assert not claims(tmp_path) and not claims(tmp_path / "missing.jsonl")
    assert not claims(_write(tmp_path / "other.jsonl", [{"doc_id": 0}]))
    assert claiming_reader(AGGREGATE).NAME == "openai-evals"


def test_match_eval_cases_and_final_report():
    run = _one(MATCH)
    assert run.model.key == "gpt-4o-mini" and run.model.display_name == "gpt-4o-mini"
    assert run.dataset.name == "capitals.dev.v0" and run.dataset.version == "capitals.dev.v0-n4"
    assert run.dataset.declared_cases == 4 and run.prompt_version == "unversioned"
    assert run.benchmark_type == "openai-evals" and run.provenance.source_format == "openai-evals"
    assert run.provenance.run_id == "250304120000ABCDEFGH" and run.provenance.notes is None
    assert run.started_at is not None and run.started_at.isoformat() == "2025-03-04T12:00:00+00:00"
    assert run.finished_at is not None and run.finished_at.isoformat().startswith(
        "2025-03-04T12:00:08"
    )
    assert [case.case_id for case in run.cases] == [f"capitals.test.{n}" for n in range(4)]
    assert [case.score for case in run.cases] == [1.0, 0.0, 1.0, 1.0]
    wrong = run.cases[1]
    assert wrong.details == {"expected": "Paris", "picked": "Lyon", "sampled": "Lyon"}
    assert wrong.input_tokens == 21 and wrong.output_tokens == 2
    assert run.metrics["accuracy"] == 0.75  # the final report's, written before the events
    assert run.metrics["input_tokens"] == 86 and run.metrics["total_tokens"] == 94
    assert "boostrap_std" not in run.metrics  # oaieval's spelling of a stderr, not a metric
    assert run.extra["final_report"] == {"boostrap_std": 0.2165}
    assert run.extra[SCORE_METRIC] == "accuracy"
    assert run.extra[DIRECTIONS] == {"accuracy": "higher"}
    assert assess(run, 0.5).status == "healthy"


def test_model_graded_eval_scores_from_metrics_events():
    run = _one(GRADED)
    assert run.model.key == "zhishu-gpt-4-cot" and run.dataset.version == "facts.test.v1-n3"
    assert [case.score for case in run.cases] == [1.0, 0.0, 1.0]
    assert run.cases[1].details["choice"] == "No"
    assert run.metrics["score"] == pytest.approx(2 / 3) and run.metrics["counts/Yes"] == 2
    assert run.extra[SCORE_METRIC] == "score"


def test_spec_and_final_report_only_is_aggregate():
    run = _one(AGGREGATE)
    assert run.cases == [] and run.dataset.declared_cases == 500
    assert run.dataset.version == "self_prompting.full-n500"
    assert run.metrics == {"accuracy": 0.364, "accuracy_fuzzy": 0.48}
    assert SCORE_METRIC not in run.extra and run.finished_at is None
    assert assess(run, 0.5).status == "healthy"


def test_unfinished_log_is_read_from_its_events():
    run = _one(UNFINISHED)
    assert len(run.cases) == 3 and run.metrics["accuracy"] == pytest.approx(2 / 3)
    assert "no final_report" in (run.provenance.notes or "")
    assert run.extra[SCORE_METRIC] == "accuracy"


def test_unfinished_log_without_scores_is_refused(tmp_path):
    spec, *events = _lines(UNFINISHED)
    sampling = [{**event, "type": "sampling", "data": {"sampled": "x"}} for event in events]
    path = _write(tmp_path / "cut.jsonl", [spec, *sampling])
    with pytest.raises(BadInputError) as caught:
        read_file(path)
    assert "no final_report and none of its 3 events gives a score" in caught.value.problem


def test_error_events_make_errored_cases(tmp_path):
    spec, *events = _lines(UNFINISHED)
    events[0] = {**events[0], "type": "error", "data": {"type": "RateLimitError", "message": "429"}}
    run = _one(_write(tmp_path / "errors.jsonl", [spec, *events]))
    assert run.cases[0].status == "error" and run.cases[0].error == "RateLimitError: 429"
    assert run.cases[0].score is None


def test_repeated_match_events_of_a_sample_average(tmp_path):
    spec, *events = _lines(UNFINISHED)
    repeat = {**events[0], "event_id": 9, "data": {"correct": False}}
    run = _one(_write(tmp_path / "repeat.jsonl", [spec, *events, repeat]))
    assert run.cases[0].score == 0.5 and run.cases[0].details["n_scored_events"] == 2


@pytest.mark.parametrize(
    ("change", "where", "problem"),
    [
        (lambda lines: lines.insert(2, "{not json"), "line 3, column 2", "invalid JSON"),
        (
            lambda lines: lines.__setitem__(0, json.dumps({"spec": {}})),
            "line 1, field spec.completion_fns",
            "required",
        ),
        (
            lambda lines: lines.append(json.dumps({"final_report": {"accuracy": 1}})),
            "line 11, field final_report",
            "a second final_report",
        ),
        (
            lambda lines: lines.__setitem__(
                1, json.dumps({"final_report": {"accuracy": 1.5, "n_samples": 4}})
            ),
            "line 2, field final_report.accuracy",
            "must lie in [0, 1]",
        ),
        (
            lambda lines: lines.append(
                json.dumps({"run_id": "other", "type": "match", "data": {}})
            ),
            "line 11, field run_id",
            "event of run other",
        ),
        (
            lambda lines: lines.append(json.dumps({"sample_id": "x"})),
            "line 11, field type",
            "required",
        ),
        (lambda lines: lines.append('{"a": NaN}'), "field a (line 11, column 7)", "NaN"),
    ],
)
def test_bad_lines_are_named(tmp_path, change, where, problem):
    lines = MATCH.read_text().splitlines()
    change(lines)
    path = tmp_path / "bad.jsonl"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(BadInputError) as caught:
        read_file(path)
    assert caught.value.where == where and problem in caught.value.problem


def test_empty_log_is_refused(tmp_path):
    path = tmp_path / "empty.jsonl"
    path.write_text("\n\n")
    with pytest.raises(BadInputError) as caught:
        read_file(path, fmt="openai-evals")
    assert "empty" in caught.value.problem


def test_named_format_on_another_file_is_refused(tmp_path):
    path = tmp_path / "x.json"
    path.write_text(json.dumps({"results": {}}))
    with pytest.raises(BadInputError) as caught:
        read_file(path, fmt="openai-evals")
    assert "not an OpenAI evals log" in caught.value.problem


def test_a_folder_push_picks_up_jsonl_logs(tmp_path):
    _write(tmp_path / "run.jsonl", _lines(MATCH))
    assert expand_inputs([tmp_path]) == [tmp_path / "run.jsonl"]


def test_push_convert_and_push_again(use_db, cli, tmp_path):
    done = cli("push", MATCH, GRADED, AGGREGATE, "--json")
    assert done.code == 0, done
    assert samples.created(done.out) == 3
    again = cli("push", MATCH, GRADED, AGGREGATE, "--json")
    assert again.code == 0 and samples.created(again.out) == 0
    named = cli("push", "--format", "openai-evals", UNFINISHED, "--json")
    assert named.code == 0 and samples.created(named.out) == 1
    converted = cli("convert", AGGREGATE, "-o", tmp_path / "native.json")
    assert converted.code == 0, converted
    native = json.loads((tmp_path / "native.json").read_text())
    assert native["provenance"]["source_format"] == "openai-evals"
    back = cli("push", tmp_path / "native.json", "--json")
    assert back.code == 0 and samples.created(back.out) == 0  # the same content


@pytest.mark.realdata
def test_real_openai_evals_logs(use_db, cli):
    if REALDATA is None:
        pytest.skip("BENCH_REALDATA is not set: the real OpenAI evals logs are not available")
    folder = REALDATA / "external" / "openai-evals"
    files = sorted(path for path in folder.iterdir() if path.suffix in {".log", ".jsonl"})
    assert len(files) == 2
    expected = {
        "openai__evals__evals_registry_data_self_prompting_oriprompt.log": 0,  # aggregate only
        # cut off: no final_report, 32 sampling events and a metrics event whose score is null
        "openai__evals__tests_unit_evals_biomed2402_SRL_log_gpt-4-cot_semantic_role_recognition"
        ".jsonl": 2,
    }
    for path in files:
        done = cli("push", path)
        assert done.code == expected[path.name], (path.name, done)
    refused = cli("push", files[1])
    assert "no final_report" in refused.err and "gives a score" in refused.err
    run = _one(files[0])
    assert run.cases == [] and run.dataset.declared_cases == 1500
    assert run.metrics["accuracy"] == pytest.approx(0.20733333333333334)
