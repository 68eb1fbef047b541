"""Alert tests, and the loopback receiver alerts are sent to: a webhook, GitHub's API, or a Hub.

The receiver records every request (method, path, headers, exact body). It answers POSTs with
`post_status` (or a per-path status from `statuses`) and GETs with `get_status` and an empty JSON
list, which is what the Hub's model listing answers when nothing matches.
"""

from __future__ import annotations

import json
import threading
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

from ggufsync_tests.loopback import LoopbackHandler, LoopbackServer, serving

JSON = {"Content-Type": "application/json"}


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


class _Handler(LoopbackHandler):
    server: Receiver

    def _record(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = {name.lower(): value for name, value in self.headers.items()}
        with self.server.lock:
            self.server.requests.append(Received(self.command, self.path, headers, body))

    def do_POST(self) -> None:
        self._record()
        self.answer(self.server.statuses.get(self.path, self.server.post_status), b"{}", JSON)

    def do_GET(self) -> None:
        self._record()
        self.answer(self.server.get_status, b"[]", JSON)


class Receiver(LoopbackServer):
    def __init__(self) -> None:
        super().__init__(_Handler)
        self.lock = threading.Lock()
        self.requests: list[Received] = []
        self.post_status = 201
        self.get_status = 200
        self.statuses: dict[str, int] = {}

    def posts(self, path: str | None = None) -> list[Received]:
        with self.lock:
            return [r for r in self.requests if r.method == "POST" and (path is None or r.path == path)]


def running_receiver() -> AbstractContextManager[Receiver]:
    return serving(Receiver())
