"""Where the store is and how to reach it: URL resolution, masking, connect with retries."""

from __future__ import annotations

import re
import time
from urllib.parse import urlsplit, urlunsplit

import psycopg

from bench_analytics.config import Settings
from bench_analytics.errors import StoreUnavailableError


def mask_url(url: str) -> str:
    """The URL with its password replaced by '***' (URL and key=value forms)."""
    if "://" not in url:
        return re.sub(r"(password\s*=\s*)(\S+)", r"\1***", url)
    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
        parts = parts._replace(netloc=netloc)
    query = re.sub(r"(password=)[^&]*", r"\1***", parts.query)
    return urlunsplit(parts._replace(query=query))


def resolve_url(settings: Settings) -> tuple[str, bool]:
    """(URL, embedded?): BENCH_DATABASE_URL when set, else the embedded server's URL."""
    if settings.database_url is not None:
        url = settings.database_url.get_secret_value().strip()
        if url:
            return url, False
    from bench_analytics.store.embedded import start_embedded

    return start_embedded(settings.home, settings.embedded_keep_running), True


def _clean_reason(error: Exception, url: str) -> str:
    text = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    parts = urlsplit(url) if "://" in url else None
    if parts and parts.password:
        text = text.replace(parts.password, "***")
    return text


def connect(url: str, settings: Settings) -> psycopg.Connection:
    """Open a connection, retrying with exponential backoff; StoreUnavailableError at the end."""
    try:  # the common case, without loading the retry machinery
        return psycopg.connect(url, connect_timeout=settings.connect_timeout)
    except psycopg.OperationalError as exc:
        if settings.connect_attempts < 2:
            raise _unreachable(url, settings, exc) from None
    except psycopg.Error as exc:
        raise _unreachable(url, settings, exc) from None
    time.sleep(min(0.25, settings.connect_wait_max))
    return _retry(url, settings, attempts=settings.connect_attempts - 1)


def _unreachable(url: str, settings: Settings, exc: Exception) -> StoreUnavailableError:
    return StoreUnavailableError(
        f"cannot reach the store at {mask_url(url)} after {settings.connect_attempts} "
        f"attempts: {_clean_reason(exc, url)}"
    )


def _retry(url: str, settings: Settings, *, attempts: int) -> psycopg.Connection:
    """The remaining attempts, with exponential backoff between them."""
    from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential

    retrying = Retrying(
        stop=stop_after_attempt(attempts),
        wait=wait_exponential(multiplier=0.25, max=settings.connect_wait_max),
        retry=retry_if_exception_type(psycopg.OperationalError),
        reraise=True,
    )
    try:
        for attempt in retrying:
            with attempt:
                return psycopg.connect(url, connect_timeout=settings.connect_timeout)
    except psycopg.Error as exc:
        raise _unreachable(url, settings, exc) from None
    raise AssertionError("unreachable")  # pragma: no cover


def sqlalchemy_url(url: str) -> str:
    """The same URL for SQLAlchemy's psycopg 3 dialect."""
    for prefix in ("postgresql+psycopg://", "postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    raise StoreUnavailableError(f"not a PostgreSQL URL: {mask_url(url)}")
