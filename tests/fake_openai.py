"""A real OpenAI-compatible HTTP server on 127.0.0.1 for tests and benchmarks.

The model name in the request picks the behaviour:
  correct     answers with the case's expected issues (as JSON)
  fenced      the same, inside a ```json fence with prose around it
  malformed   prose with broken JSON
  slow        waits ``slow_seconds`` then answers correctly
  hold        answers the first ``answer_before_hold`` requests of the server correctly,
              then holds every further one until the server stops (for Ctrl-C tests:
              ``wait_for_requests`` is the readiness signal, no timing involved)
  flaky       429 (Retry-After: 0) on the first call for a case, then correct
  down        503 always
  drop        closes the connection without answering, always
  drop-once   closes the connection on the first call for a case, then correct
  instant     {"issues": []} at once (for overhead benchmarks)

Odd endpoints (HTTP 200 each time):
  no-usage, usage-strings, usage-fractions, usage-whole-floats, usage-negative,
  usage-nulls, usage-booleans, usage-not-object
              a correct answer whose ``usage`` is missing or odd (see ``USAGE``)
  not-json    an HTML page instead of JSON
  list-body   a JSON list (a correct completion inside it) instead of an object
  string-body a JSON string
  error-body  {"error": {"message": ...}} with status 200
  no-choices  an empty ``choices`` list
  null-content  ``message.content`` null (finish_reason content_filter)
  list-content  ``message.content`` as a list of parts instead of a string
  mixed       per case, one of ``MIXED`` (chosen by ``mixed_mode``: stable per case id)
"""

from __future__ import annotations

import contextlib
import json
import re
import threading
import time
import zlib
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

CASE_LINE = re.compile(r"^Case (\S+)", re.MULTILINE)
ABSENT = object()
USAGE: dict[str, Any] = {
    "no-usage": ABSENT,
    "usage-strings": {"prompt_tokens": "12", "completion_tokens": "7"},
    "usage-fractions": {"prompt_tokens": 12.5, "completion_tokens": 7.25},
    "usage-whole-floats": {"prompt_tokens": 12.0, "completion_tokens": 7.0},
    "usage-negative": {"prompt_tokens": -12, "completion_tokens": 7},
    "usage-nulls": {"prompt_tokens": None, "completion_tokens": None},
    "usage-booleans": {"prompt_tokens": True, "completion_tokens": False},
    "usage-not-object": "n/a",
}
MIXED = ("correct", "not-json", "list-body", "no-choices", "null-content", "usage-strings")
HOLD_LIMIT_SECONDS = 120.0


def mixed_mode(case_id: str) -> str:
    """The behaviour ``mixed`` shows for one case (stable across runs and processes)."""
    return MIXED[zlib.crc32(case_id.encode()) % len(MIXED)]


class FakeOpenAI:
    """Start with ``with FakeOpenAI(expected) as server: server.url``."""

    def __init__(
        self,
        expected: dict[str, list[dict[str, Any]]] | None = None,
        slow_seconds: float = 1.0,
        answer_before_hold: int = 0,
    ) -> None:
        self.expected = expected or {}
        self.slow_seconds = slow_seconds
        self.answer_before_hold = answer_before_hold
        self.calls: Counter[tuple[str, str]] = Counter()
        self.authorizations: list[str | None] = []
        self.requests = 0
        self.lock = threading.Condition()
        self.release = threading.Event()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def __enter__(self) -> FakeOpenAI:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release.set()  # let held requests go
        self.server.shutdown()
        self.server.server_close()

    def wait_for_requests(self, count: int, timeout: float = 60.0) -> bool:
        """Block until ``count`` requests have arrived (False if ``timeout`` passed first)."""
        with self.lock:
            return self.lock.wait_for(lambda: self.requests >= count, timeout)

    def answer_for(self, case_id: str) -> str:
        issues = [
            {"type": i["type"], "code": i.get("cpt_code"), "severity": "high", "summary": "found"}
            for i in self.expected.get(case_id, [])
        ]
        return json.dumps({"issues": issues})

    def completion(self, mode: str, content: Any, usage: Any) -> dict[str, Any]:
        """A chat.completion body (``usage`` left out when it is ``ABSENT``)."""
        body: dict[str, Any] = {
            "id": "chatcmpl-test",
            "object": "chat.completion",
            "model": mode,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": content},
                    "finish_reason": "content_filter" if content is None else "stop",
                }
            ],
        }
        if usage is not ABSENT:
            body["usage"] = usage
        return body

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def _send(self, status: int, body: Any, headers: dict | None = None) -> None:
                data = json.dumps({} if body is None else body).encode()
                self._send_bytes(status, data, "application/json", headers)

            def _send_bytes(
                self, status: int, data: bytes, kind: str, headers: dict | None = None
            ) -> None:
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(data)))
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.end_headers()
                # the client may have given up (a timeout test): then nothing to answer
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self.wfile.write(data)

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                mode = body["model"]
                user = body["messages"][-1]["content"]
                match = CASE_LINE.search(user)
                case_id = match.group(1) if match else "?"
                with fake.lock:
                    fake.calls[(mode, case_id)] += 1
                    attempt = fake.calls[(mode, case_id)]
                    fake.authorizations.append(self.headers.get("Authorization"))
                    fake.requests += 1
                    number = fake.requests
                    fake.lock.notify_all()
                if mode == "mixed":
                    mode = mixed_mode(case_id)
                if mode == "down":
                    return self._send(503, {"error": {"message": "model endpoint unavailable"}})
                if mode == "flaky" and attempt == 1:
                    return self._send(
                        429, {"error": {"message": "rate limited"}}, {"Retry-After": "0"}
                    )
                if mode == "drop" or (mode == "drop-once" and attempt == 1):
                    self.close_connection = True
                    self.connection.close()
                    return None
                if mode == "slow":
                    time.sleep(fake.slow_seconds)
                if mode == "hold" and number > fake.answer_before_hold:
                    fake.release.wait(HOLD_LIMIT_SECONDS)
                return self._odd(mode, case_id, user)

            def _odd(self, mode: str, case_id: str, user: str) -> None:
                content = {
                    "malformed": "Sure! Here are the issues: {issues: [duplicate",
                    "fenced": f"Here is my review.\n```json\n{fake.answer_for(case_id)}\n```\n"
                    "Let me know if you need more.",
                    "instant": '{"issues": []}',
                }.get(mode, fake.answer_for(case_id))
                counts = {"prompt_tokens": len(user) // 4, "completion_tokens": len(content) // 4}
                usage = USAGE.get(mode, {**counts, "total_tokens": sum(counts.values())})
                if mode == "not-json":
                    page = b"<html><body><h1>502 Bad Gateway</h1></body></html>"
                    return self._send_bytes(200, page, "text/html")
                if mode == "list-body":
                    return self._send(200, [fake.completion(mode, content, usage)])
                if mode == "string-body":
                    return self._send(200, "ok")
                if mode == "error-body":
                    return self._send(200, {"error": {"message": "model is overloaded"}})
                answer = fake.completion(mode, {"null-content": None}.get(mode, content), usage)
                if mode == "no-choices":
                    answer["choices"] = []
                if mode == "list-content":
                    answer["choices"][0]["message"]["content"] = [{"type": "text", "text": content}]
                return self._send(200, answer)

        return Handler


def expected_of(case_set) -> dict[str, list[dict[str, Any]]]:
    """case id -> expected issues, in the shape the fake server answers with."""
    return {
        case.case_id: [issue.model_dump() for issue in case.expected_issues]
        for case in case_set.cases
    }
