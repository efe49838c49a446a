"""Local SQL (library): views over files, the read-only rule, errors, shell and output."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from rich.console import Console

from bench_analytics import local
from bench_analytics.errors import BadInputError, UsageError
from bench_analytics.health import assess
from bench_analytics.local.columns import CASES, METRICS, RUNS
from bench_analytics.local.guard import ReadOnlyError, SqlError
from bench_analytics.local.output import cell, resolve_format
from bench_analytics.local.shell import run_shell
from bench_analytics.model import DatasetRef, ModelRef, Provenance, RunResult
from tests import samples
from tests.local_helpers import plain as _plain
from tests.local_helpers import sample_runs, write_sample

# --- views over files ----------------------------------------------------------------------


def test_views_over_native_files(tmp_path):
    paths = write_sample(tmp_path / "results")
    with local.connect([tmp_path / "results"]) as session:
        assert session.con.sql("select * from runs").columns == [n for n, _ in RUNS]
        assert session.con.sql("select * from cases").columns == [n for n, _ in CASES]
        assert session.con.sql("select * from metrics").columns == [n for n, _ in METRICS]
        runs = _plain(session, "select run_key, model, case_count from runs order by run_key")
        assert [r[0] for r in runs] == sorted(str(p) for p in paths)
        assert {r[1] for r in runs} == {"openai", "medgemma", "gemini", "baseline"}
        assert _plain(session, "select count(*), count(distinct run_key) from cases") == [(48, 4)]
        joined = _plain(
            session,
            "select r.model, count(*) from runs r join cases c using (run_key) "
            "where c.status = 'error' group by 1 order by 1",
        )
        assert dict(joined)["gemini"] == 12
        units = dict(_plain(session, "select name, unit || '/' || direction from metrics"))
        assert units["f1"] == "fraction/higher" and units["latency_ms"] == "ms/lower"
        assert session.tables() == [("main", "cases"), ("main", "metrics"), ("main", "runs")]


def _aggregate_only(declared: int | None, reported: int | None, outage: str | None = None):
    return RunResult(
        model=ModelRef(key="agg"),
        dataset=DatasetRef(version="v1", declared_cases=declared),
        prompt_version="p",
        reported_errors=reported,
        outage_evidence=outage,
        metrics={"f1": 0.5, "some_new_metric": 3.0},
        provenance=Provenance(source_format="seed-monitoring"),  # aggregates only
    )


@pytest.mark.parametrize("threshold", [0.5, 0.2])
def test_native_status_in_sql_equals_the_health_rule(tmp_path, threshold):
    runs = [
        *sample_runs(),
        _aggregate_only(0, None),
        _aggregate_only(10, 4),
        _aggregate_only(8, 1, outage="endpoint returned nothing"),
        _aggregate_only(None, None),
    ]
    folder = tmp_path / "results"
    for index, run in enumerate(runs):
        folder.mkdir(exist_ok=True)
        (folder / f"r{index}.json").write_bytes(run.to_json())
    with local.connect([folder], threshold=threshold) as session:
        got = _plain(
            session,
            "select status, status_reason, case_count, error_count from runs order by run_key",
        )
    expected = []
    for run in runs:
        health = assess(run, threshold)
        expected.append((health.status, health.reason, health.case_count, health.error_count))
    assert got == expected
    assert {row[0] for row in got} == {"healthy", "failed"}


def test_unknown_metrics_keep_unknown_unit(tmp_path):
    (tmp_path / "a.json").write_bytes(_aggregate_only(5, 0).to_json())
    with local.connect([tmp_path / "a.json"]) as session:
        got = _plain(session, "select name, unit, direction from metrics order by name")
    assert got == [("f1", "fraction", "higher"), ("some_new_metric", "unknown", "unknown")]


def test_views_over_old_format_files_use_the_readers(tmp_path):
    folder = tmp_path / "artifacts"
    samples.write(folder / "aggregated_metrics_openai.json", samples.document_results())
    samples.write(folder / "patient_benchmark_medgemma.json", samples.patient_results())
    rows_ = [
        samples.export_row(f"id-{i}", f"2026-02-05T0{i}:00:00+00:00", "baseline") for i in range(2)
    ]
    samples.write(folder / "nested" / "export.json", rows_)
    write_sample(folder / "native", sample_runs()[:1])
    with local.connect([str(folder / "**" / "*.json")]) as session:
        runs = _plain(session, "select run_key, model, source_format, status from runs")
        cases = _plain(session, "select model, count(*) from cases group by 1 order by 1")
        metric = _plain(session, "select value from metrics where name = 'json_validity_rate'")
    keys = {r[0] for r in runs}
    export = str(folder / "nested" / "export.json")
    assert {f"{export}#1", f"{export}#2"} <= keys
    formats = {r[1]: r[2] for r in runs}
    assert formats["openai"] == "seed-documents" and formats["medgemma"] == "seed-patients"
    assert dict(cases) == {"medgemma": 3, "openai": 4 + 12}
    assert metric == [(0.75,)]  # the percent field became a fraction, as push does


def test_a_bad_old_format_file_is_refused_with_its_name(tmp_path):
    samples.write(tmp_path / "x" / "summary.json", samples.dashboard_summary())
    with pytest.raises(BadInputError, match=r"summary\.json: not a known result format"):
        local.connect([tmp_path / "x"])


def test_a_malformed_native_file_names_the_file(tmp_path):
    (tmp_path / "r.json").write_text('{"schema": "bench-analytics/result", "model": {')
    with local.connect([tmp_path]) as session, pytest.raises(SqlError, match=r"r\.json"):
        session.query("select count(*) from cases")


def test_default_path_and_empty_paths(tmp_path, monkeypatch):
    with local.connect() as session:  # ./benchmarks/results does not exist
        assert _plain(session, "select 42") == [(42,)]
        with pytest.raises(BadInputError, match=r"looked for benchmarks/results/\*\*/\*\.json"):
            session.query("select count(*) from runs")
    write_sample(tmp_path / "benchmarks" / "results", sample_runs()[:2])
    assert local.query("select count(*) as n from runs")["n"].tolist() == [2]
    (tmp_path / "empty").mkdir()
    with pytest.raises(BadInputError, match=r"looked for .*empty/\*\*/\*\.json"):
        local.connect([tmp_path / "empty"])
    with pytest.raises(BadInputError, match="no such file or directory"):
        local.connect([tmp_path / "nowhere"])
    with pytest.raises(BadInputError, match="no files match this pattern"):
        local.connect([str(tmp_path / "empty" / "*.json")])


# --- read-only rule and errors ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("statement", "kind"),
    [
        ("insert into runs values (1)", "INSERT"),
        ("update runs set f1 = 1", "UPDATE"),
        ("delete from runs", "DELETE"),
        ("create table t as select 1", "CREATE"),
        ("create view v as select 1", "CREATE"),
        ("drop view runs", "DROP"),
        ("alter view runs rename to r2", "ALTER"),
        ("copy runs to 'out.csv'", "COPY"),
        ("copy (select 1) to 'out.csv'", "COPY"),
        ("attach 'other.db'", "ATTACH"),
        ("detach store", "DETACH"),
        ("install httpfs", "LOAD"),
        ("load 'x.duckdb_extension'", "LOAD"),
        ("set threads = 1", "SET"),
        ("pragma memory_limit = '1GB'", "SET"),
        ("use store", "SET"),
        ("export database 'out'", "EXPORT"),
        ("import database 'nowhere'", "cannot be checked"),
        ("vacuum", "VACUUM"),
        ("reset threads", "SET"),
        ("checkpoint", "CALL"),
        ("begin transaction", "TRANSACTION"),
        ("prepare p as select 1", "PREPARE"),
        ("explain analyze create table t as select 1", "CREATE"),
        ("select 1; drop view runs", "DROP"),
        ("select * from postgres_execute('store', 'drop table x')", "postgres_execute"),
    ],
)
def test_statements_that_write_are_refused_before_anything_runs(tmp_path, statement, kind):
    write_sample(tmp_path / "results", sample_runs()[:1])
    with local.connect([tmp_path / "results"]) as session:
        with pytest.raises(ReadOnlyError, match=kind) as refused:
            session.query(statement)
        assert refused.value.exit_code == 2
        assert _plain(session, "select count(*) from runs") == [(1,)]
        assert session.tables() == [("main", "cases"), ("main", "metrics"), ("main", "runs")]
    assert not (tmp_path / "out.csv").exists() and not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    "statement",
    [
        "select 1",
        "with x as (select 1 as a) select a from x",
        "from runs",
        "values (1), (2)",
        "show tables",
        "describe runs",
        "summarize runs",
        "explain select * from runs",
        "pragma table_info('runs')",
        "select * from runs; select * from cases",
    ],
)
def test_queries_are_allowed(tmp_path, statement):
    write_sample(tmp_path / "results", sample_runs()[:1])
    with local.connect([tmp_path / "results"]) as session:
        assert session.arrow(statement).num_rows >= 1


def test_sql_errors_keep_duckdbs_position(tmp_path):
    write_sample(tmp_path / "results", sample_runs()[:1])
    with local.connect([tmp_path / "results"]) as session:
        with pytest.raises(SqlError) as parse:
            session.query("select * form runs")
        with pytest.raises(SqlError) as bind:
            session.query("select 1;\nselect nope from runs")
    assert "syntax error" in str(parse.value) and "LINE 1: select * form runs" in str(parse.value)
    message = str(bind.value)
    assert "statement 2 of 2" in message and 'column "nope" not found' in message
    assert "LINE 2: select nope from runs" in message and "^" in message


def test_empty_sql_is_refused(tmp_path):
    with local.connect() as session, pytest.raises(SqlError, match="no SQL statement"):
        session.query("  -- nothing\n")


# --- shell, output helpers ----------------------------------------------------------------------


def test_shell_runs_statements_and_keeps_history(tmp_path):
    write_sample(tmp_path / "results", sample_runs()[:2])
    buffer = io.StringIO()
    console = Console(file=buffer, width=120, color_system=None)
    history = tmp_path / "home" / "sql_history"
    lines = [
        ".tables",
        "select count(*) as n_runs",
        "from runs;",
        ".schema cases",
        "selec 1;",
        "drop view runs;",
        ".bogus",
        "select 'after an error' as still;",
        ".quit",
        "select 'never' as x;",
    ]
    with local.connect([tmp_path / "results"]) as session:
        run_shell(session, console, history=history, lines=lines)
    text = buffer.getvalue()
    assert "runs" in text and "n_runs" in text and "case_id" in text
    assert "syntax error" in text and "not read-only" in text and "unknown command" in text
    assert "after an error" in text and "never" not in text
    saved = history.read_text()
    assert "select count(*) as n_runs from runs;" in saved and ".tables" in saved


def test_output_helpers():
    assert resolve_format(None, None) == "table"
    assert resolve_format(None, Path("x.csv")) == "csv"
    assert resolve_format("JSON", Path("x.txt")) == "json"
    with pytest.raises(UsageError, match="add -o"):
        resolve_format("parquet", None)
    with pytest.raises(UsageError, match="choose one of"):
        resolve_format("xml", None)
    assert cell(None) == "NULL" and cell(True) == "true" and cell(0.12345678) == "0.123457"
    assert cell(["a", 1]) == '["a", 1]'
