"""The benchmark-persist and run-benchmarks jobs played here step by step, as GitHub runs
them, over artifacts laid out as download-artifact delivers them (tests/workflow_play.py)."""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bench_analytics.api import Bench
from bench_analytics.fixtures import synthetic_patients
from tests import samples
from tests.workflow_play import BIN, clean_env, play_persist, play_run_benchmarks


@pytest.fixture(scope="module")
def result_files() -> Iterator[dict[str, Path]]:
    """Real result files, as the run-benchmarks jobs write them: the baseline model over a
    small seeded case set, and a model whose endpoint was down (stored as failed)."""
    root = Path(tempfile.mkdtemp(prefix="bench-workflow-results-"))
    env = {**clean_env(), "BENCH_REQUEST_RETRIES": "0", "OPENAI_API_KEY": "not-used"}
    cli = str(BIN / "bench-analytics")

    def call(*args: str) -> None:
        done = subprocess.run(
            [cli, *args], cwd=root, env=env, capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, done.stdout + done.stderr

    call("cases", "generate", "--patients", "24", "--seed", "7", "-o", "cases")
    call("run", "--model", "baseline", "--cases", "cases", "-o", "baseline")
    call(
        "run", "--model", "openai-compatible:m@http://127.0.0.1:9", "--cases", "cases", "-o", "down"
    )
    files = {name: next((root / name).glob("*.json")) for name in ("baseline", "down")}
    yield files
    shutil.rmtree(root, ignore_errors=True)


def _artifacts(result_files: dict[str, Path]) -> dict[str, list[Path]]:
    return {
        "results-baseline": [result_files["baseline"]],
        "results-openai-compatible-m-http---127.0.0.1-9": [result_files["down"]],
    }


def _stored_rows(url: str) -> dict[str, int]:
    with Bench(url) as bench:
        rows = bench.status().rows
    assert rows is not None
    return rows


def _snapshots(url: str) -> list[Any]:
    with Bench(url) as bench:
        return list(bench.snapshots())


@pytest.mark.slow
def test_play_persist_with_a_store_stores_and_reports_then_is_idempotent(
    db_url, result_files, tmp_path
):
    secrets = {"BENCH_DATABASE_URL": db_url}
    played = play_persist(
        tmp_path / "a", _artifacts(result_files), secrets=secrets, pull_request=None
    )
    assert played.failed == [], played.output

    snapshots = _snapshots(db_url)
    by_model = {row.model_key: row for row in snapshots}
    assert set(by_model) == {"baseline", "m"}, snapshots
    baseline = by_model["baseline"]
    assert baseline.version is not None and baseline.environment == "github-actions"
    assert baseline.commit_sha == "0123456789abcdef0123456789abcdef01234567"
    assert baseline.branch == "main"
    assert by_model["m"].version is None and by_model["m"].unhealthy == 1  # failed, never current

    verdict = (played.workspace / "reports" / "verdict.md").read_text(encoding="utf-8")
    assert verdict.strip() and verdict.strip() in played.summary
    assert list((played.workspace / "reports").glob("*.ipynb")), played.output
    assert list((played.workspace / "reports").glob("*.html")), played.output
    assert played.gh_calls == []  # not a pull request: no comment

    # (d) the same run's artifacts again (a re-run of the job): nothing new is stored
    rows = _stored_rows(db_url)
    again = play_persist(
        tmp_path / "d", _artifacts(result_files), secrets=secrets, pull_request=None
    )
    assert again.failed == [], again.output
    assert _stored_rows(db_url) == rows
    assert [(r.model_key, r.versions) for r in _snapshots(db_url)] == [
        (r.model_key, r.versions) for r in snapshots
    ]


@pytest.mark.slow
def test_play_persist_of_a_pull_request_gates_comments_and_stores_nothing(
    db_url, result_files, tmp_path
):
    """A pull request's results are gated against the store, never stored: they must not
    become the current snapshot before the change is merged."""
    secrets = {"BENCH_DATABASE_URL": db_url}
    played = play_persist(tmp_path, _artifacts(result_files), secrets=secrets, pull_request=42)
    assert played.failed == [], played.output
    assert _snapshots(db_url) == []
    verdict = (played.workspace / "reports" / "verdict.md").read_text(encoding="utf-8")
    assert "Check only" in verdict and verdict.strip() in played.summary
    assert played.gh_calls == ["pr comment 42 --repo acme/bench --body-file reports/verdict.md"]
    body = Path(str(tmp_path / "gh-calls.txt") + ".body").read_text(encoding="utf-8")
    assert body == verdict


@pytest.mark.slow
def test_play_persist_without_a_store_warns_and_stores_nothing(db_url, result_files, tmp_path):
    secrets: dict[str, str] = {}  # a fork, a new clone: the secret is not set
    played = play_persist(tmp_path, _artifacts(result_files), secrets=secrets, pull_request=None)
    assert played.failed == [], played.output
    assert re.search(r"^::warning( [^:]*)?::", played.step("Ingest")[2], re.M), played.output
    assert re.search(
        r"not (been )?(stored|persisted)|nothing (was )?(stored|persisted)",
        played.summary,
        re.IGNORECASE,
    ), played.summary
    # no embedded store in CI (an empty BENCH_DATABASE_URL must not start one)
    assert not (tmp_path / "bench-home").exists(), played.output
    assert not (played.workspace / ".bench").exists()
    assert _snapshots(db_url) == []
    assert played.gh_calls == []  # not a pull request: no comment


@pytest.mark.slow
def test_play_persist_refuses_a_merge_conflicted_result(db_url, result_files, tmp_path):
    good = result_files["baseline"].read_text(encoding="utf-8").splitlines(keepends=True)
    conflicted = tmp_path / "conflicted" / result_files["baseline"].name
    conflicted.parent.mkdir()
    conflicted.write_text(
        "".join(
            [*good[:3], "<<<<<<< HEAD\n", *good[3:6], "=======\n", ">>>>>>> other\n", *good[3:]]
        ),
        encoding="utf-8",
    )
    artifacts = {"results-baseline": [conflicted], "results-down": [result_files["down"]]}
    played = play_persist(
        tmp_path / "play", artifacts, secrets={"BENCH_DATABASE_URL": db_url}, pull_request=None
    )
    name, code, output = played.step("Ingest")
    assert code != 0, played.output
    assert conflicted.name in output and "merge-conflict" in output, output
    assert played.failed == [name]  # the always() steps after it still ran, and passed
    assert _snapshots(db_url) == []  # one refused file stores none of them


@pytest.mark.slow
def test_play_persist_on_a_regression_fails_yet_reports_and_comments(db_url, tmp_path):
    """Exit 1 on a significant regression: the job fails, and its verdict still reaches the
    summary and the pull request (the always() steps guarded on reports/verdict.md)."""
    good, bad = samples.simulated_files(
        tmp_path / "runs", synthetic_patients(150, seed=21), [0.0, -0.35]
    )
    secrets = {"BENCH_DATABASE_URL": db_url}
    first = play_persist(
        tmp_path / "main", {"results-medgemma": [good]}, secrets=secrets, pull_request=None
    )
    assert first.failed == [], first.output
    played = play_persist(
        tmp_path / "pr", {"results-medgemma": [bad]}, secrets=secrets, pull_request=7
    )
    name, code, _ = played.step("Ingest")
    assert code == 1, played.output
    assert played.failed == [name], played.output
    verdict = (played.workspace / "reports" / "verdict.md").read_text(encoding="utf-8")
    assert "regression" in verdict.lower()
    assert verdict.strip() in played.summary
    assert played.gh_calls == ["pr comment 7 --repo acme/bench --body-file reports/verdict.md"]
    assert list((played.workspace / "reports").glob("*.html")), played.output


@pytest.mark.slow
def test_play_run_benchmarks_a_failed_endpoint_fails_its_job_after_writing_the_result(tmp_path):
    down = play_run_benchmarks(
        tmp_path / "down",
        "openai-compatible:m@http://127.0.0.1:9",
        False,
        secrets={},
        event_name="schedule",
    )
    name, code, output = down.step("Run the benchmark")
    assert code == 1 and down.failed == [name], down.output
    assert "::error title=openai-compatible:m@http://127.0.0.1:9 failed::" in output
    results = list((down.workspace / "results").glob("*.json"))
    assert len(results) == 1  # written: the upload (if: always()) carries it to the store
    assert "| failed |" in down.summary, down.summary

    ok = play_run_benchmarks(tmp_path / "ok", "baseline", False, secrets={}, event_name="schedule")
    assert ok.failed == [], ok.output
    assert len(list((ok.workspace / "results").glob("*.json"))) == 1
    assert list((ok.workspace / "results").iterdir()) == list(
        (ok.workspace / "results").glob("*.json")
    )  # only result files: the ingest glob takes every *.json of the artifact


@pytest.mark.slow
def test_play_run_benchmarks_without_the_key(tmp_path):
    """A pull request gets no secrets: a model that needs a key is skipped with a warning;
    elsewhere the missing key fails its job (exit 2 of the CLI, nothing written)."""
    model = "openai:gpt-4o-mini"
    skipped = play_run_benchmarks(
        tmp_path / "pr", model, True, secrets={}, event_name="pull_request"
    )
    assert skipped.failed == [], skipped.output
    assert "::warning::" in skipped.step("Run the benchmark")[2]
    nightly = play_run_benchmarks(tmp_path / "cron", model, True, secrets={}, event_name="schedule")
    _, code, output = nightly.step("Run the benchmark")
    assert code == 2 and "OPENAI_API_KEY" in output, nightly.output
