"""Settings read from the environment (prefix ``BENCH_``) and an optional ``.env`` file.

Each field of ``Settings`` is the variable ``BENCH_<NAME>`` (any case); the environment wins
over ``.env``. Values are validated by pydantic when they load; a bad one is a UsageError
naming the variable. (Read with python-dotenv: pydantic-settings' import alone would add
about 50 ms to every command.)
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator

from bench_analytics.errors import UsageError

ENV_PREFIX = "BENCH_"
ENV_FILE = Path(".env")
JSON_FIELDS = frozenset({"min_effect"})  # given as JSON; lists take commas or JSON


class Settings(BaseModel):
    """Every knob of the package; each field maps to ``BENCH_<NAME>``.

    ``Settings()`` holds the defaults (and what is passed); ``Settings.from_environment()``
    (what ``get_settings()`` returns) reads the environment and ``.env``.
    """

    model_config = ConfigDict(extra="ignore")

    database_url: SecretStr | None = Field(
        default=None, description="Any Postgres 13+; unset starts the embedded server."
    )
    home: Path = Field(default=Path(".bench"), description="Where the embedded server lives.")
    failure_threshold: float = Field(
        default=0.5,
        ge=0.0,
        le=1.0,
        description="A run whose share of errored cases exceeds this is stored as failed.",
    )
    connect_attempts: int = Field(default=5, ge=1, description="Connection attempts.")
    connect_wait_max: float = Field(default=4.0, ge=0, description="Longest wait between tries.")
    connect_timeout: int = Field(default=5, ge=1, description="Seconds per connection attempt.")
    model_aliases: Path | None = Field(
        default=None, description="JSON file mapping display names to model keys."
    )
    embedded_keep_running: bool = Field(
        default=False, description="Leave the embedded server running after the last user exits."
    )
    # --- the regression gate -------------------------------------------------------------
    alpha: float = Field(default=0.05, gt=0, lt=1, description="Significance level.")
    correction: Literal["holm", "maxt", "bh", "none"] = Field(
        default="maxt",
        description="Adjustment across the metrics of one comparison: holm (family-wise), "
        "maxt (family-wise, permutation max-T, more power for correlated metrics), bh (FDR).",
    )
    gate_metrics: list[str] = Field(
        default=["f1", "recall"], description="Metrics whose regression fails `check` and holds."
    )
    min_effect: dict[str, str] = Field(
        default_factory=dict,
        description='Practical thresholds per metric: {"f1": "0.02", "latency_ms": "15%"}.',
    )
    resamples: int = Field(default=2000, ge=200, description="Bootstrap/permutation resamples.")
    history_window: int = Field(default=20, ge=3, description="Healthy versions looked back on.")
    history_min: int = Field(default=5, ge=3, description="Fewest versions for the history test.")
    history_z: float = Field(
        default=3.5, gt=0, description="Robust |z| from which the history test flags a change."
    )
    hold_on_regression: bool = Field(
        default=True, description="Keep the current pointer when a push regresses."
    )
    # --- alerts and cost ---------------------------------------------------------------
    alert_urls: list[str] = Field(
        default_factory=list, description="apprise URLs (Slack, mailto, json:// …)."
    )
    link: str | None = Field(
        default=None, description="Link put in alerts (default: the CI run, when known)."
    )
    duckdb_postgres_extension: Path | None = Field(
        default=None,
        description="DuckDB postgres extension file for `sql --central` (default: the wheel's).",
    )
    # --- the runner ----------------------------------------------------------------------
    api_key_env: str = Field(
        default="OPENAI_API_KEY", description="Environment variable holding the API key."
    )
    openai_base_url: str = Field(
        default="https://api.openai.com/v1", description="Base URL of `openai:` models."
    )
    request_timeout: float = Field(default=60.0, gt=0, description="Seconds per model call.")
    request_retries: int = Field(default=4, ge=0, description="Retries on 429/5xx/drops.")
    prices: Path | None = Field(
        default=None, description="JSON price table {model: {input_per_1k, output_per_1k}}."
    )

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Validated settings from ``BENCH_*`` variables, then the ``.env`` file; an
        empty variable counts as unset."""
        raw: dict[str, str] = {}
        if ENV_FILE.is_file():
            from dotenv import dotenv_values

            raw.update({k: v for k, v in dotenv_values(ENV_FILE).items() if v is not None})
        raw.update(os.environ if environ is None else environ)
        values: dict[str, Any] = {}
        for key, value in raw.items():
            name = key.upper().removeprefix(ENV_PREFIX).lower()
            if not value.strip():  # empty is unset: CI passes a missing secret as ""
                continue
            if key.upper().startswith(ENV_PREFIX) and name in cls.model_fields:
                values[name] = _json(key.upper(), value) if name in JSON_FIELDS else value
        return cls.model_validate(values)

    @field_validator("gate_metrics", "alert_urls", mode="before")
    @classmethod
    def _comma_list(cls, value: object) -> object:
        """Accept 'f1,recall' (commas or spaces) as well as a JSON list."""
        if not isinstance(value, str):
            return value
        if value.strip().startswith("["):
            return json.loads(value)
        return [part for part in value.replace(",", " ").split() if part]

    @field_validator("gate_metrics")
    @classmethod
    def _known_gate_metrics(cls, value: list[str]) -> list[str]:
        for name in value:
            _known_metric(name)
        return value

    @field_validator("min_effect")
    @classmethod
    def _thresholds(cls, value: dict[str, str]) -> dict[str, str]:
        for name, threshold in value.items():
            _known_metric(name)
            text = str(threshold).strip()
            try:
                number = float(text[:-1] if text.endswith("%") else text)
            except ValueError:
                raise ValueError(
                    f"threshold of '{name}' must be a number (0.02) or a percentage (15%), "
                    f"got {threshold!r}"
                ) from None
            if not math.isfinite(number) or number < 0:
                raise ValueError(
                    f"threshold of '{name}' must be finite and >= 0, got {threshold!r}"
                )
        return {name: str(threshold).strip() for name, threshold in value.items()}


def _json(variable: str, text: str) -> object:
    try:
        return json.loads(text)
    except ValueError as exc:
        raise UsageError(
            f"{variable}: not valid JSON ({exc})",
            hint='a JSON object such as {"f1": "0.02", "latency_ms": "15%"}',
        ) from None


def _known_metric(name: str) -> None:
    from bench_analytics.metrics import REGISTRY, base_name

    if name not in REGISTRY and base_name(name) not in REGISTRY and "," not in name:
        raise ValueError(f"unknown metric '{name}' (known: {', '.join(sorted(REGISTRY))})")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The settings of this process (cached; tests call ``get_settings.cache_clear()``)."""
    try:
        return Settings.from_environment()
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        name = ENV_PREFIX + str(first["loc"][0]).upper() if first["loc"] else "a BENCH_ setting"
        message = str(first["msg"]).removeprefix("Value error, ")
        if first["type"] != "value_error":
            message += f" (got {first.get('input')!r})"
        raise UsageError(f"{name}: {message}") from None


def running_in_ci() -> bool:
    """True when a CI system says so (``CI=true``)."""
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}
