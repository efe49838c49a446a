"""bench-analytics: LLM benchmark history in Postgres, with versions, rollback and statistics."""

__version__ = "0.1.0"


def __getattr__(name: str) -> object:
    """``from bench_analytics import Bench`` without loading the library for ``--version``."""
    if name in ("Bench", "RunFilter"):
        from bench_analytics import api

        return getattr(api, name)
    raise AttributeError(f"module 'bench_analytics' has no attribute {name!r}")
