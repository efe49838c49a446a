"""Stanford HELM: run directories, their stats.json, refused summary tables; real runs."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from bench_analytics.errors import BadInputError
from bench_analytics.formats import expand_inputs, read_file
from bench_analytics.formats.external import DIRECTIONS, SCORE_METRIC
from bench_analytics.formats.helm import dataset_name
from tests import samples
from tests.conftest import REALDATA

SUITE = Path(__file__).parent / "fixtures" / "external" / "helm" / "benchmark_output" / "runs"
RUN_NAME = "mmlu:subject=anatomy,method=multiple_choice_joint,model=openai_gpt-4o-mini-2024-07-18"
RUN = SUITE / "v1" / RUN_NAME.replace(":", "_")  # a checkout must work where ':' cannot be
TABLE = SUITE / "v1" / "groups" / "mmlu.json"
FILES = ("run_spec.json", "stats.json", "per_instance_stats.json")


def _one(path: Path, **kwargs):
    runs = read_file(path, **kwargs)
    assert len(runs) == 1
    return runs[0]


def _copy_run(target: Path, edit=None) -> Path:
    """The fixture run copied under ``target`` (``edit(name, data)`` may change a file)."""
    folder = target / "benchmark_output" / "runs" / "v1" / RUN_NAME
    folder.mkdir(parents=True)
    for name in FILES:
        data = json.loads((RUN / name).read_text())
        if edit:
            edit(name, data)
        (folder / name).write_text(json.dumps(data))
    return folder


def test_run_directory_is_one_run():
    run = _one(RUN)
    assert run.model.key == "openai-gpt-4o-mini-2024-07-18" and run.model.provider == "openai"
    assert run.dataset.name == "mmlu:subject=anatomy,method=multiple_choice_joint"
    assert run.dataset.version == "mmlu:subject=anatomy,method=multiple_choice_joint-n4"
    assert run.dataset.declared_cases == 4
    assert run.prompt_version.startswith("prompt-")
    assert run.started_at is None and run.finished_at is None
    assert run.metrics["exact_match"] == 0.75 and run.metrics["num_instances"] == 4
    assert "training_co2_cost" not in run.metrics  # no mean
    assert not any("@" in name and "robustness" in name for name in run.metrics)  # no specs
    assert [case.case_id for case in run.cases] == ["id11", "id12", "id13", "id14"]  # test only
    assert [case.score for case in run.cases] == [1.0, 0.0, 1.0, 1.0]
    first = run.cases[0]
    assert first.latency_ms == pytest.approx(610) and first.input_tokens == 412
    assert first.output_tokens == 1 and first.details["quasi_exact_match"] == 1.0
    assert run.extra[SCORE_METRIC] == "exact_match"
    assert run.extra[DIRECTIONS] == {"exact_match": "higher"}
    assert run.extra["helm"]["other_split"]["valid"]["exact_match"] == 0.0
    assert run.provenance.source_format == "helm"


def test_stats_json_reads_its_run_and_siblings_are_not_listed_apart():
    assert _one(RUN / "stats.json").content_sha256() == _one(RUN).content_sha256()
    listed = expand_inputs([RUN / name for name in FILES])
    assert listed == [RUN / "stats.json"]
    assert expand_inputs([SUITE]) == [TABLE, RUN]


def test_model_arguments_leave_the_dataset_name():
    name = "mmlu:subject=law,model=meta_llama-3-8b,model_deployment=together_llama-3-8b"
    assert dataset_name(name) == "mmlu:subject=law"
    assert dataset_name("boolq:model=x") == "boolq"


def test_perturbations_are_kept_apart_when_the_run_applies_them(tmp_path):
    def perturb(name, data):
        if name == "run_spec.json":
            data["data_augmenter_spec"]["perturbation_specs"] = [
                {"class_name": "helm.benchmark.augmentations.typo.TyposPerturbation", "args": {}}
            ]
        if name == "stats.json":
            for stat in data:
                if stat["name"].get("perturbation", {}).get("name") == "robustness":
                    stat["mean"] = 0.5

    run = _one(_copy_run(tmp_path, perturb))
    assert run.metrics["exact_match"] == 0.75
    assert run.metrics["exact_match@robustness"] == 0.5
    assert run.metrics["exact_match@fairness"] == 0.75


def test_several_train_trials_are_cases_of_their_own(tmp_path):
    def trials(name, data):
        if name == "run_spec.json":
            data["adapter_spec"]["num_train_trials"] = 2
        if name == "per_instance_stats.json":
            data.extend({**item, "train_trial_index": 1} for item in list(data))

    run = _one(_copy_run(tmp_path, trials))
    assert len(run.cases) == 8 and "id11#1" in {case.case_id for case in run.cases}
    assert run.dataset.version.endswith("-n4") and run.dataset.declared_cases == 8


def test_a_run_without_per_instance_stats_is_aggregate_only(tmp_path):
    folder = _copy_run(tmp_path)
    (folder / "per_instance_stats.json").unlink()
    run = _one(folder)
    assert run.cases == [] and run.dataset.declared_cases is None
    assert run.dataset.version.endswith("-n4") and SCORE_METRIC not in run.extra


def test_a_summary_table_is_refused_with_what_to_push():
    with pytest.raises(BadInputError) as caught:
        read_file(TABLE)
    assert "a HELM summary table" in caught.value.problem
    assert "benchmark_output/runs/" in (caught.value.hint or "")


@pytest.mark.parametrize("name", FILES)
def test_a_lone_file_of_a_run_is_refused(tmp_path, name):
    path = tmp_path / f"copied_{name}"
    shutil.copy(RUN / name, path)
    with pytest.raises(BadInputError) as caught:
        read_file(path)
    assert f"a HELM {name} on its own" in caught.value.problem


def test_a_run_spec_without_model_names_the_field(tmp_path):
    def no_model(name, data):
        if name == "run_spec.json":
            del data["adapter_spec"]["model"], data["adapter_spec"]["model_deployment"]

    with pytest.raises(BadInputError) as caught:
        read_file(_copy_run(tmp_path, no_model))
    assert caught.value.where == "field adapter_spec.model"


def test_a_stat_with_a_bad_mean_names_its_place(tmp_path):
    def bad(name, data):
        if name == "stats.json":
            data[3]["mean"] = "0.5"

    with pytest.raises(BadInputError) as caught:
        read_file(_copy_run(tmp_path, bad))
    assert caught.value.where == "field [3].mean" and caught.value.source.endswith("stats.json")


def test_stats_without_test_or_valid_split_are_refused(tmp_path):
    def train_only(name, data):
        if name == "stats.json":
            for stat in data:
                stat["name"]["split"] = "train"

    with pytest.raises(BadInputError) as caught:
        read_file(_copy_run(tmp_path, train_only))
    assert "no statistic with a mean on the test or valid split" in caught.value.problem


def test_push_convert_and_push_again(use_db, cli, tmp_path):
    folder = _copy_run(tmp_path / "out")
    done = cli("push", folder, "--json")
    assert done.code == 0, done
    assert samples.created(done.out) == 1
    again = cli("push", folder / "stats.json", "--json")
    assert again.code == 0 and samples.created(again.out) == 0
    named = cli("push", "--format", "helm", folder, "--json")
    assert named.code == 0 and samples.created(named.out) == 0
    converted = cli("convert", folder, "-o", tmp_path / "native.json")
    assert converted.code == 0, converted
    back = cli("push", tmp_path / "native.json", "--json")
    assert back.code == 0 and samples.created(back.out) == 0


def test_a_suite_folder_pushes_its_runs_and_refuses_its_tables(use_db, cli):
    done = cli("push", SUITE, "--skip-invalid", "--json")
    assert done.code == 2 and "a HELM summary table" in done.err
    assert samples.created(done.out) == 1


# ---- real HELM output (BENCH_REALDATA) ------------------------------------------------

REAL_RUN_DIR = (
    "mmlu:subject=abstract_algebra,method=multiple_choice_joint,model=groq_llama3-70b-8192"
)
# the shared copies are named <owner>__<repo>__<path with / as _ and : as _>
REAL_PREFIX = "villageFlower__test_helm__benchmark_output_runs_v1_" + REAL_RUN_DIR.replace(":", "_")


def _real_files() -> list[Path]:
    assert REALDATA is not None
    return sorted((REALDATA / "external" / "helm").glob("*.json"))


def _expected(name: str) -> str:
    """Every real file on its own is refused: each is one part of a run, or a table."""
    if "_groups_" in name:
        return "a HELM summary table"
    for part in ("per_instance_stats.json", "run_spec.json", "stats.json"):
        if name.endswith(part):
            return f"a HELM {part} on its own"
    raise AssertionError(name)


@pytest.mark.realdata
@pytest.mark.skipif(REALDATA is None, reason="set BENCH_REALDATA to the shared real-data folder")
def test_every_real_file_pushes_or_is_refused_with_a_reason(use_db, cli):
    files = _real_files()
    assert files
    for path in files:
        done = cli("push", path)
        assert done.code == 2, (path.name, done)
        assert _expected(path.name) in done.err, (path.name, done.err)


@pytest.mark.realdata
@pytest.mark.skipif(REALDATA is None, reason="set BENCH_REALDATA to the shared real-data folder")
def test_a_real_run_directory_pushes(use_db, cli, tmp_path):
    assert REALDATA is not None
    folder = tmp_path / "benchmark_output" / "runs" / "v1" / REAL_RUN_DIR
    folder.mkdir(parents=True)
    for name in FILES:
        shutil.copy(REALDATA / "external" / "helm" / f"{REAL_PREFIX}_{name}", folder / name)
    run = _one(folder)
    assert run.model.display_name == "groq/llama3-70b-8192" and run.model.provider == "groq"
    assert run.dataset.version == "mmlu:subject=abstract_algebra,method=multiple_choice_joint-n17"
    assert len(run.cases) == 17  # the test split; the 3 valid instances are not cases
    assert run.metrics["exact_match"] == pytest.approx(6 / 17)
    assert sum(case.score or 0 for case in run.cases) == 6
    assert run.metrics["inference_runtime"] == pytest.approx(2.019018523833331)
    done = cli("push", folder, "--json")
    assert done.code == 0, done
    assert samples.created(done.out) == 1
    assert samples.created(cli("push", folder, "--json").out) == 0
