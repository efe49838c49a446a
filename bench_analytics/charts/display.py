"""A chart in a notebook as a self-contained Bokeh page in an iframe: BokehJS inline (the
executed notebook and its HTML rendering work offline, in CI artifacts too), no notebook
extension to load (HoloViews' costs over a second per kernel), the same look as the
dashboard. For notebooks that CI runs, where every second counts."""

from __future__ import annotations

import html
from typing import Any

import holoviews.plotting.bokeh  # noqa: F401  (the builders' options need Bokeh's plotting)

MARGIN = 40  # pixels around the figure inside its frame


def page(chart: Any, title: str = "chart") -> str:
    """A HoloViews chart as one standalone HTML page (BokehJS inline)."""
    import holoviews as hv
    from bokeh.embed import file_html
    from bokeh.resources import INLINE

    figure = hv.render(chart, backend="bokeh")
    return file_html(figure, INLINE, title)


def show(chart: Any, *, height: int = 460, title: str = "chart") -> None:
    """Display a chart from this package's builders in the notebook."""
    from IPython.display import HTML, display

    frame = (
        f'<iframe srcdoc="{html.escape(page(chart, title), quote=True)}" '
        f'style="width: 100%; height: {height + MARGIN}px; border: 0" '
        f'title="{html.escape(title)}"></iframe>'
    )
    display(HTML(frame))
