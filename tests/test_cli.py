"""The CLI end to end: convert, push, snapshots, history, rollback, quarantine, db, schema."""

from __future__ import annotations

import json
import subprocess

import psycopg
import pytest

from bench_analytics.fixtures import simulate_run, synthetic_patients, write_results
from bench_analytics.schema import SCHEMA_FILE
from bench_analytics.store.schema import HEAD_REVISION
from tests import samples
from tests.conftest import run_cli_process


def _count(url: str, table: str = "benchmark_transactions") -> int:
    with psycopg.connect(url) as conn:
        return conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def _native(tmp_path, model="openai", **kwargs):
    run = simulate_run(model, synthetic_patients(12, seed=5), **kwargs)
    return write_results([run], tmp_path / "native")[0]


# --- convert -----------------------------------------------------------------------------


def test_convert_one_file(cli, tmp_path):
    src = samples.write(tmp_path / "aggregated_metrics_openai.json", samples.document_results())
    result = cli("convert", src, "-o", tmp_path / "out.json")
    assert result.code == 0, result
    data = json.loads((tmp_path / "out.json").read_text())
    assert data["schema"] == "bench-analytics/result"
    assert data["model"]["key"] == "openai"
    assert data["metrics"]["extraction_accuracy"] == 1.0


def test_convert_many_into_a_directory(cli, tmp_path):
    rows = [
        samples.export_row(f"id-{i}", f"2026-02-05T0{i}:00:00+00:00", "Heuristic Baseline")
        for i in range(3)
    ]
    src = samples.write(tmp_path / "export.json", rows)
    result = cli("convert", src, "-o", tmp_path / "converted")
    assert result.code == 0, result
    files = sorted((tmp_path / "converted").glob("*.json"))
    assert len(files) == 3
    assert all(f.name.startswith("baseline__v1__benchmark-set-v1__") for f in files)


def test_convert_many_into_one_file_is_refused(cli, tmp_path):
    rows = [
        samples.export_row(f"id-{i}", f"2026-02-05T0{i}:00:00+00:00", "baseline") for i in range(2)
    ]
    src = samples.write(tmp_path / "export.json", rows)
    result = cli("convert", src, "-o", tmp_path / "out.json")
    assert result.code == 2
    assert "give a directory" in result.err
    assert not (tmp_path / "out.json").exists()


def test_convert_with_a_bad_file_writes_nothing(cli, tmp_path):
    samples.write(tmp_path / "in" / "good.json", samples.document_results())
    (tmp_path / "in" / "bad.json").write_text('{"a": 1,\n<<<<<<< HEAD\n}')
    result = cli("convert", tmp_path / "in", "-o", tmp_path / "out")
    assert result.code == 2
    assert "bad.json: line 2: unresolved git merge-conflict marker" in result.err
    assert "nothing was written" in result.err
    assert not (tmp_path / "out").exists()


def test_convert_with_model_override(cli, tmp_path):
    src = samples.write(tmp_path / "m.json", samples.monitoring_result())
    assert cli("convert", src, "--model", "medgemma-4b", "-o", tmp_path / "o.json").code == 0
    assert json.loads((tmp_path / "o.json").read_text())["model"]["key"] == "medgemma-4b"
    bad = cli("convert", src, "--model", "Not A Key", "-o", tmp_path / "p.json")
    assert bad.code == 2 and "model key 'Not A Key' is not valid" in bad.err


# --- push ----------------------------------------------------------------------------------


def test_push_reports_transaction_and_version(cli, use_db, tmp_path):
    path = _native(tmp_path)
    result = cli("push", path)
    assert result.code == 0, result
    assert "current" in result.out and "1 new, 0 unchanged" in result.out
    again = cli("push", path, "--json")
    [outcome] = json.loads(again.out)
    assert outcome["created"] is False and outcome["version"] == 1
    assert _count(use_db) == 1


def test_push_the_same_content_under_another_name(cli, use_db, tmp_path):
    path = _native(tmp_path)
    copy = tmp_path / "renamed.json"
    copy.write_bytes(path.read_bytes())
    first = json.loads(cli("push", path, "--json").out)[0]
    second = json.loads(cli("push", copy, "--json").out)[0]
    assert second["transaction_id"] == first["transaction_id"] and not second["created"]


def test_push_a_bad_batch_writes_nothing(cli, use_db, tmp_path):
    samples.write(tmp_path / "in" / "a.json", samples.document_results())
    samples.write(tmp_path / "in" / "b.json", samples.document_results(n=2, total_documents=16))
    result = cli("push", tmp_path / "in")
    assert result.code == 2
    assert "b.json: field individual_results: holds 2 results but declares 16" in result.err
    assert "1 of 2 files: refused; nothing was written" in result.err
    assert _count(use_db) == 0
    skipped = cli("push", tmp_path / "in", "--skip-invalid", "--json")
    assert skipped.code == 2  # something was refused: said, and the exit code shows it
    assert len(json.loads(skipped.out)) == 1 and "refused" in skipped.err
    assert _count(use_db) == 1


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        ("", "the file is empty"),
        ('{"metrics": {"f1": NaN}}', "NaN where a number is required"),
        ("[1, 2", "invalid JSON"),
        ('{"hello": 1}', "not a known result format"),
    ],
)
def test_push_bad_input_exits_2(cli, use_db, tmp_path, content, fragment):
    (tmp_path / "bad.json").write_text(content)
    result = cli("push", tmp_path / "bad.json")
    assert result.code == 2
    assert fragment in result.err
    assert _count(use_db) == 0


def test_push_empty_directory_exits_2(cli, use_db, tmp_path):
    (tmp_path / "nothing").mkdir()
    result = cli("push", tmp_path / "nothing")
    assert result.code == 2 and "no result files" in result.err


def test_push_context_flags_and_tags(cli, use_db, tmp_path):
    path = samples.write(tmp_path / "p.json", samples.patient_results())
    result = cli(
        "push",
        path,
        "--environment",
        "staging",
        "--commit-sha",
        "c0ffee",
        "--branch",
        "feature/x",
        "--run-id",
        "77",
        "--triggered-by",
        "alice",
        "--tags",
        "nightly,gpu",
        "--tags",
        "extra",
        "--notes",
        "first try",
        "--json",
    )
    assert result.code == 0, result
    with psycopg.connect(use_db) as conn:
        row = conn.execute(
            "SELECT environment, commit_sha, branch, run_id, triggered_by, tags, notes "
            "FROM benchmark_transactions"
        ).fetchone()
    assert row == (
        "staging",
        "c0ffee",
        "feature/x",
        "77",
        "alice",
        ["nightly", "gpu", "extra"],
        "first try",
    )


def test_push_defaults_come_from_github_actions(cli, use_db, tmp_path, monkeypatch):
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_SHA", "f" * 40)
    monkeypatch.setenv("GITHUB_REF_NAME", "main")
    monkeypatch.setenv("GITHUB_ACTOR", "ci-user")
    monkeypatch.setenv("GITHUB_RUN_ID", "4242")
    path = samples.write(tmp_path / "d.json", samples.document_results())
    assert cli("push", path).code == 0
    with psycopg.connect(use_db) as conn:
        row = conn.execute(
            "SELECT environment, commit_sha, branch, triggered_by, run_id "
            "FROM benchmark_transactions"
        ).fetchone()
    assert row == ("github-actions", "f" * 40, "main", "ci-user", "4242")


def test_push_defaults_come_from_git(cli, use_db, tmp_path):
    repo = tmp_path / "repo"
    repo.mkdir()
    for args in (
        ["init", "-q", "-b", "trunk"],
        ["config", "user.name", "Dana"],
        ["config", "user.email", "d@example.com"],
        ["commit", "-q", "--allow-empty", "-m", "x"],
    ):
        subprocess.run(["git", *args], cwd=repo, check=True)
    sha = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True, text=True, check=True
    ).stdout.strip()
    path = samples.write(repo / "d.json", samples.document_results())
    import os

    os.chdir(repo)
    assert cli("push", path).code == 0
    with psycopg.connect(use_db) as conn:
        row = conn.execute(
            "SELECT environment, commit_sha, branch, triggered_by FROM benchmark_transactions"
        ).fetchone()
    assert row == ("local", sha, "trunk", "Dana")


def test_export_rows_keep_their_own_environment_and_commit(cli, use_db, tmp_path, monkeypatch):
    monkeypatch.setenv("GITHUB_SHA", "e" * 40)
    rows = [
        samples.export_row(
            "a",
            "2026-02-05T04:26:30+00:00",
            "baseline-v1.0",
            environment="github-actions",
            commit_sha="1" * 40,
        )
    ]
    assert cli("push", samples.write(tmp_path / "x.json", rows)).code == 0
    with psycopg.connect(use_db) as conn:
        row = conn.execute(
            "SELECT environment, commit_sha, legacy_id, source_format FROM benchmark_transactions"
        ).fetchone()
    assert row == ("github-actions", "1" * 40, "a", "supabase-export")


def test_ci_without_a_store_warns_and_exits_0(cli, tmp_path, monkeypatch):
    monkeypatch.setenv("CI", "true")
    path = _native(tmp_path)
    result = cli("push", path)
    assert result.code == 0
    assert "BENCH_DATABASE_URL is not set in CI" in result.err
    assert not (tmp_path / ".bench").exists()  # nothing started
    strict = cli("push", path, "--require-store")
    assert strict.code == 3
    (tmp_path / "bad.json").write_text("{")
    assert cli("push", tmp_path / "bad.json").code == 2  # bad input still fails


def test_unreachable_store_exits_3_without_the_password(cli, tmp_path, monkeypatch):
    monkeypatch.setenv("BENCH_DATABASE_URL", "postgresql://bench:s3cret-pw@127.0.0.1:9/bench")
    result = cli("push", _native(tmp_path))
    assert result.code == 3
    assert "cannot reach the store at postgresql://bench:***@127.0.0.1:9/bench" in result.err
    assert "s3cret-pw" not in result.err + result.out
    assert "after 2 attempts" in result.err
    assert cli("snapshots").code == 3


# --- read side and pointer -------------------------------------------------------------------


def _history(tmp_path, days=3):
    from datetime import timedelta

    from bench_analytics.fixtures import DEMO_START

    patients = synthetic_patients(12, seed=5)
    runs = [
        simulate_run("medgemma", patients, commit=f"{d:040x}", when=DEMO_START + timedelta(days=d))
        for d in range(days)
    ]
    return write_results(runs, tmp_path / "hist")


def test_snapshots_history_rollback_quarantine(cli, use_db, tmp_path):
    assert "no results yet" in cli("snapshots").out
    assert cli("push", *_history(tmp_path)).code == 0
    table = cli("snapshots")
    assert table.code == 0 and "medgemma" in table.out and "3/3" in table.out
    [snap] = json.loads(cli("snapshots", "--json").out)
    assert snap["version"] == 3 and snap["effective_status"] == "healthy"

    hist = cli("history", "medgemma")
    assert hist.code == 0 and "Pointer events" in hist.out and "●" in hist.out

    rolled = cli("rollback", "medgemma", "--to-version", "1", "--reason", "bad prompt")
    assert rolled.code == 0 and "rollback: 3 -> 1" in rolled.out
    assert json.loads(cli("snapshots", "--json").out)[0]["version"] == 1

    tx = json.loads(cli("history", "medgemma", "--json").out)[0]["versions"][0]["transaction_id"]
    quarantined = cli("quarantine", tx, "--reason", "endpoint outage", "--json")
    assert quarantined.code == 0
    move = json.loads(quarantined.out)
    assert (move["event"], move["from_version"], move["to_version"]) == ("quarantine", 1, 3)
    # none healthy before version 1: back to the newest healthy version
    assert json.loads(cli("snapshots", "--json").out)[0]["version"] == 3

    refused = cli("rollback", "medgemma", "--to-version", "1")
    assert refused.code == 2 and "--force" in refused.err
    missing = cli("rollback", "nobody", "--to-version", "1")
    assert missing.code == 2 and "models: medgemma" in missing.err
    events = json.loads(cli("history", "medgemma", "--json").out)[0]["events"]
    assert [e["event_type"] for e in events] == ["promote"] * 3 + ["rollback", "quarantine"]


def test_quarantine_unknown_transaction(cli, use_db):
    result = cli("quarantine", "12345", "--reason", "x")
    assert result.code == 2 and "no transaction 12345" in result.err


def test_db_status_and_upgrade(cli, use_db):
    status = cli("db", "status")
    assert status.code == 0 and f"schema:   {HEAD_REVISION}" in status.out
    info = json.loads(cli("db", "status", "--json").out)
    assert info["revision"] == info["head"] and info["embedded"] is False
    assert f"already at {HEAD_REVISION}" in cli("db", "upgrade").out


def test_db_upgrade_on_an_empty_database(cli, empty_db_url, monkeypatch):
    monkeypatch.setenv("BENCH_DATABASE_URL", empty_db_url)
    status = cli("db", "status")
    assert "empty" in status.out and "db upgrade" in status.out
    assert f"schema empty -> {HEAD_REVISION}" in cli("db", "upgrade").out


def test_schema_command(cli, tmp_path):
    result = cli("schema")
    assert result.code == 0
    assert json.loads(result.out)["$id"].endswith("result-v1.json")
    assert result.out == SCHEMA_FILE.read_text()
    assert cli("schema", "-o", tmp_path / "s.json").code == 0
    assert (tmp_path / "s.json").read_text() == SCHEMA_FILE.read_text()


@pytest.mark.parametrize(
    "command",
    [
        "convert",
        "push",
        "schema",
        "snapshots",
        "history",
        "rollback",
        "quarantine",
        "demo",
        "check",
        "compare",
        "show",
        "pin",
        "cost",
        "run",
    ],
)
def test_every_command_has_help_with_examples(cli, command):
    result = cli(command, "--help")
    assert result.code == 0
    assert "Examples" in result.out and f"bench-analytics {command}" in result.out


@pytest.mark.parametrize("command", ["generate", "show"])
def test_cases_subcommands_have_examples(cli, command):
    result = cli("cases", command, "--help")
    assert result.code == 0 and f"bench-analytics cases {command}" in result.out


def test_usage_errors_exit_2(cli):
    assert cli("push").code == 2
    assert cli("rollback", "x").code == 2  # --to-version missing
    assert cli("no-such-command").code == 2


def test_module_entry_point_and_version():
    done = run_cli_process("--version")
    assert done.returncode == 0 and done.stdout.startswith("bench-analytics ")


def test_malformed_database_url_exits_3_masked(cli, tmp_path, monkeypatch):
    monkeypatch.setenv("BENCH_DATABASE_URL", "host=/nonexistent password=hunter2 dbname=x")
    result = cli("snapshots")
    assert result.code == 3
    assert "hunter2" not in result.err and "password=***" in result.err


def test_snapshots_filter_without_match(cli, use_db, tmp_path):
    assert cli("push", _native(tmp_path)).code == 0
    assert "No configuration matches" in cli("snapshots", "--model", "nobody").out
