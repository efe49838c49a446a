"""Token prices: cost per case = input tokens x input price + output tokens x output price."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from bench_analytics.errors import BadInputError
from bench_analytics.model import ModelRef, RunResult

DEFAULT_PRICES = Path(__file__).parent / "data" / "prices.json"


@dataclass(frozen=True)
class Price:
    """USD per 1,000 tokens."""

    input_per_1k: float
    output_per_1k: float

    def cost(self, input_tokens: int | None, output_tokens: int | None) -> float:
        return (
            (input_tokens or 0) * self.input_per_1k + (output_tokens or 0) * self.output_per_1k
        ) / 1000


def _parse(path: Path) -> dict[str, Price]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise BadInputError(str(path), f"cannot read the price table: {exc}") from None
    prices = {}
    for name, entry in data.items():
        if name.startswith("_"):
            continue
        try:
            price = Price(float(entry["input_per_1k"]), float(entry["output_per_1k"]))
        except (KeyError, TypeError, ValueError):
            raise BadInputError(
                str(path), "needs input_per_1k and output_per_1k numbers", where=f"field {name}"
            ) from None
        if price.input_per_1k < 0 or price.output_per_1k < 0:
            raise BadInputError(str(path), "prices cannot be negative", where=f"field {name}")
        prices[name.lower()] = price
    return prices


def load_prices(extra: Path | None = None) -> dict[str, Price]:
    """The packaged table, overridden entry by entry by the team's own (BENCH_PRICES)."""
    prices = _parse(DEFAULT_PRICES)
    if extra is not None:
        prices.update(_parse(extra))
    return prices


def price_for(model: ModelRef, prices: dict[str, Price]) -> Price | None:
    """The price of a model: by version, display name, then stable key."""
    for name in (model.version, model.display_name, model.key):
        if name and name.lower() in prices:
            return prices[name.lower()]
    return None


def apply_prices(run: RunResult, prices: dict[str, Price]) -> RunResult:
    """Fill the cost of cases that report tokens but no cost; records the price used."""
    missing = [c for c in run.cases if c.cost_usd is None and (c.input_tokens or c.output_tokens)]
    price = price_for(run.model, prices) if missing else None
    if price is None:
        return run
    to_price = {id(c) for c in missing}
    cases = [
        c.model_copy(update={"cost_usd": round(price.cost(c.input_tokens, c.output_tokens), 10)})
        if id(c) in to_price
        else c
        for c in run.cases
    ]
    extra = {
        **run.extra,
        "pricing": {"input_per_1k": price.input_per_1k, "output_per_1k": price.output_per_1k},
    }
    return run.model_copy(update={"cases": cases, "extra": extra})
