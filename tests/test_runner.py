"""The runner: case sets, parsing, scoring, providers against a real local HTTP endpoint."""

from __future__ import annotations

import asyncio
import json
import signal
import time
from collections.abc import Awaitable, Callable, Iterator

import pytest

from bench_analytics.config import Settings
from bench_analytics.errors import BadInputError, UsageError
from bench_analytics.health import assess
from bench_analytics.model import ModelRef
from bench_analytics.pricing import load_prices
from bench_analytics.runner.case_folders import read_case_set
from bench_analytics.runner.cases import ExpectedIssue, write_case_set
from bench_analytics.runner.engine import case_result, run_benchmark
from bench_analytics.runner.generate import generate_case_set
from bench_analytics.runner.interrupt import RunInterrupted, stop_on_sigint
from bench_analytics.runner.parsing import AnswerError, parse_answer
from bench_analytics.runner.providers import Answer, make_provider, read_prompt
from bench_analytics.runner.providers.baseline import detect
from bench_analytics.runner.scoring import breakdowns, match, normalise_detection, score_case
from tests.conftest import REALDATA
from tests.fake_openai import MIXED, FakeOpenAI, expected_of, mixed_mode

FAST = Settings(request_retries=1)


@pytest.fixture(scope="module")
def case_set():
    return generate_case_set(24, seed=5)


def _run(spec, case_set, settings=FAST, **kwargs):
    provider = make_provider(spec, settings=settings, **kwargs)
    return run_benchmark(provider, case_set, concurrency=kwargs.get("concurrency", 8))


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
    run = _run("baseline", case_set)
    metrics, by_type = breakdowns(run.cases)
    assert metrics["recall_billing"] < 1 and "domain_recall" in metrics
    assert by_type["gender_mismatch"]["recall"] == 1.0  # the rules always catch these
    assert by_type["drug_interaction"]["recall"] == 0.0  # and never these


# --- providers -------------------------------------------------------------------------------


def test_baseline_is_deterministic(case_set):
    first, second = _run("baseline", case_set), _run("baseline", case_set)
    assert [(c.tp, c.fp, c.fn) for c in first.cases] == [(c.tp, c.fp, c.fn) for c in second.cases]
    for name in ("f1", "precision", "recall", "f1_macro", "domain_recall"):
        assert first.metrics[name] == second.metrics[name]
    assert first.model.key == "baseline" and first.prompt_version == "rules-v1"
    assert assess(first, 0.5).status == "healthy"


def test_a_correct_endpoint_scores_perfectly_with_tokens_and_cost(case_set, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-secret")
    with FakeOpenAI(expected_of(case_set)) as server:
        run = _run(f"openai-compatible:correct@{server.url}", case_set, model_key="gpt-4o-mini")
        assert set(server.authorizations) == {"Bearer sk-test-secret"}
    assert run.metrics["f1"] == 1.0 and run.metrics["recall"] == 1.0
    assert run.metrics["input_tokens"] > 0 and run.cases[0].output_tokens > 0
    assert run.model.key == "gpt-4o-mini"
    assert run.cases[0].details["raw_response"].startswith('{"issues"')
    assert "sk-test-secret" not in run.to_json().decode()


def test_code_fenced_answers_are_fine(case_set):
    with FakeOpenAI(expected_of(case_set)) as server:
        run = _run(f"openai-compatible:fenced@{server.url}", case_set)
    assert run.metrics["f1"] == 1.0


def test_rate_limits_are_retried(case_set):
    with FakeOpenAI(expected_of(case_set)) as server:
        run = _run(f"openai-compatible:flaky@{server.url}", case_set)
        calls = sum(n for (mode, _), n in server.calls.items() if mode == "flaky")
    assert run.metrics["f1"] == 1.0 and run.metrics["error_count"] == 0
    assert calls == 2 * len(case_set.cases)


def test_a_dropped_connection_is_retried(case_set):
    with FakeOpenAI(expected_of(case_set)) as server:
        run = _run(f"openai-compatible:drop-once@{server.url}", case_set)
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
        run = _run(
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
        original = _run(f"openai-compatible:fenced@{server.url}", case_set)
        down = _run(
            f"openai-compatible:down@{server.url}", case_set, settings=Settings(request_retries=0)
        )
    for recorded in (original, down):
        path = tmp_path / f"{recorded.content_sha256()[:8]}.json"
        path.write_bytes(recorded.to_json())
        replayed = _run(f"replay:{path}", case_set)
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


# --- odd endpoints: every problem stays with its case ------------------------------------

UNUSABLE = {
    "not-json": "the endpoint's answer is not JSON: "
    "'<html><body><h1>502 Bad Gateway</h1></body></html>'",
    "list-body": "the endpoint's JSON is a list, not an object",
    "string-body": "the endpoint's JSON is a string, not an object",
    "error-body": "the endpoint answered with an error: model is overloaded",
    "no-choices": "the endpoint answered with an empty choices list",
    "null-content": "choices[0].message.content is null (finish_reason: content_filter)",
    "list-content": "choices[0].message.content is a list, not a string",
}


@pytest.mark.parametrize(("mode", "reason"), UNUSABLE.items())
def test_an_unusable_answer_is_an_errored_case_with_its_reason(case_set, mode, reason):
    with FakeOpenAI(expected_of(case_set)) as server:
        run = _run(f"openai-compatible:{mode}@{server.url}", case_set)
        assert server.requests == len(case_set.cases)  # not retried: the endpoint did answer
    assert [c.case_id for c in run.cases] == [c.case_id for c in case_set.cases]
    assert [(c.status, c.error, c.tp) for c in run.cases] == [("error", reason, None)] * 24
    assert run.cases[0].latency_ms is not None and run.cases[0].latency_ms > 0
    assert run.metrics["error_count"] == 24 and "recall" not in run.metrics
    assert assess(run, 0.5).reason == f"24/24 cases failed: {reason}"


USAGE_CASES = {
    # mode: (input tokens, output tokens, usage note)
    "usage-whole-floats": (12, 7, None),
    "no-usage": (None, None, "the endpoint reported no usage: tokens unknown"),
    "usage-not-object": (None, None, "the endpoint reported usage as a string: tokens unknown"),
    "usage-strings": (
        None,
        None,
        "usage prompt_tokens is a string, completion_tokens is a string: tokens unknown",
    ),
    "usage-fractions": (
        None,
        None,
        "usage prompt_tokens is 12.5, not a whole number, "
        "completion_tokens is 7.25, not a whole number: tokens unknown",
    ),
    "usage-negative": (None, 7, "usage prompt_tokens is negative (-12): tokens unknown"),
    "usage-nulls": (
        None,
        None,
        "usage prompt_tokens is null, completion_tokens is null: tokens unknown",
    ),
    "usage-booleans": (
        None,
        None,
        "usage prompt_tokens is a boolean, completion_tokens is a boolean: tokens unknown",
    ),
}


@pytest.mark.parametrize(("mode", "expected"), USAGE_CASES.items())
def test_odd_usage_means_unknown_tokens_and_the_case_is_still_scored(case_set, mode, expected):
    tokens_in, tokens_out, note = expected
    with FakeOpenAI(expected_of(case_set)) as server:
        run = _run(f"openai-compatible:{mode}@{server.url}", case_set, model_key="gpt-4o-mini")
    assert len(run.cases) == 24 and run.metrics["error_count"] == 0
    assert run.metrics["f1"] == 1.0  # the answers were fine
    got = {(c.input_tokens, c.output_tokens, c.details.get("usage_note")) for c in run.cases}
    assert got == {(tokens_in, tokens_out, note)}
    known = tokens_in is not None and tokens_out is not None
    price = load_prices()["gpt-4o-mini"].cost(12, 7)
    assert price > 0
    assert {c.cost_usd for c in run.cases} == ({price} if known else {None})
    assert ("cost_usd" in run.metrics) is known


def test_replay_keeps_the_usage_note(case_set, tmp_path):
    with FakeOpenAI(expected_of(case_set)) as server:
        recorded = _run(f"openai-compatible:usage-strings@{server.url}", case_set)
    path = tmp_path / "recorded.json"
    path.write_bytes(recorded.to_json())
    replayed = _run(f"replay:{path}", case_set)
    notes = [c.details.get("usage_note") for c in replayed.cases]
    assert len(notes) == 24 and set(notes) == {USAGE_CASES["usage-strings"][2]}


def test_a_mixed_endpoint_costs_only_the_odd_cases(case_set):
    modes = {case.case_id: mixed_mode(case.case_id) for case in case_set.cases}
    assert set(modes.values()) == set(MIXED)  # the case set meets every behaviour
    with FakeOpenAI(expected_of(case_set)) as server:
        run = _run(f"openai-compatible:mixed@{server.url}", case_set, concurrency=4)
    assert [c.case_id for c in run.cases] == list(modes)
    for case, expected in zip(run.cases, case_set.cases, strict=True):
        mode = modes[case.case_id]
        if mode in UNUSABLE:
            assert (case.status, case.error) == ("error", UNUSABLE[mode]), case.case_id
        else:
            assert case.status == "ok" and case.fn == 0, case.case_id
            assert case.tp == len(expected.expected_issues)
            assert (case.input_tokens is None) is (mode == "usage-strings")
    errored = sum(mode in UNUSABLE for mode in modes.values())
    assert 0 < errored < 24 and run.metrics["error_count"] == errored
    assert run.metrics["recall"] == 1.0


class Scripted:
    """An in-test provider: ``script(provider, case)`` runs before each (empty) answer."""

    def __init__(self, script: Callable[[Scripted, object], Awaitable[None]] | None = None):
        self.model = ModelRef(key="scripted")
        self.prompt_version = "p1"
        self.description: dict[str, object] = {"provider": "scripted"}
        self.script = script
        self.asked: list[str] = []
        self.cancelled = 0
        self.closed = False
        self.on_close: Callable[[], Awaitable[None]] | None = None

    async def answer(self, case) -> Answer:
        self.asked.append(case.case_id)
        try:
            if self.script:
                await self.script(self, case)
        except asyncio.CancelledError:
            self.cancelled += 1
            raise
        return Answer(raw='{"issues": []}', latency_ms=1.0)

    async def close(self) -> None:
        if self.on_close:
            await self.on_close()
        self.closed = True


def test_a_result_that_does_not_validate_is_an_errored_case(case_set):
    case = case_set.cases[0]
    odd = case_result(case, Answer(raw='{"issues": []}', input_tokens="12", output_tokens=-1))
    assert odd.status == "error" and odd.case_id == case.case_id
    assert odd.error == (
        "invalid case result: input_tokens: Input should be a valid integer (got '12'); "
        "output_tokens: Input should be greater than or equal to 0 (got -1)"
    )
    assert odd.details == {"raw_response": '{"issues": []}'}
    nan = case_result(case, Answer(raw='{"issues": []}', latency_ms=float("nan")))
    assert nan.status == "error" and nan.error.startswith("invalid case result: latency_ms")
    text = case_result(case, Answer(raw='{"issues": []}', latency_ms="fast"))  # type: ignore[arg-type]
    assert text.status == "error" and text.error.startswith("invalid case result: latency_ms")
    not_text = case_result(case, Answer(raw=["issues"]))  # type: ignore[arg-type]
    assert (not_text.status, not_text.error) == ("error", "the answer is list, not text")


def test_a_provider_bug_costs_one_case_not_the_run(case_set):
    async def script(provider: Scripted, case) -> None:
        if case.case_id == case_set.cases[3].case_id:
            raise RuntimeError("boom")

    run = run_benchmark(Scripted(script), case_set, concurrency=4)
    assert len(run.cases) == 24 and run.metrics["error_count"] == 1
    assert (run.cases[3].status, run.cases[3].error) == (
        "error",
        "provider error: RuntimeError: boom",
    )
    assert {c.status for i, c in enumerate(run.cases) if i != 3} == {"ok"}


# --- Ctrl-C: SIGINT stops the run, whenever it comes -----------------------------------------

SLOW = 20.0  # what a case waits when nothing interrupts it (a test that breaks, not hangs)


@pytest.fixture
def sigint_trap() -> Iterator[list[int]]:
    """A recording SIGINT handler: a signal the runner misses is seen here, never kills
    pytest; after the test the runner must have put this handler back."""
    seen: list[int] = []

    def trap(signum: int, frame: object) -> None:
        seen.append(signum)

    previous = signal.signal(signal.SIGINT, trap)
    yield seen
    restored = signal.getsignal(signal.SIGINT)
    signal.signal(signal.SIGINT, previous)
    assert restored is trap


async def _interrupt_on_first_then_wait(provider: Scripted, case) -> None:
    if len(provider.asked) == 1:
        signal.raise_signal(signal.SIGINT)
    await asyncio.sleep(SLOW)


def _interrupted(provider: Scripted, case_set, **kwargs) -> float:
    start = time.perf_counter()
    with pytest.raises(RunInterrupted, match="interrupted: nothing was written"):
        run_benchmark(provider, case_set, **kwargs)
    return time.perf_counter() - start


def test_sigint_during_a_request_stops_the_run(case_set, sigint_trap):
    provider = Scripted(_interrupt_on_first_then_wait)
    assert _interrupted(provider, case_set, concurrency=4) < SLOW / 4
    assert sigint_trap == []  # the runner's handler took it
    assert len(provider.asked) == 4 and provider.cancelled == 4 and provider.closed


def test_sigint_between_cases_stops_the_run(case_set, sigint_trap):
    async def first_fast(provider: Scripted, case) -> None:
        if len(provider.asked) > 1:
            await asyncio.sleep(SLOW)

    seen: list[str] = []

    def on_case(result) -> None:
        seen.append(result.case_id)
        signal.raise_signal(signal.SIGINT)

    provider = Scripted(first_fast)
    assert _interrupted(provider, case_set, concurrency=1, on_case=on_case) < SLOW / 4
    assert seen == [case_set.cases[0].case_id] and len(provider.asked) <= 2
    assert provider.closed and sigint_trap == []


def test_sigint_after_the_last_answer_still_returns_nothing(case_set, sigint_trap):
    done: list[str] = []

    def on_case(result) -> None:
        done.append(result.case_id)
        if len(done) == len(case_set.cases):
            signal.raise_signal(signal.SIGINT)

    provider = Scripted()
    _interrupted(provider, case_set, on_case=on_case)
    assert len(done) == 24 and provider.closed and sigint_trap == []


def test_sigint_before_the_first_request_asks_nothing(case_set, sigint_trap):
    provider = Scripted()
    with pytest.raises(RunInterrupted), stop_on_sigint():  # a caller guarding its set-up
        signal.raise_signal(signal.SIGINT)
        run_benchmark(provider, case_set)
    assert provider.asked == [] and provider.closed and sigint_trap == []


def test_sigint_stops_the_run_even_when_inherited_as_ignored(case_set):
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        provider = Scripted(_interrupt_on_first_then_wait)
        assert _interrupted(provider, case_set, concurrency=2) < SLOW / 4
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN  # put back as it was
    finally:
        signal.signal(signal.SIGINT, previous)
    assert provider.closed and provider.cancelled == 2


def test_a_second_sigint_does_not_wait_for_a_hung_clean_up(case_set, sigint_trap):
    provider = Scripted(_interrupt_on_first_then_wait)

    async def hung_close() -> None:
        signal.raise_signal(signal.SIGINT)
        await asyncio.sleep(SLOW)

    provider.on_close = hung_close
    assert _interrupted(provider, case_set, concurrency=2) < SLOW / 4
    assert not provider.closed and sigint_trap == []


def test_without_sigint_the_handler_is_put_back(case_set, sigint_trap):
    run = run_benchmark(Scripted(), case_set)
    assert len(run.cases) == 24 and run.metrics["error_count"] == 0
    assert signal.getsignal(signal.SIGINT) is not None and sigint_trap == []
