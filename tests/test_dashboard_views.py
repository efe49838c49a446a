"""The dashboard without a browser: each tab's view function called with explicit arguments
on a real store (the demo history, an empty store, a store that is down), and the Panel
objects it returns inspected: tables and their frames, cards, Markdown, alerts."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import holoviews as hv
import panel as pn
import pytest

from bench_analytics.api import Bench
from bench_analytics.charts import configuration_label
from bench_analytics.dashboard import data, units, widgets
from bench_analytics.dashboard.state import DashboardState
from bench_analytics.dashboard.tabs import cases, compare, cost, current, history, regressions
from bench_analytics.dashboard.tabs import trends as trends_tab
from bench_analytics.fixtures import DEMO_START, simulate_run, synthetic_patients
from tests.demo_store import demo_database

pn.extension("tabulator")
hv.extension("bokeh", logo=False)

F: dict[str, Any] = {"models": [], "environments": [], "datasets": [], "prompts": [], "span": "all"}
MODELS = {"baseline", "gemini", "medgemma", "openai"}
V2 = "v2-structured"
MEDGEMMA_V2 = f"medgemma|demo-patients-v1|{V2}|github-actions"
DOWN = "postgresql://u@127.0.0.1:1/x"
DASH = "\N{EN DASH}"
INTERVAL = re.compile(r"\d\.\d{3} \[\d\.\d{3}, \d\.\d{3}\]")


def minus(text: str) -> str:
    """The dashboard writes negative numbers with a real minus sign."""
    return text.replace("-", "\N{MINUS SIGN}")


def walk(obj: Any) -> Iterator[Any]:
    """The object and everything inside it (layouts hold ``objects``)."""
    yield obj
    for child in getattr(obj, "objects", None) or []:
        yield from walk(child)


def tables(obj: Any) -> dict[str, Any]:
    """name -> the DataFrame of every Tabulator inside ``obj``."""
    return {t.name: t.value for t in walk(obj) if isinstance(t, pn.widgets.Tabulator)}


def named(obj: Any, name: str) -> list[Any]:
    return [o for o in walk(obj) if getattr(o, "name", None) == name]


def texts(obj: Any, kind: type = pn.pane.Markdown) -> list[str]:
    return [str(o.object) for o in walk(obj) if isinstance(o, kind)]


@pytest.fixture(scope="module")
def demo_url(pg_server: str) -> str:
    """The demo history (read-only here: no test writes to it)."""
    return demo_database(pg_server)


@pytest.fixture(scope="module")
def held_url(pg_server: str) -> str:
    """The demo history up to commit 6: medgemma's held regression is its latest verdict."""
    return demo_database(pg_server, commits=6)


@pytest.fixture
def dashboard() -> Iterator[Callable[..., None]]:
    """``dashboard(url, allow_writes=False)`` points the data layer at a store; afterwards
    the session is closed and the caches are cleared."""

    def configure(url: str, *, allow_writes: bool = False) -> None:
        data.configure(url, allow_writes=allow_writes)

    pn.state.clear_caches()
    yield configure
    data.SESSIONS.close()
    data.SESSIONS.url, data.SESSIONS.allow_writes, data.SESSIONS.configured = None, False, False
    pn.state.clear_caches()


@pytest.fixture
def demo(demo_url, dashboard) -> Iterator[Bench]:
    """The dashboard on the demo history, and a Bench for the expected values."""
    dashboard(demo_url)
    with Bench(demo_url) as bench:
        yield bench


def _refs(bench: Bench, model: str = "medgemma", prompt: str = V2) -> dict[int, str]:
    [found] = bench.history(model, prompt=prompt)
    return {v.version: f"tx:{v.transaction_id}" for v in found.versions}


# --- Current --------------------------------------------------------------------------


def test_current_lists_every_configuration_with_its_interval_and_the_cards(demo):
    out = current.view(**F)
    frame = tables(out)["current-table"]
    assert len(frame) == 10 and set(frame["model"]) == MODELS
    assert all(INTERVAL.fullmatch(text) for text in frame["F1 [95% CI]"])
    for row in demo.current():
        f1 = next(e for e in demo.show(f"tx:{row.transaction_id}").estimates if e.metric == "f1")
        [shown] = frame[
            (frame["model"] == row.model_key)
            & (frame["prompt"] == row.prompt_version)
            & (frame["environment"] == row.environment)
        ]["F1 [95% CI]"]
        assert shown == f"{f1.value:.3f} [{f1.low:.3f}, {f1.high:.3f}]"
    keys = zip(frame["model"], frame["prompt"], strict=True)
    versions = dict(zip(keys, frame["version"], strict=True))
    assert versions[("gemini", V2)] == "v7 of 7" and versions[("medgemma", "v1")] == "v3 of 3"
    assert set(frame["status"]) == {"healthy"}
    [box] = named(out, "cards")
    cards = {c.name: str(c.object) for c in box.objects}
    assert list(cards) == [
        "Best F1",
        "Best recall",
        "Fastest (mean latency)",
        "Cheapest per detected issue",
        "Failed runs in range",
    ]
    assert '<div class="value">1</div>' in cards["Failed runs in range"]
    best = max(demo.current(), key=lambda r: r.f1)
    assert widgets.interval(best.f1, best.f1_low, best.f1_high) in cards["Best F1"]
    assert widgets.esc(configuration_label(best)) in cards["Best F1"]
    assert "baseline" in cards["Fastest (mean latency)"]  # 2 ms a case
    deferred = [o for o in walk(out) if isinstance(o, pn.param.ParamFunction) and o.defer_load]
    assert len(deferred) == 2  # the charts come right after the cards and the table
    charts = [pn.panel(o.object()) for o in deferred]
    assert all(isinstance(c, pn.pane.HoloViews) for c in charts)
    assert data.SESSIONS.read(lambda b: b.connected_as) == data.READER_LOGIN


def test_current_follows_the_filters(demo):
    out = current.view(**{**F, "models": ["openai"]})
    assert len(tables(out)["current-table"]) == 3
    [box] = named(out, "cards")
    failed = next(c for c in box.objects if c.name == "Failed runs in range")
    assert '<div class="value">0</div>' in failed.object
    gemini = current.view(**{**F, "models": ["gemini"], "prompts": [V2]})
    assert len(tables(gemini)["current-table"]) == 1
    [box] = named(gemini, "cards")
    assert '<div class="value">1</div>' in box.objects[-1].object
    nothing = current.view(**{**F, "models": ["nobody"]})
    assert isinstance(nothing, pn.pane.Alert) and "No configuration matches" in nothing.object


# --- Trends ---------------------------------------------------------------------------


def test_trends_draw_a_chart_and_say_how_points_are_aggregated(demo):
    out = trends_tab.view(**F, metric="f1", bucket="auto")
    [legend] = named(out, "trend-legend")
    assert "healthy runs of one **run**" in legend.object and "never as 0" in legend.object
    [chart] = [o for o in walk(out) if isinstance(o, pn.pane.HoloViews)]
    assert isinstance(chart.object, hv.Overlay)
    weekly = trends_tab.view(**F, metric="latency_ms", bucket="week")
    assert "of one **week**" in named(weekly, "trend-legend")[0].object


def test_a_failed_run_is_marked_on_the_line_never_at_zero(demo):
    out = trends_tab.view(**{**F, "models": ["gemini"], "prompts": [V2]}, metric="f1", bucket="run")
    [chart] = [o for o in walk(out) if isinstance(o, pn.pane.HoloViews)]
    [marks] = [e for e in chart.object if e.label == "failed / quarantined"]
    values = list(marks.dframe()["value"])
    assert len(values) == 1 and 0.4 < values[0] < 0.6  # gemini's F1 level, not 0


# --- Compare --------------------------------------------------------------------------


def test_compare_gives_both_runs_side_by_side_and_the_verdicts_in_points(demo):
    refs = _refs(demo)
    out = compare.results(refs[2], [refs[3]], **F)
    found = tables(out)
    side = found["side-by-side"]
    assert list(side.columns) == [
        "metric",
        f"medgemma@2 · {V2} · demo-patients-v1 · github-actions",
        f"medgemma@3 · {V2} · demo-patients-v1 · github-actions",
    ]
    f1 = side[side["metric"] == "f1"].iloc[0]
    assert all(INTERVAL.fullmatch(text) for text in f1.iloc[1:])
    assert f1.iloc[1] != f1.iloc[2]
    verdicts = found["verdicts"].set_index("metric")
    assert verdicts.loc["f1", "delta [95% CI]"] == minus("-15.2 pts [-23.2, -7.2]")
    assert verdicts.loc["f1", "MDE"].endswith(" pts")
    assert verdicts.loc["f1", "verdict"] == "regression" and verdicts.loc["f1", "gated"] == "yes"
    assert " ms [" in verdicts.loc["latency_ms", "delta [95% CI]"]
    alerts = [a.object for a in walk(out) if isinstance(a, pn.pane.Alert)]
    assert alerts == ["**Regression** in f1, recall"]


def test_compare_without_a_choice_suggests_a_pair(demo):
    out = compare.results("", [], **F)
    side = tables(out)["side-by-side"]
    assert len(side.columns) == 3  # a baseline and one candidate were picked


# --- Cases ----------------------------------------------------------------------------


def test_cases_page_through_the_cases_that_got_worse(demo):
    refs = _refs(demo)
    state = DashboardState()
    worse = demo.cases(refs[2], refs[3], change="worse", limit=500)
    pages = math.ceil(worse.total / data.PAGE_SIZE)
    assert worse.total > data.PAGE_SIZE and pages >= 2

    def page(number: int) -> Any:
        return cases.diff(state, refs[2], [refs[3]], "worse", "", "", "any", number, **F)

    first, second = page(1), page(2)
    one, two = tables(first)["cases-table"], tables(second)["cases-table"]
    assert len(one) == data.PAGE_SIZE and set(one["change"]) == {"worse"}
    assert set(two["change"]) == {"worse"} and 0 < len(two) <= data.PAGE_SIZE
    assert not set(one["case"]) & set(two["case"])
    if pages == 2:
        assert set(one["case"]) | set(two["case"]) == {r.case_id for r in worse.rows}
    [info] = named(first, "page-info")
    assert info.object.startswith(f"page **1** of {pages} · cases 1{DASH}25 of {worse.total}")
    assert named(second, "page-info")[0].object.startswith(f"page **2** of {pages}")
    [pager] = named(first, "pager")
    assert pager.objects[0].disabled and not pager.objects[2].disabled
    [header] = named(first, "cases-header")
    assert "only the cases that got worse" in header.object
    every = cases.diff(state, refs[2], [refs[3]], "all", "", "", "any", 4, **F)
    assert named(every, "page-info")[0].object.startswith("page **4** of 4 · cases 76")
    assert set(tables(every)["cases-table"]["change"]) - {"worse"}  # worse first, then others


def test_one_case_across_every_current_version(demo):
    out = cases.across("P001", **F)
    frame = out.value
    assert len(frame) == 10 and frame["version"].min() >= 3
    missing = cases.across("P999", **F)
    assert isinstance(missing, pn.pane.Alert) and "P999" in missing.object


# --- Regressions ----------------------------------------------------------------------


def test_regressions_list_the_held_promotion_and_the_outage(demo):
    out = regressions.view(**F)
    found = tables(out)
    [held] = found["held-table"].to_dict("records")
    assert held["configuration"] == f"medgemma · {V2} · demo-patients-v1 · github-actions"
    assert (held["held version"], held["current stayed"]) == ("v3", "v2")
    assert held["reason"].startswith("held: significant regression vs version 2")
    [failed] = found["failed-table"].to_dict("records")
    assert failed["configuration"].startswith("gemini") and failed["status"] == "failed"
    assert "HTTP 503" in failed["reason"] and failed["version"] == "v4"
    assert "### Failed and quarantined runs in range (1)" in texts(out)
    assert "regression" not in set(found["verdicts-table"]["verdict"])  # passed since


def test_regressions_show_a_held_regression_that_is_the_latest_verdict(held_url, dashboard):
    dashboard(held_url)
    out = regressions.view(**F)
    [alert] = [a for a in walk(out) if isinstance(a, pn.pane.Alert) and a.alert_type == "danger"]
    assert "1 configuration(s) regressed" in alert.object
    verdicts = tables(out)["verdicts-table"]
    mine = verdicts[verdicts["verdict"] == "regression"].set_index("metric")
    assert set(mine.index) == {"f1", "recall"}
    assert mine.loc["f1", "delta [95% CI]"] == minus("-15.2 pts [-23.2, -7.2]")
    assert mine.loc["f1", "baseline"] == "v2 (current)" and mine.loc["f1", "version"] == "v3"


# --- History --------------------------------------------------------------------------


def test_history_marks_the_current_version_and_shows_no_write_controls(demo):
    out = history.view(DashboardState(), MEDGEMMA_V2, **F)
    found = tables(out)
    versions = found["versions-table"]
    assert list(versions["version"]) == ["★ v7", "v6", "v5", "v4", "v3", "v2", "v1"]
    events = found["events-table"]
    [hold] = events[events["event"] == "hold"]["why"]
    assert hold.startswith("held: significant regression")
    assert named(out, "write-controls") == []
    gemini = tables(
        history.view(DashboardState(), f"gemini|demo-patients-v1|{V2}|github-actions", **F)
    )
    assert gemini["versions-table"].set_index("version").loc["v4", "status"] == "failed"
    chosen = tables(history.view(DashboardState(), "", **F))["versions-table"]
    assert chosen["version"].iloc[0].startswith("★")  # the best configuration by default


def test_history_offers_write_controls_only_when_writes_are_allowed(demo_url, dashboard):
    dashboard(demo_url, allow_writes=True)
    out = history.view(DashboardState(), MEDGEMMA_V2, **F)
    [controls] = named(out, "write-controls")
    assert isinstance(controls, pn.Card)
    with pytest.raises(PermissionError):
        dashboard(demo_url)
        data.write(lambda b: b.rollback("medgemma", 6, prompt=V2, reason="x"))


# --- Cost -----------------------------------------------------------------------------


def test_cost_lists_the_four_models(demo):
    out = cost.view("model", **F)
    frame = tables(out)["cost-table"].set_index("group")
    assert set(frame.index) == MODELS and frame["runs"].sum() == 46
    assert frame.loc["gemini", "failed runs"] == 1 and frame.loc["openai", "runs"] == 13
    assert frame.loc["openai", "spend"].startswith("$")
    prompts = tables(cost.view("prompt", **F))["cost-table"]
    assert len(prompts) == 10 and prompts["runs"].sum() == 46
    assert {g.split(" / ")[1] for g in prompts["group"]} == {"v1", V2, "v3-reasoning"}
    only = tables(cost.view("model", **{**F, "models": ["openai"]}))["cost-table"]
    assert list(only["group"]) == ["openai"]


# --- an empty store, a store that is down ---------------------------------------------


def _views(state: DashboardState) -> dict[str, Callable[[], Any]]:
    return {
        "current": lambda: current.view(**F),
        "trends": lambda: trends_tab.view(**F, metric="f1", bucket="auto"),
        "compare": lambda: compare.results("", [], **F),
        "cases": lambda: cases.diff(state, "", [], "worse", "", "", "any", 1, **F),
        "regressions": lambda: regressions.view(**F),
        "history": lambda: history.view(state, "", **F),
        "cost": lambda: cost.view("model", **F),
    }


@pytest.mark.parametrize("store", ["empty_db_url", "db_url"])
def test_an_empty_store_shows_how_to_fill_it(store, request, dashboard):
    dashboard(request.getfixturevalue(store))  # no schema at all; migrated with no runs
    for name, view in _views(DashboardState()).items():
        out = view()
        assert isinstance(out, pn.pane.Markdown), name
        assert out.name == "empty-store" and out.object == widgets.EMPTY_STORE, name


def test_a_store_that_is_down_gives_a_banner_never_a_traceback(dashboard):
    dashboard(DOWN)
    state = DashboardState()
    views = _views(state)
    views["across"] = lambda: cases.across("P001", **F)
    views["compare-controls"] = lambda: compare.controls(state, **F)
    for name, view in views.items():
        out = view()
        assert isinstance(out, pn.pane.Alert), name
        assert out.alert_type == "danger" and "cannot be read" in out.object, name
    for build in (compare.view, cases.view, history.view_for, cost.view_for):
        build(state)  # whole tabs are built without raising


# --- units and markup safety ----------------------------------------------------------


def test_deltas_and_values_in_their_own_units():
    assert units.delta_text("f1", -0.152, -0.232, -0.072) == minus("-15.2 pts [-23.2, -7.2]")
    assert units.delta_text("recall", 0.05, None, None) == "+5.0 pts"
    assert units.delta_text("latency_ms", 120.4, -10.2, 250.6) == minus("+120 ms [-10, +251]")
    assert units.delta_text("cost_usd", 0.0123, -0.001, 0.02) == minus(
        "+0.0123 USD [-0.0010, +0.0200]"
    )
    assert units.delta_text("f1", None, None, None) == units.delta_text("f1", math.nan, 0, 1)
    assert units.value_text("latency_ms", 1234.4) == "1234 ms"
    assert units.value_text("cost_usd", 0.01234) == "$0.0123"
    assert units.value_text("f1", 0.61234) == "0.612"
    assert units.value_text("f1", None) == DASH
    assert units.p_text(0.0004) == "< 0.001" and units.p_text(0.0123) == "0.012"
    assert widgets.ms(5600) == "5.60 s" and widgets.ms(2.4) == "2 ms"
    assert widgets.usd(0.01234) == "$0.0123" and widgets.usd(1234.5) == "$1,234.50"


MARKUP = "<b>x</b>**y**"


def test_markup_helpers_escape_html_and_markdown():
    assert widgets.md_escape(MARKUP) == "&lt;b&gt;x&lt;/b&gt;\\*\\*y\\*\\*"
    html = widgets.card(MARKUP, MARKUP, MARKUP).object
    assert "<b>x</b>" not in html and html.count("&lt;b&gt;x&lt;/b&gt;") == 3


@pytest.fixture
def marked(bench, dashboard, db_url) -> list[str]:
    """Two runs whose prompt version holds HTML and Markdown; the dashboard on them."""
    patients = synthetic_patients(30, seed=4)
    report = bench.push(
        [
            (
                f"m{day}",
                simulate_run(
                    "openai",
                    patients,
                    prompt=MARKUP,
                    commit=f"{day:040x}",
                    when=DEMO_START + timedelta(days=day),
                ),
            )
            for day in (0, 1)
        ]
    )
    dashboard(db_url)
    return [f"tx:{o.transaction_id}" for o in report.outcomes]


def _assert_escaped(text: str, markdown: bool) -> None:
    assert "<b>x</b>" not in text and "&lt;b&gt;x&lt;/b&gt;" in text
    if markdown:
        assert "**y**" not in text and "\\*\\*y\\*\\*" in text


def test_store_values_with_markup_are_escaped_in_cards_and_headers(marked):
    out = current.view(**F)
    best = next(c for c in named(out, "cards")[0].objects if c.name == "Best F1")
    _assert_escaped(best.object, markdown=False)
    compared = compare.results(marked[0], [marked[1]], **F)
    [header] = [t for t in texts(compared) if t.startswith("####")]
    _assert_escaped(header, markdown=True)


def test_the_cases_header_escapes_markdown_in_run_labels(marked):
    out = cases.diff(DashboardState(), marked[0], [marked[1]], "all", "", "", "any", 1, **F)
    [header] = named(out, "cases-header")
    _assert_escaped(header.object, markdown=True)


def test_a_case_id_from_the_url_is_escaped(marked):
    out = cases.across("<b>x</b>", **F)
    assert "<b>x</b>" not in out.object
