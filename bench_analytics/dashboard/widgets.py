"""Pieces every tab uses: cards, tables, friendly empty and error states, number formats.

Values from the store are escaped wherever they reach HTML or Markdown.
"""

from __future__ import annotations

import functools
import html
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, ParamSpec

import pandas as pd
import panel as pn

from bench_analytics.dashboard.data import StoreDown
from bench_analytics.errors import BenchError

P = ParamSpec("P")
EMPTY_STORE = """\
### The store holds no results yet

Fill it with your own results or with the sample history:

```bash
bench-analytics push benchmarks/results/      # result files of any known format
make demo                                     # or: bench-analytics demo
```

Then reload this page."""
CARD_CSS = """
:host { border: 1px solid #d0d7de; border-radius: 8px; padding: 10px 14px; background: #fff;
        min-width: 170px; }
.title { color: #57606a; font-size: 0.85em; text-transform: uppercase; letter-spacing: .04em; }
.value { font-size: 1.6em; font-weight: 600; margin: 2px 0; color: #1f2328; }
.note { color: #57606a; font-size: 0.85em; }
"""


def esc(value: object) -> str:
    """Text for HTML: escaped (store values can hold any character)."""
    return html.escape("" if value is None else str(value))


def md_escape(value: object) -> str:
    """Text for Markdown: escaped so that values never become markup."""
    text = esc(value)
    for ch in "\\`*_{}[]()#+-!|~>":
        text = text.replace(ch, "\\" + ch)
    return text


def card(title: str, value: str, note: str = "", *, name: str = "") -> pn.pane.HTML:
    """A headline number with a title and a line under it."""
    return pn.pane.HTML(
        f'<div class="title">{esc(title)}</div><div class="value">{esc(value)}</div>'
        f'<div class="note">{esc(note)}</div>',
        stylesheets=[CARD_CSS],
        name=name or title,
        css_classes=["bench-card"],
        sizing_mode="fixed",
        width=265,
        height=112,
    )


def note(text: str, kind: str = "info") -> pn.pane.Alert:
    """A friendly message (``kind``: info, warning, danger, success)."""
    return pn.pane.Alert(text, alert_type=kind, sizing_mode="stretch_width")


def empty(what: str, how: str = "") -> pn.pane.Alert:
    """Nothing to show for this selection, and what to do about it."""
    return note(f"**{what}**" + (f"<br>{how}" if how else ""), "info")


def store_down(reason: str) -> pn.pane.Alert:
    return note(
        f"**The store cannot be read right now.** {md_escape(reason)}<br>"
        "Check that it is running and that `BENCH_DATABASE_URL` points at it "
        "(`bench-analytics db status` tells); the page tries again on the next change.",
        "danger",
    )


def guarded(view: Callable[P, Any]) -> Callable[P, Any]:
    """A view that shows a banner, never a traceback, when the store is down or the
    selection cannot be shown."""

    @functools.wraps(view)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> Any:
        try:
            return view(*args, **kwargs)
        except StoreDown as error:
            return store_down(error.reason)
        except BenchError as error:
            hint = f"<br>{md_escape(error.hint)}" if getattr(error, "hint", None) else ""
            return note(f"**Cannot show this:** {md_escape(error.message)}{hint}", "warning")

    return wrapper


def table(
    frame: pd.DataFrame,
    *,
    name: str = "",
    page_size: int = 20,
    height: int | None = None,
    **kwargs: Any,
) -> pn.widgets.Tabulator:
    """A read-only table; long ones page in the browser (the frame is already small)."""
    options: dict[str, Any] = {
        "disabled": True,
        "show_index": False,
        "sizing_mode": "stretch_width",
        "layout": "fit_data_stretch",
        "name": name,
    }
    if len(frame) > page_size:
        options.update(pagination="local", page_size=page_size)
    if height:
        options["height"] = height
    options.update(kwargs)
    return pn.widgets.Tabulator(frame, **options)


def wrapped(*columns: str, width: int = 420) -> dict[str, Any]:
    """Table options that wrap long text columns (reasons) instead of running off the page."""
    return {
        "formatters": {c: {"type": "textarea"} for c in columns},
        "widths": dict.fromkeys(columns, width),
    }


def fmt(value: float | None, digits: int = 3) -> str:
    if value is None or value != value:
        return "–"
    return f"{value:.{digits}f}"


def interval(value: float | None, low: float | None, high: float | None, digits: int = 3) -> str:
    """'0.630 [0.567, 0.689]', or the value alone when no interval was stored."""
    if value is None or value != value:
        return "–"
    if low is None or high is None:
        return f"{value:.{digits}f} (no interval)"
    return f"{value:.{digits}f} [{low:.{digits}f}, {high:.{digits}f}]"


def ms(value: float | None) -> str:
    if value is None or value != value:
        return "–"
    return f"{value / 1000:.2f} s" if value >= 1000 else f"{value:.0f} ms"


def usd(value: float | None) -> str:
    if value is None or value != value:
        return "–"
    return f"${value:,.4f}" if value < 1 else f"${value:,.2f}"


def age(when: datetime | None, now: datetime | None = None) -> str:
    if when is None:
        return "–"
    seconds = ((now or datetime.now(UTC)) - when).total_seconds()
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{int(seconds // size)} {unit} ago"
    return "just now"
