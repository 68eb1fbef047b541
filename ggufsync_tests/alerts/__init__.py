"""Alert tests, and the loopback receiver alerts are sent to: a webhook, GitHub's API, or a Hub.

The receiver records every request (method, path, headers, exact body). It answers POSTs with
`post_status` (or a per-path status from `statuses`) and GETs with `get_status` and an empty JSON
list, which is what the Hub's model listing answers when nothing matches.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


class _Handler(BaseHTTPRequestHandler):
    server: Receiver

    def _record(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = {name.lower(): value for name, value in self.headers.items()}
        with self.server.lock:
            self.server.requests.append(Received(self.command, self.path, headers, body))

    def _answer(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:
        self._record()
        self._answer(self.server.statuses.get(self.path, self.server.post_status), b"{}")

    def do_GET(self) -> None:
        self._record()
        self._answer(self.server.get_status, b"[]")

    def log_message(self, format: str, *args: Any) -> None:
        pass


class Receiver(ThreadingHTTPServer):
    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.lock = threading.Lock()
        self.requests: list[Received] = []
        self.post_status = 201
        self.get_status = 200
        self.statuses: dict[str, int] = {}

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def posts(self, path: str | None = None) -> list[Received]:
        with self.lock:
            return [r for r in self.requests if r.method == "POST" and (path is None or r.path == path)]


@contextmanager
def running_receiver() -> Iterator[Receiver]:
    server = Receiver()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
