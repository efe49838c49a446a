"""Where the store is and how to reach it: URL resolution, checking, masking, connect with retries.

A connection string is read the way libpq reads it (``psycopg.conninfo.conninfo_to_dict``),
never with ``urllib``: libpq takes an unencoded ``#`` or ``?`` in a password as part of it,
where ``urlsplit`` cuts the URL there and would print the rest. A string libpq cannot
parse, and a URL whose password holds an unencoded ``@`` or ``/`` (libpq would read part
of the password as the host or the database), is a configuration error (exit code 2) whose
message shows nothing after the scheme. No error raised here chains the connection
library's, whose messages may quote the whole string.
"""

from __future__ import annotations

import re
import time
from urllib.parse import unquote

import psycopg

from bench_analytics.config import Settings
from bench_analytics.errors import StoreUnavailableError, UsageError

_SCHEME = re.compile(r"\s*([A-Za-z][A-Za-z0-9+.-]*)://")
# Parameters shown as they are; the value of any other one (password, unknown keys) is masked.
_SHOWN = frozenset(
    {
        "host",
        "hostaddr",
        "port",
        "dbname",
        "user",
        "sslmode",
        "connect_timeout",
        "application_name",
        "target_session_attrs",
        "load_balance_hosts",
        "service",
    }
)
# One key=value pair of libpq's key/value form: a quoted value (with \' and \\) or a word.
_PAIR = re.compile(r"\s*([A-Za-z_]\w*)\s*=\s*('(?:[^'\\]|\\.)*'|(?:[^\s'\\]|\\.)*)\s*")
_QUOTED = re.compile(r'"([^"]*)"')
_MASK = "***"
_URL_HINT = (
    "percent-encode '@' as %40, '/' as %2F, '#' as %23, '?' as %3F and '%' as %25 in a URL's "
    "user name, password and database name"
)
_PAIRS_HINT = "write lower-case key=value pairs; quote a value with spaces: password='a b'"
_LIBPQ_SCHEMES = ("postgresql://", "postgres://")


def _url_parts(url: str) -> tuple[str, str] | None:
    """(scheme + '://', the rest) for a URL; None for the key/value form."""
    found = _SCHEME.match(url)
    return (url[: found.end()], url[found.end() :]) if found else None


def _misread(url: str) -> str | None:
    """Why libpq would read a parseable URL otherwise than it was meant, if it would.

    libpq ends the user name and password at the first '@' (when one comes before the
    first '/'), then the host at the next '/' or '?': an '@' left in the host means the
    password holds an '@'; an '@' in the path means the password holds a '/' (or the
    database name an '@', which must be encoded as well: the two cannot be told apart).
    """
    parts = _url_parts(url)
    if parts is None:
        return None
    rest = parts[1]
    at, slash = rest.find("@"), rest.find("/")
    credentials = at != -1 and (slash == -1 or at < slash)
    after = rest[at + 1 :] if credentials else rest
    host = re.split(r"[/?]", after, maxsplit=1)[0]
    path = after[len(host) :].split("?", 1)[0]
    if "@" in host:
        return "its password (or user name) holds an '@', which is not percent-encoded"
    if "@" in path and (credentials or ":" in host):
        return "its password holds a '/' (or its database name an '@') that is not percent-encoded"
    return None


def _mask_pairs(text: str, sep: str, pattern: re.Pattern[str]) -> str | None:
    """The key=value pairs of ``text`` with the values of unlisted keys masked (None: no
    clean parse)."""
    out: list[str] = []
    position = 0
    for found in pattern.finditer(text):
        if found.start() != position:
            return None
        key, value = found.group(1), found.group(2)
        out.append(f"{key}={value if key in _SHOWN else _MASK}")
        position = found.end()
    if position != len(text) or not out:
        return None
    return sep.join(out)


_QUERY_PAIR = re.compile(r"([^&=]+)=([^&]*)(?:&|$)")


def _masked(url: str) -> str:
    parts = _url_parts(url)
    if parts is None:
        shown = _mask_pairs(url.strip(), " ", _PAIR)
        return shown if shown is not None else _MASK
    head, rest = parts
    try:
        from psycopg.conninfo import conninfo_to_dict

        conninfo_to_dict(url)
    except Exception:
        return head + _MASK
    if _misread(url):
        return head + _MASK
    before_slash = rest.split("/", 1)[0]
    credentials = ""
    if "@" in before_slash:  # user[:password]@, ended by libpq at the first '@'
        user, _, rest = rest.partition("@")
        name, colon, password = user.partition(":")
        credentials = f"{name}:{_MASK if password else ''}@" if colon else f"{name}@"
    base, question, query = rest.partition("?")
    if query:
        shown = _mask_pairs(query, "&", _QUERY_PAIR)
        query = shown if shown is not None else _MASK
    return head + credentials + base + question + query


def mask_url(url: str) -> str:
    """The connection string without its password, nor anything that may hold one.

    URL and key/value forms. A URL libpq cannot parse, or would misread, shows only its
    scheme; a key/value string only its known harmless parameters' values.
    """
    try:
        return _masked(url)
    except Exception:  # masking must never fail, nor print what it could not parse
        return _MASK


def _secrets(url: str) -> set[str]:
    """Every form in which the password may appear in a message."""
    found: set[str] = set()
    try:
        from psycopg.conninfo import conninfo_to_dict

        password = conninfo_to_dict(url).get("password")
        if password:
            found.add(str(password))
    except Exception:
        pass
    parts = _url_parts(url)
    if parts and "@" in parts[1].split("/", 1)[0]:
        raw = parts[1].split("@", 1)[0].partition(":")[2]
        found |= {raw, unquote(raw)}
    for value in re.findall(r"(?i)\bpassword\s*=\s*('(?:[^'\\]|\\.)*'|[^\s&]*)", url):
        found |= {value, value.strip("'")}
    return {secret for secret in found if len(secret) >= 3}


def _scrub(text: str, url: str) -> str:
    """``text`` with the URL and its password masked."""
    text = text.replace(url, mask_url(url))
    for secret in sorted(_secrets(url), key=len, reverse=True):
        text = text.replace(secret, _MASK)
    return text


def _parse_reason(error: Exception, url: str) -> str:
    """libpq's reason for refusing ``url``, with every quoted fragment of it hidden but keys."""
    text = str(error).strip()
    first = text.splitlines()[0] if text else type(error).__name__

    def keep(found: re.Match[str]) -> str:
        fragment = found.group(1)
        if len(fragment) <= 1 and not fragment.isalnum():
            return found.group(0)  # '=', ']'
        if re.search(rf"(?:^|[\s?&]){re.escape(fragment)}\s*=", url):
            return found.group(0)  # a parameter's name
        return '"…"'

    return _scrub(_QUOTED.sub(keep, first), url)


def check_url(url: str) -> dict[str, str]:
    """libpq's reading of ``url``; UsageError (showing no part that may hold a secret) when
    it cannot parse it or would misread it."""
    from psycopg.conninfo import conninfo_to_dict

    try:
        params = conninfo_to_dict(url)
    except Exception as exc:  # psycopg.ProgrammingError; ValueError for a NUL
        problem = _parse_reason(exc, url)
    else:
        problem = _misread(url) or ""
        if not problem:
            return {key: str(value) for key, value in params.items() if value is not None}
    parts = _url_parts(url)
    if parts is None:
        hint = _PAIRS_HINT
    elif parts[0].strip().lower() in _LIBPQ_SCHEMES:
        hint = _URL_HINT
    else:
        hint = "a URL starts with postgresql:// or postgres://"
    raise UsageError(
        f"the store URL {mask_url(url)} is not a valid PostgreSQL connection string: {problem}",
        hint=hint,
        cli_hint=f"check BENCH_DATABASE_URL; {hint}",
    )


def resolve_url(settings: Settings) -> tuple[str, bool]:
    """(URL, embedded?): BENCH_DATABASE_URL when set, else the embedded server's URL."""
    if settings.database_url is not None:
        url = settings.database_url.get_secret_value().strip()
        if url:
            return url, False
    from bench_analytics.store.embedded import start_embedded

    return start_embedded(settings.home, settings.embedded_keep_running), True


def as_user(url: str, user: str) -> str:
    """The same server and database, as another user and without the password."""
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    params = {k: v for k, v in conninfo_to_dict(url).items() if v is not None}
    params.pop("password", None)
    params["user"] = user
    return make_conninfo(**params)  # type: ignore[arg-type]


def _clean_reason(error: Exception, url: str) -> str:
    text = str(error).strip()
    return _scrub(text.splitlines()[0] if text else type(error).__name__, url)


def connect(url: str, settings: Settings) -> psycopg.Connection:
    """Open a connection, retrying with exponential backoff; StoreUnavailableError at the end
    (UsageError, before any attempt, for a string that is no valid connection string)."""
    check_url(url)
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
    """The same connection for SQLAlchemy's psycopg 3 dialect, built from libpq's reading
    of ``url`` (so a password with '#' or '?' means the same to both, and the key/value
    form works too)."""
    from sqlalchemy.engine import URL

    params = check_url(url)
    user = params.pop("user", None)
    password = params.pop("password", None)
    database = params.pop("dbname", None)
    built = URL.create(
        "postgresql+psycopg", username=user, password=password, database=database, query=params
    )
    return built.render_as_string(hide_password=False)
