"""lm-evaluation-harness results (every generation) and their per-sample logs."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from bench_analytics.errors import BadInputError
from bench_analytics.formats import expand_inputs, read_file
from bench_analytics.formats.common import ReadOptions
from bench_analytics.formats.external import DIRECTIONS, SCORE_METRIC
from tests.conftest import REALDATA

FIXTURES = Path(__file__).parent / "fixtures" / "external" / "lm-eval"
STAMP_42 = "2024-04-19T10-35-26.659197"
STAMP_48 = "2025-06-30T19-40-09.461247"
RESULTS_42 = FIXTURES / "0.4.2" / f"results_{STAMP_42}.json"
RESULTS_48 = FIXTURES / "0.4.8" / f"results_{STAMP_48}.json"


def _by_task(path: Path, **options):
    return {run.extra["task"]: run for run in read_file(path, options=ReadOptions(**options))}


def _copy(tmp_path: Path, generation: str) -> Path:
    folder = tmp_path / generation
    shutil.copytree(FIXTURES / generation, folder)
    return folder


def test_pre_0_4_results_one_run_per_task():
    runs = _by_task(FIXTURES / "pre-0.4" / "pythia-160m_step13000_zero-shot.json")
    assert set(runs) == {"piqa", "lambada_openai", "mc_taco", "hendrycksTest-anatomy"}
    piqa = runs["piqa"]
    assert piqa.provenance.source_format == "lm-eval"
    assert piqa.benchmark_type == "lm-eval"
    assert (piqa.model.key, piqa.model.version) == ("eleutherai-pythia-160m", "step13000")
    assert piqa.dataset.version == "piqa-v0-0shot"
    assert piqa.metrics == {"acc": 0.6175, "acc_norm": 0.6153}
    assert piqa.extra["stderr"] == {"acc": 0.0113, "acc_norm": 0.0114}
    assert piqa.started_at is None and piqa.finished_at is None  # no time in the file
    assert piqa.prompt_version == "unversioned" and piqa.environment is None
    assert not piqa.cases and DIRECTIONS not in piqa.extra and SCORE_METRIC not in piqa.extra
    assert runs["mc_taco"].metrics == {"em": 0.1253, "f1": 0.4938}  # no stderr: none kept
    assert "stderr" not in runs["mc_taco"].extra


def test_0_4_2_groups_stored_once_and_samples_without_filter():
    runs = _by_task(RESULTS_42)
    assert list(runs) == ["mmlu", "mmlu_anatomy", "mmlu_astronomy", "gsm8k"]
    group = runs["mmlu"]
    assert group.extra["aggregate_of"] == ["mmlu_astronomy", "mmlu_anatomy"]
    assert not group.cases and group.metrics == {"acc,none": 0.7}
    assert group.dataset.version == "mmlu-5shot"  # the subtasks' shots, not the group's 0
    anatomy = runs["mmlu_anatomy"]
    assert anatomy.dataset.version == "mmlu_anatomy-v0-5shot"
    assert [c.score for c in anatomy.cases] == [1.0, 0.0, 1.0]
    assert anatomy.extra[SCORE_METRIC] == "acc,none"
    assert anatomy.extra["alias"] == "anatomy"
    assert anatomy.cases[0].details["target"] == "1"
    assert anatomy.started_at is not None and anatomy.started_at.year == 2024
    gsm8k = runs["gsm8k"]  # both filters logged one after another, no "filter" key
    assert gsm8k.extra[SCORE_METRIC] == "exact_match,strict-match"
    second = gsm8k.cases[1]
    assert (second.case_id, second.score) == ("1", 0.0)
    assert second.details["exact_match,flexible-extract"] == 1.0
    assert second.details["filtered_resps"] == "[invalid]"


def test_0_4_8_limit_non_finite_values_and_directions():
    runs = _by_task(RESULTS_48)
    tg = runs["polymer_tg_prediction"]
    assert tg.model.key == "gpt-4o-mini" and tg.model.provider
    assert tg.dataset.version == "polymer_tg_prediction-n3-0shot"  # "Yaml": no version
    assert tg.dataset.declared_cases == 3  # the effective count under --limit
    assert "mae,none" not in tg.metrics  # Infinity is not a value
    assert tg.extra["not_reported"] == {"mae,none": "Infinity"}
    assert "stderr" not in tg.extra  # NaN
    assert tg.extra[DIRECTIONS] == {"mae,none": "lower"}
    assert tg.extra[SCORE_METRIC] == "mae,none"
    assert tg.prompt_version.startswith("prompt-")  # one prompt hash for the whole task
    errored = tg.cases[0]
    assert errored.status == "error" and "mae is Infinity" in errored.error
    assert errored.score is None and errored.details["mae,none"] == "Infinity"
    assert [c.score for c in tg.cases[1:]] == [3.0, 15.0]
    assert (tg.finished_at - tg.started_at).total_seconds() == pytest.approx(13.477, abs=0.01)
    truthful = runs["truthfulqa_gen"]
    assert truthful.prompt_version == "unversioned"  # a prompt hash per sample
    assert truthful.cases[0].details["hallucination"] == "truthful"
    assert len(truthful.cases[0].details["filtered_resps"]) <= 300
    assert truthful.extra["n_samples"] == {"original": 817, "effective": 2}
    nli = runs["NLI4PR_patient"]
    assert nli.metrics["f1,none"] == 0.8 and nli.extra["stderr"] == {"acc,none": 0.2165}
    assert nli.cases[2].details["f1,none"] == [0, 1]  # a pair per sample, not a score
    assert runs["NLI4PR_0-shot"].extra["aggregate_of"] == ["NLI4PR_patient"]
    assert not runs["NLI4PR_0-shot"].cases


def test_results_without_samples_read_alone(tmp_path):
    folder = _copy(tmp_path, "0.4.8")
    for log in folder.glob("samples_*"):
        log.unlink()
    runs = _by_task(folder / RESULTS_48.name)
    assert all(not run.cases for run in runs.values())
    assert runs["truthfulqa_gen"].dataset.declared_cases is None
    assert runs["truthfulqa_gen"].dataset.version == "truthfulqa_gen-v3-n2-0shot"
    assert "polymer_tg_prediction" not in runs  # no finite metric and no samples


def test_a_folder_reads_each_results_file_once_with_its_samples(tmp_path):
    folder = _copy(tmp_path, "0.4.2")
    assert expand_inputs([folder]) == [folder / RESULTS_42.name]


def test_a_samples_log_alone_is_refused_naming_its_results_file(tmp_path):
    folder = _copy(tmp_path, "0.4.8")
    log = folder / f"samples_truthfulqa_gen_{STAMP_48}.jsonl"
    with pytest.raises(BadInputError) as beside:
        read_file(log)
    assert f"push results_{STAMP_48}.json" in beside.value.hint
    (folder / RESULTS_48.name).unlink()
    with pytest.raises(BadInputError) as absent:
        read_file(log)
    assert f"results file results_{STAMP_48}.json, which is not in this folder" in str(absent.value)
    assert expand_inputs([folder]) == sorted(folder.glob("samples_*"))  # each refused alone


def test_a_sample_object_under_another_name_is_refused(tmp_path):
    line = (FIXTURES / "0.4.8" / f"samples_truthfulqa_gen_{STAMP_48}.jsonl").read_text()
    path = tmp_path / "one.json"
    path.write_text(line.splitlines()[0])
    with pytest.raises(BadInputError, match="samples log, not its results"):
        read_file(path)


def _edit_log(folder: Path, task: str, stamp: str, edit) -> Path:
    path = next(folder.glob(f"samples_{task}_{stamp}.json*"))
    lines = path.read_text().splitlines()
    path.write_text("".join(line + "\n" for line in edit(lines)))
    return path


@pytest.mark.parametrize(
    ("edit", "where", "fragment"),
    [
        (lambda ls: [ls[0], ls[1][:-1]], "line 2", "invalid JSON"),
        (lambda ls: [ls[0], "[1, 2]"], "line 2", "with a doc_id"),
        (lambda ls: [ls[0], ls[0]], "line 2", "appears twice for filter 'none'"),
        (lambda ls: ls[:1], None, "holds 1 samples but results_"),
        (lambda ls: [], None, "the samples log is empty"),
    ],
)
def test_bad_samples_logs_are_refused_with_the_line(tmp_path, edit, where, fragment):
    folder = _copy(tmp_path, "0.4.8")
    log = _edit_log(folder, "truthfulqa_gen", STAMP_48, edit)
    with pytest.raises(BadInputError) as caught:
        read_file(folder / RESULTS_48.name)
    assert caught.value.source == str(log)
    assert caught.value.where == where or (where and caught.value.where.startswith(where))
    assert fragment in caught.value.problem


def test_older_log_with_a_doc_logged_too_often_is_refused(tmp_path):
    folder = _copy(tmp_path, "0.4.2")
    _edit_log(folder, "mmlu_anatomy", STAMP_42, lambda ls: [*ls, ls[0]])
    with pytest.raises(BadInputError, match="doc_id 0 appears 2 times") as caught:
        read_file(folder / RESULTS_42.name)
    assert caught.value.where == "line 4"


def test_samples_of_a_task_the_results_lack_are_refused(tmp_path):
    folder = _copy(tmp_path, "0.4.8")
    shutil.copy(
        folder / f"samples_truthfulqa_gen_{STAMP_48}.jsonl",
        folder / f"samples_other_task_{STAMP_48}.jsonl",
    )
    with pytest.raises(BadInputError, match="task 'other_task', which results_"):
        read_file(folder / RESULTS_48.name)


def _results(tmp_path: Path, change) -> Path:
    data = json.loads((FIXTURES / "pre-0.4" / "pythia-160m_step13000_zero-shot.json").read_text())
    change(data)
    path = tmp_path / "results.json"
    path.write_text(json.dumps(data))
    return path


def test_a_rate_out_of_range_is_refused_with_the_field(tmp_path):
    path = _results(tmp_path, lambda d: d["results"]["piqa"].update(acc=61.75))
    with pytest.raises(BadInputError, match=r"must lie in \[0, 1\]") as caught:
        read_file(path)
    assert caught.value.where == "field results.piqa.acc"


def test_no_model_is_refused_unless_given(tmp_path):
    path = _results(tmp_path, lambda d: d["config"].update(model_args="use_accelerate=True"))
    with pytest.raises(BadInputError, match="names no model") as caught:
        read_file(path)
    assert "--model" in caught.value.cli_hint
    runs = read_file(path, options=ReadOptions(model_key="my-model"))
    assert {run.model.key for run in runs} == {"my-model"}


def test_results_without_any_metric_are_refused(tmp_path):
    path = _results(tmp_path, lambda d: d.update(results={"piqa": {"acc": "N/A"}}))
    with pytest.raises(BadInputError, match="no task reports a finite metric"):
        read_file(path)


def test_push_convert_and_push_again(use_db, cli, bench, tmp_path):
    folder = _copy(tmp_path, "0.4.8")
    first = cli("push", folder)
    assert first.code == 0, first
    stored = bench.status().rows
    again = cli("push", folder / RESULTS_48.name)
    assert again.code == 0, again
    assert bench.status().rows == stored
    named = cli("push", "--format", "lm-eval", folder / RESULTS_48.name)
    assert named.code == 0, named
    assert bench.status().rows == stored
    out = tmp_path / "converted"
    done = cli("convert", _copy(tmp_path, "0.4.2") / RESULTS_42.name, "-o", out)
    assert done.code == 0, done
    converted = sorted(out.glob("*.json"))
    assert len(converted) == 4
    pushed = cli("push", out)
    assert pushed.code == 0, pushed
    assert "4 new" in pushed.out


def test_a_samples_log_alone_exits_2(use_db, cli, tmp_path):
    folder = _copy(tmp_path, "0.4.8")
    (folder / RESULTS_48.name).unlink()
    done = cli("push", folder / f"samples_truthfulqa_gen_{STAMP_48}.jsonl")
    assert done.code == 2
    assert f"results_{STAMP_48}.json" in done.err


# --- real files ---------------------------------------------------------------------------

REFUSED_RESULTS = {  # its only metric is Infinity: nothing to store without its samples
    "EleutherAI__lm-evaluation-harness__results_tgpred.json_gpt-4o-mini_results_"
    "2025-06-30T19-40-09.461247.json": "no task reports a finite metric",
}
PAIRS = [  # (task, time stamp, ending of the samples log)
    ("bias_classification", "2024-06-17T15-44-37.867068", ".json"),
    ("asdiv", "2024-08-21T03-44-09.494230", ".jsonl"),
    ("polymer_tg_prediction", "2025-06-30T19-40-09.461247", ".jsonl"),
]


def _real(folder: str) -> list[Path]:
    assert REALDATA is not None
    files = sorted((REALDATA / "external" / folder).glob("*.json*"))
    assert files, f"no files in {folder}"
    return files


@pytest.mark.parametrize("folder", ["lm-eval", "lm-eval-samples"])
@pytest.mark.usefixtures("use_db")
@pytest.mark.realdata
@pytest.mark.skipif(REALDATA is None, reason="set BENCH_REALDATA to the shared real-data folder")
def test_every_real_file_pushes_or_is_refused_clearly(cli, folder):
    for path in _real(folder):
        done = cli("push", path)
        if folder == "lm-eval-samples":  # a samples log needs its results file's own name
            assert done.code == 2, (path.name, done)
            stamp = path.name.rsplit("_", 1)[1].rsplit(".json", 1)[0]
            assert f"results_{stamp}.json, which is not in this folder" in done.err
        elif path.name in REFUSED_RESULTS:
            assert done.code == 2, (path.name, done)
            assert REFUSED_RESULTS[path.name] in done.err
        else:
            assert done.code == 0, (path.name, done)


@pytest.mark.realdata
@pytest.mark.skipif(REALDATA is None, reason="set BENCH_REALDATA to the shared real-data folder")
@pytest.mark.parametrize(("task", "stamp", "ending"), PAIRS)
def test_real_results_pick_up_their_real_samples(use_db, cli, tmp_path, task, stamp, ending):
    results = next(p for p in _real("lm-eval") if p.name.endswith(f"results_{stamp}.json"))
    log = next(p for p in _real("lm-eval-samples") if p.name.endswith(f"{task}_{stamp}{ending}"))
    shutil.copy(results, tmp_path / f"results_{stamp}.json")
    shutil.copy(log, tmp_path / f"samples_{task}_{stamp}{ending}")
    (run,) = read_file(tmp_path / f"results_{stamp}.json")
    assert len(run.cases) == run.dataset.declared_cases
    assert run.extra[SCORE_METRIC] == ("mae,none" if task.startswith("polymer") else "acc,none")
    if task == "polymer_tg_prediction":
        assert sum(c.status == "error" for c in run.cases) == 17  # "mae": Infinity
    else:
        mean = sum(c.score for c in run.cases) / len(run.cases)
        assert mean == pytest.approx(run.metrics["acc,none"])
    done = cli("push", tmp_path)
    assert done.code == 0, done
    assert "1 new" in done.out


def test_a_samples_log_written_as_one_json_array_is_read(tmp_path):
    folder = _copy(tmp_path, "0.4.8")
    log = folder / f"samples_truthfulqa_gen_{STAMP_48}.jsonl"
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    log.unlink()
    (folder / f"samples_truthfulqa_gen_{STAMP_48}.json").write_text(json.dumps(lines, indent=2))
    run = _by_task(folder / RESULTS_48.name)["truthfulqa_gen"]
    assert [c.score for c in run.cases] == [41.1, 19.9]


def test_check_gates_every_task_of_a_results_file(use_db, cli, tmp_path):
    """A results file holds one run per task: `check` gates each against its own current
    version, paired on doc_id, and exits 1 when one of them regressed."""
    import json
    import shutil

    first, second = tmp_path / "first", tmp_path / "second"
    shutil.copytree(FIXTURES / "0.4.2", first)
    shutil.copytree(FIXTURES / "0.4.2", second)
    assert cli("push", str(first)).code == 0
    results = next(second.glob("results_*.json"))
    unchanged = cli("check", str(results), "--json")
    assert unchanged.code == 0, unchanged
    verdicts = json.loads(unchanged.out)
    assert isinstance(verdicts, list) and len(verdicts) >= 3
    for samples in second.glob("samples_*.json"):  # every answer flipped: worse where right
        flipped = []
        for line in samples.read_text().splitlines():
            row = json.loads(line)
            for key, value in list(row.items()):
                if key in {"acc", "acc_norm", "exact_match"} and value in (0, 1, 0.0, 1.0):
                    row[key] = 1 - value
            flipped.append(json.dumps(row))
        samples.write_text("\n".join(flipped) + "\n")
    changed = cli("check", str(results), "--fail-on", "never")
    assert changed.code == 0, changed
    assert changed.out.count("### ") >= 3  # one report per task
    assert "acc,none" in changed.out  # paired on the samples' own score
