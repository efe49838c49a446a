"""The evidence script runs end to end (a quick smoke run; the full run writes the docs)."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from tests.conftest import REALDATA, REPO

pytestmark = pytest.mark.slow


def test_evidence_script_quick_run(tmp_path):
    out = tmp_path / "statistics.md"
    env = {"PATH": "/usr/bin:/bin"}
    if REALDATA:
        env["BENCH_REALDATA"] = str(REALDATA)
    done = subprocess.run(
        [
            sys.executable,
            str(REPO / "benchmarks" / "stats" / "evidence.py"),
            "--quick",
            "--resamples",
            "300",
            "-o",
            str(out),
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    text = out.read_text()
    for heading in ("## 1. Calibration", "## 2. Power", "## 3. Real noise"):
        assert heading in text
    rates = re.findall(r"\| (\d+) \| ([\d.]+) % \[", text)
    assert {n for n, _ in rates} >= {"50", "200"}
    assert all(0 <= float(rate) <= 100 for _, rate in rates)
    if REALDATA:
        assert "safetensors/safetensors" in text and "crowd-kit" in text


def test_committed_statistics_page_has_every_table():
    text = (REPO / "docs" / "statistics.md").read_text()
    assert "| 500 |" in text  # the full run, not the quick one
    assert "10 points" in text and "github-action-benchmark 200 %" in text
