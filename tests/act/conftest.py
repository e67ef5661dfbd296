"""Fixtures of the act area: a local HTTP receiver and a recording survey sender."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from cxloop.act import hooks


@dataclass
class Received:
    path: str
    method: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """A real HTTP server on 127.0.0.1; ``statuses`` are answered in turn (then 200)."""

    url: str
    statuses: list[int] = field(default_factory=list)
    requests: list[Received] = field(default_factory=list)
    response_body: dict[str, bytes] = field(default_factory=dict)
    delay: float = 0.0  # seconds to wait before answering (timeouts)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    box = Receiver("")

    class Handler(BaseHTTPRequestHandler):
        def _handle(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length) if length else b""
            box.requests.append(
                Received(
                    self.path, self.command, {k.lower(): v for k, v in self.headers.items()}, body
                )
            )
            status = box.statuses.pop(0) if box.statuses else 200
            if box.delay:
                time.sleep(box.delay)
            payload = box.response_body.get(f"{self.command} {self.path}", b"{}")
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_POST = _handle  # noqa: N815
        do_GET = _handle  # noqa: N815

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    box.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield box
    finally:
        server.shutdown()
        server.server_close()


@dataclass
class SurveySpy:
    requests: list[hooks.SurveyRequest] = field(default_factory=list)

    def __call__(self, *, session: object, request: hooks.SurveyRequest) -> str | None:
        self.requests.append(request)
        return f"inv-{len(self.requests)}"


@pytest.fixture
def survey_spy() -> Iterator[SurveySpy]:
    from cxloop.act import sources  # noqa: F401 - built-in senders first, so the spy wins

    spy = SurveySpy()
    hooks.register_survey_sender(spy)
    try:
        yield spy
    finally:
        hooks.unregister_survey_sender(spy)
