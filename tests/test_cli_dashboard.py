"""`dashboard` and `demo --write/--serve`: options, a port in use, files `sql` reads, the
Makefile targets. The dashboard itself is never served here (the browser tests do that):
the serving function is replaced by a recorder, so no Panel server starts."""

from __future__ import annotations

import errno
import inspect
import json
import re
import socket
import subprocess
import sys
import types

import psycopg
import pytest

from bench_analytics.fixtures import sample_history
from tests.conftest import REPO

SERVER_MODULE = "bench_analytics.dashboard.server"
SQL = "select model, avg(f1) as f1, count(*) as runs from runs group by model order by model"


def _count(url: str) -> int:
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT count(*) FROM benchmark_transactions").fetchone()[0]


@pytest.fixture
def taken_port():
    """A port something listens on (127.0.0.1), for as long as the test runs."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        yield listener.getsockname()[1]


@pytest.fixture
def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def served(monkeypatch):
    """Replace the dashboard's server module by a recorder of serve_dashboard's calls (the
    real module and Panel are never imported). ``served.then`` is what the call does after
    reporting ready: None returns (as after a stop), an exception is raised."""
    calls: list[dict[str, object]] = []
    stub = types.ModuleType(SERVER_MODULE)

    def serve_dashboard(
        *, port=8502, address="127.0.0.1", allow_writes=False, url=None, show=False, on_ready=None
    ):
        calls.append(
            {
                "port": port,
                "address": address,
                "allow_writes": allow_writes,
                "url": url,
                "show": show,
            }
        )
        if on_ready is not None:
            on_ready(f"http://{address}:{port}/app")
        if stub.then is not None:
            raise stub.then

    stub.serve_dashboard = serve_dashboard
    stub.calls = calls
    stub.then = None
    monkeypatch.setitem(sys.modules, SERVER_MODULE, stub)
    return stub


# --- help ----------------------------------------------------------------------------------


def test_dashboard_help_lists_options_and_examples(cli):
    result = cli("dashboard", "--help")
    assert result.code == 0
    for option in ("--port", "--address", "--allow-writes", "--show", "--no-show"):
        assert option in result.out
    assert "8502" in result.out and "127.0.0.1" in result.out
    assert "Examples" in result.out and "$ bench-analytics dashboard" in result.out
    assert "bench-analytics dashboard --allow-writes" in result.out


def test_demo_help_lists_write_and_serve(cli):
    result = cli("demo", "--help")
    assert result.code == 0
    assert "--write" in result.out and "--serve" in result.out and "--no-serve" in result.out
    assert "bench-analytics demo --write benchmarks/results --serve" in result.out


def test_the_command_list_names_the_dashboard(cli):
    assert re.search(r"│ dashboard\s+Serve the dashboard", cli("--help").out)


def test_cli_start_up_does_not_load_panel():
    code = (
        "import sys, bench_analytics.cli; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "{'panel', 'bokeh', 'holoviews', 'hvplot', 'tornado'} or m.startswith("
        "'bench_analytics.dashboard')))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


# --- port in use ---------------------------------------------------------------------------


def test_a_port_in_use_exits_2_and_serves_nothing(cli, use_db, served, taken_port):
    result = cli("dashboard", "--port", taken_port)
    assert result.code == 2, result
    lines = result.err.strip().splitlines()
    assert len(lines) == 1 and f"port {taken_port} is already in use on 127.0.0.1" in lines[0]
    assert "--port" in lines[0]
    assert served.calls == [] and "dashboard:" not in result.out


def test_demo_serve_on_a_port_in_use_pushes_nothing(cli, use_db, served, taken_port, tmp_path):
    result = cli(
        "demo",
        "--commits",
        1,
        "--patients",
        5,
        "--write",
        tmp_path / "r",
        "--serve",
        "--port",
        taken_port,
    )
    assert result.code == 2 and f"port {taken_port} is already in use" in result.err
    assert served.calls == [] and _count(use_db) == 0 and not (tmp_path / "r").exists()


def test_a_port_taken_between_check_and_start_is_the_same_message(cli, use_db, served, free_port):
    served.then = OSError(errno.EADDRINUSE, "Address already in use")
    result = cli("dashboard", "--port", free_port)
    assert result.code == 2 and f"port {free_port} is already in use" in result.err


def test_an_address_that_does_not_resolve_exits_2(cli, use_db, served):
    result = cli("dashboard", "--address", "no-such-host.invalid")
    assert result.code == 2 and "cannot listen on 'no-such-host.invalid'" in result.err
    assert served.calls == []


# --- what is served, and how it stops ------------------------------------------------------


def test_dashboard_serves_the_configured_store_read_only(cli, use_db, served, free_port):
    result = cli("dashboard", "--port", free_port)
    assert result.code == 0, result
    assert served.calls == [
        {
            "port": free_port,
            "address": "127.0.0.1",
            "allow_writes": False,
            "url": use_db,
            "show": False,
        }
    ]
    lines = result.out.splitlines()
    assert lines[0] == f"dashboard: http://127.0.0.1:{free_port}/app — Ctrl-C stops it"
    assert lines[1].startswith("store:     postgresql://")
    assert lines[2].startswith("writes:    off, a read-only connection")


def test_allow_writes_and_show_are_passed_on(cli, use_db, served, free_port):
    result = cli("dashboard", "--port", free_port, "--allow-writes", "--show")
    assert result.code == 0, result
    [call] = served.calls
    assert call["allow_writes"] is True and call["show"] is True
    assert "writes:    allowed" in result.out


def test_ctrl_c_exits_0_quietly(cli, use_db, served, free_port):
    served.then = KeyboardInterrupt()
    result = cli("dashboard", "--port", free_port)
    assert result.code == 0 and result.err == ""


def test_the_password_is_not_printed(cli, use_db, served, free_port, monkeypatch):
    url = use_db.replace("postgres:@", "postgres:s3cret-dash@")  # local trust: still connects
    assert url != use_db
    monkeypatch.setenv("BENCH_DATABASE_URL", url)
    result = cli("dashboard", "--port", free_port)
    assert result.code == 0, result
    assert served.calls[0]["url"] == url  # the dashboard gets the URL, the screen does not
    assert "s3cret-dash" not in result.out + result.err
    assert "store:     postgresql://postgres:***@" in result.out


def test_an_unreachable_store_exits_3_before_serving(cli, served, free_port, monkeypatch):
    monkeypatch.setenv("BENCH_DATABASE_URL", "postgresql://bench:pw@127.0.0.1:9/bench")
    result = cli("dashboard", "--port", free_port)
    assert result.code == 3 and served.calls == []


def test_the_dashboard_package_keeps_the_contract(monkeypatch):
    """The signature the command is written against (skipped until the module exists)."""
    monkeypatch.delitem(sys.modules, SERVER_MODULE, raising=False)
    try:
        from bench_analytics.dashboard import server
    except ModuleNotFoundError as error:
        if error.name not in {SERVER_MODULE, "bench_analytics.dashboard"}:
            raise
        pytest.skip(f"{SERVER_MODULE} is not written yet")
    parameters = inspect.signature(server.serve_dashboard).parameters
    for name in ("port", "address", "allow_writes", "url", "show", "on_ready"):
        assert parameters[name].kind is inspect.Parameter.KEYWORD_ONLY, name
    assert parameters["port"].default == 8502 and parameters["address"].default == "127.0.0.1"
    assert parameters["allow_writes"].default is False and parameters["show"].default is False


# --- demo: files that sql reads, then the dashboard ------------------------------------------


def _sql(cli, folder) -> list[dict[str, object]]:
    result = cli("sql", "--path", folder, "--format", "json", SQL)
    assert result.code == 0, result
    return json.loads(result.out)


def test_demo_write_gives_files_that_sql_reads(cli, use_db, tmp_path):
    folder = tmp_path / "results"
    result = cli("demo", "--commits", 3, "--patients", 12, "--write", folder)
    assert result.code == 0, result
    files = sorted(folder.glob("*.json"))
    assert len(files) == len(sample_history(commits=3, patients=12)) == 18
    assert f"wrote {len(files)} result files to {folder}/" in result.out
    assert f'bench-analytics sql --path {folder} "select model' in result.out
    rows = _sql(cli, folder)
    assert [row["model"] for row in rows] == ["baseline", "gemini", "medgemma", "openai"]
    assert all(row["runs"] > 0 and 0 < row["f1"] < 1 for row in rows)

    contents = {path.name: path.read_bytes() for path in files}
    again = cli("demo", "--commits", 3, "--patients", 12, "--write", folder)
    assert again.code == 0 and f"(0 new, {len(files)} already stored" in again.out
    assert {path.name: path.read_bytes() for path in folder.glob("*.json")} == contents
    assert _count(use_db) == len(files)


def test_demo_into_the_default_folder_is_what_sql_reads_without_path(cli, use_db, tmp_path):
    result = cli("demo", "--commits", 1, "--patients", 8, "--write", "benchmarks/results")
    assert result.code == 0, result
    assert 'bench-analytics sql "select model, avg(f1) from runs group by model"' in result.out
    plain = cli("sql", "--format", "json", SQL)  # the tests run in tmp_path: ./benchmarks/results
    assert plain.code == 0, plain
    assert len(json.loads(plain.out)) == 4


def test_demo_without_serve_serves_nothing(cli, use_db, served):
    assert cli("demo", "--commits", 1, "--patients", 5).code == 0
    assert served.calls == []


def test_demo_serve_ends_with_the_dashboard_on_the_demo_store(cli, use_db, served, free_port):
    result = cli("demo", "--commits", 1, "--patients", 5, "--serve", "--port", free_port)
    assert result.code == 0, result
    assert served.calls == [
        {
            "port": free_port,
            "address": "127.0.0.1",
            "allow_writes": False,
            "url": use_db,
            "show": False,
        }
    ]
    assert _count(use_db) == len(sample_history(commits=1, patients=5))  # pushed, then served
    tail = result.out.strip().splitlines()[-3:]
    assert tail[0] == f"dashboard: http://127.0.0.1:{free_port}/app — Ctrl-C stops it"
    served.then = KeyboardInterrupt()
    stopped = cli("demo", "--commits", 1, "--patients", 5, "--serve", "--port", free_port)
    assert stopped.code == 0 and stopped.err == ""


# --- the Makefile ----------------------------------------------------------------------------


def _recipe(makefile: str, target: str) -> tuple[str, list[str]]:
    """(the rule line, its recipe lines) of a target."""
    match = re.search(rf"^{target}:(.*)\n((?:\t.*\n)+)", makefile, re.MULTILINE)
    assert match, f"no '{target}' target in the Makefile"
    return match.group(1), [line.strip() for line in match.group(2).splitlines()]


def test_makefile_targets_call_the_commands():
    makefile = (REPO / "Makefile").read_text()
    assert re.search(r"^PORT\s*\?=\s*8502$", makefile, re.MULTILINE)
    phony = re.search(r"^\.PHONY:(.*)$", makefile, re.MULTILINE)
    assert phony and {"demo", "dashboard"} <= set(phony.group(1).split())

    rule, recipe = _recipe(makefile, "dashboard")
    assert "## Serve the dashboard on http://127.0.0.1:8502 (Ctrl-C stops it)" in rule
    assert recipe == ["$(BIN)/bench-analytics dashboard --port $(PORT)"]

    rule, recipe = _recipe(makefile, "demo")
    assert "##" in rule
    assert recipe == [
        "$(BIN)/bench-analytics demo --write benchmarks/results --serve --port $(PORT)"
    ]


def test_make_expands_the_port():
    done = subprocess.run(
        ["make", "-n", "dashboard", "demo", "PORT=9123"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    )
    lines = done.stdout.splitlines()
    assert ".venv/bin/bench-analytics dashboard --port 9123" in lines
    assert ".venv/bin/bench-analytics demo --write benchmarks/results --serve --port 9123" in lines
    listed = subprocess.run(
        ["make", "-s", "help"], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout
    assert "dashboard" in listed


def test_demo_results_are_ignored_by_git():
    done = subprocess.run(
        ["git", "check-ignore", "-q", "benchmarks/results/x.json"], cwd=REPO, check=False
    )
    if done.returncode == 128:
        pytest.skip("not a git checkout")
    assert done.returncode == 0
