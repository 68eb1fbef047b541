"""`HubSimulator`: the simulated Hub served over real HTTP on loopback, API and CDN on separate hosts.

Plain `ThreadingHTTPServer`s in background daemon threads: real sockets make connection drops and
truncated bodies genuine, and a second loopback address (127.0.0.2) makes the CDN a different origin,
so clients take the same cross-host redirect path they take against the real Hub.
"""

from __future__ import annotations

import contextlib
import ipaddress
import logging
import socket
import threading
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlsplit

from ggufsync_assets.hubsim.app import HubApp, Request, Response, ServiceOptions, error_response
from ggufsync_assets.hubsim.faults import FaultInjector, FaultKind
from ggufsync_assets.hubsim.gguf_files import HeaderCache
from ggufsync_assets.hubsim.hub_state import HubState
from ggufsync_assets.hubsim.ratelimit import RateLimiter, RateLimitPolicy
from ggufsync_assets.hubsim.realism import Realism
from ggufsync_assets.hubsim.repos import Repo
from ggufsync_assets.hubsim.requestlog import RequestLog, RequestRecord

_LOG = logging.getLogger(__name__)
_LOOPBACK = ipaddress.ip_network("127.0.0.0/8")
_TRUNCATE_MAX = 1 << 20


def require_loopback(host: str) -> str:
    """Refuse any address outside 127.0.0.0/8: the simulator must never be reachable from outside."""
    try:
        address = ipaddress.ip_address(host)
    except ValueError as exc:
        raise ValueError(f"{host!r} is not an IP address; use one in 127.0.0.0/8") from exc
    if address not in _LOOPBACK:
        raise ValueError(f"{host} is not a loopback address; the simulator only binds 127.0.0.0/8")
    return host


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 60
    server: _Server

    def setup(self) -> None:
        """Headers and body go out in separate writes; without TCP_NODELAY, Nagle's algorithm and
        the client's delayed ACK would stall every keep-alive response by ~40 ms."""
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:
        """Requests go to the request log, not stderr."""

    def do_GET(self) -> None:
        self._serve()

    def do_HEAD(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def do_PUT(self) -> None:
        self._serve()

    def do_DELETE(self) -> None:
        self._serve()

    def _serve(self) -> None:
        self.server.log.begin()
        split = urlsplit(self.path)
        headers = {name.lower(): value for name, value in self.headers.items()}
        status, sent, fault = None, 0, None
        try:
            length = int(headers.get("content-length") or 0)
            if length:
                self.rfile.read(length)
            host, port = _address(self.server)
            request = Request(
                self.server.kind,
                self.command,
                self.path,
                headers,
                self.client_address[0],
                f"http://{headers.get('host') or f'{host}:{port}'}",
            )
            try:
                response = self.server.app.handle(request)
            except Exception:
                _LOG.exception("simulator failed on %s %s", self.command, self.path)
                response = error_response(500, "Simulator error")
            fault = response.fault.kind.value if response.fault else None
            status, sent = self._send(response)
        finally:
            self.server.log.append(
                RequestRecord(
                    time=datetime.now(UTC),
                    host=self.server.kind,
                    method=self.command,
                    path=split.path,
                    query=parse_qs(split.query, keep_blank_values=True),
                    status=status,
                    authorized="authorization" in headers,
                    response_bytes=sent,
                    fault=fault,
                )
            )

    def _send(self, response: Response) -> tuple[int | None, int]:
        """Write the response, applying its socket-level fault; returns (status sent, body bytes)."""
        fault = response.fault.kind if response.fault else None
        if fault is FaultKind.SLOW and response.fault:
            self.server.stopping.wait(response.fault.delay)
        if fault is FaultKind.DROP:
            self.close_connection = True
            return None, 0
        sent = 0
        budget = min(response.body.length // 2, _TRUNCATE_MAX) if fault is FaultKind.TRUNCATE else None
        try:
            self.send_response(response.status)
            for name, value in response.headers:
                self.send_header(name, value)
            self.send_header("Content-Length", str(response.body.length))
            self.end_headers()
            if self.command != "HEAD":
                for chunk in response.body.chunks():
                    if budget is not None:
                        chunk = chunk[: budget - sent]  # noqa: PLW2901
                    self.wfile.write(chunk)
                    sent += len(chunk)
                    if budget is not None and sent >= budget:
                        break
        except OSError:
            self.close_connection = True
        if fault is FaultKind.TRUNCATE:
            self.close_connection = True
        return response.status, sent


class _Server(ThreadingHTTPServer):
    """Tracks its connections and their threads so that stopping leaves nothing behind."""

    daemon_threads = True

    def __init__(
        self, address: tuple[str, int], kind: str, app: HubApp, log: RequestLog, stopping: threading.Event
    ) -> None:
        super().__init__(address, _Handler)
        self.kind, self.app, self.log, self.stopping = kind, app, log, stopping
        self._lock = threading.Lock()
        self._connections: dict[socket.socket, threading.Thread] = {}

    def process_request(self, request: Any, client_address: Any) -> None:
        thread = threading.Thread(
            target=self._work,
            args=(request, client_address),
            name=f"hubsim-{self.kind}-connection",
            daemon=True,
        )
        with self._lock:
            self._connections[request] = thread
        thread.start()

    def _work(self, request: socket.socket, client_address: Any) -> None:
        try:
            self.process_request_thread(request, client_address)
        finally:
            with self._lock:
                self._connections.pop(request, None)

    def close_connections(self, timeout: float) -> None:
        """Hang up on open (keep-alive) connections and wait for their threads to finish."""
        with self._lock:
            connections = list(self._connections.items())
        for connection, _ in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
        for _, thread in connections:
            thread.join(timeout)


class HubSimulator:
    """A local stand-in for the Hugging Face Hub API, for tests, demos and benchmarks.

    Options: how many `repos`, `seed`, `now` and `realism` (same values, same repos, see `HubState`),
    `broken_tree_share` of repos whose file tree always answers 500 (`state.broken_trees()`); where to bind
    (loopback only); rate limits per bucket (`api_*`, `resolvers_*`, `retry_after`); page sizes
    (`page_size` default and `max_page_size` cap of `/api/models`, `tree_page_size`); `tokens`
    accepted (None: any non-empty token); random faults (`fault_*`, `slow_delay`), also adjustable
    and scriptable at runtime through `.faults`.
    """

    def __init__(
        self,
        repos: int = 200,
        seed: int = 0,
        now: datetime | None = None,
        *,
        realism: Realism | None = None,
        broken_tree_share: float = 0.0,
        host: str = "127.0.0.1",
        port: int = 0,
        cdn_host: str = "127.0.0.2",
        cdn_port: int = 0,
        api_quota: int = 500,
        api_window: float = 300.0,
        resolvers_quota: int = 3000,
        resolvers_window: float = 300.0,
        retry_after: bool = True,
        page_size: int = 1000,
        max_page_size: int = 1000,
        tree_page_size: int = 50,
        tokens: Iterable[str] | None = None,
        fault_rate: float = 0.0,
        fault_seed: int | None = None,
        fault_kinds: Iterable[FaultKind | str] | None = None,
        slow_delay: float = 1.0,
        fault_hosts: Iterable[str] = ("api",),
        fault_limit: int | None = None,
        header_cache_size: int = 32,
        request_log_size: int = 100_000,
    ) -> None:
        self._host, self._port = require_loopback(host), port
        self._cdn_host, self._cdn_port = require_loopback(cdn_host), cdn_port
        self.state = HubState(repos, seed, now, realism=realism, broken_tree_share=broken_tree_share)
        self.rate_limits = RateLimiter(
            {
                "api": RateLimitPolicy(api_quota, api_window),
                "resolvers": RateLimitPolicy(resolvers_quota, resolvers_window),
            }
        )
        self.faults = FaultInjector(
            fault_rate,
            seed if fault_seed is None else fault_seed,
            kinds=fault_kinds,
            slow_delay=slow_delay,
            hosts=fault_hosts,
            limit=fault_limit,
        )
        self.gguf_headers = HeaderCache(header_cache_size)
        self._log = RequestLog(request_log_size)
        options = ServiceOptions(
            page_size,
            max_page_size,
            tree_page_size,
            None if tokens is None else frozenset(tokens),
            retry_after,
        )
        self._app = HubApp(
            self.state,
            limiter=self.rate_limits,
            faults=self.faults,
            headers=self.gguf_headers,
            options=options,
            cdn_url=lambda: self.cdn_url,
        )
        self._stopping = threading.Event()
        self._servers: list[_Server] = []
        self._threads: list[threading.Thread] = []

    def start(self) -> HubSimulator:
        if self._servers:
            return self
        self._stopping.clear()
        try:
            for kind, address in (
                ("api", (self._host, self._port)),
                ("cdn", (self._cdn_host, self._cdn_port)),
            ):
                server = _Server(address, kind, self._app, self._log, self._stopping)
                self._servers.append(server)
                thread = threading.Thread(
                    target=server.serve_forever,
                    kwargs={"poll_interval": 0.02},
                    name=f"hubsim-{kind}",
                    daemon=True,
                )
                self._threads.append(thread)
                thread.start()
        except OSError:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Stop serving, hang up on open connections and join every thread."""
        self._stopping.set()
        for server, thread in zip(self._servers, self._threads, strict=False):
            server.shutdown()
            thread.join()
        for server in self._servers:
            server.server_close()
            server.close_connections(timeout=5.0)
        self._servers.clear()
        self._threads.clear()

    def __enter__(self) -> HubSimulator:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.stop()

    def _base(self, index: int) -> str:
        if len(self._servers) <= index:
            raise RuntimeError("the simulator is not running; call start() first")
        host, port = _address(self._servers[index])
        return f"http://{host}:{port}"

    @property
    def url(self) -> str:
        """Base URL of the API host, e.g. `http://127.0.0.1:PORT` (what `HF_ENDPOINT` would be)."""
        return self._base(0)

    @property
    def cdn_url(self) -> str:
        """Base URL of the CDN host that LFS downloads are redirected to."""
        return self._base(1)

    @property
    def requests(self) -> list[RequestRecord]:
        """Every request served so far on both hosts, oldest first."""
        return self._log.records()

    def clear_requests(self) -> None:
        self._log.clear()

    def edit(self, repo_id: str, **changes: Any) -> Repo:
        """Commit to a repo (see `HubState.edit`)."""
        return self.state.edit(repo_id, **changes)

    def after_serving(self, path_prefix: str, action: Callable[[], None]) -> None:
        """Run `action` once, right after the next API answer to a path starting with `path_prefix`
        is made: an edit, say, between two pages of a listing."""
        self._app.after_serving(path_prefix, action)

    def add(self, repo_id: str | None = None, **fields: Any) -> Repo:
        """Create a repo (see `HubState.add`)."""
        return self.state.add(repo_id, **fields)

    def delete(self, repo_id: str) -> Repo:
        """Remove a repo (see `HubState.delete`)."""
        return self.state.delete(repo_id)


def _address(server: ThreadingHTTPServer) -> tuple[str, int]:
    """The bound host and port (typeshed allows bytes and Unix paths; our TCP servers have neither)."""
    host, port = server.server_address[:2]
    return str(host), int(port)
