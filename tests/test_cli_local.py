"""`bench-analytics sql` and `pull` end to end (in-process, one real subprocess, one terminal)."""

from __future__ import annotations

import csv
import io
import json
import os
import pty
import select
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from tests.local_helpers import MISSING_EXTENSION, push_files, write_sample

GROUP = "select model, count(*) as n from cases group by model order by model"


@pytest.fixture
def results(tmp_path: Path) -> Path:
    """Sample results where `sql` looks by default (tests run in tmp_path)."""
    write_sample(tmp_path / "benchmarks" / "results")
    return tmp_path / "benchmarks" / "results"


def test_sql_over_the_default_path_prints_a_table(cli, results):
    result = cli("sql", "select model, avg(f1) as f1 from runs group by model order by model")
    assert result.code == 0, result
    for model in ("baseline", "gemini", "medgemma", "openai"):
        assert model in result.out
    assert "4 rows" in result.out


def test_sql_with_a_glob_and_a_filter(cli, tmp_path, results):
    result = cli(
        "sql",
        "--path",
        str(tmp_path / "benchmarks" / "**" / "*.json"),
        "--format",
        "csv",
        "select model, count(*) as errors from cases where status = 'error' group by 1 order by 1",
    )
    assert result.code == 0, result
    got = list(csv.DictReader(io.StringIO(result.out)))
    assert {row["model"]: int(row["errors"]) for row in got}["gemini"] == 12


@pytest.mark.parametrize("kind", ["csv", "json", "parquet", "table"])
def test_sql_writes_each_format_to_a_file(cli, tmp_path, results, kind):
    target = tmp_path / f"out.{'txt' if kind == 'table' else kind}"
    result = cli("sql", "--format", kind, "-o", target, GROUP)
    assert result.code == 0, result
    assert result.out == "" and str(target) in result.err
    if kind == "table":
        assert "medgemma" in target.read_text() and "4 rows" in target.read_text()
        return
    reader = {"csv": "read_csv", "json": "read_json", "parquet": "read_parquet"}[kind]
    got = duckdb.sql(f"select model, n from {reader}('{target}') order by 1").fetchall()
    assert got == [("baseline", 12), ("gemini", 12), ("medgemma", 12), ("openai", 12)]


def test_sql_picks_the_format_from_the_suffix_and_json_on_stdout(cli, tmp_path, results):
    assert cli("sql", "-o", tmp_path / "x.parquet", GROUP).code == 0
    assert duckdb.sql(f"select count(*) from '{tmp_path / 'x.parquet'}'").fetchall() == [(4,)]
    result = cli("sql", "--format", "json", "select tags, run_at from runs limit 1")
    assert result.code == 0, result
    [row] = json.loads(result.out)
    assert row["tags"] == ["demo"] and row["run_at"].startswith("2026-10-")


def test_sql_format_errors_exit_2(cli, results):
    assert "add -o FILE.parquet" in cli("sql", "--format", "parquet", GROUP).err
    bad = cli("sql", "--format", "xml", GROUP)
    assert bad.code == 2 and "choose one of" in bad.err
    two = cli("sql", "--format", "csv", "select 1; select 2")
    assert two.code == 2 and "give one statement" in two.err


def test_sql_from_stdin(cli, results, monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.StringIO("select count(*) as n\nfrom runs"))
    result = cli("sql", "--format", "json")
    assert result.code == 0, result
    assert json.loads(result.out) == [{"n": 4}]
    monkeypatch.setattr(sys, "stdin", io.StringIO("  \n"))
    empty = cli("sql")
    assert empty.code == 2 and "no SQL given" in empty.err


def test_sql_from_a_pipe_in_a_real_process(tmp_path, results):
    done = subprocess.run(
        [sys.executable, "-m", "bench_analytics", "sql", "--format", "csv"],
        input="select count(*) as n from cases;",
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["n", "48"]


def test_sql_refuses_writes_with_exit_2(cli, tmp_path, results):
    for statement in (
        "copy (select * from runs) to 'stolen.csv'",
        "create table t as select 1",
        "attach 'x.db'",
        "select 1; drop view runs",
    ):
        result = cli("sql", statement)
        assert result.code == 2, statement
        assert "not read-only" in result.err and "nothing was run" in result.err
    assert not (tmp_path / "stolen.csv").exists() and not (tmp_path / "x.db").exists()


def test_sql_error_shows_duckdbs_message_and_position(cli, results):
    result = cli("sql", "select model, nope from runs")
    assert result.code == 2
    assert 'Referenced column "nope" not found' in result.err
    assert "LINE 1: select model, nope from runs" in result.err
    caret = result.err.splitlines()[
        result.err.splitlines().index("LINE 1: select model, nope from runs") + 1
    ]
    assert caret.index("^") == len("LINE 1: select model, ")
    parse = cli("sql", "select [x from runs")
    assert parse.code == 2 and "Parser Error" in parse.err and "[x" in parse.err


def test_sql_says_what_it_looked_for(cli, tmp_path):
    result = cli("sql", "select * from runs")
    assert result.code == 2
    assert "looked for benchmarks/results/**/*.json" in result.err
    assert cli("sql", "select 40 + 2 as answer").code == 0
    (tmp_path / "empty").mkdir()
    explicit = cli("sql", "--path", tmp_path / "empty", "select 1")
    assert explicit.code == 2 and "looked for" in explicit.err and "manifest.json" in explicit.err


def test_sql_central_join(cli, store, tmp_path, results):
    push_files(store, sorted(results.glob("*.json")))
    result = cli(
        "sql",
        "--central",
        "--format",
        "json",
        "select r.model, r.f1, c.f1 as current_f1 from runs r "
        "join central.current_snapshots c using (model) order by 1",
    )
    assert result.code == 0, result
    got = json.loads(result.out)
    assert [row["model"] for row in got] == ["medgemma", "openai"]
    assert all(row["f1"] == row["current_f1"] for row in got)


def test_sql_central_fallback_says_so_once(cli, store, tmp_path, results, monkeypatch):
    push_files(store, sorted(results.glob("*.json")))
    monkeypatch.setenv("BENCH_DUCKDB_POSTGRES_EXTENSION", str(tmp_path / MISSING_EXTENSION))
    result = cli("sql", "--central", "--format", "csv", "select count(*) as n from central.cases")
    assert result.code == 0, result
    assert result.out.splitlines() == ["n", "48"]
    notes = [line for line in result.err.splitlines() if "postgres extension" in line]
    assert len(notes) == 1 and "copying the store's tables" in notes[0]


def test_pull_then_query_the_warehouse(cli, store, tmp_path, results):
    push_files(store, sorted(results.glob("*.json"))[:2])
    first = cli("pull", "-o", tmp_path / "warehouse", "--json")
    assert first.code == 0, first
    assert json.loads(first.out)["cases"] == 24
    push_files(store, sorted(results.glob("*.json"))[2:])
    second = cli("pull", "-o", tmp_path / "warehouse")
    assert second.code == 0 and "pulled 2 runs, 24 cases" in second.out
    again = cli("pull", "-o", tmp_path / "warehouse")
    assert again.code == 0 and "is up to date" in again.out
    here = cli("sql", "--path", tmp_path / "warehouse", "--format", "json", GROUP)
    there = cli("sql", "--central", "--format", "json", GROUP.replace("cases", "central.cases"))
    files = cli("sql", "--format", "json", GROUP)
    assert json.loads(here.out) == json.loads(there.out) == json.loads(files.out)


def test_pull_refuses_bad_input(cli, store, tmp_path):
    bad = cli("pull", "--since", "last tuesday", "-o", tmp_path / "w")
    assert bad.code == 2 and "since 'last tuesday'" in bad.err
    assert not (tmp_path / "w").exists()


def test_sql_and_pull_help_show_examples(cli):
    for command in ("sql", "pull"):
        result = cli(command, "--help")
        assert result.code == 0 and "Examples" in result.out


def test_interactive_shell_on_a_terminal(tmp_path, results):
    """A real pseudo-terminal: prompt, a multi-line statement, .tables, history on disk."""
    leader, follower = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "bench_analytics", "sql"],
        stdin=follower,
        stdout=follower,
        stderr=follower,
        cwd=tmp_path,
        env={**os.environ, "COLUMNS": "100"},
    )
    os.close(follower)
    output = b""

    def read_until(marker: bytes) -> None:
        nonlocal output
        while marker not in output:
            ready, _, _ = select.select([leader], [], [], 60)
            assert ready, output.decode(errors="replace")  # the shell stopped answering
            output += os.read(leader, 65536)

    read_until(b"bench> ")
    os.write(leader, b"select 40 + 2\n")
    read_until(b"...> ")
    os.write(leader, b"  as answer;\n")
    read_until(b"1 row")
    os.write(leader, b".tables\n")
    read_until(b"runs")
    os.write(leader, b".quit\n")
    assert process.wait(timeout=60) == 0
    os.close(leader)
    text = output.decode(errors="replace")
    assert "42" in text and "answer" in text and "cases" in text
    history = Path(os.environ["BENCH_HOME"]) / "sql_history"
    assert "select 40 + 2 as answer;" in history.read_text()
