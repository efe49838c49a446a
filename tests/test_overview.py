"""Grouped reads for the dashboard (``Bench.current``, ``.trend``, ``.latest_verdicts`` …)
and the intervals stored at push, on a real store: the demo history, and small histories
made here whose run times, values and events are known exactly."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from statistics import mean

import psycopg
import pytest

from bench_analytics.api import Bench, RunFilter
from bench_analytics.fixtures import DEMO_START, sample_history, simulate_run, synthetic_patients
from bench_analytics.store import overview
from tests.demo_store import (
    PATIENTS,
    run_after,
    shown_intervals,
    stored_intervals,
    transaction_ids,
)

V2 = "v2-structured"


# --- current --------------------------------------------------------------------------


def test_current_gives_every_configuration_its_version_and_the_f1_interval_of_show(demo):
    rows = list(demo.current())
    assert len(rows) == 10
    assert len({r.configuration for r in rows}) == 10
    snapshots = {s.configuration: (s.version, s.transaction_id) for s in demo.snapshots()}
    assert {r.configuration: (r.version, r.transaction_id) for r in rows} == snapshots
    by_name = {(r.model_key, r.prompt_version, r.environment): r for r in rows}
    # the held regression (v3) and the outage (gemini v4) were passed over by later runs
    assert by_name[("medgemma", V2, "github-actions")].version == 7
    assert by_name[("gemini", V2, "github-actions")].version == 7
    assert by_name[("openai", "v3-reasoning", "local")].version == 3
    assert {r.status for r in rows} == {"healthy"}
    assert [r.f1 for r in rows] == sorted((r.f1 for r in rows), reverse=True)
    for row in rows:
        value, low, high, _, _ = shown_intervals(demo, row.transaction_id)["f1"]
        assert row.f1 == pytest.approx(value, abs=1e-12)
        assert (row.f1_low, row.f1_high) == pytest.approx((low, high), abs=1e-12), row


def test_a_configuration_whose_only_run_failed_has_none_current(bench):
    bench.push([("ok", run_after()), ("down", run_after("baseline", 1, outage="HTTP 503"))])
    rows = {r.model_key: r for r in bench.current()}
    assert set(rows) == {"openai", "baseline"}
    down = rows["baseline"]
    assert down.status == "none current" and down.version is None and down.versions == 1
    assert down.f1 is None and down.f1_low is None and down.transaction_id is None
    assert rows["openai"].status == "healthy" and rows["openai"].version == 1
    assert list(bench.current())[-1].model_key == "baseline"  # no F1 sorts last


# --- trends ---------------------------------------------------------------------------


@pytest.fixture
def two_days(bench):
    """openai on v2-structured: day 1 at 09:00 and 15:00; day 2 at 09:00 (healthy), 11:00
    (an outage) and 13:00 (healthy, then quarantined)."""
    report = bench.push(
        [
            ("a", run_after(hours=0)),
            ("b", run_after(hours=6)),
            ("c", run_after(hours=24)),
            ("d", run_after(hours=26, outage="HTTP 503")),
            ("e", run_after(hours=28)),
        ]
    )
    a, b, c, d, e = transaction_ids(report)
    bench.quarantine(e, reason="endpoint returned cached answers")
    [history] = bench.history("openai")
    versions = {v.transaction_id: v for v in history.versions}
    return bench, (a, b, c, d, e), versions


def test_trend_per_run_gives_one_point_per_run_and_no_value_for_bad_runs(two_days):
    bench, (a, b, c, d, e), versions = two_days
    used, points = bench.trend("f1", bucket="run")
    assert used == "run" and len(points) == 5
    by_version = {p.last_version: p for p in points}
    for tx in (a, b, c):
        point = by_version[versions[tx].version]
        assert point.at == versions[tx].run_at
        assert point.value == pytest.approx(versions[tx].f1)
        assert (point.runs, point.failed, point.quarantined) == (1, 0, 0)
        stored = stored_intervals(bench, tx)["f1"]
        assert (point.low, point.high) == pytest.approx(stored[1:3])
    outage = by_version[versions[d].version]
    assert (outage.value, outage.low, outage.runs, outage.failed) == (None, None, 0, 1)
    quarantined = by_version[versions[e].version]
    assert quarantined.value is None and (quarantined.failed, quarantined.quarantined) == (0, 1)


def test_trend_per_day_averages_healthy_runs_only(two_days):
    bench, (a, b, c, _, e), versions = two_days
    used, points = bench.trend("f1", bucket="day")
    assert used == "day" and len(points) == 2
    first, second = points
    assert first.at == datetime(2026, 10, 1, tzinfo=UTC)
    assert second.at == datetime(2026, 10, 2, tzinfo=UTC)
    assert first.value == pytest.approx(mean([versions[a].f1, versions[b].f1]))
    assert (first.runs, first.failed, first.quarantined) == (2, 0, 0)
    assert first.low == pytest.approx(mean(stored_intervals(bench, t)["f1"][1] for t in (a, b)))
    # the outage and the quarantined run are counted, never averaged in (no 0 % drags it)
    assert second.value == pytest.approx(versions[c].f1)
    assert (second.runs, second.failed, second.quarantined) == (1, 1, 1)
    assert (second.low, second.high) == pytest.approx(stored_intervals(bench, c)["f1"][1:3])
    assert second.last_version == versions[e].version
    _, latency = bench.trend("latency_ms", bucket="day")
    assert latency[1].value == pytest.approx(versions[c].latency_ms)
    _, weekly = bench.trend("f1", bucket="week")  # Thursday and Friday: one week
    assert len(weekly) == 1 and weekly[0].runs == 3
    assert weekly[0].value == pytest.approx(mean(versions[t].f1 for t in (a, b, c)))


def test_choose_bucket_is_the_finest_under_the_limit(two_days):
    bench, _, _ = two_days
    conn, everything = bench.store().conn, RunFilter()
    assert overview.choose_bucket(conn, everything) == "run"
    assert overview.choose_bucket(conn, everything, most=5) == "run"
    assert overview.choose_bucket(conn, everything, most=4) == "day"  # 5 runs, 2 days
    assert overview.choose_bucket(conn, everything, most=1) == "week"
    assert overview.choose_bucket(conn, everything, most=0) == "month"
    assert overview.choose_bucket(conn, RunFilter(models=("nobody",)), most=0) == "run"
    assert bench.trend("f1")[0] == "run"


def test_more_than_400_runs_of_a_configuration_are_shown_per_day(store, bench):
    one = synthetic_patients(1, seed=1)

    def tiny(hour: int):
        return simulate_run(
            "baseline",
            one,
            commit=f"{hour:040x}",
            when=DEMO_START + timedelta(hours=hour),
            environment="local",
        )

    store.push([(f"t{h}", tiny(h)) for h in range(400)])
    store.push([("other", run_after("openai"))])
    assert bench.trend("f1")[0] == "run"  # 400 points still drawn one per run
    store.push([("t400", tiny(400))])
    used, points = bench.trend("f1")
    assert used == "day"
    local = [p for p in points if p.environment == "local"]
    # hourly from Oct 1 09:00 to Oct 18 01:00: 15 runs, 16 days of 24, then 2
    assert [p.runs for p in local] == [15] + [24] * 16 + [2]
    assert local[0].at == datetime(2026, 10, 1, tzinfo=UTC)
    assert bench.trend("f1", RunFilter(environments=("github-actions",)))[0] == "run"


# --- filters --------------------------------------------------------------------------


def test_run_filter_narrows_by_every_dimension_and_by_time(bench):
    other_dataset = run_after(hours=4)
    other_dataset = other_dataset.model_copy(
        update={"dataset": other_dataset.dataset.model_copy(update={"version": "other-v2"})}
    )
    bench.push(
        [
            ("openai", run_after(hours=0)),
            ("medgemma", run_after("medgemma", 1)),
            ("local", run_after(hours=2, environment="local")),
            ("v3", run_after(hours=3, prompt="v3-reasoning")),
            ("dataset", other_dataset),
            ("down", run_after("medgemma", 5, outage="HTTP 503")),
        ]
    )

    def configs(where: RunFilter) -> set[tuple[str, str, str, str]]:
        return {
            (r.model_key, r.environment, r.prompt_version, r.dataset_version)
            for r in bench.current(where)
        }

    options = bench.filter_options()
    assert options.models == ("medgemma", "openai") and options.runs == 6
    assert options.environments == ("github-actions", "local")
    assert options.datasets == ("demo-patients-v1", "other-v2")
    assert options.prompts == (V2, "v3-reasoning")
    assert len(configs(RunFilter())) == 5
    assert configs(RunFilter(models=("medgemma",))) == {
        ("medgemma", "github-actions", V2, "demo-patients-v1")
    }
    assert configs(RunFilter(environments=("local",))) == {
        ("openai", "local", V2, "demo-patients-v1")
    }
    assert configs(RunFilter(prompts=("v3-reasoning",))) == {
        ("openai", "github-actions", "v3-reasoning", "demo-patients-v1")
    }
    assert configs(RunFilter(datasets=("other-v2",))) == {
        ("openai", "github-actions", V2, "other-v2")
    }
    assert len(configs(RunFilter(models=("openai", "medgemma")))) == 5
    assert len(configs(RunFilter(models=("openai",), environments=("github-actions",)))) == 3
    assert configs(RunFilter(models=("nobody",))) == set()
    # time bounds the runs (since inclusive, until exclusive), by when each run happened
    window = RunFilter(
        since=DEMO_START + timedelta(minutes=90), until=DEMO_START + timedelta(hours=3.5)
    )
    _, points = bench.trend("f1", window, bucket="run")
    assert {(p.environment, p.prompt_version) for p in points} == {
        ("local", V2),
        ("github-actions", "v3-reasoning"),
    }
    late = RunFilter(since=DEMO_START + timedelta(hours=4.5))
    early = RunFilter(until=DEMO_START + timedelta(hours=4.5))
    assert bench.count_failed(late) == 1 and bench.count_failed(early) == 0
    assert [f.model_key for f in bench.failed_runs(late)] == ["medgemma"]
    assert bench.failed_runs(RunFilter(models=("openai",))) == []
    assert bench.count_failed(RunFilter(environments=("local",))) == 0


def test_cost_with_a_model_filter_sums_only_that_model(demo):
    runs = sample_history()
    expected = sum(r.metrics.get("cost_usd", 0.0) for r in runs if r.model.key == "openai")
    only = RunFilter(models=("openai",))
    [row] = demo.cost(since="all", where=only)
    assert row.group == "openai" and row.runs == 13
    assert row.cost_usd == pytest.approx(expected)
    by_prompt = demo.cost(since="all", by="prompt", where=only)
    assert sum(r.runs for r in by_prompt) == 13
    assert sum(r.cost_usd for r in by_prompt) == pytest.approx(expected)
    everyone = sum(r.cost_usd for r in demo.cost(since="all"))
    assert everyone > expected * 2


# --- verdicts, holds, failures, events ------------------------------------------------


def test_latest_verdicts_show_the_held_regression(bench):
    bench.demo(commits=6)  # medgemma's regression at commit 6 is its newest verdict
    verdicts = list(bench.latest_verdicts())
    held = [v for v in verdicts if (v.model_key, v.prompt_version) == ("medgemma", V2) and v.gated]
    assert {v.metric for v in held} == {"f1", "recall"}
    for verdict in held:
        assert verdict.decision == "regression" and verdict.version == 3
        assert verdict.baseline_version == 2 and verdict.baseline_rule == "current"
        assert verdict.delta < 0 and verdict.ci_high < 0
    f1 = next(v for v in held if v.metric == "f1")
    assert (f1.delta, f1.ci_low, f1.ci_high) == pytest.approx((-0.152, -0.232, -0.072), abs=5e-4)
    # regressions come first, and no other configuration regressed
    assert verdicts[0].decision == "regression"
    assert {v.model_key for v in verdicts if v.decision == "regression" and v.gated} == {"medgemma"}
    narrowed = bench.latest_verdicts(RunFilter(models=("openai",)))
    assert narrowed and {v.model_key for v in narrowed} == {"openai"}


def test_held_promotions_and_failed_runs_of_the_demo(demo):
    [held] = demo.held_promotions()
    assert (held.model_key, held.prompt_version, held.environment) == (
        "medgemma",
        V2,
        "github-actions",
    )
    assert (held.version, held.current_version) == (3, 2)
    assert held.reason.startswith("held: significant regression vs version 2: f1 -0.152")
    assert demo.held_promotions(RunFilter(models=("gemini",))) == []
    [failed] = demo.failed_runs()
    assert (failed.model_key, failed.prompt_version, failed.version) == ("gemini", V2, 4)
    assert failed.status == "failed" and "HTTP 503: model endpoint unavailable" in failed.reason
    assert failed.run_at is not None and failed.run_at.date() == datetime(2026, 10, 7).date()
    assert demo.count_failed() == 1


def test_pointer_events_put_holds_at_their_run_and_moves_when_made(demo):
    before = datetime.now(UTC)
    move = demo.rollback("medgemma", 6, prompt=V2, reason="v7 leaks PHI into the notes")
    assert (move.event, move.to_version) == ("rollback", 6)
    events = list(demo.pointer_events(bucket="day"))
    holds = [e for e in events if e.event_type == "hold"]
    assert [h.at for h in holds] == [
        datetime(2026, 10, 6, tzinfo=UTC),  # the regression, held when its run happened
        datetime(2026, 10, 7, tzinfo=UTC),  # the outage
    ]
    assert holds[0].last_reason.startswith("held: significant regression")
    assert "HTTP 503" in holds[1].last_reason
    [rollback] = [e for e in events if e.event_type == "rollback"]
    assert rollback.last_reason == "v7 leaks PHI into the notes" and rollback.events == 1
    assert rollback.at.date() in {before.date(), datetime.now(UTC).date()}
    assert "promote" not in {e.event_type for e in events}
    # per run: the hold sits exactly at the failed run's time
    [failed] = demo.failed_runs()
    assert failed.run_at in {e.at for e in demo.pointer_events(bucket="run")}
    # a time range selects holds by their run's time, not by when they were written
    since = RunFilter(since=datetime(2026, 10, 7, tzinfo=UTC))
    kinds = [(e.event_type, e.at) for e in demo.pointer_events(since, bucket="day")]
    assert ("hold", datetime(2026, 10, 6, tzinfo=UTC)) not in kinds
    assert ("hold", datetime(2026, 10, 7, tzinfo=UTC)) in kinds
    assert demo.pointer_events(RunFilter(models=("openai",))) == []


# --- runs to compare, one case across -------------------------------------------------


def test_run_choices_always_include_every_current_version(demo):
    current = {r.transaction_id for r in demo.current()}
    choices = list(demo.run_choices(limit=1))
    refs = {c.transaction_id for c in choices}
    assert current <= refs and len(refs) == len(choices) <= 11
    assert all(c.is_current for c in choices if c.transaction_id in current)
    assert [c.is_current for c in choices] == sorted((c.is_current for c in choices), reverse=True)
    future = RunFilter(since=datetime(2100, 1, 1, tzinfo=UTC))
    assert {c.transaction_id for c in demo.run_choices(future)} == current
    assert len(demo.run_choices()) == 46
    gemini = demo.run_choices(RunFilter(models=("gemini",)))
    assert {c.model_key for c in gemini} == {"gemini"} and len(gemini) == 10
    assert any(c.status == "failed" for c in gemini)


def test_case_across_gives_one_row_per_current_configuration_holding_the_case(bench):
    report = bench.push(
        [
            ("openai-1", run_after(hours=0)),
            ("openai-2", run_after(hours=1)),
            ("medgemma", run_after("medgemma", 2, patients=PATIENTS[1:])),  # no P001
            ("gemini-down", run_after("gemini", 3, outage="HTTP 503")),  # no current at all
        ]
    )
    _, openai_current, medgemma, _ = transaction_ids(report)
    [row] = bench.case_across("P001")
    assert (row.model_key, row.transaction_id, row.version) == ("openai", openai_current, 2)
    assert row.status == "ok" and row.tp is not None
    assert row.f1 == pytest.approx(
        1.0 if row.tp + row.fp + row.fn == 0 else 2 * row.tp / (2 * row.tp + row.fp + row.fn)
    )
    both = bench.case_across("P002")
    assert {r.transaction_id for r in both} == {openai_current, medgemma}
    assert bench.case_across("P002", RunFilter(models=("medgemma",)))[0].model_key == "medgemma"
    assert bench.case_across("P999") == []


def test_case_across_the_demo_covers_every_current_version(demo):
    current = {r.transaction_id for r in demo.current()}
    rows = demo.case_across("P001")
    assert len(rows) == 10 and {r.transaction_id for r in rows} == current


# --- migration 0004: transaction_state ------------------------------------------------


def _old_state_select() -> str:
    """The SELECT of the LATERAL view that 0004 replaced (kept there for the downgrade)."""
    from importlib import import_module

    migration = import_module("bench_analytics.store.migrations.versions.0004_dashboard")
    sql = migration.OLD_STATE.strip().rstrip(";")
    head = "CREATE OR REPLACE VIEW transaction_state AS"
    assert sql.startswith(head) and "LATERAL" in sql
    return sql[len(head) :]


def test_transaction_state_takes_the_latest_mark_as_the_lateral_view_did(bench):
    a, b, c, d, e = transaction_ids(bench.push([(f"r{h}", run_after(hours=h)) for h in range(5)]))
    bench.quarantine(a, reason="first mark")
    bench.quarantine(a, reason="false alarm", release=True)
    bench.quarantine(a, reason="outage after all")
    bench.quarantine(b, reason="suspect")
    bench.quarantine(b, reason="cleared", release=True)
    bench.quarantine(c, reason="bad endpoint")
    conn = bench.store().conn
    conn.execute(  # a note after the marks changes nothing
        "INSERT INTO transaction_annotations (transaction_id, kind, reason, actor) "
        "VALUES (%s, 'note', 'just a note', 't'), (%s, 'note', 'a note', 't')",
        (a, d),
    )
    columns = "id, quarantined, quarantine_reason, effective_status"
    new = conn.execute(f"SELECT {columns} FROM transaction_state ORDER BY id").fetchall()
    old = conn.execute(f"SELECT {columns} FROM ({_old_state_select()}) s ORDER BY id").fetchall()
    assert new == old
    state = {row[0]: row[1:] for row in new}
    assert state[a] == (True, "outage after all", "quarantined")
    assert state[b][0] is False and state[b][2] == "healthy"
    assert state[c] == (True, "bad endpoint", "quarantined")
    assert state[d] == (False, None, "healthy") and state[e] == (False, None, "healthy")
    [history] = bench.history("openai")
    status = {v.transaction_id: v.effective_status for v in history.versions}
    assert [status[t] for t in (a, b, c, d, e)] == [
        "quarantined",
        "healthy",
        "quarantined",
        "healthy",
        "healthy",
    ]
    assert bench.count_failed() == 2


# --- the reader login -----------------------------------------------------------------


def test_a_reader_login_reads_as_that_role_and_a_write_reconnects(demo):
    url = demo.url
    with Bench(url, reader_login="bench_reader_login") as reader:
        assert reader.connected_as is None
        assert len(reader.current()) == 10
        assert reader.connected_as == "bench_reader_login"
        with pytest.raises(psycopg.Error):
            reader.store().conn.execute(
                "INSERT INTO transaction_annotations (transaction_id, kind, reason, actor) "
                "VALUES (1, 'note', 'x', 'y')"
            )
        move = reader.rollback("medgemma", 6, prompt=V2, reason="back to 6")
        assert (move.event, move.from_version, move.to_version) == ("rollback", 7, 6)
        writer = reader.connected_as
        assert writer is not None and writer != "bench_reader_login"
        current = {(r.model_key, r.prompt_version): r.version for r in reader.current()}
        assert current[("medgemma", V2)] == 6
    with psycopg.connect(url) as conn:
        actor_reason = conn.execute(
            "SELECT event_type, reason FROM snapshot_events ORDER BY id DESC LIMIT 1"
        ).fetchone()
    assert actor_reason == ("rollback", "back to 6")
