"""The gate from the command line: check, compare, cost, pin, rollback --auto, alerts."""

from __future__ import annotations

import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from bench_analytics.fixtures import DEMO_START, simulate_run, synthetic_patients, write_results
from tests import samples

PATIENTS = synthetic_patients(150, seed=21)


def _files(tmp_path, shifts, model="medgemma", **kwargs):
    return samples.simulated_files(tmp_path / "runs", PATIENTS, shifts, model, **kwargs)


@pytest.fixture
def receiver():
    """A real HTTP server on 127.0.0.1 that records JSON posts (/fail answers 500)."""
    received: list[tuple[str, dict]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append((self.path, json.loads(body)))
            self.send_response(500 if self.path.startswith("/fail") else 200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1], received
    server.shutdown()


def test_check_exits_1_on_a_regression_and_writes_the_summary(cli, use_db, tmp_path, monkeypatch):
    good, bad = _files(tmp_path, [0.0, -0.35])
    assert cli("push", good).code == 0
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    result = cli("check", bad, "--report", tmp_path / "report.md")
    assert result.code == 1, result
    assert "❌ Significant regression of f1, recall" in result.out
    assert "| **f1** (gated) |" in result.out and "🔻 regression" in result.out
    assert "version 1 of medgemma/demo-patients-v1/v2-structured/github-actions" in result.out
    assert summary.read_text() == result.out + "\n"
    assert (tmp_path / "report.md").read_text() == result.out
    never = cli("check", bad, "--fail-on", "never", "--json")
    assert never.code == 0
    verdict = json.loads(never.out)
    assert verdict["regression"] is True
    assert verdict["comparison"]["method"] == "paired"
    assert {
        v["metric"]
        for v in verdict["comparison"]["verdicts"]
        if v["decision"] == "regression" and v["gated"]
    } == {"f1", "recall"}
    with_count = cli("check", bad)
    assert with_count.code == 1  # check writes nothing: the store still has one run
    assert json.loads(cli("snapshots", "--json").out)[0]["versions"] == 1


def test_check_passes_a_healthy_change(cli, use_db, tmp_path):
    good, same = _files(tmp_path, [0.0, 0.0])
    cli("push", good)
    result = cli("check", same)
    assert result.code == 0 and "✅ No significant regression" in result.out
    assert "detectable:" in result.out  # the minimum detectable effect is shown


def test_check_first_version_and_failed_runs(cli, use_db, tmp_path):
    [first] = _files(tmp_path, [0.0])
    result = cli("check", first)
    assert result.code == 0 and "nothing to compare with" in result.out
    [down] = write_results([simulate_run("medgemma", PATIENTS, outage="HTTP 503")], tmp_path / "d")
    cli("push", first)
    failed = cli("check", down)
    assert failed.code == 0 and "failed the health check" in failed.out


def test_check_against_a_file_needs_no_store(cli, tmp_path, monkeypatch):
    monkeypatch.setenv("CI", "true")
    good, bad = _files(tmp_path, [0.0, -0.35])
    result = cli("check", bad, "--baseline", good)
    assert result.code == 1 and f"the file {good}" in result.out
    warned = cli("check", bad)
    assert warned.code == 0 and "no baseline to check against" in warned.err
    assert cli("check", bad, "--require-store").code == 3


def test_check_usage_errors(cli, use_db, tmp_path):
    good, bad = _files(tmp_path, [0.0, -0.35])
    cli("push", good)
    assert cli("check", bad, "--fail-on", "sometimes").code == 2
    pinned = cli("check", bad, "--baseline", "pinned")
    assert pinned.code == 2 and "bench-analytics pin" in pinned.err
    assert cli("check", bad, "--baseline", "nope@1").code == 2
    assert cli("check", bad, "--baseline", "missing.json").code == 2


def test_compare_files_refs_and_json(cli, use_db, tmp_path):
    a, b, c = _files(tmp_path, [0.0, -0.35, 0.0])
    files = cli("compare", a, b)
    assert files.code == 0 and "regression" in files.out and "paired, n=150" in files.out
    assert cli("push", a, b, c, "--force").code == 0
    refs = json.loads(cli("compare", "medgemma@1", "medgemma@2", "--json").out)
    assert refs["method"] == "paired" and refs["regression"] is True
    by_tx = json.loads(cli("compare", "tx:1", "#3", "--json").out)
    assert by_tx["regression"] is False
    markdown = cli("compare", "medgemma@1", "medgemma@current", "--markdown")
    assert markdown.out.startswith("### ")
    assert cli("compare", "medgemma@9", "medgemma@1").code == 2


def test_pin_and_auto_rollback_commands(cli, use_db, tmp_path):
    a, b, c = _files(tmp_path, [0.0, 0.0, -0.35])
    cli("push", a, b)
    cli("push", c, "--force")
    assert json.loads(cli("snapshots", "--json").out)[0]["version"] == 3
    rolled = cli("rollback", "medgemma", "--auto", "--reason", "regressed")
    assert rolled.code == 0 and "3 -> 2" in rolled.out
    assert cli("rollback", "medgemma").code == 2  # neither --to-version nor --auto
    assert cli("pin", "medgemma", "--version", "1").code == 0
    result = cli("check", c, "--baseline", "pinned")
    assert result.code == 1 and "the pinned baseline" in result.out
    assert cli("pin", "medgemma").code == 2
    assert cli("pin", "medgemma", "--clear").code == 0


def test_push_held_output(cli, use_db, tmp_path):
    good, bad = _files(tmp_path, [0.0, -0.35])
    cli("push", good)
    result = cli("push", bad)
    assert result.code == 0  # a hold is not an error: the result is stored
    assert "held: regression" in result.out and "held: significant regression" in result.out


def test_cost_command(cli, use_db, tmp_path):
    files = _files(tmp_path, [0.0, 0.0], model="openai")
    cli("push", *files)
    table = cli("cost", "--since", "all")
    assert table.code == 0 and "openai" in table.out and "$" in table.out
    [row] = json.loads(cli("cost", "--since", "all", "--json").out)
    assert row["runs"] == 2 and row["cost_usd"] > 0 and row["cost_per_detected_issue_usd"] > 0
    by_month = json.loads(cli("cost", "--since", "2026-01-01", "--by", "month", "--json").out)
    assert by_month[0]["group"] == DEMO_START.strftime("%Y-%m")
    assert "No runs since 1d" in cli("cost", "--since", "1d").out
    assert cli("cost", "--since", "yesterday").code == 2
    assert cli("cost", "--by", "team").code == 2


def test_alerts_reach_a_real_webhook_and_failures_do_not_fail_the_push(
    cli, use_db, tmp_path, monkeypatch, receiver
):
    port, received = receiver
    good, bad = _files(tmp_path, [0.0, -0.35])
    [down] = write_results(
        [
            simulate_run(
                "medgemma", PATIENTS, outage="HTTP 503", when=DEMO_START + timedelta(days=9)
            )
        ],
        tmp_path / "down",
    )
    monkeypatch.setenv(
        "BENCH_ALERT_URLS", f"json://127.0.0.1:{port}/ok json://127.0.0.1:{port}/fail"
    )
    monkeypatch.setenv("BENCH_LINK", "https://ci.example/run/1")
    assert cli("push", good).code == 0
    assert received == []  # nothing to alert about
    result = cli("push", bad, down)
    assert result.code == 0
    delivered = [body for path, body in received if path == "/ok"]
    titles = sorted(body["title"] for body in delivered)
    assert len(titles) == 3
    assert titles[0].startswith("Regression in f1: medgemma")
    assert titles[1].startswith("Regression in recall: medgemma")
    assert titles[2].startswith("Run failed (endpoint, not model): medgemma")
    regression = next(b for b in delivered if b["title"].startswith("Regression in f1"))
    assert "delta -0." in regression["message"] and "[-0." in regression["message"]
    assert f"commit: {1:040x}" in regression["message"]
    assert "link: https://ci.example/run/1" in regression["message"]
    assert regression["type"] == "failure"
    assert result.err.count("alert not delivered") == 3
    assert "json://127.0.0.1:" in result.err and "/fail" not in result.err  # URL masked


def test_invalid_alert_url_is_reported(cli, use_db, tmp_path, monkeypatch):
    monkeypatch.setenv("BENCH_ALERT_URLS", "nonsense-scheme://x")
    good, bad = _files(tmp_path, [0.0, -0.35])
    cli("push", good)
    result = cli("push", bad)
    assert result.code == 0 and "not a valid apprise URL" in result.err


def test_show_prints_intervals(cli, use_db, tmp_path):
    [path] = _files(tmp_path, [0.0])
    table = cli("show", path)
    assert table.code == 0 and "95% interval" in table.out and "Wilson" in table.out
    cli("push", path)
    estimates = {e["metric"]: e for e in json.loads(cli("show", "medgemma@current", "--json").out)}
    assert estimates["f1"]["low"] < estimates["f1"]["value"] < estimates["f1"]["high"]
    assert estimates["success_rate"]["method"] == "Jeffreys"
