"""Produce results: case sets, providers (baseline, OpenAI-compatible, replay), scoring."""

from bench_analytics.runner.case_folders import read_case_set
from bench_analytics.runner.engine import run_benchmark
from bench_analytics.runner.generate import generate_case_set
from bench_analytics.runner.interrupt import RunInterrupted, stop_on_sigint
from bench_analytics.runner.providers import make_provider

__all__ = [
    "RunInterrupted",
    "generate_case_set",
    "make_provider",
    "read_case_set",
    "run_benchmark",
    "stop_on_sigint",
]
