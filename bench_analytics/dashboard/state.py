"""Every selection of the dashboard as parameters: what the URL carries, so a link
reproduces the view."""

from __future__ import annotations

from typing import Any

import param

TABS = ("current", "trends", "compare", "cases", "regressions", "history", "cost")
TAB_TITLES = {
    "current": "Current",
    "trends": "Trends",
    "compare": "Compare",
    "cases": "Cases",
    "regressions": "Regressions",
    "history": "History",
    "cost": "Cost",
}
RANGES = {"all": "All time", "7d": "Last 7 days", "30d": "Last 30 days", "90d": "Last 90 days"}
RANGES.update({"365d": "Last year"})
METRICS = ("f1", "precision", "recall", "latency_ms", "cost_usd")
BUCKETS = ("auto", "run", "day", "week", "month", "commit")
CHANGES = ("worse", "all")
RESETS_PAGE = (
    "environments",
    "models",
    "datasets",
    "prompts",
    "range",
    "baseline",
    "candidates",
    "change",
    "issue_type",
    "category",
    "domain",
)
COST_GROUPS = ("model", "prompt", "environment", "day", "week", "month")


class DashboardState(param.Parameterized):
    """The view: tab, filters, and each tab's own choices (all synced to the URL)."""

    tab = param.Selector(default="current", objects=list(TABS))
    environments = param.List(default=[], item_type=str)
    models = param.List(default=[], item_type=str)
    datasets = param.List(default=[], item_type=str)
    prompts = param.List(default=[], item_type=str)
    range = param.Selector(default="all", objects=list(RANGES))
    metric = param.Selector(default="f1", objects=list(METRICS))
    bucket = param.Selector(default="auto", objects=list(BUCKETS))
    baseline = param.String(default="", doc="tx:ID of the baseline run ('' = suggested)")
    candidates = param.List(default=[], item_type=str, doc="tx:ID of each candidate")
    change = param.Selector(default="worse", objects=list(CHANGES))
    issue_type = param.String(default="")
    category = param.String(default="")
    domain = param.Selector(default="any", objects=["any", "yes", "no"])
    page = param.Integer(default=1, bounds=(1, None))
    case = param.String(default="", doc="a case id to see across every model")
    config = param.String(default="", doc="model|dataset|prompt|environment for History")
    cost_by = param.Selector(default="model", objects=list(COST_GROUPS))
    notice = param.String(default="", doc="the outcome of the last write (not in the URL)")

    URL_PARAMS = (
        "tab",
        "environments",
        "models",
        "datasets",
        "prompts",
        "range",
        "metric",
        "bucket",
        "baseline",
        "candidates",
        "change",
        "issue_type",
        "category",
        "domain",
        "page",
        "case",
        "config",
        "cost_by",
    )

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        self.param.watch(self._back_to_first_page, [*RESETS_PAGE, "page"])

    def _back_to_first_page(self, *events: param.parameterized.Event) -> None:
        """A new filter or pair of runs starts at page 1 (unless the same update, e.g. a
        link, names the page too)."""
        if not any(event.name == "page" for event in events):
            self.page = 1

    def apply_url_values(self, values: dict[str, Any]) -> None:
        """Set what a link carries when Panel could not set it in one go: an all-digit case
        id arrives as a number (taken as text here); a value no parameter accepts (an
        unknown tab, say) is left out instead of dropping the rest of the link."""
        fixed: dict[str, Any] = {}
        for name, value in values.items():
            if name not in self.URL_PARAMS:
                continue
            if isinstance(self.param[name], param.String) and not isinstance(value, str):
                value = str(value)
            try:
                self.param[name]._validate(value)
            except (ValueError, TypeError):
                continue
            fixed[name] = value
        self.param.update(**fixed)

    def filters(self) -> dict[str, Any]:
        """The sidebar's filters, as references a view binds to."""
        return {
            "models": self.param.models,
            "environments": self.param.environments,
            "datasets": self.param.datasets,
            "prompts": self.param.prompts,
            "span": self.param.range,
        }
