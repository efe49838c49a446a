"""`cases` and `run` from the command line, against a real local endpoint and store."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import psycopg
import pytest

from bench_analytics.formats import read_file
from bench_analytics.runner.case_folders import read_case_set
from tests.conftest import REPO
from tests.fake_openai import FakeOpenAI, expected_of


@pytest.fixture
def cases_dir(cli, tmp_path):
    result = cli("cases", "generate", "--patients", "20", "--seed", "3", "-o", tmp_path / "cases")
    assert result.code == 0, result
    assert "wrote 20 cases" in result.out
    return tmp_path / "cases"


def test_cases_generate_and_show(cli, cases_dir):
    shown = json.loads(cli("cases", "show", cases_dir, "--json").out)
    assert shown["cases"] == 20 and shown["version"].startswith("synthetic-s3-n20-")
    assert sum(shown["issues"].values()) > 10
    assert "clean" in cli("cases", "show", cases_dir).out
    assert cli("cases", "show", cases_dir / "nope").code == 2


def test_run_baseline_writes_native_and_legacy(cli, cases_dir, tmp_path):
    out = tmp_path / "results"
    result = cli(
        "run", "--model", "baseline", "--cases", cases_dir, "-o", out, "--emit-legacy", "--json"
    )
    assert result.code == 0, result
    summary = json.loads(result.out)
    assert summary["status"] == "healthy" and summary["cases"] == 20
    native = read_file(out / summary["file"].split("/")[-1])[0]
    assert native.model.key == "baseline" and native.dataset.version == summary["dataset_version"]
    assert native.provenance.commit_sha is None or len(native.provenance.commit_sha) == 40
    legacy = read_file(out / "patient_benchmark_baseline.json")[0]
    assert legacy.provenance.source_format == "seed-patients"
    assert [(c.tp, c.fp, c.fn) for c in legacy.cases] == [(c.tp, c.fp, c.fn) for c in native.cases]
    assert legacy.metrics["f1"] == pytest.approx(native.metrics["f1_macro"])


def test_run_against_an_endpoint_and_push(cli, use_db, cases_dir, tmp_path):
    case_set = read_case_set(cases_dir)
    with FakeOpenAI(expected_of(case_set)) as server:
        result = cli(
            "run",
            "--model",
            f"openai-compatible:correct@{server.url}",
            "--cases",
            cases_dir,
            "-o",
            tmp_path / "r",
            "--push",
            "--concurrency",
            "4",
        )
    assert result.code == 0, result
    assert "F1 1.000" in result.out and "current" in result.out
    with psycopg.connect(use_db) as conn:
        row = conn.execute("SELECT model_key, status, case_count, f1 FROM benchmark_transactions")
        assert row.fetchone() == ("correct", "healthy", 20, 1.0)


def test_a_sleeping_endpoint_is_a_failed_run(cli, use_db, cases_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("BENCH_REQUEST_RETRIES", "0")
    with FakeOpenAI() as server:
        result = cli(
            "run",
            "--model",
            f"openai-compatible:down@{server.url}",
            "--cases",
            cases_dir,
            "-o",
            tmp_path / "r",
            "--push",
        )
    assert result.code == 0
    assert "run failed: 20/20 cases failed: HTTP 503" in result.out
    with psycopg.connect(use_db) as conn:
        assert conn.execute("SELECT status FROM benchmark_transactions").fetchone() == ("failed",)
        assert conn.execute("SELECT count(*) FROM current_snapshots").fetchone() == (0,)


def test_openai_key_from_the_environment_never_printed(cli, cases_dir, tmp_path, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    missing = cli("run", "--model", "openai:gpt-4o-mini", "--cases", cases_dir)
    assert missing.code == 2 and "$OPENAI_API_KEY" in missing.err
    monkeypatch.setenv("MY_KEY", "sk-very-secret")
    monkeypatch.setenv("BENCH_API_KEY_ENV", "MY_KEY")
    with FakeOpenAI(expected_of(read_case_set(cases_dir))) as server:
        monkeypatch.setenv("BENCH_OPENAI_BASE_URL", server.url)
        result = cli("run", "--model", "openai:correct", "--cases", cases_dir, "-o", tmp_path / "r")
        assert set(server.authorizations) == {"Bearer sk-very-secret"}
    assert result.code == 0, result
    written = "".join(p.read_text() for p in (tmp_path / "r").glob("*.json"))
    assert "sk-very-secret" not in result.out + result.err + written


def test_replay_from_the_cli(cli, cases_dir, tmp_path):
    first = json.loads(
        cli("run", "--model", "baseline", "--cases", cases_dir, "-o", tmp_path / "a", "--json").out
    )
    replay = json.loads(
        cli(
            "run",
            "--model",
            f"replay:{first['file']}",
            "--cases",
            cases_dir,
            "-o",
            tmp_path / "b",
            "--json",
        ).out
    )
    assert replay["f1"] == first["f1"] and replay["recall"] == first["recall"]
    assert replay["model"] == "baseline"


def test_run_usage_errors(cli, cases_dir):
    assert cli("run", "--model", "gpt5", "--cases", cases_dir).code == 2
    bad_key = cli("run", "--model", "baseline", "--cases", cases_dir, "--model-key", "Bad Key")
    assert bad_key.code == 2
    assert cli("run", "--model", "baseline").code == 2


@pytest.mark.slow
def test_ctrl_c_writes_nothing(cases_dir, tmp_path):
    out = tmp_path / "results"
    with FakeOpenAI(answer_before_hold=0) as server:  # every request is held: no race
        proc = _start_run(server, cases_dir, out)
        err = _interrupt_when(server, proc, requests=1)  # a request is in flight
    _assert_interrupted(proc, err, out)


# --- Ctrl-C at other moments and with SIGINT inherited as ignored ---------------------------


@pytest.mark.slow
def test_ctrl_c_between_cases_writes_nothing(cases_dir, tmp_path):
    out = tmp_path / "results"
    with FakeOpenAI(answer_before_hold=1) as server:  # the first case is answered
        proc = _start_run(server, cases_dir, out, "--concurrency", "1")
        err = _interrupt_when(server, proc, requests=2)  # so case 1 is done, case 2 asked
    _assert_interrupted(proc, err, out)


# a launcher that starts the CLI with SIGINT ignored, as `cmd &` in a non-interactive shell
# (make, CI scripts, test harnesses) does: Python keeps SIG_IGN, and asyncio.run then
# installs no handler of its own, so before the runner handled SIGINT itself the run
# ignored Ctrl-C and wrote its file (exit 0 after the whole run).
IGNORING_SIGINT = (
    "import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_IGN); "
    "os.execv(sys.executable, [sys.executable, *sys.argv[1:]])"
)


@pytest.mark.slow
def test_ctrl_c_stops_a_run_that_inherited_sigint_ignored(cases_dir, tmp_path):
    check = subprocess.run(
        [
            sys.executable,
            "-c",
            IGNORING_SIGINT,
            "-c",
            "import signal; print(signal.getsignal(signal.SIGINT) is signal.SIG_IGN)",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert check.stdout.strip() == "True", check  # the launcher really hands down SIG_IGN
    out = tmp_path / "results"
    with FakeOpenAI(answer_before_hold=0) as server:
        proc = _start_run(server, cases_dir, out, launcher=["-c", IGNORING_SIGINT])
        err = _interrupt_when(server, proc, requests=1)
    _assert_interrupted(proc, err, out)


def _start_run(
    server: FakeOpenAI, cases_dir, out, *extra: str, launcher: list[str] | None = None
) -> subprocess.Popen[str]:
    """`bench-analytics run` against the holding fake endpoint, in a subprocess."""
    env = {**os.environ, "BENCH_REQUEST_TIMEOUT": "30", "BENCH_REQUEST_RETRIES": "0"}
    args = [*(launcher or []), "-m", "bench_analytics", "run"]
    return subprocess.Popen(
        [
            sys.executable,
            *args,
            "--model",
            f"openai-compatible:hold@{server.url}",
            "--cases",
            str(cases_dir),
            "-o",
            str(out),
            *extra,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO,
        env=env,
    )


def _interrupt_when(server: FakeOpenAI, proc: subprocess.Popen[str], requests: int) -> str:
    """SIGINT once ``requests`` requests reached the server (the readiness signal); stderr."""
    try:
        deadline = time.monotonic() + 120  # only bounds a broken run; no race on it
        while not server.wait_for_requests(requests, timeout=0.5):
            assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
        assert proc.poll() is None, proc.communicate()
        proc.send_signal(signal.SIGINT)
        return proc.communicate(timeout=60)[1]  # held requests never end: only SIGINT does
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def _assert_interrupted(proc: subprocess.Popen[str], err: str, out) -> None:
    assert proc.returncode == 130, err
    assert err.strip().splitlines()[-1] == "interrupted: nothing was written", err
    assert "Traceback" not in err
    assert not out.exists() or not list(out.iterdir())
