"""What the runner tests share: a generated case set, settings without slow retries, and a
run of a provider spec over the set."""

from __future__ import annotations

import pytest

from bench_analytics.config import Settings
from bench_analytics.runner.engine import run_benchmark
from bench_analytics.runner.generate import generate_case_set
from bench_analytics.runner.providers import make_provider

FAST = Settings(request_retries=1)


@pytest.fixture(scope="module")
def case_set():
    """24 generated cases (the same every time)."""
    return generate_case_set(24, seed=5)


def run_spec(spec, case_set, settings=FAST, **kwargs):
    """Run the provider ``spec`` over ``case_set``."""
    provider = make_provider(spec, settings=settings, **kwargs)
    return run_benchmark(provider, case_set, concurrency=kwargs.get("concurrency", 8))
