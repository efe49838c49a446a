"""The store password never reaches the terminal: not for a URL that does not parse, not for
one whose password is not percent-encoded, not for the key/value form, not in a traceback
(BENCH_DEBUG=1), through every command that opens the store.

The matrix runs each command as its own process: forked from a launcher that has imported
the package once (so that a hundred processes take seconds), each calling the console
entry point with its own environment and its own stdout/stderr, exit handlers included.
A few plain ``python -m bench_analytics`` processes check that the launcher changes nothing.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bench_analytics.fixtures import simulate_run, synthetic_patients
from bench_analytics.store import connection
from bench_analytics.store.schema import HEAD_REVISION

SECRET = "SECRETPW"

# Malformed or not percent-encoded: form -> (BENCH_DATABASE_URL, exit code). A string that
# libpq cannot parse, or would misread, is a configuration error (2); a string it reads
# as meant names a server that is not there (3).
FORMS = {
    "unclosed IPv6 host": (f"postgresql://u:{SECRET}@[::1/db", 2),
    "'/' in the password": (f"postgresql://u:ab/{SECRET}@127.0.0.1:1/db", 2),
    "'#' in the password": (f"postgresql://u:ab#{SECRET}@127.0.0.1:1/db", 3),
    "'?' in the password": (f"postgresql://u:ab?{SECRET}@127.0.0.1:1/db", 3),
    "'@' in the password": (f"postgresql://u:ab@{SECRET}@127.0.0.1:1/db", 2),
    "PASSWORD= (upper case)": (f"host=127.0.0.1 port=1 user=u PASSWORD={SECRET}", 2),
    "quoted password with a space": (f"host=127.0.0.1 port=1 user=u password='ab {SECRET}'", 3),
}

LAUNCHER = r"""
import atexit, gc, json, os, sys, tempfile
import bench_analytics.cli
from bench_analytics.cli import run
import bench_analytics.api, bench_analytics.local.session, bench_analytics.store
# What the commands import on first use: loaded once here instead of in every child.
import bench_analytics.formats, bench_analytics.local.central, duckdb, pandas, tenacity
import alembic.command, sqlalchemy
jobs = json.load(sys.stdin)
gc.freeze()  # what a pre-fork server does: children do not copy the parent's objects
LANES = 4  # children at once; the jobs of one group run one after the other, in order
results = [None] * len(jobs)
waiting = list(range(len(jobs)))
running = {}
while waiting or running:
    busy = {jobs[i]["group"] for i, _, _ in running.values()}
    ready = [i for i in waiting if jobs[i]["group"] not in busy]
    if ready and len(running) < LANES:
        i = ready[0]
        waiting.remove(i)
        out, err = tempfile.TemporaryFile(), tempfile.TemporaryFile()
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:  # the child: one command, as `bench-analytics ARGS` would run it
            os.dup2(out.fileno(), 1)
            os.dup2(err.fileno(), 2)
            os.environ.clear()
            os.environ.update(jobs[i]["env"])
            sys.argv = ["bench-analytics", *jobs[i]["args"]]
            try:
                run()
            except SystemExit:
                pass
            atexit._run_exitfuncs()  # the entry point's own handler leaves with the exit code
            os._exit(99)
        running[pid] = (i, out, err)
        continue
    pid, status = os.wait()
    i, out, err = running.pop(pid)
    out.seek(0)
    err.seek(0)
    results[i] = {"code": os.waitstatus_to_exitcode(status),
                  "out": out.read().decode(errors="replace"),
                  "err": err.read().decode(errors="replace")}
json.dump(results, sys.stdout)
"""


def _base_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BENCH_")}
    env.pop("CI", None)
    return {**env, "BENCH_CONNECT_ATTEMPTS": "1", "BENCH_CONNECT_TIMEOUT": "1", **extra}


def _run_forked(jobs: list[dict[str, Any]], cwd: Path) -> list[dict[str, Any]]:
    done = subprocess.run(
        [sys.executable, "-c", LAUNCHER],
        input=json.dumps(jobs),
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=240,
    )
    assert done.returncode == 0, done.stderr
    results: list[dict[str, Any]] = json.loads(done.stdout)
    assert len(results) == len(jobs)
    return results


@pytest.fixture
def result_file(tmp_path: Path) -> Path:
    path = tmp_path / "result.json"
    path.write_bytes(simulate_run("openai", synthetic_patients(5, seed=2)).to_json())
    return path


def _commands(result: Path) -> dict[str, list[str]]:
    return {
        "snapshots": ["snapshots"],
        "history": ["history", "x"],
        "push": ["push", str(result)],
        "db status": ["db", "status"],
        "db upgrade": ["db", "upgrade"],
        "rollback": ["rollback", "x", "--to-version", "1"],
        "sql --central": ["sql", "--central", "select 1"],
    }


def test_no_command_prints_the_password_of_a_malformed_url(
    tmp_path: Path, result_file: Path
) -> None:
    """Every command under every form, each with BENCH_DEBUG unset and set."""
    jobs: list[dict[str, Any]] = []
    labels: list[tuple[str, str, str]] = []
    for form, (url, _) in FORMS.items():
        for name, args in _commands(result_file).items():
            for debug in ("", "1"):
                env = _base_env(BENCH_DATABASE_URL=url, BENCH_HOME=str(tmp_path / "unused"))
                if debug:
                    env["BENCH_DEBUG"] = debug
                jobs.append({"args": args, "env": env, "group": len(jobs)})
                labels.append((form, name, debug))
    results = _run_forked(jobs, tmp_path)

    leaks = [
        label for label, r in zip(labels, results, strict=True) if SECRET in r["out"] + r["err"]
    ]
    wrong = [
        (label, r["code"], r["err"][-300:])
        for label, r in zip(labels, results, strict=True)
        if r["code"] != FORMS[label[0]][1]
    ]
    tracebacks = [
        label for label, r in zip(labels, results, strict=True) if "Traceback" in r["err"]
    ]
    print(f"\n{len(jobs)} command processes, {len(leaks)} leaks")
    assert leaks == []
    assert wrong == []
    assert tracebacks == []  # our own errors, raised without the connection library's
    for label, r in zip(labels, results, strict=True):  # one line, naming the store masked
        lines = [line for line in r["err"].splitlines() if line.strip()]
        assert len(lines) == 1 and lines[0].startswith("error: "), (label, r["err"])
        assert "the store URL" in lines[0] or "cannot reach the store at" in lines[0], label
    assert not (tmp_path / "unused").exists()  # never fell back to the embedded server


def test_plain_processes_agree(tmp_path: Path, result_file: Path) -> None:
    """The same, through `python -m bench_analytics` itself, all forms at once."""
    procs = {
        form: subprocess.Popen(
            [sys.executable, "-m", "bench_analytics", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=tmp_path,
            env=_base_env(BENCH_DATABASE_URL=url, BENCH_DEBUG="1"),
        )
        for (form, (url, _)), args in zip(
            FORMS.items(), [*_commands(result_file).values()], strict=True
        )
    }
    for form, proc in procs.items():
        out, err = proc.communicate(timeout=120)
        assert SECRET not in out + err, (form, err)
        assert proc.returncode == FORMS[form][1], (form, err)
        assert "Traceback" not in err


# Passwords that libpq reads as meant, and urllib or SQLAlchemy would not: name ->
# (password, whether its push migrates a fresh database, through SQLAlchemy).
REACHABLE = {
    "'#'": ("ab#" + SECRET, True),
    "'?'": ("ab?" + SECRET, True),
    "encoded space and percent": ("a%20b%25" + SECRET, False),
    "':'": ("x:" + SECRET, False),
}


def test_a_reachable_store_with_such_passwords_works_and_never_shows_them(
    pg_server: str, tmp_path: Path, result_file: Path
) -> None:
    """The test server trusts local connections: the password is sent and ignored, so
    every command gets as far as it can (migrations through SQLAlchemy included), in a
    database of its own per connection string."""
    from psycopg.conninfo import conninfo_to_dict

    from tests.conftest import _new_database

    urls = {
        name: _new_database(pg_server, "template0" if fresh else "bench_template").replace(
            "postgres:@", f"postgres:{password}@", 1
        )
        for name, (password, fresh) in REACHABLE.items()
    }
    params = conninfo_to_dict(_new_database(pg_server, "template0"))
    urls["key/value, quoted"] = (
        f"host={params['host']} dbname={params['dbname']} user=postgres password='a b \\' {SECRET}'"
    )
    commands = {
        "push": ["push", str(result_file)],
        "db status": ["db", "status"],
        "snapshots": ["snapshots", "--json"],
        "sql --central": ["sql", "--central", "select count(*) as n from central.runs"],
        "db upgrade": ["db", "upgrade"],
    }
    jobs: list[dict[str, Any]] = []
    labels: list[tuple[str, str]] = []
    for name, url in urls.items():
        env = _base_env(BENCH_DATABASE_URL=url, BENCH_HOME=str(tmp_path / "unused"))
        jobs += [{"args": args, "env": env, "group": name} for args in commands.values()]
        labels += [(name, command) for command in commands]
    results = _run_forked(jobs, tmp_path)
    for label, r in zip(labels, results, strict=True):
        assert r["code"] == 0, (label, r["err"])
        assert SECRET not in r["out"] + r["err"], label
    out = {label: r["out"] for label, r in zip(labels, results, strict=True)}
    for name in urls:
        assert len(json.loads(out[(name, "snapshots")])) == 1, name  # the push was stored
        shown = out[(name, "db status")]
        assert "postgres:***@" in shown or "password=***" in shown, (name, shown)
        assert f"schema:   {HEAD_REVISION} " in shown, (name, shown)  # migrated by the push
    assert not (tmp_path / "unused").exists()


# --- the masking itself, form by form (no process) ------------------------------------------

MORE = [
    f"postgresql://u:{SECRET}@h:1/db?sslmode=require",
    f"postgres://u:{SECRET}@h",
    f"postgresql://u@h/db?password={SECRET}&application_name=x",
    f"postgresql://u@h/db?PassWord={SECRET}",
    f"postgresql://u:p%zz{SECRET}@h/db",
    f"postgresql://u:{SECRET}@h/db?x",
    f"postgresql://h/db?password=a&{SECRET}",
    f"postgresql+psycopg://u:{SECRET}@h/db",
    f"postgresql://u:a:{SECRET}@h/db",
    f"postgresql://u:{SECRET}@h/my@db",
    f"host=h {SECRET}",
    f"host=h password='{SECRET}",
    f"host=h password={SECRET} sslmode=require",
    f"host=h   password = '{SECRET} x'",
    f"mysql://u:{SECRET}@h/db",
]


@pytest.mark.parametrize("url", [url for url, _ in FORMS.values()] + MORE)
def test_masking_and_checking_never_show_the_password(url: str) -> None:
    shown = connection.mask_url(url)
    assert SECRET not in shown
    try:
        connection.check_url(url)
    except Exception as error:  # a UsageError, with its hint
        assert SECRET not in str(error)
        assert error.__cause__ is None
        assert error.__context__ is None or error.__suppress_context__
        assert type(error).__name__ == "UsageError"
    else:
        assert shown != url  # a password it could read is masked


@pytest.mark.parametrize(
    "url",
    [
        f"postgresql://u:{SECRET}@h?application_name=a@b",
        f"postgresql://u:{SECRET}@h/db?user=me@corp",
        "postgresql://h/my@db",
        f"postgresql://u:ab%40%2F{SECRET}@h:5432/db",
    ],
)
def test_valid_urls_with_an_at_sign_elsewhere_are_accepted(url: str) -> None:
    connection.check_url(url)
    assert SECRET not in connection.mask_url(url)


def test_sqlalchemy_reads_the_password_as_libpq_does() -> None:
    from sqlalchemy.engine import make_url

    for url in (
        f"postgresql://u:ab#{SECRET}@h:5/db",
        f"postgresql://u:ab?{SECRET}@h/db?sslmode=require",
        f"host=/tmp/x dbname=d user=u password='a b {SECRET}'",
    ):
        made = make_url(connection.sqlalchemy_url(url))
        from psycopg.conninfo import conninfo_to_dict

        assert made.password == conninfo_to_dict(url)["password"]
