"""The command line's promises: exit codes that mean one thing, settings checked, output that
fits and never garbles a value, every read under the read-only role."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path

import psycopg
import pytest

from bench_analytics.fixtures import DEMO_START, simulate_run, synthetic_patients, write_results
from bench_analytics.model import CaseResult, DatasetRef, ModelRef, RunResult
from tests import samples
from tests.conftest import REALDATA

PATIENTS = synthetic_patients(120, seed=9)


def _files(folder: Path, shifts: list[float], model: str = "medgemma", **kwargs) -> list[Path]:
    return samples.simulated_files(folder, PATIENTS, shifts, model, **kwargs)


# --- exit codes ------------------------------------------------------------------------


def test_an_unexpected_failure_is_exit_4_with_one_line(cli, use_db, monkeypatch):
    from bench_analytics.api import Bench

    def broken(self, **kwargs):
        raise RuntimeError("disk on fire\nsecond line")

    monkeypatch.setattr(Bench, "snapshots", broken)
    result = cli("snapshots")
    assert result.code == 4
    assert result.err.strip().splitlines() == [
        "error: unexpected RuntimeError: disk on fire (BENCH_DEBUG=1 shows the traceback)"
    ]
    monkeypatch.setenv("BENCH_DEBUG", "1")
    debug = cli("snapshots")
    assert debug.code == 4 and "Traceback (most recent call last)" in debug.err


def test_a_schema_older_than_the_package_is_exit_3(cli, empty_db_url, monkeypatch):
    from bench_analytics.store import Store, schema

    with Store.open(empty_db_url, migrate=False) as store:
        schema.upgrade(store.conn, empty_db_url, target="0001")
    monkeypatch.setenv("BENCH_DATABASE_URL", empty_db_url)
    result = cli("snapshots")
    assert result.code == 3 and "run `bench-analytics db upgrade`" in result.err
    assert cli("db", "upgrade").code == 0
    assert cli("snapshots").code == 0


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("BENCH_MIN_EFFECT", '{"f1": "two points"}', "BENCH_MIN_EFFECT: threshold of 'f1'"),
        ("BENCH_MIN_EFFECT", '{"f2": "0.02"}', "BENCH_MIN_EFFECT: unknown metric 'f2'"),
        ("BENCH_MIN_EFFECT", "0.02", "BENCH_MIN_EFFECT: Input should be a valid dictionary"),
        ("BENCH_MIN_EFFECT", "{f1: 2}", "BENCH_MIN_EFFECT: not valid JSON"),
        ("BENCH_GATE_METRICS", "f1,recal", "BENCH_GATE_METRICS: unknown metric 'recal'"),
        ("BENCH_CORRECTION", "bonferroni", "BENCH_CORRECTION: Input should be 'holm', 'maxt'"),
        ("BENCH_ALPHA", "often", "BENCH_ALPHA: Input should be a valid number"),
        ("BENCH_ALPHA", "1.5", "BENCH_ALPHA: Input should be less than 1 (got '1.5')"),
        (
            "BENCH_CONNECT_ATTEMPTS",
            "2.5",
            "BENCH_CONNECT_ATTEMPTS: Input should be a valid integer",
        ),
        (
            "BENCH_HOLD_ON_REGRESSION",
            "maybe",
            "BENCH_HOLD_ON_REGRESSION: Input should be a valid boolean",
        ),
    ],
)
def test_bad_settings_are_exit_2_naming_the_variable(
    cli, tmp_path, monkeypatch, variable, value, expected
):
    [path] = _files(tmp_path, [0.0])
    monkeypatch.setenv(variable, value)
    result = cli("check", path, "--baseline", path)
    assert result.code == 2, result
    assert expected in result.err
    assert len(result.err.strip().splitlines()) == 1


# --- the read-only role ------------------------------------------------------------------


@pytest.fixture
def reader_url(use_db: str) -> str:
    """The test database, as a login role that is a member of bench_reader."""
    with psycopg.connect(use_db, autocommit=True) as conn:
        conn.execute(
            """DO $$ BEGIN
                   CREATE ROLE reader_login LOGIN IN ROLE bench_reader;
               EXCEPTION WHEN duplicate_object THEN NULL; END $$"""
        )
    return re.sub(r"^postgresql://[^:@/]*(:[^@]*)?@", "postgresql://reader_login@", use_db)


def test_every_read_command_works_under_the_reader_role(
    cli, use_db, reader_url, monkeypatch, tmp_path
):
    a, b = _files(tmp_path / "runs", [0.0, -0.3])
    assert cli("push", a, b, "--force").code == 0
    monkeypatch.setenv("BENCH_DATABASE_URL", reader_url)
    with psycopg.connect(reader_url) as conn:
        assert conn.execute("SELECT current_user").fetchone() == ("reader_login",)
    reads = [
        ("snapshots",),
        ("history", "medgemma"),
        ("compare", "medgemma@1", "medgemma@2"),
        ("show", "medgemma@current"),
        ("check", b, "--fail-on", "never"),
        ("cost", "--since", "all"),
        ("cases", "list", "medgemma@1", "--limit", "3"),
        ("cases", "compare", "medgemma@1", "medgemma@2"),
        ("db", "status"),
    ]
    for args in reads:
        result = cli(*args)
        assert result.code == 0, (args, result)
    write = cli("rollback", "medgemma", "--to-version", "1")
    assert write.code == 4
    assert "the store refused the operation: permission denied" in write.err
    assert len(write.err.strip().splitlines()) == 1


# --- corrections end to end --------------------------------------------------------------


@pytest.mark.parametrize(
    ("correction", "named"),
    [("holm", "Holm-adjusted"), ("bh", "Benjamini-Hochberg adjusted"), ("none", "unadjusted")],
)
def test_each_correction_through_check_and_a_held_push(
    cli, use_db, tmp_path, monkeypatch, correction, named
):
    monkeypatch.setenv("BENCH_CORRECTION", correction)
    good, bad = _files(tmp_path, [0.0, -0.35])
    assert cli("push", good).code == 0
    checked = cli("check", bad)
    assert checked.code == 1 and named in checked.out
    verdict = json.loads(cli("check", bad, "--json", "--fail-on", "never").out)
    assert verdict["comparison"]["correction"] == correction
    pushed = json.loads(cli("push", bad, "--json").out)
    assert pushed[0]["current"] is False and pushed[0]["event"] == "hold"
    assert f"({correction}, paired)" in pushed[0]["event_reason"]


# --- prices ------------------------------------------------------------------------------


def _tokens_only(model: str, version: str) -> RunResult:
    cases = [
        CaseResult(case_id=f"c{i}", tp=1, fp=0, fn=0, input_tokens=1000, output_tokens=500)
        for i in range(4)
    ]
    return RunResult(
        model=ModelRef(key=model, version=version),
        dataset=DatasetRef(version="prices-v1"),
        prompt_version="v1",
        cases=cases,
    )


def test_prices_packaged_overridden_and_unknown(tmp_path, monkeypatch):
    from bench_analytics.api import Bench

    known = tmp_path / "known.json"
    known.write_bytes(_tokens_only("openai", "gpt-4o-mini").to_json())
    unknown = tmp_path / "unknown.json"
    unknown.write_bytes(_tokens_only("mystery", "mystery-llm-7b").to_json())
    with Bench() as bench:
        [(_, packaged)] = bench.read(known).runs
        [(_, unpriced)] = bench.read(unknown).runs
    assert packaged.cases[0].cost_usd == pytest.approx((1000 * 0.00015 + 500 * 0.0006) / 1000)
    assert packaged.metrics["cost_usd"] == pytest.approx(4 * packaged.cases[0].cost_usd)
    assert unpriced.cases[0].cost_usd is None and "cost_usd" not in unpriced.metrics
    table = tmp_path / "prices.json"
    table.write_text(json.dumps({"gpt-4o-mini": {"input_per_1k": 1.0, "output_per_1k": 2.0}}))
    monkeypatch.setenv("BENCH_PRICES", str(table))
    from bench_analytics.config import get_settings

    get_settings.cache_clear()
    with Bench() as bench:
        [(_, overridden)] = bench.read(known).runs
    assert overridden.cases[0].cost_usd == pytest.approx(2.0)
    table.write_text(json.dumps({"gpt-4o-mini": {"input_per_1k": -1, "output_per_1k": 2.0}}))
    get_settings.cache_clear()
    with Bench() as bench, pytest.raises(Exception, match="prices cannot be negative"):
        bench.read(known)


# --- output that fits and shows values as they are ------------------------------------------

LONG = "patient-benchmark-2026-q3-cardiology-and-oncology"


BOX = {"┏": "┓", "┃": "┃", "┡": "┩", "│": "│", "└": "┘"}


def _fits(out: str, width: int) -> list[str]:
    """Lines wider than the terminal, and table lines cut before their right border."""
    bad = []
    for line in out.splitlines():
        text = line.rstrip()
        if len(line) > width or (text[:1] in BOX and not text.endswith(BOX[text[0]])):
            bad.append(line)
    return bad


def _long_names(tmp_path: Path) -> list[Path]:
    runs = [
        simulate_run(
            model,
            PATIENTS,
            prompt="v2-structured-with-a-long-prompt-name",
            environment="github-actions-self-hosted-gpu",
            commit=f"{i:040x}",
            when=DEMO_START + timedelta(days=i),
        )
        for i, model in enumerate(("medgemma", "openai"))
    ]
    runs = [
        run.model_copy(update={"dataset": run.dataset.model_copy(update={"version": LONG})})
        for run in runs
    ]
    return write_results(runs, tmp_path / "long")


@pytest.mark.parametrize("width", [80, 160])
def test_tables_fit_the_terminal_and_keep_identity_whole(cli, use_db, tmp_path, monkeypatch, width):
    monkeypatch.setenv("COLUMNS", str(width))
    files = _long_names(tmp_path)
    outputs = {
        "push": cli("push", *files),
        "snapshots": cli("snapshots"),
        "history": cli("history", "medgemma"),
        "compare": cli("compare", "medgemma@1", "openai@1", "--dataset", LONG),
        "show": cli("show", "medgemma@1"),
        "cost": cli("cost", "--since", "all", "--by", "prompt"),
        "cases": cli("cases", "compare", "tx:1", "tx:2", "--change", "all", "--limit", "5"),
    }
    for name, result in outputs.items():
        assert result.code == 0, (name, result)
        assert result.out.strip(), name
        assert _fits(result.out, width) == [], name
    for name in ("push", "snapshots"):
        out = outputs[name].out
        for value in (
            LONG,
            "v2-structured-with-a-long-prompt-name",
            "github-actions-self-hosted-gpu",
        ):
            assert value in out, (name, value)


@pytest.mark.skipif(REALDATA is None, reason="set BENCH_REALDATA to the shared real-data folder")
@pytest.mark.parametrize("width", [80, 160])
def test_the_old_patient_files_render_whole(cli, use_db, monkeypatch, width):
    monkeypatch.setenv("COLUMNS", str(width))
    assert REALDATA is not None
    files = sorted(REALDATA.rglob("*patient_benchmark_*.json"))
    assert len(files) >= 8
    pushed = cli("push", *files, "--skip-invalid")
    assert pushed.code in (0, 2), pushed
    assert _fits(pushed.out, width) == []
    for text in ("medgemma", "openai", "patients-"):
        assert text in pushed.out, text
    snapshots = cli("snapshots")
    assert _fits(snapshots.out, width) == []
    assert "patient-benchmar…" not in snapshots.out
    datasets = {row["dataset_version"] for row in json.loads(cli("snapshots", "--json").out)}
    assert datasets and all(dataset in snapshots.out for dataset in datasets)


def test_values_with_brackets_print_as_they_are(cli, use_db, tmp_path):
    [path] = write_results(
        [
            simulate_run("medgemma", PATIENTS, prompt="[/bold]", commit="a" * 40).model_copy(
                update={"model": ModelRef(key="medgemma", display_name="[red]Med[/red]")}
            )
        ],
        tmp_path / "x" / "[",
    )
    odd = path.with_name("[oops].json")
    path.rename(odd)
    pushed = cli("push", odd, "--environment", "[/x]")
    assert pushed.code == 0, pushed
    assert "[/bold]" in pushed.out and "[/x]" in pushed.out and "[oops].json" in pushed.out
    for args in (
        ("snapshots",),
        ("history", "medgemma"),
        ("show", "medgemma@current", "--environment", "[/x]"),
        ("cases", "list", "medgemma@current", "--environment", "[/x]", "--limit", "2"),
    ):
        result = cli(*args)
        assert result.code == 0, (args, result)
    assert "[/bold]" in cli("snapshots").out and "[/x]" in cli("history", "medgemma").out
    missing = cli("history", "[/nobody]")
    assert missing.code == 2 and "model=[/nobody]" in missing.err
