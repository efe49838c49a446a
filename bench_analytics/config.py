"""Settings read from the environment (prefix ``BENCH_``) and an optional ``.env`` file."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


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


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The settings of this process (cached; tests call ``get_settings.cache_clear()``)."""
    return Settings()


def running_in_ci() -> bool:
    """True when a CI system says so (``CI=true``)."""
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}
