"""OpenAI-compatible chat completions over httpx: OpenAI, Gemini's compatible endpoint, vLLM,
TGI, Ollama. Retries 429/5xx and dropped connections with backoff; never prints the key."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import urlsplit

import httpx
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential_jitter,
)

from bench_analytics.model import ModelRef
from bench_analytics.pricing import Price
from bench_analytics.runner.cases import Case
from bench_analytics.runner.providers.base import Answer, render_case

RETRY_STATUS = frozenset({408, 409, 425, 429, 500, 502, 503, 504})


class EndpointError(Exception):
    """A call that failed for the endpoint's sake (kept per case, never raised further)."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


def _retryable(error: BaseException) -> bool:
    if isinstance(error, EndpointError):
        return error.retry_after is not None
    return isinstance(error, httpx.TransportError)


def _wait(state: RetryCallState) -> float:
    """Exponential backoff with jitter, or the server's Retry-After when it gives one."""
    error = state.outcome.exception() if state.outcome else None
    if isinstance(error, EndpointError) and error.retry_after:
        return min(error.retry_after, 30.0)
    return wait_exponential_jitter(multiplier=0.25, max=8.0, jitter=0.25)(state)


def _describe(error: BaseException, timeout: float) -> str:
    if isinstance(error, httpx.TimeoutException):
        return f"timeout after {timeout:g} s"
    if isinstance(error, httpx.TransportError):
        return f"connection failed: {type(error).__name__}: {error}".rstrip(": ")
    return str(error)


class OpenAICompatible:
    """A chat-completions endpoint; one shared httpx client, bounded by the runner."""

    def __init__(
        self,
        model_name: str,
        *,
        base_url: str,
        api_key: str | None,
        model: ModelRef,
        prompt: str,
        prompt_version: str,
        price: Price | None,
        timeout: float,
        retries: int,
        temperature: float,
        concurrency: int,
    ) -> None:
        self.model_name = model_name
        self.model = model
        self.prompt = prompt
        self.prompt_version = prompt_version
        self.price = price
        self.timeout = timeout
        self.retries = retries
        self.temperature = temperature
        self.url = base_url.rstrip("/") + "/chat/completions"
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
        self.client = httpx.AsyncClient(headers=headers, timeout=timeout, limits=limits)
        host = urlsplit(base_url).hostname or base_url
        self.description: dict[str, Any] = {
            "provider": "openai-compatible",
            "host": host,
            "model": model_name,
            "temperature": temperature,
        }

    async def _call(self, body: dict[str, Any]) -> dict[str, Any]:
        response = await self.client.post(self.url, json=body)
        if response.status_code >= 400:
            text = " ".join(response.text.split())[:200]
            message = f"HTTP {response.status_code}" + (f": {text}" if text else "")
            retry_after = None
            if response.status_code in RETRY_STATUS:
                header = response.headers.get("retry-after", "")
                retry_after = float(header) if header.replace(".", "", 1).isdigit() else 0.0
            raise EndpointError(message, retry_after)
        try:
            return response.json()
        except ValueError:
            raise EndpointError("the endpoint answered with something that is not JSON") from None

    async def answer(self, case: Case) -> Answer:
        body = {
            "model": self.model_name,
            "temperature": self.temperature,
            "messages": [
                {"role": "system", "content": self.prompt},
                {"role": "user", "content": render_case(case)},
            ],
        }
        start = time.perf_counter()
        retrying = AsyncRetrying(
            stop=stop_after_attempt(self.retries + 1),
            wait=_wait,
            retry=retry_if_exception(_retryable),
            reraise=True,
        )
        try:
            data = await retrying(self._call, body)
        except (EndpointError, httpx.HTTPError) as error:
            return Answer(
                raw=None,
                error=_describe(error, self.timeout),
                latency_ms=(time.perf_counter() - start) * 1000,
            )
        latency = (time.perf_counter() - start) * 1000
        try:
            raw = data["choices"][0]["message"]["content"]
        except (KeyError, IndexError, TypeError):
            return Answer(
                raw=None,
                error="the endpoint's JSON has no choices[0].message.content",
                latency_ms=latency,
            )
        usage = data.get("usage") or {}
        tokens_in, tokens_out = usage.get("prompt_tokens"), usage.get("completion_tokens")
        cost = self.price.cost(tokens_in, tokens_out) if self.price else None
        return Answer(
            raw=raw,
            input_tokens=tokens_in,
            output_tokens=tokens_out,
            latency_ms=latency,
            cost_usd=cost,
        )

    async def close(self) -> None:
        await self.client.aclose()
