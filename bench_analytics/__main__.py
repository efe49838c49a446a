"""``python -m bench_analytics``."""

from bench_analytics.cli import run

run()
