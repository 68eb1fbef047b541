"""Bad input from the Hub, through the listing and files steps, into a real catalogue.

Hypothesis writes the Hub's answers: listing pages that mix records built like the simulator's with
broken ones (wrong types, missing keys, huge strings, text that is not Unicode, numbers past 64 bits,
ids that differ from a good one only in letter case), trees that mix good entries with broken ones,
and pages that arrive cut short or as something other than a list. A small loopback server serves
exactly those bytes; the steps run as the assets run them, with a real `HubClient` and a real DuckDB
catalogue. Whatever arrives, a step does not crash, every broken record is rejected with a reason (or
its page fetched again), and no good record is lost.
"""

from __future__ import annotations

import asyncio
import json
import os
import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ggufsync_assets.catalogue.store import CatalogueStore
from ggufsync_assets.hub.client import ClientOptions, HubClient
from ggufsync_assets.hub.errors import HubResponseError
from ggufsync_assets.hubsim import HubState, Repo, hub_timestamp
from ggufsync_assets.hubsim.payloads import model_payload, tree_payload
from ggufsync_assets.hubsim.query import tree_entries
from ggufsync_assets.settings import Settings
from ggufsync_assets.sync.listing import ListingResult, list_window
from ggufsync_assets.sync.records import LISTING_EXPAND
from ggufsync_assets.sync.refresh import refresh_files
from ggufsync_assets.sync.window import Window
from ggufsync_tests.hub_fixtures import HUB_NOW, HUB_SEED, is_gguf_file

MAX_RETRIES = 2
PASSES = 2
"""Listing passes with multi-strategy discovery and no authors or terms: the gguf tag and the name search."""
WINDOW_START = HUB_NOW - timedelta(days=30)
RUN_ID = "bad-input"
EXAMPLES = int(os.environ.get("SOAK_EXAMPLES", "15"))
"""Examples per property: 15 in the suite, more under `make soak`."""


def _has_gguf_files(repo: Repo) -> bool:
    return any(is_gguf_file(f.path) for f in repo.files)


POOL: tuple[Repo, ...] = tuple(
    r for r in HubState(repos=60, seed=HUB_SEED, now=HUB_NOW).repos() if _has_gguf_files(r)
)
"""Repos built by the simulator: the good records and the bases broken records are made from."""


# ----- a Hub that serves exactly what the test wrote ---------------------------------------------


@dataclass
class Served:
    """One URL's answer: `failures` first (one per request), then `body` for every later request."""

    body: bytes
    failures: list[Failure] = field(default_factory=list)
    asked: int = 0


@dataclass(frozen=True)
class Failure:
    """A broken answer. `cut` is the share of the body sent, for the kinds that send part of it."""

    kind: str
    cut: float = 0.5

    def answer(self, body: bytes) -> tuple[int, bytes, int | None]:
        """Status, bytes sent, and the Content-Length announced (None: the length of what is sent)."""
        part = body[: int(len(body) * self.cut)]
        if self.kind == "truncated":  # the whole length announced, part sent, connection closed
            return 200, part, len(body)
        if self.kind == "cut":  # a well-framed answer whose JSON stops short
            return 200, part, None
        if self.kind == "object":
            return (
                200,
                b'{"error": "Internal Error - We\'re working hard to fix this as soon as possible!"}',
                None,
            )
        if self.kind == "html":
            return 200, b"<html><body>502 Bad Gateway</body></html>", None
        if self.kind == "empty":
            return 200, b"", None
        return 503, b'{"error": "Service Unavailable"}', None


FAILURE_KINDS = ("truncated", "cut", "object", "html", "empty", "503")


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        hub: BadHub = self.server  # type: ignore[assignment]
        parts = urlsplit(self.path)
        path = unquote(parts.path)
        served, next_url = None, None
        if path == "/api/models":
            index = int(parse_qs(parts.query).get("cursor", ["0"])[0])
            served = hub.pages[index] if index < len(hub.pages) else Served(b"[]")
            if index + 1 < len(hub.pages):
                next_url = f"/api/models?cursor={index + 1}"
        elif path.startswith("/api/models/") and "/tree/" in path:
            served = hub.trees.get(path.removeprefix("/api/models/").split("/tree/", 1)[0])
        if served is None:
            self._send(404, b'{"error": "Repository not found"}', headers={"X-Error-Code": "RepoNotFound"})
            return
        with hub.lock:
            served.asked += 1
            attempt = served.asked
        if attempt <= len(served.failures):
            status, body, length = served.failures[attempt - 1].answer(served.body)
            self._send(status, body, length=length)
            return
        self._send(200, served.body, headers={"Link": f'<{next_url}>; rel="next"'} if next_url else {})

    def _send(
        self, status: int, body: bytes, *, length: int | None = None, headers: dict[str, str] | None = None
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body) if length is None else length))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)
        self.close_connection = True

    def log_message(self, format: str, *args: Any) -> None:
        pass


class BadHub(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.lock = threading.Lock()
        self.pages: list[Served] = []
        self.trees: dict[str, Served] = {}

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def serve(self, pages: list[Served], trees: dict[str, Served]) -> None:
        with self.lock:
            self.pages, self.trees = pages, trees


@pytest.fixture(scope="module")
def bad_hub() -> Iterator[BadHub]:
    server = BadHub()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join()


# ----- running the steps -------------------------------------------------------------------------


def settings_for(hub: BadHub, **sections: dict[str, Any]) -> Settings:
    values: dict[str, dict[str, Any]] = {
        "hub": {"endpoint": hub.url},
        "rate_limiting": {
            "requests_per_second": 1000,
            "requests_per_hour": 10_000_000,
            "max_retries": MAX_RETRIES,
            "max_concurrent_requests": 4,
        },
        "discovery": {"authors": []},
        "gguf_headers": {
            "read": False
        },  # this server answers listings and trees only; see test_hostile_headers
    }
    for name, section in sections.items():
        values[name] = {**values.get(name, {}), **section}
    return Settings.model_validate(values)


@dataclass
class Synced:
    """What the steps reported, and what they left in the catalogue."""

    store: CatalogueStore
    listing: ListingResult
    catalogued: set[tuple[str, str]]
    files: set[tuple[str, str, int]]
    rejected: list[tuple[str | None, str, str, str]]

    def models(self) -> set[tuple[str, str]]:
        """(repo_id, sha) of every catalogued repo."""
        return self.catalogued

    def files_of(self) -> set[tuple[str, str, int]]:
        """(repo_id, path, size_bytes) of every catalogued file."""
        return self.files

    def rejects(self, stage: str) -> list[tuple[str | None, str, str]]:
        """(repo_id, reason, record) of every record rejected at `stage`."""
        return [(repo_id, reason, record) for at, repo_id, reason, record in self.rejected if at == stage]

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        with self.store.writer() as writer:
            return writer.con.sql(sql).fetchall()


def run_steps(settings: Settings, folder: Path, window: Window, *, refresh: bool = True) -> Synced:
    """The listing step (and the files step, with `refresh`) as the assets run them."""
    store = CatalogueStore(folder / "catalogue.duckdb")
    options = ClientOptions.from_settings(
        settings, backoff_base_seconds=0.001, backoff_max_seconds=0.005, timeout_seconds=5.0
    )

    async def main() -> Synced:
        async with HubClient(options) as client:
            with store.writer() as writer:
                listed = await list_window(client, writer, settings, window, run_id=RUN_ID, now=HUB_NOW)
                if refresh:
                    await refresh_files(client, writer, settings, window, run_id=RUN_ID, now=HUB_NOW)
                return Synced(
                    store,
                    listed,
                    set(writer.con.sql("SELECT repo_id, sha FROM models").fetchall()),
                    set(writer.con.sql("SELECT repo_id, path, size_bytes FROM model_files").fetchall()),
                    writer.con.sql("SELECT stage, repo_id, reason, record FROM rejected_records").fetchall(),
                )

    return asyncio.run(main())


# ----- what the Hub says about good repos --------------------------------------------------------


def listing_record(repo: Repo, last_modified: datetime) -> dict[str, Any]:
    """The repo as `/api/models?expand=...` returns it, modified at `last_modified`."""
    record = model_payload(repo, ("_id", "id", *LISTING_EXPAND))
    record["lastModified"] = hub_timestamp(last_modified)
    return record


def tree_of(repo: Repo) -> list[dict[str, Any]]:
    return [tree_payload(entry) for entry in tree_entries(repo, "", True) or []]


def good_files(repo: Repo) -> set[tuple[str, str, int]]:
    return {(repo.id, f.path, f.size) for f in repo.files if is_gguf_file(f.path)}


def encode(items: list[Any]) -> bytes:
    return json.dumps(items).encode()


def as_stored(record: Any) -> str:
    """A rejected record as rejected_records keeps it."""
    return json.dumps(record)[:100_000]


# ----- broken values -----------------------------------------------------------------------------

INT64_MAX = 2**63 - 1
LONE_SURROGATES = ("\ud800", "\udbff", "\udc00", "\udfff")

scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12)
)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=6,
)
not_text = json_values.filter(lambda v: not isinstance(v, str))
not_text_nor_null = not_text.filter(lambda v: v is not None)
huge_text = st.integers(100_001, 120_000).map(lambda n: "x" * n)


@st.composite
def not_unicode(draw: st.DrawFn, text: str = "text") -> str:
    """Text holding a lone surrogate: a JSON string escape no Unicode text can hold."""
    at = draw(st.integers(0, len(text)))
    return text[:at] + draw(st.sampled_from(LONE_SURROGATES)) + text[at:]


def _is_aware_timestamp(text: str) -> bool:
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).tzinfo is not None
    except ValueError:
        return False


unreadable_times = st.one_of(
    not_text_nor_null,
    st.text(max_size=30).filter(lambda s: not _is_aware_timestamp(s)),
    st.sampled_from(["2025-09-30T10:00:00", "2025-09-30", "30/09/2025 10:00", "yesterday", "1727690400"]),
    huge_text.map(lambda s: "2025-09-30T" + s),
    not_unicode("2025-09-30T10:00:00Z"),
)
# A null count (like a null gating flag or tag list) is no breakage: it reads as omitted.
bad_counts = st.one_of(
    st.integers(max_value=-1),
    st.integers(min_value=INT64_MAX + 1, max_value=2**200),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
    st.text(max_size=10),
    st.builds(list),
    st.builds(dict),
    huge_text.map(lambda s: "9" * len(s)),
)
bad_ids = st.one_of(
    not_text,
    st.sampled_from(
        [
            "",
            "no-slash",
            "owner/name/extra",
            "/name",
            "owner/",
            "-owner/name",
            "own er/name",
            "owner/na me",
            "owner/name\n",
            "owner/name\t",
            "\nowner/name",
            "owner/caf\u00e9-GGUF",
            "owner/\u0661\u0662-GGUF",
        ]
    ),
    st.integers(97, 120_000).map(lambda n: "owner/" + "n" * n),
    st.integers(97, 1_000).map(lambda n: "o" * n + "/name"),
    not_unicode("owner/name-GGUF"),
)
bad_text_fields = not_text_nor_null | not_unicode()

# Each listing key, and values for it that the Hub's schema does not allow.
BROKEN_LISTING_VALUES: dict[str, st.SearchStrategy[Any]] = {
    "id": bad_ids,
    "lastModified": unreadable_times,
    "createdAt": unreadable_times.filter(lambda v: v is not None),
    "sha": st.one_of(
        not_text_nor_null,
        st.text(max_size=50).filter(lambda s: not (len(s) == 40 and all(c in "0123456789abcdef" for c in s))),
        st.just("0123456789ABCDEF0123456789ABCDEF01234567"),
        st.just("0123456789abcdef0123456789abcdef01234567\n"),
        huge_text,
    ),
    "downloads": bad_counts,
    "likes": bad_counts,
    "gated": st.one_of(
        st.text(max_size=10).filter(lambda s: s not in ("auto", "manual")),
        st.integers(),
        st.builds(list),
    ),
    "author": bad_text_fields,
    "pipeline_tag": bad_text_fields,
    "library_name": bad_text_fields,
    "tags": st.one_of(
        st.text(max_size=10),
        st.integers(),
        st.builds(dict),
        st.lists(json_values, min_size=1, max_size=4).filter(
            lambda v: not all(isinstance(t, str) for t in v)
        ),
        st.lists(st.text(max_size=8), max_size=3).flatmap(
            lambda tags: not_unicode("gguf").map(lambda bad: [*tags, bad])
        ),
    ),
    "cardData": st.one_of(
        st.text(max_size=10),
        st.integers(),
        st.lists(json_values, max_size=2),
        not_unicode("apache-2.0").map(lambda license: {"license": license}),
    ),
    "gguf": st.one_of(
        st.text(max_size=10),
        st.integers(),
        st.lists(json_values, max_size=2),
        bad_counts.map(lambda total: {"total": total}),
        bad_counts.map(lambda n: {"context_length": n}),
        not_text_nor_null.map(lambda a: {"architecture": a}),
    ),
    "siblings": st.one_of(
        st.text(max_size=10),
        st.integers(),
        st.builds(dict),
        st.lists(not_text.filter(lambda v: not isinstance(v, dict)), min_size=1, max_size=3),
        st.just([{"name": "model-Q4_K_M.gguf"}]),
        not_text_nor_null.map(lambda name: [{"rfilename": name}]),
        not_unicode("model-Q4_K_M.gguf").map(lambda name: [{"rfilename": name}]),
    ),
}
REQUIRED_LISTING_KEYS = ("id", "lastModified")


# Broken values that validation.enable_automatic_fixes knows how to repair (or must refuse to guess).
FIXABLE_LISTING_VALUES: dict[str, st.SearchStrategy[Any]] = {
    "downloads": st.none() | st.integers(0, 10**30).map(str) | st.integers(1, 6000).map(lambda n: "7" * n),
    "likes": st.none() | st.integers(0, 10**30).map(lambda n: f" {n} "),
    "tags": st.none(),
    "sha": st.just("0123456789ABCDEF0123456789ABCDEF01234567"),
}


@st.composite
def broken_records(
    draw: st.DrawFn, last_modified: datetime, bases: tuple[Repo, ...] = POOL, fixable: bool = False
) -> Any:
    """A listing record the Hub's schema does not allow (valid JSON all the same); with `fixable`,
    possibly one that automatic fixes repair."""
    kind = draw(
        st.sampled_from(["value", "missing", "not-an-object", "junk", *(["fixable"] if fixable else [])])
    )
    if kind == "not-an-object":
        return draw(not_text.filter(lambda v: not isinstance(v, dict)) | st.text(max_size=20))
    if kind == "junk":
        return draw(
            st.dictionaries(st.text(max_size=12).filter(lambda k: k != "id"), json_values, max_size=5)
        )
    record = listing_record(draw(st.sampled_from(bases)), last_modified)
    if kind == "missing":
        del record[draw(st.sampled_from(REQUIRED_LISTING_KEYS))]
        return record
    values = FIXABLE_LISTING_VALUES if kind == "fixable" else BROKEN_LISTING_VALUES
    key = draw(st.sampled_from(sorted(values)))
    record[key] = draw(values[key])
    return record


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 300 else f"{text[:300]}... ({len(text)} characters)"


def case_twin(record: dict[str, Any]) -> dict[str, Any]:
    """The same record under an id that differs only in letter case: the Hub never has both."""
    return {**record, "id": record["id"].swapcase()}


@dataclass
class Listing:
    """The Hub's listing: good records (and the repos behind them), broken ones, and its pages."""

    good: list[Repo]
    broken: list[Any]
    pages: list[list[Any]]
    window: Window
    last_modified: dict[str, datetime]

    def __repr__(self) -> str:
        broken = [_short(b) for b in self.broken]
        sizes = [len(p) for p in self.pages]
        good = [r.id for r in self.good]
        return f"Listing(good={good}, broken={broken}, page_sizes={sizes}, window_start={self.window.start})"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(repr(self))

    def expected_models(self) -> set[tuple[str, str]]:
        return {(r.id, r.sha) for r in self.good if self.window.contains(self.last_modified[r.id])}

    def listed(self) -> set[str]:
        return {repo_id for repo_id, _ in self.expected_models()}

    def pages_read(self) -> int:
        """A listing with a window start stops at the first page holding an older record."""
        start = self.window.start
        for index, page in enumerate(self.pages):
            ids = [str(r.get("id")) for r in page if isinstance(r, dict)]
            if start and any(self.last_modified.get(i, start) < start for i in ids):
                return index + 1
        return len(self.pages)


@st.composite
def listings(draw: st.DrawFn, *, broken: bool = True, fixable: bool = False) -> Listing:
    """Good records, newest first; with `broken`, broken ones among them (made from repos other than
    the good ones when some may be `fixable`, so that a repaired record never stands in for a good one)."""
    window = Window(draw(st.sampled_from([None, WINDOW_START])), None)
    good = draw(st.lists(st.sampled_from(POOL), min_size=1, max_size=6, unique_by=lambda r: r.id))
    moments = {r.id: HUB_NOW - timedelta(hours=i + 1) for i, r in enumerate(good)}
    items: list[Any] = [listing_record(r, moments[r.id]) for r in good]
    bad: list[Any] = []
    bases = tuple(r for r in POOL if r not in good) if fixable else POOL
    if broken:
        for _ in range(draw(st.integers(0, 6))):
            moment = HUB_NOW - timedelta(minutes=draw(st.integers(1, 600)))
            record = draw(broken_records(moment, bases, fixable))
            items.insert(draw(st.integers(0, len(items))), record)
            bad.append(record)
        for repo in draw(st.lists(st.sampled_from(good), unique_by=lambda r: r.id, max_size=2)):
            after = next(
                i for i, item in enumerate(items) if isinstance(item, dict) and item.get("id") == repo.id
            )
            twin = case_twin(items[after])
            items.insert(draw(st.integers(after + 1, len(items))), twin)
            bad.append(twin)
    # Repos older than the window close the listing (sorted by lastModified, newest first).
    others = [r for r in POOL if r not in good]
    for index, repo in enumerate(
        draw(st.lists(st.sampled_from(others), unique_by=lambda r: r.id, max_size=2))
    ):
        moments[repo.id] = WINDOW_START - timedelta(days=index + 1)
        items.append(listing_record(repo, moments[repo.id]))
        good.append(repo)
    size = draw(st.integers(1, 5))
    pages = [items[i : i + size] for i in range(0, len(items), size)]
    return Listing(good, bad, pages, window, moments)


def serve_listing(hub: BadHub, listing: Listing) -> None:
    hub.serve([Served(encode(page)) for page in listing.pages], {})


# ----- the properties ----------------------------------------------------------------------------


@settings(max_examples=EXAMPLES, deadline=None)
@given(listing=listings())
def test_broken_listing_records_are_rejected_with_a_reason_and_every_good_one_is_catalogued(
    listing: Listing, bad_hub: BadHub, tmp_path_factory: pytest.TempPathFactory
) -> None:
    serve_listing(bad_hub, listing)

    synced = run_steps(
        settings_for(bad_hub), tmp_path_factory.mktemp("catalogue"), listing.window, refresh=False
    )

    assert synced.models() == listing.expected_models()
    rejects = synced.rejects("listing")
    assert all(reason for _, reason, _ in rejects)
    assert Counter(record for _, _, record in rejects) == Counter(
        {record: PASSES * n for record, n in Counter(as_stored(b) for b in listing.broken).items()}
    )
    assert synced.listing.rejected == len(rejects)


# ----- trees -------------------------------------------------------------------------------------

BROKEN_ENTRY_VALUES: dict[str, st.SearchStrategy[Any]] = {
    "type": not_text,
    "path": not_text | not_unicode("model-Q4_K_M.gguf"),
    "size": bad_counts,
    "lfs": st.one_of(
        st.text(max_size=10),
        st.integers(),
        st.lists(json_values, max_size=2),
        bad_counts.map(lambda size: {"oid": "0" * 64, "size": size}),
        not_text_nor_null.map(lambda oid: {"oid": oid, "size": 1}),
        not_unicode("0" * 64).map(lambda oid: {"oid": oid, "size": 1}),
    ),
}


@st.composite
def broken_entries(draw: st.DrawFn, number: int) -> Any:
    """A tree entry the Hub's schema does not allow, for a .gguf file of its own path."""
    kind = draw(st.sampled_from(["value", "missing", "not-an-object"]))
    if kind == "not-an-object":
        return draw(not_text.filter(lambda v: not isinstance(v, dict)) | st.text(max_size=20))
    size = draw(st.integers(1, 2**40))
    entry: dict[str, Any] = {
        "type": "file",
        "oid": "1" * 40,
        "size": size,
        "path": f"broken-{number}-Q4_K_M.gguf",
        "lfs": {"oid": "2" * 64, "size": size, "pointerSize": 135},
    }
    if kind == "missing":
        del entry[draw(st.sampled_from(["type", "path", "size"]))]
        return entry
    key = draw(st.sampled_from(sorted(BROKEN_ENTRY_VALUES)))
    entry[key] = draw(BROKEN_ENTRY_VALUES[key])
    return entry


@dataclass
class Tree:
    """A repo's tree as served: good entries and broken ones, or an answer that is never a list."""

    repo: Repo
    entries: list[Any]
    broken: int
    never_a_list: bool = False

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        entries = [_short(e) for e in self.entries]
        printer.text(f"Tree({self.repo.id!r}, entries={entries}, never_a_list={self.never_a_list})")

    def served(self) -> Served:
        if self.never_a_list:
            return Served(b"", [Failure("object")] * (MAX_RETRIES + 1))
        return Served(encode(self.entries))

    def expected_files(self) -> set[tuple[str, str, int]]:
        return set() if self.never_a_list else good_files(self.repo)

    def expected_rejects(self) -> int:
        return 1 if self.never_a_list else self.broken


@st.composite
def trees(draw: st.DrawFn, repo: Repo) -> Tree:
    entries: list[Any] = tree_of(repo)
    broken = 0
    for number in range(draw(st.integers(0, 5))):
        entries.insert(draw(st.integers(0, len(entries))), draw(broken_entries(number)))
        broken += 1
    for original in draw(st.lists(st.sampled_from(tree_of(repo)), unique_by=lambda e: e["path"], max_size=2)):
        twin = {**original, "size": draw(st.sampled_from([original["size"], original["size"] + 1]))}
        after = next(
            i for i, e in enumerate(entries) if isinstance(e, dict) and e.get("path") == original["path"]
        )
        entries.insert(draw(st.integers(after + 1, len(entries))), twin)
        broken += 1
    return Tree(repo, entries, broken, never_a_list=draw(st.booleans().map(lambda b: b and broken == 0)))


@st.composite
def listings_with_trees(draw: st.DrawFn) -> tuple[Listing, list[Tree]]:
    listing = draw(listings(broken=False))
    return listing, [draw(trees(repo)) for repo in listing.good]


def serve(hub: BadHub, listing: Listing, forest: list[Tree]) -> None:
    hub.serve([Served(encode(page)) for page in listing.pages], {t.repo.id: t.served() for t in forest})


@settings(max_examples=EXAMPLES, deadline=None)
@given(case=listings_with_trees())
def test_broken_tree_entries_are_rejected_with_a_reason_and_every_good_file_is_catalogued(
    case: tuple[Listing, list[Tree]], bad_hub: BadHub, tmp_path_factory: pytest.TempPathFactory
) -> None:
    listing, forest = case
    serve(bad_hub, listing, forest)

    synced = run_steps(settings_for(bad_hub), tmp_path_factory.mktemp("catalogue"), listing.window)

    in_window = [t for t in forest if t.repo.id in listing.listed()]
    assert synced.files_of() == set().union(*(t.expected_files() for t in in_window))
    rejects = synced.rejects("files")
    assert all(reason for _, reason, _ in rejects)
    assert Counter(repo_id for repo_id, _, _ in rejects) == Counter(
        {t.repo.id: t.expected_rejects() for t in in_window if t.expected_rejects()}
    )


# ----- any validation settings: the whole path -----------------------------------------------------

validation_settings = st.fixed_dictionaries(
    {
        "validation": st.fixed_dictionaries(
            {"enable_schema_validation": st.booleans(), "enable_automatic_fixes": st.booleans()}
        ),
        "sync_behavior": st.fixed_dictionaries(
            {"enable_multi_strategy_discovery": st.booleans(), "enable_deduplication": st.booleans()}
        ),
        "performance": st.fixed_dictionaries(
            {"enable_streaming_processing": st.booleans(), "enable_parallel_processing": st.booleans()}
        ),
    }
)


@st.composite
def whole_hubs(draw: st.DrawFn) -> tuple[Listing, list[Tree]]:
    listing = draw(listings(fixable=True))
    return listing, [draw(trees(repo)) for repo in listing.good]


@settings(max_examples=EXAMPLES, deadline=None)
@given(case=whole_hubs(), sections=validation_settings)
def test_under_any_validation_settings_bad_input_neither_crashes_a_step_nor_loses_a_good_record(
    case: tuple[Listing, list[Tree]],
    sections: dict[str, dict[str, Any]],
    bad_hub: BadHub,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    listing, forest = case
    serve(bad_hub, listing, forest)

    synced = run_steps(
        settings_for(bad_hub, **sections), tmp_path_factory.mktemp("catalogue"), listing.window
    )

    assert listing.expected_models() <= synced.models()
    listed = listing.listed()
    assert set().union(*(t.expected_files() for t in forest if t.repo.id in listed)) <= synced.files_of()
    assert all(reason for stage in ("listing", "files") for _, reason, _ in synced.rejects(stage))


# ----- answers that are broken as a whole ----------------------------------------------------------

failures = st.lists(
    st.builds(Failure, st.sampled_from(FAILURE_KINDS), st.floats(0, 0.99)), max_size=MAX_RETRIES
)


@dataclass
class Retried:
    listing: Listing
    page_failures: list[list[Failure]]
    tree_failures: dict[str, list[Failure]]

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(f"Retried({self.listing!r}, {self.page_failures!r}, {self.tree_failures!r})")


@st.composite
def retried(draw: st.DrawFn) -> Retried:
    listing = draw(listings(broken=False))
    return Retried(
        listing,
        [draw(failures) for _ in listing.pages],
        {repo.id: draw(failures) for repo in listing.good},
    )


@settings(max_examples=EXAMPLES, deadline=None)
@given(case=retried())
def test_a_page_or_tree_that_arrives_broken_is_fetched_again_until_it_arrives_whole(
    case: Retried, bad_hub: BadHub, tmp_path_factory: pytest.TempPathFactory
) -> None:
    listing = case.listing
    pages = [
        Served(encode(page), fails) for page, fails in zip(listing.pages, case.page_failures, strict=True)
    ]
    forest = {repo.id: Served(encode(tree_of(repo)), case.tree_failures[repo.id]) for repo in listing.good}
    bad_hub.serve(pages, forest)

    synced = run_steps(settings_for(bad_hub), tmp_path_factory.mktemp("catalogue"), listing.window)

    assert synced.models() == listing.expected_models()
    listed = listing.listed()
    assert synced.files_of() == set().union(*(good_files(r) for r in listing.good if r.id in listed))
    assert synced.rejects("listing") == synced.rejects("files") == []
    read = listing.pages_read()
    asked = [len(f) + PASSES for f in case.page_failures[:read]] + [0] * (len(pages) - read)
    if listing.window.start is None:  # a complete pass closes by asking each strategy's first page again
        asked[0] += PASSES
    assert [p.asked for p in pages] == asked
    assert {r: forest[r].asked for r in listed} == {r: len(case.tree_failures[r]) + 1 for r in listed}


# ----- the cases above, one at a time ------------------------------------------------------------

GOOD, OTHER = POOL[0], POOL[1]


def one_page(hub: BadHub, body: bytes, folder: Path, **sections: dict[str, Any]) -> Synced:
    """A listing of one page (`body`), the good repos' trees, and both steps over everything."""
    hub.serve([Served(body)], {repo.id: Served(encode(tree_of(repo))) for repo in (GOOD, OTHER)})
    return run_steps(settings_for(hub, **sections), folder, Window(None, None))


def with_good(*broken: Any) -> bytes:
    return encode([listing_record(GOOD, HUB_NOW - timedelta(hours=1)), *broken])


def broken(**values: Any) -> dict[str, Any]:
    return {**listing_record(OTHER, HUB_NOW - timedelta(hours=2)), **values}


def only_the_good_one_catalogued(synced: Synced, *, rejected_because: str) -> None:
    """The good record of the page is catalogued; the broken one is rejected once, for that reason."""
    assert synced.models() == {(GOOD.id, GOOD.sha)}
    reasons = {reason for _, reason, _ in synced.rejects("listing")}
    assert len(reasons) == 1
    assert reasons.pop().endswith(rejected_because)


@pytest.mark.parametrize(
    "record",
    [
        broken(author="bart\ud800owski"),
        broken(id="owner/na\udc00me-GGUF"),
        broken(cardData={"license": "apache\udfff"}),
        broken(tags=["gguf", "\ud800"]),
    ],
    ids=["author", "id", "card-license", "tag"],
)
def test_a_record_holding_text_that_is_not_unicode_is_rejected(
    record: dict[str, Any], bad_hub: BadHub, tmp_path: Path
) -> None:
    only_the_good_one_catalogued(
        one_page(bad_hub, with_good(record), tmp_path),
        rejected_because=": holds text that is not valid Unicode (a lone surrogate)",
    )


@pytest.mark.parametrize(
    "record",
    [
        broken(downloads=2**63),
        broken(likes=10**30),
        broken(gguf={"total": 2**64}),
        broken(gguf={"context_length": 2**70}),
    ],
    ids=["downloads", "likes", "parameters", "context"],
)
def test_a_count_too_big_for_the_catalogue_is_rejected(
    record: dict[str, Any], bad_hub: BadHub, tmp_path: Path
) -> None:
    only_the_good_one_catalogued(
        one_page(bad_hub, with_good(record), tmp_path),
        rejected_because=": Input should be less than or equal to 9223372036854775807",
    )


@pytest.mark.parametrize("digits", ["9223372036854775808", "7" * 5000])
def test_automatic_fixes_leave_a_numeric_string_too_big_for_the_catalogue_broken(
    digits: str, bad_hub: BadHub, tmp_path: Path
) -> None:
    synced = one_page(
        bad_hub, with_good(broken(downloads=digits)), tmp_path, validation={"enable_automatic_fixes": True}
    )

    assert synced.models() == {(GOOD.id, GOOD.sha)}
    assert [reason for _, reason, _ in synced.rejects("listing")] == [
        "downloads: Input should be a valid integer"
    ] * PASSES


@pytest.mark.parametrize("repo_id", [f"{OTHER.id}\n", "owner/" + "n" * 97, "owner/caf\u00e9-GGUF"])
def test_an_id_the_hub_would_not_accept_is_rejected(repo_id: str, bad_hub: BadHub, tmp_path: Path) -> None:
    synced = one_page(bad_hub, with_good(broken(id=repo_id)), tmp_path)

    assert synced.models() == {(GOOD.id, GOOD.sha)}
    assert {reason for _, reason, _ in synced.rejects("listing")} == {
        "id: is not an owner/name repository id"
    }


def test_a_number_too_long_for_python_to_read_rejects_its_record_not_the_page(
    bad_hub: BadHub, tmp_path: Path
) -> None:
    body = with_good(broken(downloads=0)).replace(b'"downloads": 0', b'"downloads": ' + b"7" * 5000)

    synced = one_page(bad_hub, body, tmp_path)

    assert synced.models() == {(GOOD.id, GOOD.sha)}
    assert {reason for _, reason, _ in synced.rejects("listing")} == {
        "downloads: Input should be a valid integer"
    }


def test_a_page_nested_too_deeply_to_read_fails_the_listing_with_a_hub_error(
    bad_hub: BadHub, tmp_path: Path
) -> None:
    deep = b'{"a": ' * 100_000 + b"1" + b"}" * 100_000
    body = with_good(broken(cardData=0)).replace(b'"cardData": 0', b'"cardData": ' + deep)

    with pytest.raises(HubResponseError, match="nested too deeply"):
        one_page(bad_hub, body, tmp_path)


def test_a_tree_nested_too_deeply_to_read_is_rejected_for_its_repo(bad_hub: BadHub, tmp_path: Path) -> None:
    bad_hub.serve([Served(with_good())], {GOOD.id: Served(b"[" + b"[" * 100_000 + b"]" * 100_000 + b"]")})

    synced = run_steps(settings_for(bad_hub), tmp_path, Window(None, None))

    assert synced.files_of() == set()
    [(repo_id, reason, _)] = synced.rejects("files")
    assert repo_id == GOOD.id
    assert "nested too deeply" in reason


@pytest.mark.parametrize(
    "entry",
    [
        {"type": "file", "path": "model-\ud800-Q4_K_M.gguf", "size": 1},
        {"type": "file", "path": "model-Q4_K_M.gguf", "size": 2**63},
        {"type": "file", "path": "model-Q4_K_M.gguf", "size": 1, "lfs": {"oid": "0" * 64, "size": 2**63}},
    ],
    ids=["path-not-unicode", "size-beyond-64-bits", "lfs-size-beyond-64-bits"],
)
def test_a_tree_entry_the_catalogue_cannot_hold_is_rejected(
    entry: dict[str, Any], bad_hub: BadHub, tmp_path: Path
) -> None:
    bad_hub.serve([Served(with_good())], {GOOD.id: Served(encode([*tree_of(GOOD), entry]))})

    synced = run_steps(settings_for(bad_hub), tmp_path, Window(None, None))

    assert synced.files_of() == good_files(GOOD)
    assert [repo_id for repo_id, _, _ in synced.rejects("files")] == [GOOD.id]


def test_file_sizes_adding_up_past_64_bits_are_reported_and_leave_the_total_unknown(
    bad_hub: BadHub, tmp_path: Path
) -> None:
    huge = [{"type": "file", "path": f"part-{i}-Q4_K_M.gguf", "size": 2**62} for i in range(2)]
    bad_hub.serve([Served(with_good())], {GOOD.id: Served(encode(huge))})

    synced = run_steps(settings_for(bad_hub), tmp_path, Window(None, None))

    assert len(synced.files_of()) == 2
    assert synced.rows("SELECT total_gguf_bytes, files_sha FROM models") == [(None, None)]
    [(_, reason, _)] = synced.rejects("files")
    assert "sizes add up to 9223372036854775808 bytes" in reason


def test_a_tree_listing_a_path_twice_keeps_the_first_entry_and_rejects_the_second(
    bad_hub: BadHub, tmp_path: Path
) -> None:
    entries = tree_of(GOOD)
    first = next(e for e in entries if e["path"].endswith(".gguf"))
    bad_hub.serve([Served(with_good())], {GOOD.id: Served(encode([*entries, {**first, "size": 1}]))})

    synced = run_steps(settings_for(bad_hub), tmp_path, Window(None, None))

    assert synced.files_of() == good_files(GOOD)
    assert [reason for _, reason, _ in synced.rejects("files")] == [
        f"tree entry {first['path']}: listed more than once"
    ]


def test_a_record_whose_id_differs_from_an_earlier_one_only_in_letter_case_is_rejected(
    bad_hub: BadHub, tmp_path: Path
) -> None:
    record = listing_record(GOOD, HUB_NOW - timedelta(hours=1))

    synced = one_page(bad_hub, encode([record, case_twin(record)]), tmp_path)

    assert synced.models() == {(GOOD.id, GOOD.sha)}
    assert {reason for _, reason, _ in synced.rejects("listing")} == {
        f"id: differs only in letter case from {GOOD.id}"
    }


@pytest.mark.parametrize(
    "record",
    ["a string", None, 7, broken(lastModified="2025-09-30T10:00:00"), broken(lastModified=1727690400)],
    ids=["string", "null", "number", "no-time-zone", "number-time"],
)
def test_a_record_without_a_readable_time_neither_ends_nor_breaks_an_incremental_listing(
    record: Any, bad_hub: BadHub, tmp_path: Path
) -> None:
    later = listing_record(OTHER, HUB_NOW - timedelta(hours=2))
    older = listing_record(POOL[2], WINDOW_START - timedelta(days=1))
    bad_hub.serve(
        [Served(with_good(record)), Served(encode([later, older]))],
        {repo.id: Served(encode(tree_of(repo))) for repo in (GOOD, OTHER)},
    )

    synced = run_steps(settings_for(bad_hub), tmp_path, Window(WINDOW_START, None))

    assert synced.models() == {(GOOD.id, GOOD.sha), (OTHER.id, OTHER.sha)}
    assert len(synced.rejects("listing")) == PASSES
