"""The runner when things go wrong: odd endpoints cost only their own cases, and Ctrl-C
stops a run whenever it comes, writing nothing."""

from __future__ import annotations

import asyncio
import signal
import time
from collections.abc import Awaitable, Callable, Iterator

import pytest

from bench_analytics.health import assess
from bench_analytics.model import ModelRef
from bench_analytics.pricing import load_prices
from bench_analytics.runner.engine import case_result, run_benchmark
from bench_analytics.runner.interrupt import RunInterrupted, stop_on_sigint
from bench_analytics.runner.providers import Answer
from tests.fake_openai import MIXED, FakeOpenAI, expected_of, mixed_mode
from tests.runner_helpers import run_spec

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
        run = run_spec(f"openai-compatible:{mode}@{server.url}", case_set)
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
        run = run_spec(f"openai-compatible:{mode}@{server.url}", case_set, model_key="gpt-4o-mini")
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
        recorded = run_spec(f"openai-compatible:usage-strings@{server.url}", case_set)
    path = tmp_path / "recorded.json"
    path.write_bytes(recorded.to_json())
    replayed = run_spec(f"replay:{path}", case_set)
    notes = [c.details.get("usage_note") for c in replayed.cases]
    assert len(notes) == 24 and set(notes) == {USAGE_CASES["usage-strings"][2]}


def test_a_mixed_endpoint_costs_only_the_odd_cases(case_set):
    modes = {case.case_id: mixed_mode(case.case_id) for case in case_set.cases}
    assert set(modes.values()) == set(MIXED)  # the case set meets every behaviour
    with FakeOpenAI(expected_of(case_set)) as server:
        run = run_spec(f"openai-compatible:mixed@{server.url}", case_set, concurrency=4)
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
