"""OpenAI-compatible chat completions over httpx: OpenAI, Gemini's compatible endpoint, vLLM,
TGI, Ollama. Retries 429/5xx and dropped connections with backoff; never prints the key.

What an odd endpoint costs (every problem stays with its case; the run goes on):

* **The answer is unusable → the case is an endpoint failure with the reason.** A body
  that is not JSON, JSON that is not an object (a list, a string), an ``error`` object
  in a 2xx answer, ``choices`` missing, not a list or empty, ``choices[0].message``
  missing, ``message.content`` null (the reason quotes ``finish_reason``) or not a string.
* **Only the usage is odd → tokens unknown, the case is still scored.** A count is taken
  from ``usage.prompt_tokens`` / ``usage.completion_tokens`` only when it is a JSON number
  with a non-negative whole value (``12``, and ``12.0`` read as 12). Anything else —
  ``usage`` missing or not an object, a count missing or null, a string such as ``"12"``,
  a fraction, a negative number, a boolean — makes that count ``None`` (unknown, never
  guessed), and the cost is ``None`` unless both counts are known. The answer itself is
  fine, so the case keeps its score; ``details.usage_note`` says what was odd.
"""

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
USAGE_FIELDS = ("prompt_tokens", "completion_tokens")


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


def _kind(value: Any) -> str:
    """'a list', 'a string', 'null' ... (for reasons)."""
    if value is None:
        return "null"
    names = {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}
    return names.get(type(value), "a number" if isinstance(value, int | float) else "odd")


def content_of(data: Any) -> str:
    """``choices[0].message.content``; EndpointError says why there is no usable answer."""
    if not isinstance(data, dict):
        raise EndpointError(f"the endpoint's JSON is {_kind(data)}, not an object")
    if "choices" not in data and isinstance(data.get("error"), dict | str):
        error = data["error"]
        message = error.get("message", error) if isinstance(error, dict) else error
        raise EndpointError(f"the endpoint answered with an error: {str(message)[:200]}")
    choices = data.get("choices")
    if not isinstance(choices, list):
        shown = "no choices" if choices is None else f"choices as {_kind(choices)}"
        raise EndpointError(f"the endpoint's JSON has {shown}, not a list")
    if not choices:
        raise EndpointError("the endpoint answered with an empty choices list")
    first = choices[0]
    message = first.get("message") if isinstance(first, dict) else None
    if not isinstance(message, dict):
        raise EndpointError("the endpoint's JSON has no choices[0].message object")
    content = message.get("content")
    if content is None:
        finish = first.get("finish_reason")
        why = f" (finish_reason: {finish})" if finish else ""
        raise EndpointError(f"choices[0].message.content is null{why}")
    if not isinstance(content, str):
        raise EndpointError(f"choices[0].message.content is {_kind(content)}, not a string")
    return content


def _count(usage: dict[str, Any], name: str) -> tuple[int | None, str | None]:
    """A token count when it is a non-negative whole JSON number, else (None, why)."""
    value = usage.get(name)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None, f"{name} is {'missing' if name not in usage else _kind(value)}"
    if value < 0:
        return None, f"{name} is negative ({value!r})"
    if isinstance(value, float) and not value.is_integer():  # also NaN and Infinity
        return None, f"{name} is {value!r}, not a whole number"
    return int(value), None


def usage_of(data: dict[str, Any]) -> tuple[tuple[int | None, int | None], str | None]:
    """(prompt tokens, completion tokens) and a note on what was odd (None if nothing)."""
    usage = data.get("usage")
    if not isinstance(usage, dict):
        why = "no usage" if usage is None else f"usage as {_kind(usage)}"
        return (None, None), f"the endpoint reported {why}: tokens unknown"
    (tokens_in, odd_in), (tokens_out, odd_out) = (_count(usage, name) for name in USAGE_FIELDS)
    odd = [why for why in (odd_in, odd_out) if why]
    note = f"usage {', '.join(odd)}: tokens unknown" if odd else None
    return (tokens_in, tokens_out), note


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

    async def _call(self, body: dict[str, Any]) -> Any:
        response = await self.client.post(self.url, json=body)
        if response.status_code >= 400:
            text = " ".join(response.text.split())[:200]
            message = f"HTTP {response.status_code}" + (f": {text}" if text else "")
            retry_after = None
            if response.status_code in RETRY_STATUS:
                header = response.headers.get("retry-after", "")
                retry_after = float(header) if header.replace(".", "", 1).isdigit() else 0.0
            raise EndpointError(message, retry_after)
        if response.status_code >= 300:
            where = response.headers.get("location", "?")
            raise EndpointError(
                f"HTTP {response.status_code} redirect to {where} (check the base URL)"
            )
        try:
            return response.json()
        except ValueError:  # not JSON, or not even text
            text = " ".join(response.text.split())[:80] if response.content else ""
            shown = f": {text!r}" if text else " (empty body)"
            raise EndpointError(f"the endpoint's answer is not JSON{shown}") from None

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
            data: Any = await retrying(self._call, body)  # any JSON: checked below
        except (EndpointError, httpx.HTTPError) as error:
            return Answer(
                raw=None,
                error=_describe(error, self.timeout),
                latency_ms=(time.perf_counter() - start) * 1000,
            )
        latency = (time.perf_counter() - start) * 1000
        try:
            raw = content_of(data)
        except EndpointError as error:
            return Answer(raw=None, error=str(error), latency_ms=latency)
        (tokens_in, tokens_out), note = usage_of(data)
        known = tokens_in is not None and tokens_out is not None
        return Answer(
            raw=raw,
            input_tokens=tokens_in,
            output_tokens=tokens_out,
            latency_ms=latency,
            cost_usd=self.price.cost(tokens_in, tokens_out) if self.price and known else None,
            extra={"usage_note": note} if note else {},
        )

    async def close(self) -> None:
        await self.client.aclose()
