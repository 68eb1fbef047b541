"""A canary token through whole syncs: it reaches the Hub's API origin, and nothing else ever holds it.

Each sync here is `ggufsync sync --mode full` in a process of its own, as a user runs it: a
persistent Dagster home, a config folder, a catalogue and `logs/` in a private working folder; the
token in HUGGINGFACE_TOKEN and in HF_TOKEN (which huggingface_hub itself would read); debug logging
with every request logged; file verification on, so that syncs also download from the simulator's
CDN host. The simulator accepts no token but the canary: an API request that was not refused
carried it.

After each sync, every file it left behind is searched for the canary: as raw bytes, and as what
compressed storage hides from a byte search (DuckDB's and Parquet's compressed columns, SQLite cells
holding zlib-compressed snapshots, gzip files); so is everything the process printed.

The syncs: one that succeeds; one the Hub fails (every request about one repo answers 500); two whose
listing pages send the client to a foreign host (127.0.0.3, outside security.allowed_domains), by a
`Link` header and by a redirect; and one whose `Link` names another port of the endpoint's host
(allowed, but another origin; what answers there is down, so that sync fails too). For the last
three, a sync reaches the simulator through `HubFront`, a loopback proxy that rewrites the
listing's answers.
"""

from __future__ import annotations

import asyncio
import gzip
import http.client
import json
import secrets
import sqlite3
import string
import subprocess
import sys
import threading
import zlib
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import duckdb
import pytest

from ggufsync_assets.hub.client import ClientOptions, HubClient, ListingQuery
from ggufsync_assets.hub.errors import HubRefused
from ggufsync_assets.hubsim import HubSimulator, RequestRecord
from ggufsync_assets.settings import Settings
from ggufsync_tests.pipeline.conftest import (
    CDN_HOST,
    LISTING_PATH,
    clean_environment,
    copy_config,
    start_simulator,
)

CANARY = "hf_" + "".join(secrets.choice(string.ascii_letters) for _ in range(34))
"""A token of its own for each test session, shaped like a Hugging Face access token."""
CANARY_BODY = CANARY.removeprefix("hf_")
"""What is searched for: also finds the token cut from its prefix."""
REPOS = 20
SEED = 61
PAGE_SIZE = 5
"""Listings of several pages: every listing answer but the last carries a `Link` to the next page."""
ENDPOINT_HOST = "127.0.0.1"
FOREIGN_HOST = "127.0.0.3"
REFUSAL = f"HubRefused: refused to contact {FOREIGN_HOST}: not the endpoint host and not in security.allowed_domains"
GGUFSYNC = Path(sys.executable).with_name("ggufsync")
HANG_GUARD_SECONDS = 600
"""Only so that a hung sync ends the test run; a sync here takes seconds."""

SQLITE_MAGIC = b"SQLite format 3\x00"
PARQUET_MAGIC = b"PAR1"
GZIP_MAGIC = b"\x1f\x8b"


# ----- hosts a sync must not send the token to, and a proxy in front of the simulator -------------


@dataclass(frozen=True)
class Received:
    method: str
    target: str
    headers: dict[str, str]


class _BystanderHandler(BaseHTTPRequestHandler):
    server: Bystander

    def do_GET(self) -> None:
        headers = {name.lower(): value for name, value in self.headers.items()}
        with self.server.lock:
            self.server.received.append(Received(self.command, self.path, headers))
        body = b'{"error": "Service unavailable"}'
        self.send_response(503)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: what it was sent is in `received`."""


class Bystander(ThreadingHTTPServer):
    """A server that is not the Hub: it records every request it gets and answers 503."""

    daemon_threads = True

    def __init__(self, host: str) -> None:
        super().__init__((host, 0), _BystanderHandler)
        self.host = host
        self.lock = threading.Lock()
        self.received: list[Received] = []

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.server_address[1]}"

    def take(self) -> list[Received]:
        """The requests received since the last call."""
        with self.lock:
            taken, self.received = self.received, []
        return taken


@dataclass(frozen=True)
class Reply:
    status: int
    headers: list[tuple[str, str]]
    body: bytes


Rewrite = Callable[[str, Reply], Reply]
_NOT_FORWARDED = frozenset({"connection", "keep-alive", "transfer-encoding", "content-length"})


class _FrontHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: HubFront

    def do_GET(self) -> None:
        # The Host header goes along: the simulator's Links point back at the front.
        headers = {k: v for k, v in self.headers.items() if k.lower() not in _NOT_FORWARDED}
        upstream = http.client.HTTPConnection(self.server.upstream)
        with closing(upstream):
            upstream.request(self.command, self.path, headers=headers)
            answer = upstream.getresponse()
            reply = Reply(
                answer.status,
                [(k, v) for k, v in answer.getheaders() if k.lower() not in _NOT_FORWARDED],
                answer.read(),
            )
        reply = self.server.rewrite(self.path, reply)
        self.send_response(reply.status)
        for name, value in reply.headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(reply.body)))
        self.end_headers()
        self.wfile.write(reply.body)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the simulator behind keeps the request log."""


class HubFront(ThreadingHTTPServer):
    """The Hub API as a client sees it: the simulator's API host, some answers rewritten."""

    daemon_threads = True

    def __init__(self, sim: HubSimulator, rewrite: Rewrite) -> None:
        super().__init__((ENDPOINT_HOST, 0), _FrontHandler)
        self.upstream = urlsplit(sim.url).netloc
        self.rewrite = rewrite

    @property
    def url(self) -> str:
        return f"http://{ENDPOINT_HOST}:{self.server_address[1]}"


@contextmanager
def serving(server: ThreadingHTTPServer) -> Iterator[None]:
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def is_listing(target: str) -> bool:
    return urlsplit(target).path == LISTING_PATH


def links_to(base: str) -> Rewrite:
    """Listing pages whose `Link` to the next page names `base` instead of the Hub."""

    def rewrite(target: str, reply: Reply) -> Reply:
        if not is_listing(target):
            return reply
        headers = []
        for name, value in reply.headers:
            if name.lower() == "link":
                next_page = urlsplit(value.split(">", 1)[0].removeprefix("<"))
                headers.append((name, f'<{base}{next_page.path}?{next_page.query}>; rel="next"'))
            else:
                headers.append((name, value))
        return Reply(reply.status, headers, reply.body)

    return rewrite


def redirects_to(base: str) -> Rewrite:
    """Listing requests answered with a redirect to the same path and query on `base`."""

    def rewrite(target: str, reply: Reply) -> Reply:
        if not is_listing(target):
            return reply
        return Reply(302, [("Location", f"{base}{target}")], b"")

    return rewrite


# ----- syncs in processes of their own ----------------------------------------------------------


@dataclass(frozen=True)
class Sync:
    """One `ggufsync sync`: its working folder, its output, what the Hub and a bystander were sent."""

    folder: Path
    returncode: int
    stdout: str
    stderr: str
    requests: list[RequestRecord] = field(repr=False)
    bystander: list[Received] = field(repr=False)

    @property
    def api_requests(self) -> list[RequestRecord]:
        return [r for r in self.requests if r.host == "api"]


def run_sync(sim: HubSimulator, folder: Path, *, endpoint: str, bystander: Bystander | None = None) -> Sync:
    """`ggufsync sync --mode full` with the canary as token, `folder` its working directory."""
    folder.mkdir(parents=True, exist_ok=True)
    variables = clean_environment(
        DAGSTER_HOME=str(folder / "dagster_home"),
        GGUFSYNC_CONFIG_DIR=str(copy_config(folder / "config")),
        HF_HOME=str(folder / "hf_home"),
        HF_ENDPOINT=endpoint,
        HUGGINGFACE_TOKEN=CANARY,
        HF_TOKEN=CANARY,
        GGUFSYNC_SECURITY__ALLOWED_DOMAINS=json.dumps([CDN_HOST]),
        GGUFSYNC_STORAGE__CATALOGUE_PATH=str(folder / "data" / "catalogue.duckdb"),
        GGUFSYNC_RATE_LIMITING__REQUESTS_PER_SECOND="500",
        GGUFSYNC_RATE_LIMITING__REQUESTS_PER_HOUR="10000000",
        GGUFSYNC_RATE_LIMITING__MAX_RETRIES="0",
        GGUFSYNC_ERROR_HANDLING__MAX_RECOVERY_ATTEMPTS="0",
        GGUFSYNC_LOG_LEVEL="DEBUG",
        GGUFSYNC_DEBUG_MODE="true",
        GGUFSYNC_MONITORING__ENABLE_DETAILED_LOGGING="true",
        GGUFSYNC_VALIDATION__ENABLE_FILE_VERIFICATION="true",
    )
    sim.clear_requests()
    if bystander is not None:
        bystander.take()
    finished = subprocess.run(
        [str(GGUFSYNC), "sync", "--mode", "full"],
        cwd=folder,
        env=variables,
        capture_output=True,
        text=True,
        timeout=HANG_GUARD_SECONDS,
        check=False,
    )
    received = bystander.take() if bystander is not None else []
    return Sync(folder, finished.returncode, finished.stdout, finished.stderr, sim.requests, received)


@contextmanager
def bystander_on(host: str) -> Iterator[Bystander]:
    server = Bystander(host)
    with serving(server):
        yield server


@pytest.fixture(scope="module")
def sim() -> Iterator[HubSimulator]:
    simulator = start_simulator(REPOS, SEED, tokens=[CANARY], max_page_size=PAGE_SIZE)
    try:
        yield simulator
    finally:
        simulator.stop()


@pytest.fixture(scope="module")
def foreign() -> Iterator[Bystander]:
    with bystander_on(FOREIGN_HOST) as server:
        yield server


@pytest.fixture(scope="module")
def neighbour() -> Iterator[Bystander]:
    """A server on another port of the endpoint's host."""
    with bystander_on(ENDPOINT_HOST) as server:
        yield server


def through_front(sim: HubSimulator, folder: Path, rewrite: Rewrite, bystander: Bystander) -> Sync:
    front = HubFront(sim, rewrite)
    with serving(front):
        return run_sync(sim, folder, endpoint=front.url, bystander=bystander)


@pytest.fixture(scope="module")
def succeeded(sim: HubSimulator, tmp_path_factory: pytest.TempPathFactory) -> Sync:
    return run_sync(sim, tmp_path_factory.mktemp("succeeded"), endpoint=sim.url)


@pytest.fixture(scope="module")
def failed(sim: HubSimulator, tmp_path_factory: pytest.TempPathFactory) -> Sync:
    """The listing works; every request about one repo (its details, its file tree) answers 500."""
    sim.faults.script("error", count=1_000_000, path_prefix=f"{LISTING_PATH}/")
    try:
        return run_sync(sim, tmp_path_factory.mktemp("failed"), endpoint=sim.url)
    finally:
        sim.faults.clear()


@pytest.fixture(scope="module")
def linked_abroad(sim: HubSimulator, foreign: Bystander, tmp_path_factory: pytest.TempPathFactory) -> Sync:
    return through_front(sim, tmp_path_factory.mktemp("linked_abroad"), links_to(foreign.url), foreign)


@pytest.fixture(scope="module")
def redirected_abroad(
    sim: HubSimulator, foreign: Bystander, tmp_path_factory: pytest.TempPathFactory
) -> Sync:
    return through_front(
        sim, tmp_path_factory.mktemp("redirected_abroad"), redirects_to(foreign.url), foreign
    )


@pytest.fixture(scope="module")
def linked_next_door(
    sim: HubSimulator, neighbour: Bystander, tmp_path_factory: pytest.TempPathFactory
) -> Sync:
    return through_front(sim, tmp_path_factory.mktemp("linked_next_door"), links_to(neighbour.url), neighbour)


SYNCS = ("succeeded", "failed", "linked_abroad", "redirected_abroad", "linked_next_door")
PLACES = {
    "catalogue_and_exports": "data",
    "config_folder": "config",
    "logs": "logs",
    "dagster_home": "dagster_home",
    "anywhere": ".",
}


# ----- finding the canary -----------------------------------------------------------------------


def _inflated(data: bytes) -> bytes | None:
    for decompress in (zlib.decompress, gzip.decompress):
        try:
            return decompress(data)
        except (zlib.error, OSError, EOFError):
            continue
    return None


def _sqlite_cells(path: Path) -> Iterator[bytes]:
    """Every value of every table; blobs also inflated (Dagster zlib-compresses its snapshots)."""
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as con:
        tables = [name for (name,) in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        for table in tables:
            for row in con.execute(f'SELECT * FROM "{table}"'):
                for value in row:
                    if isinstance(value, bytes):
                        yield value
                        yield _inflated(value) or b""
                    elif value is not None:
                        yield str(value).encode()


def _rows_holding(con: duckdb.DuckDBPyConnection, relation: str, needle: str) -> int:
    """Rows of `relation` holding `needle` in any column, whatever DuckDB's or Parquet's compression."""
    [(count,)] = con.execute(
        f"SELECT count(*) FROM {relation} AS r WHERE contains(CAST(to_json(r) AS VARCHAR), ?)",
        [needle],
    ).fetchall()
    return int(count)


def _duckdb_holds(path: Path, needle: str) -> bool:
    with closing(duckdb.connect(str(path), read_only=True)) as con:
        tables = con.execute("SELECT schema_name, table_name FROM duckdb_tables()").fetchall()
        return any(_rows_holding(con, f'"{schema}"."{table}"', needle) for schema, table in tables)


def _parquet_holds(path: Path, needle: str) -> bool:
    with closing(duckdb.connect()) as con:
        return _rows_holding(con, f"read_parquet('{path}')", needle) > 0


def holds(path: Path, secret: str) -> bool:
    """Whether the file holds `secret`, as bytes or once its storage is decoded."""
    needle = secret.encode()
    data = path.read_bytes()
    if needle in data:
        return True
    if data.startswith(GZIP_MAGIC):
        return needle in (_inflated(data) or b"")
    if data.startswith(SQLITE_MAGIC):
        return any(needle in cell for cell in _sqlite_cells(path))
    if data[8:12] == b"DUCK":
        return _duckdb_holds(path, secret)
    if data.startswith(PARQUET_MAGIC):
        return _parquet_holds(path, secret)
    return False


def files_under(folder: Path) -> list[Path]:
    return sorted(path for path in folder.rglob("*") if path.is_file())


def planted(kind: str, folder: Path, secret: str) -> Path:
    """A file of `kind` with `secret` inside it, stored the way that kind compresses."""
    messages = [f"error {i:05d} at {secrets.token_hex(8)}" for i in range(5000)]
    messages[2500] += f" with {secret}"
    if kind == "duckdb":
        path = folder / "planted.duckdb"
        with closing(duckdb.connect(str(path))) as con:
            con.execute("CREATE TABLE t AS SELECT unnest(?) AS message", [messages])
        return path
    if kind == "parquet":
        path = folder / "planted.parquet"
        with closing(duckdb.connect()) as con:
            con.execute("CREATE TABLE t AS SELECT unnest(?) AS message", [messages])
            con.execute(f"COPY t TO '{path}' (FORMAT parquet, COMPRESSION zstd)")
        return path
    if kind == "sqlite":
        path = folder / "planted.db"
        with closing(sqlite3.connect(path)) as con:
            con.execute("CREATE TABLE snapshots (body BLOB)")
            con.execute("INSERT INTO snapshots VALUES (?)", [zlib.compress("\n".join(messages).encode())])
            con.commit()
        return path
    path = folder / "planted.log.gz"
    path.write_bytes(gzip.compress("\n".join(messages).encode()))
    return path


# ----- the search is not blind ------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["duckdb", "parquet", "sqlite", "gzip"])
def test_the_search_finds_a_token_in_compressed_storage(kind: str, tmp_path: Path) -> None:
    path = planted(kind, tmp_path, CANARY)
    assert holds(path, CANARY_BODY)
    assert not holds(path, CANARY_BODY[::-1])


# ----- a sync that succeeds ---------------------------------------------------------------------


def test_a_full_sync_sends_the_token_with_every_api_request(succeeded: Sync) -> None:
    assert succeeded.returncode == 0, succeeded.stderr[-3000:]
    assert "full sync done" in succeeded.stdout
    assert succeeded.api_requests
    assert all(r.authorized and r.status != 401 for r in succeeded.api_requests)


def test_a_full_sync_leaves_a_catalogue_exports_logs_and_run_records_to_search(succeeded: Sync) -> None:
    left = {str(path.relative_to(succeeded.folder)) for path in files_under(succeeded.folder)}
    assert {"data/catalogue.duckdb", "data/.catalogue.working.duckdb", "logs/sync.log"} <= left
    assert any(path.startswith("data/exports/") and path.endswith(".parquet") for path in left)
    assert any(path.startswith("dagster_home/history/") and path.endswith(".db") for path in left)


def test_a_full_sync_never_sends_the_token_to_the_cdn(succeeded: Sync) -> None:
    cdn = [r for r in succeeded.requests if r.host == "cdn"]
    assert cdn, "the sync downloaded nothing from the CDN host"
    assert not any(r.authorized for r in cdn)


# ----- a sync that fails ------------------------------------------------------------------------


def test_a_sync_the_hub_fails_sent_the_token_and_exits_1(failed: Sync) -> None:
    assert failed.returncode == 1, failed.stderr[-3000:]
    assert "sync failed" in failed.stderr
    assert any(r.authorized and r.status == 500 for r in failed.api_requests)


# ----- the token stays in the environment ---------------------------------------------------------


@pytest.mark.parametrize("place", PLACES)
@pytest.mark.parametrize("sync", SYNCS)
def test_no_file_a_sync_leaves_behind_holds_the_token(
    sync: str, place: str, request: pytest.FixtureRequest
) -> None:
    finished: Sync = request.getfixturevalue(sync)
    files = files_under(finished.folder / PLACES[place])
    assert files, f"the sync left nothing in {PLACES[place]}/ to search"
    assert [str(path) for path in files if holds(path, CANARY_BODY)] == []


@pytest.mark.parametrize("sync", SYNCS)
def test_nothing_a_sync_prints_holds_the_token(sync: str, request: pytest.FixtureRequest) -> None:
    finished: Sync = request.getfixturevalue(sync)
    assert finished.stdout
    assert finished.stderr
    assert CANARY_BODY not in finished.stdout
    assert CANARY_BODY not in finished.stderr


# ----- links and redirects elsewhere -------------------------------------------------------------


def test_a_link_to_a_foreign_host_fails_the_sync_with_a_refusal(linked_abroad: Sync) -> None:
    assert linked_abroad.returncode == 1
    assert REFUSAL in linked_abroad.stderr


def test_a_link_to_a_foreign_host_is_not_followed(linked_abroad: Sync) -> None:
    assert any(r.path == LISTING_PATH and r.authorized for r in linked_abroad.requests)
    assert linked_abroad.bystander == []


def test_a_redirect_to_a_foreign_host_fails_the_sync_with_a_refusal(redirected_abroad: Sync) -> None:
    assert redirected_abroad.returncode == 1
    assert REFUSAL in redirected_abroad.stderr


def test_a_redirect_to_a_foreign_host_is_not_followed(redirected_abroad: Sync) -> None:
    assert any(r.path == LISTING_PATH and r.authorized for r in redirected_abroad.requests)
    assert redirected_abroad.bystander == []


def test_a_link_to_another_port_of_the_endpoint_host_is_followed_without_the_token(
    linked_next_door: Sync,
) -> None:
    assert any(r.path == LISTING_PATH and r.authorized for r in linked_next_door.requests)
    followed = linked_next_door.bystander
    assert followed
    assert all(urlsplit(r.target).path == LISTING_PATH for r in followed)
    assert not any("authorization" in r.headers for r in followed)


@pytest.mark.parametrize("port", ["99999", "+1"])
@pytest.mark.parametrize("send", [links_to, redirects_to], ids=["link", "redirect"])
def test_a_link_or_redirect_to_an_unparsable_address_is_refused(
    send: Callable[[str], Rewrite], port: str, sim: HubSimulator
) -> None:
    front = HubFront(sim, send(f"http://{ENDPOINT_HOST}:{port}"))

    async def list_everything() -> None:
        options = ClientOptions.from_settings(
            Settings(),
            endpoint=front.url,
            token=CANARY,
            allowed_domains=(CDN_HOST,),
            requests_per_second=1000.0,
            max_retries=0,
        )
        async with HubClient(options) as client:
            async for _ in client.iter_model_pages(ListingQuery(page_size=PAGE_SIZE)):
                pass

    with (
        serving(front),
        pytest.raises(HubRefused, match=f"refused to contact {ENDPOINT_HOST}: not a valid URL"),
    ):
        asyncio.run(list_everything())
