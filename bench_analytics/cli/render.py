"""Terminal output: consoles, values in the project's visual language, fitted tables, JSON.

Every string that comes from a user, a file or the store is rendered as ``rich.text.Text``
(never parsed as markup), so a value like ``[/bold]`` prints as itself.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from rich.console import Console, Group

if TYPE_CHECKING:
    from rich.progress import Progress
from rich.table import Table
from rich.text import Text

out = Console(highlight=False, soft_wrap=False)
err = Console(stderr=True, highlight=False)


def configure() -> None:
    """Width from $COLUMNS, else the terminal's, else 160 for pipes (CI logs, `| tee`)."""
    columns = os.environ.get("COLUMNS", "")
    if columns.isdigit() and int(columns) > 0:
        out.width = int(columns)
    elif not sys.stdout.isatty():
        out.width = 160


def line(*parts: str | tuple[str, str] | Text) -> None:
    """Print a line assembled from plain text and (text, style) pairs, wrapped to the
    terminal; no markup parsed."""
    out.print(Text.assemble(*parts))


def error(message: str) -> None:
    err.print(Text.assemble(("error: ", "red"), message), soft_wrap=True)


def warning(message: str) -> None:
    err.print(Text.assemble(("warning: ", "yellow"), message), soft_wrap=True)


def note(message: str) -> None:
    err.print(Text(message), soft_wrap=True)


_KEPT: list[object] = []
FAST_EXIT = False  # set by the console entry point, which leaves without teardown


def keep_until_exit(value: object) -> None:
    """Hold a large result (a 100,000-case push) until the process ends, when the process
    will leave without tearing down its objects: freeing them one by one is time for nothing.
    (In-process callers, such as tests, keep nothing.)"""
    if FAST_EXIT:
        _KEPT.append(value)


def emit_json(data: Any) -> None:
    """Machine output on stdout (dates as ISO strings)."""
    sys.stdout.write(json.dumps(data, indent=2, default=_default) + "\n")


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if hasattr(value, "as_dict"):
        return value.as_dict()
    raise TypeError(f"cannot serialise {type(value).__name__}")


# --- values ------------------------------------------------------------------------------


def rate(value: float | None) -> str:
    return "—" if value is None else f"{value:.3f}"


def millis(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value / 1000:.2f} s" if value >= 1000 else f"{value:.1f} ms"


def usd(value: float | None) -> str:
    return "—" if value is None else f"${value:,.4f}" if value < 10 else f"${value:,.2f}"


def count(value: float | None) -> str:
    return "—" if value is None else f"{value:,.0f}"


def opt(value: Any) -> str:
    return "—" if value is None else str(value)


def age(when: datetime | None, now: datetime | None = None) -> str:
    """'3d ago', '5h ago', '12m ago'."""
    if when is None:
        return "—"
    seconds = ((now or datetime.now(UTC)) - when).total_seconds()
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{int(seconds // size)}{unit} ago"
    return "just now"


def short_sha(sha: str | None) -> str:
    return sha[:8] if sha else "—"


STATUS_STYLE = {
    "healthy": "green",
    "failed": "red",
    "quarantined": "bright_black",
    "held": "yellow",
}
DECISION_STYLE = {
    "regression": "bold red",
    "improvement": "green",
    "no significant change": "dim",
    "not tested": "yellow",
}


def status(value: str | None) -> Text:
    if not value:
        return Text("—")
    return Text(value, style=STATUS_STYLE.get(value, ""))


# --- fitted tables -----------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    """A table column.

    ``keep``: identity, never dropped, cut or wrapped. ``drop``: the higher, the sooner the
    column goes when the table is wider than the terminal (0: never). ``stack``: columns
    of one stack may be shown as one column, one value per line, to save width.
    ``min_width``: the narrowest a wrapping column may become.
    """

    name: str
    justify: str = "left"
    keep: bool = False
    drop: int = 0
    stack: str | None = None
    min_width: int | None = None


Cell = str | Text


def as_text(cell: Cell) -> Text:
    """A cell as Text: strings are never parsed as markup."""
    return cell if isinstance(cell, Text) else Text(cell)


def _width(cell: Cell) -> int:
    text = cell.plain if isinstance(cell, Text) else cell
    return max((len(part) for part in text.split("\n")), default=0)


def _stacked(
    columns: list[Column], rows: list[list[Cell]], name: str
) -> tuple[list[Column], list[list[Cell]]]:
    """Merge the columns of stack ``name`` into one column, one value per line."""
    members = [i for i, column in enumerate(columns) if column.stack == name]
    first = members[0]
    merged = Column(
        " / ".join(columns[i].name for i in members),
        keep=any(columns[i].keep for i in members),
    )
    new_columns = [
        merged if i == first else c for i, c in enumerate(columns) if i not in members[1:]
    ]
    new_rows: list[list[Cell]] = []
    for row in rows:
        cell = Text("\n").join(as_text(row[i]) for i in members)
        new_rows.append(
            [cell if i == first else c for i, c in enumerate(row) if i not in members[1:]]
        )
    return new_columns, new_rows


def _vertical(title: Text, columns: Sequence[Column], rows: Sequence[Sequence[Cell]]) -> Group:
    """One block per row, one 'name: value' line per column (when no table can fit)."""
    label = max(len(column.name) for column in columns)
    parts: list[Text] = [title]
    for number, row in enumerate(rows, 1):
        parts.append(Text(f"── {number} ──", style="dim"))
        for column, cell in zip(columns, row, strict=True):
            value = as_text(cell)
            if value.plain:
                parts.append(Text.assemble((f"{column.name or '·':>{label}}  ", "bold"), value))
    return Group(*parts)


def fitted(
    title: str | Text,
    columns: Sequence[Column],
    rows: Sequence[Sequence[Cell]],
    width: int | None = None,
) -> Table | Group:
    """A table that fits ``width`` without cutting an identity column: optional columns are
    dropped first, then stacks are merged, then dropped columns come back while they fit."""
    width = width or out.width
    cols, body = list(columns), [list(row) for row in rows]

    def natural(i: int) -> int:
        return max([len(cols[i].name), *(_width(row[i]) for row in body)])

    def total(shown: list[int]) -> int:
        return sum(max(natural(i), cols[i].min_width or 0) + 3 for i in shown) + 1

    shown = list(range(len(cols)))
    dropped: list[Column] = []
    while total(shown) > width:
        candidates = [i for i in shown if cols[i].drop > 0]
        if not candidates:
            break
        victim = max(candidates, key=lambda i: (cols[i].drop, i))
        dropped.append(cols[victim])
        shown.remove(victim)
    stacks = [c.stack for c in cols if c.stack]
    if total(shown) > width and stacks:
        for name in dict.fromkeys(stacks):
            cols, body = _stacked(cols, body, name)
        shown = [i for i, c in enumerate(cols) if c not in dropped]
        for column in sorted(dropped, key=lambda c: c.drop):  # bring back what fits now
            index = cols.index(column)
            if total(sorted([*shown, index])) <= width:
                shown = sorted([*shown, index])
    heading = title if isinstance(title, Text) else Text(title)

    def narrowest(i: int) -> int:
        if cols[i].keep:
            return natural(i)
        words = [len(word) for row in body for word in as_text(row[i]).plain.split()]
        return max([cols[i].min_width or 0, *words, *map(len, cols[i].name.split())])

    if sum(narrowest(i) + 3 for i in shown) + 1 > width:
        return _vertical(heading, columns, rows)  # no table can fit: one block per row
    table = Table(title=heading, title_justify="left")
    for i in shown:
        column = cols[i]
        table.add_column(
            column.name,
            justify=column.justify,  # type: ignore[arg-type]
            no_wrap=column.keep,
            min_width=natural(i) if column.keep else column.min_width,
            overflow="fold",
        )
    for row in body:
        table.add_row(*(as_text(row[i]) for i in shown))
    return table


class Footnotes:
    """Long texts (reasons) printed under a table, referred to as [1], [2] … in its cells."""

    def __init__(self) -> None:
        self.items: list[str] = []

    def ref(self, text: str | None, limit: int = 24) -> str:
        """The text itself when short, else a numbered reference to a footnote."""
        if not text:
            return ""
        if len(text) <= limit:
            return text
        if text not in self.items:
            self.items.append(text)
        return f"[{self.items.index(text) + 1}]"

    def print(self) -> None:
        for number, text in enumerate(self.items, 1):
            out.print(Text(f"[{number}] {text}", style="dim"), overflow="fold")


def progress(total: int | None, label: str, *, always: bool = False) -> Progress:
    """A transient progress bar on stderr (only on a terminal; hidden for fewer than two
    items unless ``always``)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    return Progress(
        TextColumn("{task.description}", style="bold"),
        BarColumn(),
        MofNCompleteColumn(),
        console=err,
        transient=True,
        disable=not err.is_terminal or (not always and total is not None and total < 2),
    )


@contextlib.contextmanager
def spinner(label: str) -> Iterator[None]:
    """A transient spinner with the elapsed time on stderr (only on a terminal)."""
    if not err.is_terminal:
        yield
        return
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    columns = (SpinnerColumn(), TextColumn(label, style="bold"), TimeElapsedColumn())
    with Progress(*columns, console=err, transient=True) as shown:
        shown.add_task(label, total=None)
        yield
