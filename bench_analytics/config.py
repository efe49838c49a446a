"""Settings read from the environment (prefix ``BENCH_``) and an optional ``.env`` file."""

from __future__ import annotations

import json
import os
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bench_analytics.errors import UsageError


class Settings(BaseSettings):
    """Every knob of the package; each field maps to ``BENCH_<NAME>``."""

    model_config = SettingsConfigDict(
        env_prefix="BENCH_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

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
    gate_metrics: Annotated[list[str], NoDecode] = Field(
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
    alert_urls: Annotated[list[str], NoDecode] = Field(
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

    @field_validator("gate_metrics", "alert_urls", mode="before")
    @classmethod
    def _comma_list(cls, value: object) -> object:
        """Accept 'f1,recall' (commas or spaces) as well as a JSON list."""
        if not isinstance(value, str):
            return value
        if value.strip().startswith("["):
            return json.loads(value)
        return [part for part in value.replace(",", " ").split() if part]


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The settings of this process (cached; tests call ``get_settings.cache_clear()``)."""
    from pydantic import ValidationError
    from pydantic_settings import SettingsError

    try:
        return Settings()
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        name = "BENCH_" + str(first["loc"][0]).upper() if first["loc"] else "a BENCH_ setting"
        raise UsageError(f"{name}: {first['msg']} (got {first.get('input')!r})") from None
    except (SettingsError, ValueError) as exc:
        raise UsageError(f"bad BENCH_ setting: {exc}") from None


def running_in_ci() -> bool:
    """True when a CI system says so (``CI=true``)."""
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}
