"""Inspect (inspect_ai) eval logs: the JSON log, the .eval archive, failed evals, refusals."""

from __future__ import annotations

import copy
import json
import zipfile
from pathlib import Path

import pytest

from bench_analytics.errors import BadInputError
from bench_analytics.formats import expand_inputs, read_file
from bench_analytics.formats.external import DIRECTIONS, SCORE_METRIC
from bench_analytics.formats.inspect_log import score_value
from bench_analytics.health import assess
from tests import samples

FIXTURES = Path(__file__).parent / "fixtures" / "external" / "inspect"
JSON_LOG = next((FIXTURES / "json-log").glob("*.json"))
ERROR_LOG = next((FIXTURES / "json-error").glob("*.json"))
ARCHIVE = FIXTURES / "eval-archive"  # the members of a .eval archive; tests zip them


def make_eval(target: Path, *, drop: tuple[str, ...] = (), rename: dict[str, str] | None = None):
    """Zip the archive fixture's members into ``target`` (a .eval log)."""
    rename = rename or {}
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for member in sorted(ARCHIVE.rglob("*.json")):
            name = member.relative_to(ARCHIVE).as_posix()
            if name not in drop:
                archive.write(member, rename.get(name, name))
    return target


def _one(path: Path, **kwargs):
    runs = read_file(path, **kwargs)
    assert len(runs) == 1
    return runs[0]


def _write(path: Path, data) -> Path:
    path.write_text(json.dumps(data))
    return path


def test_json_log_is_one_run_with_its_samples():
    run = _one(JSON_LOG)
    assert run.model.key == "openai-gpt-4o-mini" and run.model.provider == "openai"
    assert run.model.display_name == "openai/gpt-4o-mini"
    assert run.dataset.name == "arc_easy" and run.dataset.version == "arc_easy-v1-n4"
    assert run.dataset.declared_cases == 4
    assert run.prompt_version.startswith("prompt-")
    assert run.benchmark_type == "inspect" and run.provenance.source_format == "inspect"
    assert run.provenance.commit_sha == "9f3c2ab" and run.provenance.tags == ["nightly"]
    assert run.started_at is not None and run.finished_at is not None
    assert run.started_at.isoformat() == "2025-03-04T10:15:02+00:00"
    assert run.metrics["accuracy"] == 0.75 and run.metrics["accuracy_stderr"] == 0.25
    assert run.metrics["input_tokens"] == 480 and run.metrics["output_tokens"] == 12
    assert [case.score for case in run.cases] == [1.0, 0.0, 1.0, 1.0]
    assert run.cases[0].case_id == "Mercury_7220990" and run.cases[0].latency_ms == 1200
    assert run.cases[0].details["scores"] == {"choice": "C"}
    assert run.cases[0].details["answer"] == "A"
    assert run.extra[SCORE_METRIC] == "accuracy"
    assert run.extra[DIRECTIONS] == {"accuracy": "higher"}
    assert assess(run, 0.5).status == "healthy"


def test_eval_archive_keeps_every_epoch_as_a_case(tmp_path):
    run = _one(make_eval(tmp_path / "2025-06-11T08-00-00+00-00_gsm8k_Zp2L.eval"))
    assert run.dataset.version == "gsm8k-v1-e2-n3" and run.dataset.declared_cases == 6
    assert sorted(case.case_id for case in run.cases) == ["1#1", "1#2", "2#1", "2#2", "3#1", "3#2"]
    scores = {case.case_id: case.score for case in run.cases}
    assert scores["2#1"] == 0.0 and scores["2#2"] == 1.0
    assert sum(scores.values()) / len(scores) == run.metrics["accuracy"] == 0.5
    assert run.provenance.run_id == "Zp2Lk9QwEr4Ty7Ui1Op3As"


def test_first_generation_archive_with_start_and_results(tmp_path):
    header = json.loads((ARCHIVE / "header.json").read_text())
    start = {key: header[key] for key in ("version", "eval", "plan")}
    results = {key: header[key] for key in ("status", "stats", "results")}
    path = tmp_path / "old.eval"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("start.json", json.dumps(start))
        archive.writestr("results.json", json.dumps(results))
        for member in sorted((ARCHIVE / "samples").glob("*.json")):
            archive.write(member, f"samples/{member.name}")
    old, new = _one(path), _one(make_eval(tmp_path / "new.eval"))
    assert old.content_sha256() == new.content_sha256()


def test_an_errored_eval_is_a_failed_run_not_zero_accuracy():
    run = _one(ERROR_LOG)
    health = assess(run, 0.5)
    assert health.status == "failed"
    assert "status 'error'" in (health.reason or "") and "429" in (health.reason or "")
    assert "accuracy" not in run.metrics
    errored = [case for case in run.cases if case.status == "error"]
    assert len(errored) == 1 and errored[0].score is None and "429" in (errored[0].error or "")
    assert run.dataset.version == _one(JSON_LOG).dataset.version  # same configuration


def test_a_cancelled_eval_is_failed_too(tmp_path):
    data = json.loads(JSON_LOG.read_text())
    data["status"] = "cancelled"
    run = _one(_write(tmp_path / "cancelled.json", data))
    assert assess(run, 0.5).status == "failed"
    assert "cancelled" in (assess(run, 0.5).reason or "")


def test_further_scorers_keep_their_metrics_under_their_name(tmp_path):
    data = json.loads(JSON_LOG.read_text())
    second = copy.deepcopy(data["results"]["scores"][0])
    second.update(name="includes", scorer="includes")
    second["metrics"]["accuracy"]["value"] = 0.5
    data["results"]["scores"].append(second)
    for sample in data["samples"]:
        sample["scores"]["includes"] = {"value": 0.5}
    run = _one(_write(tmp_path / "two.json", data))
    assert run.metrics["accuracy"] == 0.75 and run.metrics["includes/accuracy"] == 0.5
    assert run.metrics["includes/accuracy_stderr"] == 0.25
    assert [case.score for case in run.cases] == [1.0, 0.0, 1.0, 1.0]  # the first scorer's
    assert run.cases[0].details["scores"] == {"choice": "C", "includes": 0.5}


def test_a_log_without_samples_is_aggregate_only(tmp_path):
    data = json.loads(JSON_LOG.read_text())
    del data["samples"]
    run = _one(_write(tmp_path / "no-samples.json", data))
    assert run.cases == [] and run.dataset.declared_cases is None
    assert run.metrics["accuracy"] == 0.75 and SCORE_METRIC not in run.extra


@pytest.mark.parametrize(
    ("value", "expected"),
    [("C", 1.0), ("I", 0.0), ("P", 0.5), ("N", 0.0), (True, 1.0), (0.25, 0.25), ("0.5", 0.5)],
)
def test_score_values_become_numbers(value, expected):
    assert score_value(value) == expected


def test_unreadable_score_values_are_kept_but_not_scored():
    assert score_value({"a": 1}) is None and score_value("maybe") is None


def test_a_running_eval_is_refused(tmp_path):
    data = json.loads(JSON_LOG.read_text())
    data["status"] = "started"
    with pytest.raises(BadInputError) as caught:
        read_file(_write(tmp_path / "running.json", data))
    assert caught.value.where == "field status" and "not finished" in caught.value.problem


def test_an_unfinished_archive_is_refused(tmp_path):
    path = make_eval(tmp_path / "running.eval", drop=("header.json", "summaries.json"))
    with pytest.raises(BadInputError) as caught:
        read_file(path)
    assert "has not finished" in caught.value.problem


def test_a_truncated_archive_is_refused(tmp_path):
    whole = make_eval(tmp_path / "whole.eval").read_bytes()
    path = tmp_path / "cut.eval"
    path.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(BadInputError) as caught:
        read_file(path)
    assert "not a zip archive" in caught.value.problem


def test_an_archive_missing_samples_is_shorter_than_declared(tmp_path):
    path = make_eval(tmp_path / "short.eval", drop=("samples/3_epoch_2.json",))
    with pytest.raises(BadInputError) as caught:
        read_file(path)
    assert "holds 5 results but declares 6" in caught.value.problem


def test_a_bad_member_names_the_archive_and_member(tmp_path):
    path = tmp_path / "bad.eval"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("header.json", "{not json")
    with pytest.raises(BadInputError) as caught:
        read_file(path)
    assert "bad.eval:header.json" in caught.value.source


@pytest.mark.parametrize(
    ("mutate", "where"),
    [
        (lambda d: d["samples"][1].update(total_time=-1.0), "field samples[1].total_time"),
        (lambda d: d["eval"].update(model=""), "field eval.model"),
        (lambda d: d["stats"].update(started_at="yesterday"), "field stats.started_at"),
        (
            lambda d: d["results"]["scores"][0]["metrics"]["accuracy"].update(value=1.5),
            "field results",
        ),
    ],
)
def test_bad_fields_are_named(tmp_path, mutate, where):
    data = copy.deepcopy(json.loads(JSON_LOG.read_text()))
    mutate(data)
    with pytest.raises(BadInputError) as caught:
        read_file(_write(tmp_path / "bad.json", data))
    assert caught.value.where == where


def test_a_folder_push_picks_up_eval_archives(tmp_path):
    make_eval(tmp_path / "run.eval")
    assert expand_inputs([tmp_path]) == [tmp_path / "run.eval"]


def test_push_convert_and_push_again(use_db, cli, tmp_path):
    archive = make_eval(tmp_path / "gsm8k.eval")
    done = cli("push", JSON_LOG, archive, "--json")
    assert done.code == 0, done
    assert samples.created(done.out) == 2
    again = cli("push", JSON_LOG, archive, "--json")
    assert again.code == 0 and samples.created(again.out) == 0
    named = cli("push", "--format", "inspect", JSON_LOG, "--json")
    assert named.code == 0 and samples.created(named.out) == 0
    converted = cli("convert", archive, "-o", tmp_path / "native.json")
    assert converted.code == 0, converted
    assert json.loads((tmp_path / "native.json").read_text())["provenance"]["source_format"] == (
        "inspect"
    )
    back = cli("push", tmp_path / "native.json", "--json")
    assert back.code == 0 and samples.created(back.out) == 0  # the same content


def test_a_failed_eval_is_stored_as_failed(use_db, cli):
    done = cli("push", ERROR_LOG)
    assert done.code == 0, done
    assert "failed" in done.out
