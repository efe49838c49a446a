"""Readers: detection, normalisation (keys, units, cases) and refusal of bad content."""

from __future__ import annotations

import copy
import json

import jsonschema
import pytest

from bench_analytics.errors import BadInputError, UsageError
from bench_analytics.formats import expand_inputs, read_batch, read_file
from bench_analytics.formats.common import ReadOptions
from bench_analytics.health import assess
from bench_analytics.schema import SCHEMA_FILE, generate_schema, render_schema
from tests import samples


def _one(path, **kwargs):
    runs = read_file(path, **kwargs)
    assert len(runs) == 1
    return runs[0]


def test_document_results_are_normalised(tmp_path):
    run = _one(
        samples.write(tmp_path / "aggregated_metrics_openai.json", samples.document_results())
    )
    assert run.provenance.source_format == "seed-documents"
    assert run.model.key == "openai"
    assert run.averaging == "micro"
    assert run.metrics["f1"] == 0.5
    assert run.metrics["extraction_accuracy"] == 1.0  # 100 % -> 1.0
    assert run.metrics["json_validity_rate"] == 0.75
    assert "json_validity_rate: 75.0 % -> 0.75" in run.provenance.unit_conversions
    assert [c.case_id for c in run.cases] == ["doc_00", "doc_01", "doc_02", "doc_03"]
    assert run.cases[1].tp == 1 and run.cases[3].fn == 1
    assert run.metrics["true_positives"] == 1  # computed from the cases
    assert run.dataset.version.startswith("documents-")
    assert run.finished_at.isoformat() == "2026-03-01T10:00:00+00:00"


def test_dataset_version_follows_the_case_set(tmp_path):
    four = _one(samples.write(tmp_path / "a.json", samples.document_results(n=4)))
    six = _one(samples.write(tmp_path / "b.json", samples.document_results(n=6)))
    again = _one(
        samples.write(tmp_path / "c.json", samples.document_results(n=4, issue_f1_score=0.1))
    )
    assert four.dataset.version != six.dataset.version
    assert four.dataset.version == again.dataset.version


def test_dataset_version_override(tmp_path):
    path = samples.write(tmp_path / "a.json", samples.document_results())
    run = _one(path, options=ReadOptions(dataset_version="benchmark-set-v1"))
    assert run.dataset.version == "benchmark-set-v1"


def test_patient_results_are_normalised(tmp_path):
    run = _one(
        samples.write(tmp_path / "patient_benchmark_medgemma.json", samples.patient_results())
    )
    assert run.provenance.source_format == "seed-patients"
    assert run.averaging == "macro"
    assert run.metrics["domain_knowledge_detection_rate"] == pytest.approx(0.66)
    assert run.metrics["f1"] == 0.62  # reported value wins over computed
    assert run.cases[1].details["domain_knowledge_score"] == 1.0
    assert run.cases[0].details["expected_issues"][0]["cpt_code"] == "76805"


def test_patient_results_later_fields(tmp_path):
    doc = samples.patient_results(
        domain_breakdown={"domain_knowledge": {"recall": 0.5}},
        total_potential_savings=1200.0,
        savings_capture_rate=40.0,
        advanced_metrics={"risk_weighted_recall": 0.4, "roi_ratio": 3.2, "notes": "x"},
    )
    run = _one(samples.write(tmp_path / "p.json", doc))
    assert run.metrics["savings_capture_rate"] == pytest.approx(0.4)
    assert run.metrics["total_potential_savings_usd"] == 1200.0
    assert run.metrics["risk_weighted_recall"] == 0.4
    assert run.extra["domain_breakdown"] == {"domain_knowledge": {"recall": 0.5}}
    assert run.extra["advanced_metrics"] == {"notes": "x"}


def test_monitoring_result(tmp_path):
    run = _one(
        samples.write(tmp_path / "sample_benchmark_results.json", samples.monitoring_result())
    )
    assert run.provenance.source_format == "seed-monitoring"
    assert run.model.key == "medgemma" and run.model.version == "v2.0"
    assert run.dataset.version == "set-v9" and run.dataset.declared_cases == 40
    assert run.metrics["analysis_cost_usd"] == 0.01
    assert run.cases == []


def test_supabase_export_keeps_identity_and_merges_renamed_models(tmp_path):
    rows = [
        samples.export_row("id-1", "2026-02-05T04:26:30+00:00", "baseline-v1.0"),
        samples.export_row(
            "id-2",
            "2026-02-05T23:39:10+00:00",
            "Heuristic Baseline",
            branch_name="develop",
            environment="local",
            commit_sha="b" * 40,
        ),
    ]
    runs = read_file(samples.write(tmp_path / "export.json", rows))
    assert [r.model.key for r in runs] == ["baseline", "baseline"]
    assert [r.model.display_name for r in runs] == ["baseline-v1.0", "Heuristic Baseline"]
    assert runs[1].environment == "local"
    assert runs[1].provenance.commit_sha == "b" * 40
    assert runs[1].provenance.legacy_id == "id-2"
    assert runs[0].dataset.declared_cases == 16


def test_supabase_unit_drift_is_resolved_per_row(tmp_path):
    percent = samples.export_row(
        "p",
        "2026-02-05T19:15:56+00:00",
        "medgemma-v1.0",
        metrics={
            "f1": 0.39,
            "recall": 0.317,
            "precision": 0.5,
            "latency_ms": 6000,
            "domain_recall": 0.3514,
            "domain_knowledge_detection_rate": 35.14,
            "savings_capture_rate": 0.9,
            "total_issues_detected": 27,
        },
    )
    percent_small = samples.export_row(
        "q",
        "2026-02-05T19:16:00+00:00",
        "medgemma-v1.0",
        metrics={
            "f1": 0.1,
            "recall": 0.1,
            "precision": 0.1,
            "latency_ms": 6000,
            "domain_recall": 0.008,
            "domain_knowledge_detection_rate": 0.8,
            "total_issues_detected": 2,
        },
    )
    fraction = samples.export_row(
        "r",
        "2026-02-04T21:48:16+00:00",
        "Google MedGemma-4B-IT",
        metrics={
            "f1": 0.228,
            "recall": 0.194,
            "precision": 0.3,
            "latency_ms": 2800,
            "success_rate": 1.0,
            "domain_knowledge_detection_rate": 0.221,
        },
    )
    runs = read_file(samples.write(tmp_path / "e.json", [percent, percent_small, fraction]))
    assert runs[0].metrics["domain_knowledge_detection_rate"] == pytest.approx(0.3514)
    # 0.9 is below 1, but its row's writer used percent (35.14 above): 0.9 % -> 0.009
    assert runs[0].metrics["savings_capture_rate"] == pytest.approx(0.009)
    # 0.8 matches domain_recall 0.008 only as a percentage
    assert runs[1].metrics["domain_knowledge_detection_rate"] == pytest.approx(0.008)
    assert runs[2].metrics["domain_knowledge_detection_rate"] == pytest.approx(0.221)
    assert runs[2].provenance.unit_conversions == []


def test_supabase_cases_and_outages(tmp_path):
    zero_cases = samples.export_row(
        "z",
        "2026-02-05T19:06:40+00:00",
        "medgemma-v1.0",
        dataset_size=0,
        metrics={"f1": 0, "recall": 0, "precision": 0, "latency_ms": 0, "total_documents": 0},
    )
    silent = samples.export_row(
        "s",
        "2026-02-06T00:58:35+00:00",
        "Google MedGemma-4B-IT",
        dataset_version="patient-benchmark-v2",
        dataset_size=46,
        metrics={
            "f1": 0.0,
            "recall": 0.0,
            "precision": 0.0,
            "latency_ms": 116.3,
            "total_issues_detected": 0,
            "total_issues_expected": 91,
        },
    )
    baseline_silent = samples.export_row(
        "b",
        "2026-02-06T00:58:30+00:00",
        "Heuristic Baseline",
        metrics={
            "f1": 0.0,
            "recall": 0.0,
            "precision": 0.0,
            "latency_ms": 3.7,
            "total_issues_detected": 0,
            "total_issues_expected": 91,
        },
    )
    with_cases = samples.export_row(
        "c",
        "2026-02-04T21:48:16+00:00",
        "OpenAI GPT-4",
        dataset_size=2,
        metrics={
            "f1": 0.5,
            "recall": 0.5,
            "precision": 0.5,
            "latency_ms": 1000,
            "patient_results": [
                {
                    "patient_id": "P001",
                    "latency_ms": 900.0,
                    "true_positives": 1,
                    "false_positives": 1,
                    "false_negatives": 0,
                    "domain_knowledge_score": 100.0,
                },
                {
                    "patient_id": "P002",
                    "latency_ms": 1100.0,
                    "true_positives": 0,
                    "false_positives": 0,
                    "false_negatives": 1,
                },
            ],
        },
    )
    runs = read_file(
        samples.write(tmp_path / "e.json", [zero_cases, silent, baseline_silent, with_cases])
    )
    health = [assess(run, 0.5) for run in runs]
    assert health[0].status == "failed" and "no case" in health[0].reason
    assert health[1].status == "failed" and "suspected endpoint outage" in health[1].reason
    assert health[2].status == "healthy"  # a rule-based model finding nothing is a result
    assert health[3].status == "healthy"
    assert [c.case_id for c in runs[3].cases] == ["P001", "P002"]
    assert runs[3].cases[0].details["domain_knowledge_score"] == 1.0


def test_supabase_rows_pushed_from_overlapping_exports_hash_equal(tmp_path):
    row = samples.export_row("x", "2026-02-05T04:26:30+00:00", "baseline-v1.0")
    a = read_file(samples.write(tmp_path / "a.json", [row]))[0]
    b = read_file(
        samples.write(
            tmp_path / "b.json",
            [
                copy.deepcopy(row),
                samples.export_row("y", "2026-02-05T05:00:00+00:00", "baseline-v1.0"),
            ],
        )
    )[0]
    assert a.content_sha256() == b.content_sha256()
    assert a.provenance.source_name != b.provenance.source_name


def test_legacy_outage_signature_for_document_results(tmp_path):
    doc = samples.document_results(model="gemini")
    for case in doc["individual_results"]:
        case.update(
            issues_detected=0,
            true_positives=0,
            false_positives=0,
            false_negatives=case["issues_expected"],
        )
    run = _one(samples.write(tmp_path / "g.json", doc))
    assert assess(run, 0.5).status == "failed"
    doc["model_name"] = "baseline"
    run = _one(samples.write(tmp_path / "b.json", doc))
    assert assess(run, 0.5).status == "healthy"


def test_errored_cases_fail_a_run(tmp_path):
    doc = samples.document_results(n=4)
    for case in doc["individual_results"][:3]:
        case["error_message"] = "HTTP 503"
    run = _one(samples.write(tmp_path / "d.json", doc))
    verdict = assess(run, 0.5)
    assert verdict.status == "failed" and "3/4 cases failed" in verdict.reason
    assert "HTTP 503" in verdict.reason
    assert assess(run, 0.8).status == "healthy"  # threshold is configurable


@pytest.mark.parametrize(
    ("mutate", "where", "fragment"),
    [
        (lambda d: d.update(issue_f1_score=1.7), "field issue_f1_score", "less than or equal to 1"),
        (
            lambda d: d["individual_results"][1].update(pipeline_latency_ms=-3.0),
            "field individual_results[1].pipeline_latency_ms",
            "greater than or equal to 0",
        ),
        (
            lambda d: d["individual_results"][0].update(true_positives="one"),
            "field individual_results[0].true_positives",
            "valid integer",
        ),
        (
            lambda d: d["individual_results"][0].update(false_negatives=-1),
            "field individual_results[0].false_negatives",
            "greater than or equal to 0",
        ),
        (
            lambda d: d.update(extraction_accuracy=140.0),
            "field extraction_accuracy",
            "less than or equal to 100",
        ),
        (lambda d: d.update(issue_recall="0.5"), "field issue_recall", "valid number"),
        (lambda d: d.pop("model_name"), "field model_name", "Field required"),
    ],
)
def test_bad_values_are_refused_with_the_field(tmp_path, mutate, where, fragment):
    doc = samples.document_results()
    mutate(doc)
    with pytest.raises(BadInputError) as caught:
        read_file(samples.write(tmp_path / "bad.json", doc))
    assert caught.value.where == where
    assert fragment in caught.value.problem


def test_results_list_shorter_than_declared_total(tmp_path):
    doc = samples.document_results(n=2, total_documents=16)
    with pytest.raises(BadInputError) as caught:
        read_file(samples.write(tmp_path / "short.json", doc))
    assert "holds 2 results but declares 16" in caught.value.problem
    assert caught.value.where == "field individual_results"


def test_impossible_metric_in_export(tmp_path):
    row = samples.export_row("x", "2026-02-05T04:26:30+00:00", "baseline-v1.0")
    row["metrics"]["recall"] = 1.7
    with pytest.raises(BadInputError) as caught:
        read_file(samples.write(tmp_path / "e.json", [row]))
    assert caught.value.where == "field [0].metrics.recall"
    assert "[0, 1]" in caught.value.problem


def test_wrong_type_in_export_metric(tmp_path):
    row = samples.export_row("x", "2026-02-05T04:26:30+00:00", "baseline-v1.0")
    row["metrics"]["f1"] = "high"
    with pytest.raises(BadInputError) as caught:
        read_file(samples.write(tmp_path / "e.json", [row]))
    assert caught.value.where == "field [0].metrics.f1"


def test_dashboard_summary_is_not_a_result(tmp_path):
    with pytest.raises(BadInputError) as caught:
        read_file(samples.write(tmp_path / "dashboard_summary.json", samples.dashboard_summary()))
    assert "dashboard summary" in caught.value.hint
    assert "tried native, supabase-export, seed-patients, seed-documents, seed-monitoring" in (
        caught.value.problem
    )


def test_unknown_format_names_the_formats_tried(tmp_path):
    with pytest.raises(BadInputError) as caught:
        read_file(samples.write(tmp_path / "x.json", {"hello": "world"}))
    assert "not a known result format (an object with keys hello)" in caught.value.problem


def test_explicit_format_reports_missing_fields(tmp_path):
    path = samples.write(tmp_path / "x.json", samples.monitoring_result())
    with pytest.raises(BadInputError) as caught:
        read_file(path, fmt="seed-documents")
    assert caught.value.where == "field model_name"


def test_unknown_format_name_is_a_usage_error(tmp_path):
    path = samples.write(tmp_path / "x.json", samples.monitoring_result())
    with pytest.raises(UsageError):
        read_file(path, fmt="mlflow")


def test_invalid_model_key_is_a_usage_error(tmp_path):
    path = samples.write(tmp_path / "x.json", samples.monitoring_result())
    with pytest.raises(UsageError):
        read_file(path, options=ReadOptions(model_key="Bad Key"))


def test_native_round_trip_keeps_the_hash(tmp_path):
    legacy = _one(samples.write(tmp_path / "p.json", samples.patient_results()))
    native_path = tmp_path / "native.json"
    native_path.write_bytes(legacy.to_json())
    native = _one(native_path)
    assert native.provenance.source_format == "seed-patients"
    assert native.content_sha256() == legacy.content_sha256()


def test_native_files_validate_against_the_shipped_schema(tmp_path):
    run = _one(samples.write(tmp_path / "p.json", samples.patient_results()))
    schema = json.loads(SCHEMA_FILE.read_text())
    jsonschema.validate(json.loads(run.to_json()), schema)
    broken = json.loads(run.to_json())
    broken["cases"][0]["tp"] = -1
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, schema)


def test_shipped_schema_matches_the_model():
    assert SCHEMA_FILE.read_text() == render_schema(generate_schema()), (
        "regenerate with: python -m bench_analytics.schema"
    )


def test_native_refuses_newer_schema_and_duplicate_cases(tmp_path):
    run = _one(samples.write(tmp_path / "p.json", samples.patient_results()))
    data = json.loads(run.to_json())
    data["schema_version"] = 2
    with pytest.raises(BadInputError) as caught:
        read_file(samples.write(tmp_path / "n.json", data))
    assert "upgrade bench-analytics" in caught.value.hint
    data = json.loads(run.to_json())
    data["cases"].append(data["cases"][0])
    with pytest.raises(BadInputError) as caught:
        read_file(samples.write(tmp_path / "d.json", data))
    assert "appears twice" in caught.value.problem


def test_native_refuses_unknown_fields_and_nan_free_metrics(tmp_path):
    run = _one(samples.write(tmp_path / "p.json", samples.patient_results()))
    data = json.loads(run.to_json())
    data["metrics"]["f1"] = 1.5
    with pytest.raises(BadInputError) as caught:
        read_file(samples.write(tmp_path / "n.json", data))
    assert "metric 'f1' is a rate" in caught.value.problem
    data = json.loads(run.to_json())
    data["surprise"] = 1
    with pytest.raises(BadInputError) as caught:
        read_file(samples.write(tmp_path / "m.json", data))
    assert caught.value.where == "field surprise"


def test_batch_collects_refusals_and_walks_directories(tmp_path):
    samples.write(tmp_path / "in" / "a.json", samples.document_results())
    samples.write(tmp_path / "in" / "sub" / "b.json", samples.patient_results())
    (tmp_path / "in" / "c.json").write_text("{broken")
    samples.write(tmp_path / "in" / ".hidden" / "d.json", samples.document_results())
    batch = read_batch([tmp_path / "in"])
    assert sorted(p.name for p, _ in batch.runs) == ["a.json", "b.json"]
    assert [p.name for p, _ in batch.refused] == ["c.json"]


def test_empty_directory_and_missing_path(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(BadInputError) as caught:
        expand_inputs([tmp_path / "empty"])
    assert "no result files" in caught.value.problem
    with pytest.raises(BadInputError):
        expand_inputs([tmp_path / "missing.json"])


def test_hash_ignores_key_order_case_order_and_provenance(tmp_path):
    doc = samples.patient_results()

    def reverse(value):
        if isinstance(value, dict):
            return {k: reverse(value[k]) for k in reversed(list(value))}
        if isinstance(value, list):
            return [reverse(item) for item in value]
        return value

    shuffled = reverse(doc)
    shuffled["individual_results"].reverse()
    assert list(shuffled) != list(doc)
    a = _one(samples.write(tmp_path / "a.json", doc))
    b = _one(samples.write(tmp_path / "b.json", shuffled))
    assert a.content_sha256() == b.content_sha256()
    changed = a.model_copy(update={"metrics": dict(reversed(list(a.metrics.items())))})
    assert changed.content_sha256() == a.content_sha256()
    other = a.model_copy(update={"metrics": {**a.metrics, "f1": 0.1}})
    assert other.content_sha256() != a.content_sha256()
