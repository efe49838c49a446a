"""Choose a provider from a model spec: baseline, openai:M, openai-compatible:M@URL, replay:FILE."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from bench_analytics.config import Settings
from bench_analytics.errors import BadInputError, UsageError
from bench_analytics.model import ModelRef
from bench_analytics.naming import known_model, model_key_for
from bench_analytics.pricing import load_prices, price_for
from bench_analytics.runner.providers.base import Answer, Provider

__all__ = ["Answer", "Provider", "make_provider", "read_prompt"]

DEFAULT_PROMPT = Path(__file__).resolve().parent.parent / "prompts" / "default.txt"
SPECS = "baseline, openai:<model>, openai-compatible:<model>@<base_url>, replay:<result file>"


def read_prompt(path: Path | None, version: str | None) -> tuple[str, str]:
    """(prompt text, prompt version): '<file stem>@<first 8 hex of its SHA-256>' by default."""
    source = path or DEFAULT_PROMPT
    try:
        text = source.read_text(encoding="utf-8")
    except OSError as exc:
        raise BadInputError(str(source), f"cannot read the prompt: {exc.strerror}") from None
    if not text.strip():
        raise BadInputError(str(source), "the prompt file is empty")
    digest = hashlib.sha256(text.encode()).hexdigest()[:8]
    return text, version or f"{source.stem}@{digest}"


def _model_ref(name: str, key: str | None, provider: str) -> ModelRef:
    stable = key or model_key_for(name)
    known = known_model(stable)
    return ModelRef(
        key=stable, display_name=name, version=name, provider=known.provider if known else provider
    )


def make_provider(
    spec: str,
    *,
    settings: Settings,
    prompt_path: Path | None = None,
    prompt_version: str | None = None,
    model_key: str | None = None,
    concurrency: int = 8,
    temperature: float = 0.0,
    timeout: float | None = None,
) -> Provider:
    """The provider a spec names (UsageError with the accepted forms otherwise)."""
    kind, _, rest = spec.partition(":")
    if spec == "baseline":
        from bench_analytics.runner.providers.baseline import BaselineProvider

        return BaselineProvider()
    if kind == "replay" and rest:
        from bench_analytics.runner.providers.replay import ReplayProvider

        return ReplayProvider(Path(rest))
    if kind in {"openai", "openai-compatible"} and rest:
        from bench_analytics.runner.providers.openai import OpenAICompatible

        if kind == "openai":
            name, base_url = rest, settings.openai_base_url
        else:
            name, at, base_url = rest.partition("@")
            if not at or not base_url.startswith(("http://", "https://")):
                raise UsageError(f"'{spec}': write openai-compatible:<model>@http(s)://host/v1")
        api_key = os.environ.get(settings.api_key_env)
        if kind == "openai" and not api_key:
            raise UsageError(
                f"{spec} needs an API key in ${settings.api_key_env} "
                "(read from the environment, never printed; BENCH_API_KEY_ENV names another)"
            )
        prompt, version = read_prompt(prompt_path, prompt_version)
        model = _model_ref(name, model_key, "openai" if kind == "openai" else "self-hosted")
        return OpenAICompatible(
            name,
            base_url=base_url,
            api_key=api_key,
            model=model,
            prompt=prompt,
            prompt_version=version,
            price=price_for(model, load_prices(settings.prices)),
            timeout=timeout or settings.request_timeout,
            retries=settings.request_retries,
            temperature=temperature,
            concurrency=concurrency,
        )
    raise UsageError(f"unknown model '{spec}': use {SPECS}")
