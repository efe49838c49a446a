"""bench-analytics: LLM benchmark history in Postgres, with versions, rollback and statistics."""

__version__ = "0.1.0"
