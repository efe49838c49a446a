"""Local SQL with DuckDB over result files, pulled Parquet and the store; pull to Parquet."""

from bench_analytics.local.pull import PullResult, pull
from bench_analytics.local.session import Session, connect, query

__all__ = ["PullResult", "Session", "connect", "pull", "query"]
