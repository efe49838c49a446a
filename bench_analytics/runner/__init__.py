"""Produce results: case sets, providers (baseline, OpenAI-compatible, replay), scoring."""

from bench_analytics.runner.case_folders import read_case_set
from bench_analytics.runner.engine import run_benchmark
from bench_analytics.runner.generate import generate_case_set
from bench_analytics.runner.providers import make_provider

__all__ = ["generate_case_set", "make_provider", "read_case_set", "run_benchmark"]
