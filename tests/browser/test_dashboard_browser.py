"""The dashboard in headless chromium over a real store with the demo history: every tab
draws, filters narrow what is shown, a link reopens its view, the per-case drawer opens,
writes only when allowed (behind a reason), friendly empty and store-down states.

One server and one browser serve the whole module (see conftest.py); every wait is on a
condition, with generous timeouts for a loaded machine.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import urlencode

import pytest
from playwright.sync_api import Page, expect

from bench_analytics.api import Bench
from tests.browser.conftest import WAIT_MS, Served

# a browser (many processes), run in one go on one worker (see the browser fixture)
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("browser")]

MIN_SCREENSHOT_BYTES = 20_000
HELD = ("medgemma", "demo-patients-v1", "v2-structured", "github-actions")  # held regression
DOWN_URL = "postgresql://u@127.0.0.1:1/x"  # nothing listens on port 1

# tab: (a text only it shows, words of a chart title (None: no chart), whether it has a table)
TABS: dict[str, tuple[str, str | None, bool]] = {
    "current": ("Best F1", "by F1", True),
    "trends": ("failed or quarantined runs", "over time", False),
    "compare": ("paired verdicts", "Precision / recall", True),
    "cases": ("got worse", None, True),
    "regressions": ("Latest verdict", None, True),
    "history": ("Versions (", None, True),
    "cost": ("Group spend by", "Spend by", True),
}

CHART_TITLES = """() => {
  const titles = [];
  for (const doc of (window.Bokeh ? window.Bokeh.documents : [])) {
    for (const model of doc.all_models) {
      if (model.type === "Title" && model.text) titles.push(model.text);
    }
  }
  return titles;
}"""


def query(**params: Any) -> str:
    """A URL query as the page's location sync writes it (lists as JSON)."""
    return urlencode(
        {k: v if isinstance(v, str | int) else json.dumps(v) for k, v in params.items()}
    )


def open_tab(page: Page, served: Served, text: str, /, **params: Any) -> None:
    """Open the page with these URL parameters; wait until ``text`` shows."""
    page.goto(served.page_url(query(**params)))
    expect(page.get_by_text(text).first).to_be_visible(timeout=WAIT_MS)


def wait_for_chart(page: Page, words: str) -> None:
    """Bokeh draws titles on its canvas: they are read from the page's Bokeh documents."""
    page.wait_for_function(
        f"words => ({CHART_TITLES})().some(t => t.includes(words))", arg=words, timeout=WAIT_MS
    )
    expect(page.locator(".bk-Canvas, canvas").first).to_be_visible()


def model_cells(page: Page) -> Any:
    return page.locator('.tabulator-cell[tabulator-field="model"]')


def tab(page: Page, title: str) -> Any:
    """A tab's header (Bokeh's tabs have no ARIA roles)."""
    return page.locator(".bk-tab").filter(has_text=re.compile(f"^{title}$"))


def no_traceback(page: Page) -> None:
    for text in ("Traceback", 'File "', "psycopg.", "OperationalError"):
        expect(page.get_by_text(text)).to_have_count(0)


# --- every tab ---------------------------------------------------------------------------


@pytest.mark.parametrize("tab", list(TABS))
def test_every_tab_renders_its_chart_and_table(page: Page, dashboard: Served, artifacts, tab):
    text, chart, has_table = TABS[tab]
    open_tab(page, dashboard, text, tab=tab)
    if has_table:
        expect(page.locator(".tabulator-row").first).to_be_visible()
    if chart:
        wait_for_chart(page, chart)
    no_traceback(page)
    shot = artifacts / f"{tab}.png"
    page.screenshot(path=str(shot))
    assert shot.stat().st_size > MIN_SCREENSHOT_BYTES, f"{shot} looks blank"
    assert not page.errors, page.errors


def test_regressions_names_the_held_promotion(page: Page, dashboard: Served):
    open_tab(page, dashboard, "Held promotions (1)", tab="regressions")
    held = " · ".join((HELD[0], HELD[2], HELD[1], HELD[3]))
    expect(page.locator(".tabulator-cell", has_text=held).first).to_be_visible()


# --- filters and links -------------------------------------------------------------------


def test_the_models_filter_narrows_the_current_table_and_the_link(page: Page, dashboard: Served):
    open_tab(page, dashboard, "Best F1", tab="current")
    expect(model_cells(page).filter(has_text="gemini").first).to_be_visible()

    models = page.locator(".bk-input-group", has=page.get_by_text("Models", exact=True))
    models.locator(".choices").click()
    dropdown = models.locator(".choices__list--dropdown .choices__item--choice")
    option = dropdown.get_by_text("openai", exact=True)
    expect(option).to_be_visible()  # the list is open: pick from it, no blind typing
    option.click()
    expect(models.locator(".choices__list--multiple .choices__item")).to_have_text(
        [re.compile(r"^openai")]  # and the item's remove button
    )
    page.keyboard.press("Escape")

    expect(model_cells(page).filter(has_text="gemini")).to_have_count(0)
    expect(model_cells(page).filter(has_text="medgemma")).to_have_count(0)
    expect(model_cells(page).filter(has_text="openai").first).to_be_visible()
    expect(page).to_have_url(re.compile(r"models=%5B%22openai%22%5D"))

    # the link opens the same narrowed view
    link = page.url
    again = page.context.new_page()
    again.goto(link)
    expect(again.get_by_text("Best F1").first).to_be_visible()
    expect(model_cells(again).filter(has_text="openai").first).to_be_visible()
    expect(model_cells(again).filter(has_text="gemini")).to_have_count(0)


def test_a_link_with_runs_opens_that_comparison(page: Page, dashboard: Served):
    with Bench(dashboard.url) as bench:
        current = {c.model_key: c for c in bench.run_choices() if c.is_current}
    baseline, candidate = current["openai"], current["gemini"]  # not the suggested pair
    open_tab(
        page,
        dashboard,
        "paired verdicts",
        tab="compare",
        baseline=baseline.ref,
        candidates=[candidate.ref],
    )
    titles = page.locator(".tabulator-col-title")
    expect(titles.filter(has_text=baseline.label)).to_have_count(1)
    expect(titles.filter(has_text=candidate.label)).to_have_count(1)
    expect(page.locator("h4", has_text=candidate.label)).to_be_visible()
    expect(page).to_have_url(re.compile(re.escape(f"baseline={baseline.ref.replace(':', '%3A')}")))


def test_a_link_to_a_page_of_cases_opens_that_page(page: Page, dashboard: Served):
    open_tab(page, dashboard, "got worse", tab="cases", page=2)
    expect(page.get_by_text(re.compile(r"page\s*2\s*of\s*\d+")).first).to_be_visible()
    expect(page.locator(".tabulator-row").first).to_be_visible()


def _page_info(page: Page) -> str:
    info = page.get_by_text(re.compile(r"page\s*\d+\s*of\s*\d+")).first
    expect(info).to_be_visible()
    return " ".join(info.inner_text().split())


def test_a_link_with_runs_and_a_page_opens_that_page(page: Page, dashboard: Served):
    with Bench(dashboard.url) as bench:
        runs = sorted(
            (c for c in bench.run_choices() if c.configuration == HELD), key=lambda c: c.version
        )
    open_tab(
        page,
        dashboard,
        "cases by change",
        tab="cases",
        baseline=runs[0].ref,
        candidates=[runs[-1].ref],
        change="all",
        page=2,
    )
    assert _page_info(page).startswith("page 2 of")


def test_a_link_with_a_numeric_case_id_keeps_the_rest(page: Page, dashboard: Served):
    open_tab(page, dashboard, "One case across", tab="cases", case="123", page=2)
    assert _page_info(page).startswith("page 2 of")
    expect(page.get_by_role("textbox", name="Case id")).to_have_value("123")


def test_choosing_a_tab_puts_it_in_the_url(page: Page, dashboard: Served):
    open_tab(page, dashboard, "Best F1")
    tab(page, "Trends").click()
    expect(page).to_have_url(re.compile(r"[?&]tab=trends(&|$)"))
    wait_for_chart(page, "over time")
    tab(page, "History").click()
    expect(page).to_have_url(re.compile(r"[?&]tab=history(&|$)"))
    expect(page.get_by_text("Versions (").first).to_be_visible()


def test_a_case_row_opens_its_drawer(page: Page, dashboard: Served):
    open_tab(page, dashboard, "got worse", tab="cases")
    drawer_text = page.get_by_text(re.compile(r"^(expected|detected|raw answer|other details)$"))
    expect(drawer_text).to_have_count(0)
    first = page.locator(".tabulator-row").first
    first.locator(".tabulator-cell", has_text="►").click()
    expect(drawer_text.first).to_be_visible()
    expect(page.get_by_text("candidate", exact=True).first).to_be_visible()


# --- writes ------------------------------------------------------------------------------


def test_read_only_history_offers_no_write(page: Page, dashboard: Served):
    open_tab(page, dashboard, "Versions (", tab="history", config="|".join(HELD))
    expect(page.locator(".tabulator-row").first).to_be_visible()
    for label in ("Roll back…", "Auto-rollback…", "Quarantine…", "Confirm"):
        expect(page.get_by_role("button", name=label)).to_have_count(0)
        expect(page.get_by_text(label)).to_have_count(0)  # not even hidden
    expect(page.get_by_text("read-only").first).to_be_visible()


def _current_version(url: str) -> int | None:
    model, dataset, prompt, environment = HELD
    with Bench(url) as bench:
        [row] = bench.snapshots(
            model=model, dataset=dataset, prompt=prompt, environment=environment
        )
        return row.version


def _history(url: str) -> Any:
    model, dataset, prompt, environment = HELD
    with Bench(url) as bench:
        [found] = bench.history(model, dataset=dataset, prompt=prompt, environment=environment)
    return found


def test_a_rollback_from_the_page_needs_a_reason_and_moves_the_pointer(
    other_dashboard, page: Page, demo_store: dict[str, str]
):
    url = demo_store["writable"]
    before = _current_version(url)
    older = max(
        v.version
        for v in _history(url).versions
        if v.version != before and v.effective_status == "healthy" and v.version < (before or 0)
    )
    served = other_dashboard(url, allow_writes=True)
    open_tab(page, served, "Versions (", tab="history", config="|".join(HELD))
    controls = page.get_by_text("Change the current version (audited)")
    expect(controls).to_be_visible()

    page.get_by_label("Version", exact=True).select_option(str(older))
    page.get_by_role("button", name="Roll back…").click()
    expect(page.get_by_text(re.compile(rf"Make v{older} of medgemma current"))).to_be_visible()
    confirm = page.get_by_role("button", name="Confirm")  # the open box's (hidden ones are not)
    expect(confirm).to_be_visible()
    expect(confirm).to_be_disabled()
    reason_box = page.get_by_role("textbox", name="Reason (required, kept in the audit log)")
    reason_box.fill("x")
    expect(confirm).to_be_enabled()
    reason_box.fill("   ")
    expect(confirm).to_be_disabled()  # a blank reason is no reason
    assert _current_version(url) == before

    reason = "browser test: back to the version before the held one"
    reason_box.fill(reason)
    expect(confirm).to_be_enabled()
    confirm.click()
    # the view is drawn again: the older version is marked current, the rollback listed first
    expect(page.get_by_role("gridcell", name=f"★ v{older}", exact=True)).to_be_visible()
    expect(
        page.get_by_role("row", name=re.compile(rf"^rollback v{before} → v{older} "))
    ).to_be_visible()
    expect(page.get_by_text("Done:").first).to_be_visible()  # the outcome is said, on top

    assert _current_version(url) == older
    rollbacks = [e for e in _history(url).events if e.event_type == "rollback"]
    assert [(e.to_version, e.reason) for e in rollbacks] == [(older, reason)]


# --- friendly states ---------------------------------------------------------------------


def test_an_empty_store_says_how_to_fill_it(
    other_dashboard, page: Page, demo_store: dict[str, str]
):
    served = other_dashboard(demo_store["empty"])
    for tab in ("current", "cases"):
        open_tab(page, served, "The store holds no results yet", tab=tab)
        expect(page.get_by_text("bench-analytics demo").first).to_be_visible()
        no_traceback(page)
    expect(page.locator(".tabulator-row")).to_have_count(0)


def test_a_store_that_is_down_shows_a_banner_not_a_traceback(other_dashboard, page: Page):
    served = other_dashboard(DOWN_URL)
    for tab in ("current", "history"):
        open_tab(page, served, "The store cannot be read", tab=tab)
        no_traceback(page)
    expect(page.get_by_text("unreachable").first).to_be_visible()
