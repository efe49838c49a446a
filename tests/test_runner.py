"""The runner: case sets, parsing, scoring, providers against a real local HTTP endpoint."""

from __future__ import annotations

import json

import pytest

from bench_analytics.config import Settings
from bench_analytics.errors import BadInputError, UsageError
from bench_analytics.health import assess
from bench_analytics.runner.case_folders import read_case_set
from bench_analytics.runner.cases import ExpectedIssue, write_case_set
from bench_analytics.runner.generate import generate_case_set
from bench_analytics.runner.parsing import AnswerError, parse_answer
from bench_analytics.runner.providers import make_provider, read_prompt
from bench_analytics.runner.providers.baseline import detect
from bench_analytics.runner.scoring import breakdowns, match, normalise_detection, score_case
from tests.conftest import REALDATA
from tests.fake_openai import FakeOpenAI, expected_of
from tests.runner_helpers import FAST, run_spec

# --- case sets ---------------------------------------------------------------------------


def test_generated_sets_are_deterministic_and_versioned(tmp_path):
    a, b, c = generate_case_set(50, 7), generate_case_set(50, 7), generate_case_set(50, 8)
    assert a.version == b.version != c.version
    assert a.version.startswith("synthetic-s7-n50-")
    assert any(not case.expected_issues for case in a.cases)  # clean cases too
    assert {i.type for case in a.cases for i in case.expected_issues} >= {
        "duplicate_charge",
        "gender_mismatch",
        "age_inappropriate",
        "drug_interaction",
    }
    back = read_case_set(write_case_set(a, tmp_path / "cases"))
    assert back.version == a.version and len(back.cases) == 50


def test_a_changed_case_is_a_new_dataset_version(tmp_path):
    folder = write_case_set(generate_case_set(5, 1), tmp_path / "c")
    before = read_case_set(folder).version
    data = json.loads((folder / "P0001.json").read_text())
    data["patient"]["age"] = 99
    (folder / "P0001.json").write_text(json.dumps(data))
    assert read_case_set(folder).version != before


def test_old_system_profiles_of_both_generations(tmp_path):
    first = {
        "patient_id": "P001",
        "name": "Test One",
        "demographics": {"age": 45, "sex": "M"},
        "medical_history": {"conditions": ["Hypertension"]},
        "documents": [
            {
                "document_id": "d1",
                "document_type": "text",
                "content": "Obstetric Ultrasound 76805  $285.00",
            }
        ],
        "expected_issues": [
            {
                "type": "gender_mismatch",
                "severity": "critical",
                "requires_domain_knowledge": True,
                "cpt_code": "76805",
            }
        ],
    }
    second = {
        "patient_id": "patient_099",
        "name": "Test Two",
        "demographics": {"age": 70, "sex": "F"},
        "medical_history": {"medications": ["Warfarin 5 mg"]},
        "current_visit": {"prescriptions": ["Ibuprofen 600 mg"]},
        "expected_issues": [
            {
                "issue_type": "drug_drug_interaction",
                "severity": "critical",
                "domain_knowledge_required": True,
            }
        ],
    }
    folder = tmp_path / "benchmarks" / "patient_profiles"
    folder.mkdir(parents=True)
    (folder / "patient_001.json").write_text(json.dumps(first))
    (folder / "patient_099.json").write_text(json.dumps(second))
    (tmp_path / "benchmarks" / "other.json").write_text(json.dumps({"unrelated": True}))
    case_set = read_case_set(tmp_path / "benchmarks")
    cases = case_set.by_id()
    assert cases["P001"].expected_issues[0].requires_domain_knowledge
    assert cases["P001"].codes() == [("76805", None)]
    assert cases["patient_099"].expected_issues[0].type == "drug_drug_interaction"
    assert cases["patient_099"].visit == {"prescriptions": ["Ibuprofen 600 mg"]}
    assert detect(cases["P001"])[0]["type"] == "gender_mismatch"


@pytest.mark.skipif(REALDATA is None, reason="set BENCH_REALDATA to the shared real-data folder")
def test_reads_the_real_case_folder():
    case_set = read_case_set(REALDATA / "seed-cases" / "benchmarks" / "patient_profiles")
    assert len(case_set.cases) == 61
    assert sum(len(case.expected_issues) for case in case_set.cases) > 60


def test_bad_case_folders(tmp_path):
    with pytest.raises(BadInputError, match="no such case folder"):
        read_case_set(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(BadInputError, match="no cases found"):
        read_case_set(tmp_path / "empty")
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "x.json").write_text(json.dumps({"schema": "bench-analytics/case", "case_id": ""}))
    with pytest.raises(BadInputError) as caught:
        read_case_set(bad)
    assert caught.value.where == "field case_id"


# --- parsing and scoring -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        '{"issues": [{"type": "duplicate_charge", "code": "99213"}]}',
        'Sure.\n```json\n{"issues": [{"type": "duplicate_charge", "code": "99213"}]}\n```\nBye',
        'The answer is [{"issue_type": "duplicate_charge", "cpt_code": "99213"}] as requested.',
        '{"type": "duplicate_charge", "code": "99213"}',
    ],
)
def test_answers_are_read_robustly(text):
    [issue] = parse_answer(text)
    assert normalise_detection(issue)["canonical"] == "duplicate_charge"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "empty"),
        ("no json here", "no JSON"),
        ('{"summary": "x"}', "without an issue list"),
        ('{"issues": "none"}', "must be a list"),
        ('{"issues": [1, 2]}', "JSON object"),
    ],
)
def test_unreadable_answers_say_why(text, reason):
    with pytest.raises(AnswerError, match=reason):
        parse_answer(text)


def test_matching_uses_type_and_code():
    expected = [
        ExpectedIssue(type="gender_mismatch", cpt_code="76805"),
        ExpectedIssue(type="duplicate_charge", cpt_code="99213"),
        ExpectedIssue(type="drug_interaction"),
    ]
    detected = [
        normalise_detection(d)
        for d in (
            {"type": "Duplicate charge", "code": "99213"},
            {"type": "Gender-specific procedure mismatch", "code": "76805"},
            {"type": "gender mismatch", "code": "84153"},  # right type, wrong code
            {"type": "drug-drug interaction"},
        )
    ]
    assert match(expected, detected) == [1, 0, 3]


def test_case_scores_and_breakdowns(case_set):
    case = next(c for c in case_set.cases if len(c.expected_issues) >= 2)
    raw = [
        {"type": case.expected_issues[0].type, "code": case.expected_issues[0].cpt_code},
        {"type": "made_up", "code": "00000"},
    ]
    tp, fp, fn, details = score_case(case, raw)
    assert (tp, fp, fn) == (1, 1, len(case.expected_issues) - 1)
    assert details["expected"][0]["found"] and not details["expected"][1]["found"]
    run = run_spec("baseline", case_set)
    metrics, by_type = breakdowns(run.cases)
    assert metrics["recall_billing"] < 1 and "domain_recall" in metrics
    assert by_type["gender_mismatch"]["recall"] == 1.0  # the rules always catch these
    assert by_type["drug_interaction"]["recall"] == 0.0  # and never these


# --- providers -------------------------------------------------------------------------------


def test_baseline_is_deterministic(case_set):
    first, second = run_spec("baseline", case_set), run_spec("baseline", case_set)
    assert [(c.tp, c.fp, c.fn) for c in first.cases] == [(c.tp, c.fp, c.fn) for c in second.cases]
    for name in ("f1", "precision", "recall", "f1_macro", "domain_recall"):
        assert first.metrics[name] == second.metrics[name]
    assert first.model.key == "baseline" and first.prompt_version == "rules-v1"
    assert assess(first, 0.5).status == "healthy"


def test_a_correct_endpoint_scores_perfectly_with_tokens_and_cost(case_set, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-secret")
    with FakeOpenAI(expected_of(case_set)) as server:
        run = run_spec(f"openai-compatible:correct@{server.url}", case_set, model_key="gpt-4o-mini")
        assert set(server.authorizations) == {"Bearer sk-test-secret"}
    assert run.metrics["f1"] == 1.0 and run.metrics["recall"] == 1.0
    assert run.metrics["input_tokens"] > 0 and run.cases[0].output_tokens > 0
    assert run.model.key == "gpt-4o-mini"
    assert run.cases[0].details["raw_response"].startswith('{"issues"')
    assert "sk-test-secret" not in run.to_json().decode()


def test_code_fenced_answers_are_fine(case_set):
    with FakeOpenAI(expected_of(case_set)) as server:
        run = run_spec(f"openai-compatible:fenced@{server.url}", case_set)
    assert run.metrics["f1"] == 1.0


def test_rate_limits_are_retried(case_set):
    with FakeOpenAI(expected_of(case_set)) as server:
        run = run_spec(f"openai-compatible:flaky@{server.url}", case_set)
        calls = sum(n for (mode, _), n in server.calls.items() if mode == "flaky")
    assert run.metrics["f1"] == 1.0 and run.metrics["error_count"] == 0
    assert calls == 2 * len(case_set.cases)


def test_a_dropped_connection_is_retried(case_set):
    with FakeOpenAI(expected_of(case_set)) as server:
        run = run_spec(f"openai-compatible:drop-once@{server.url}", case_set)
    assert run.metrics["error_count"] == 0 and run.metrics["f1"] == 1.0
    ids = [case.case_id for case in case_set.cases]
    assert ids and {server.calls[("drop-once", case_id)] for case_id in ids} == {2}


@pytest.mark.parametrize(
    ("mode", "reason", "kwargs"),
    [
        ("down", "24/24 cases failed: HTTP 503", {}),
        ("malformed", "24/24 cases failed: unparsable answer", {}),
        ("drop", "24/24 cases failed: connection failed", {}),
        ("slow", "24/24 cases failed: timeout after 0.2 s", {"timeout": 0.2}),
    ],
)
def test_endpoint_failures_fail_the_run_not_the_model(case_set, mode, reason, kwargs):
    with FakeOpenAI(expected_of(case_set), slow_seconds=1.0) as server:
        run = run_spec(
            f"openai-compatible:{mode}@{server.url}",
            case_set,
            settings=Settings(request_retries=0),
            concurrency=12,
            **kwargs,
        )
    health = assess(run, 0.5)
    assert health.status == "failed" and health.reason.startswith(reason)
    assert all(case.status == "error" for case in run.cases)
    assert "recall" not in run.metrics  # no 0 % recall invented for an outage


def test_replay_reproduces_the_scores(case_set, tmp_path):
    with FakeOpenAI(expected_of(case_set)) as server:
        original = run_spec(f"openai-compatible:fenced@{server.url}", case_set)
        down = run_spec(
            f"openai-compatible:down@{server.url}", case_set, settings=Settings(request_retries=0)
        )
    for recorded in (original, down):
        path = tmp_path / f"{recorded.content_sha256()[:8]}.json"
        path.write_bytes(recorded.to_json())
        replayed = run_spec(f"replay:{path}", case_set)
        assert [(c.status, c.tp, c.fp, c.fn, c.error) for c in replayed.cases] == [
            (c.status, c.tp, c.fp, c.fn, c.error) for c in recorded.cases
        ]
        assert replayed.model == recorded.model
        assert replayed.prompt_version == recorded.prompt_version


def test_provider_spec_errors(tmp_path, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with pytest.raises(UsageError, match="unknown model"):
        make_provider("claude", settings=FAST)
    with pytest.raises(UsageError, match=r"needs an API key in \$OPENAI_API_KEY"):
        make_provider("openai:gpt-4o-mini", settings=FAST)
    with pytest.raises(UsageError, match="openai-compatible:<model>@http"):
        make_provider("openai-compatible:m@localhost:8000", settings=FAST)
    with pytest.raises(BadInputError, match="cannot read the prompt"):
        make_provider(
            "openai-compatible:m@http://x/v1", settings=FAST, prompt_path=tmp_path / "missing.txt"
        )
    (tmp_path / "empty.txt").write_text(" ")
    with pytest.raises(BadInputError, match="empty"):
        read_prompt(tmp_path / "empty.txt", None)
    not_a_run = tmp_path / "x.json"
    not_a_run.write_text("{}")
    with pytest.raises(BadInputError):
        make_provider(f"replay:{not_a_run}", settings=FAST)


def test_prompt_versions_follow_the_content(tmp_path):
    path = tmp_path / "v2.txt"
    path.write_text("find issues")
    _, first = read_prompt(path, None)
    path.write_text("find all issues")
    _, second = read_prompt(path, None)
    assert first.startswith("v2@") and first != second
    assert read_prompt(path, "v2")[1] == "v2"
