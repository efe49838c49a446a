"""A real OpenAI-compatible HTTP server on 127.0.0.1 for tests and benchmarks.

The model name in the request picks the behaviour:
  correct     answers with the case's expected issues (as JSON)
  fenced      the same, inside a ```json fence with prose around it
  malformed   prose with broken JSON
  slow        waits ``slow_seconds`` then answers correctly
  flaky       429 (Retry-After: 0) on the first call for a case, then correct
  down        503 always
  drop        closes the connection without answering, always
  drop-once   closes the connection on the first call for a case, then correct
  instant     {"issues": []} at once (for overhead benchmarks)
"""

from __future__ import annotations

import contextlib
import json
import re
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

CASE_LINE = re.compile(r"^Case (\S+)", re.MULTILINE)


class FakeOpenAI:
    """Start with ``with FakeOpenAI(expected) as server: server.url``."""

    def __init__(
        self, expected: dict[str, list[dict[str, Any]]] | None = None, slow_seconds: float = 1.0
    ) -> None:
        self.expected = expected or {}
        self.slow_seconds = slow_seconds
        self.calls: Counter[tuple[str, str]] = Counter()
        self.authorizations: list[str | None] = []
        self.lock = threading.Lock()
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
        self.server.shutdown()
        self.server.server_close()

    def answer_for(self, case_id: str) -> str:
        issues = [
            {"type": i["type"], "code": i.get("cpt_code"), "severity": "high", "summary": "found"}
            for i in self.expected.get(case_id, [])
        ]
        return json.dumps({"issues": issues})

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def _send(self, status: int, body: dict | None, headers: dict | None = None) -> None:
                data = json.dumps(body or {}).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
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
                content = {
                    "malformed": "Sure! Here are the issues: {issues: [duplicate",
                    "fenced": f"Here is my review.\n```json\n{fake.answer_for(case_id)}\n```\n"
                    "Let me know if you need more.",
                    "instant": '{"issues": []}',
                }.get(mode, fake.answer_for(case_id))
                usage = {"prompt_tokens": len(user) // 4, "completion_tokens": len(content) // 4}
                return self._send(
                    200,
                    {
                        "id": "chatcmpl-test",
                        "object": "chat.completion",
                        "model": mode,
                        "choices": [
                            {
                                "index": 0,
                                "message": {"role": "assistant", "content": content},
                                "finish_reason": "stop",
                            }
                        ],
                        "usage": {**usage, "total_tokens": sum(usage.values())},
                    },
                )

        return Handler


def expected_of(case_set) -> dict[str, list[dict[str, Any]]]:
    """case id -> expected issues, in the shape the fake server answers with."""
    return {
        case.case_id: [issue.model_dump() for issue in case.expected_issues]
        for case in case_set.cases
    }
