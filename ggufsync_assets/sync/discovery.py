"""Finding GGUF repos: the strategies, and merging what they find into one row per repo.

The `gguf` library tag finds most repos; some GGUF uploads are untagged, so multi-strategy
discovery (sync_behavior.enable_multi_strategy_discovery) also searches names for "gguf", lists
the configured publishers' repos and runs the configured search terms. Every strategy pages the
listing sorted by lastModified and stops at the start of the window being synced; its first request
asks for about as many records as the catalogue expects in the window, so a quiet publisher costs
the Hub a small page.

`discover` is the one discovery loop: the sync's listing step writes what it yields, and the dry
run counts it, so a plan is the sync's plan by construction. The strategy being read and the next
ones, as many as RECORDS_AHEAD holds, page the Hub side by side (within the client's concurrency
limit, each one page ahead at most), and their pages are read strategy by strategy in order, so what
discovery yields does not depend on which answer came first.

The Hub keeps repo ids unique regardless of letter case, so two records whose ids differ only in
case cannot both be right: the first one listed is kept, and any later one is rejected.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, AsyncIterator, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, NamedTuple

from ggufsync_assets.hub.client import HubClient, ListingQuery
from ggufsync_assets.settings import Settings
from ggufsync_assets.sync.records import LISTING_EXPAND, validate_with
from ggufsync_assets.sync.window import Window


class Method(StrEnum):
    TAG = "tag"
    SEARCH = "search"
    AUTHOR = "author"
    TERM = "term"


class KnownRepo(NamedTuple):
    """A catalogued repo, as far as a listing query selects it (catalogue/store.py:
    repos_modified_since gives these fields)."""

    repo_id: str
    author: str | None
    tags: list[str]


@dataclass(frozen=True)
class Strategy:
    method: Method
    query: ListingQuery

    @property
    def label(self) -> str:
        q = self.query
        detail = q.author or q.search or ",".join(q.filter)
        return f"{self.method.value}:{detail}"

    def lists(self, repo: KnownRepo) -> bool:
        """Whether the Hub lists `repo` for this strategy: it carries every filter tag, is the
        author's, and its id holds the search text (the Hub compares both without case)."""
        q = self.query
        owner = repo.author or repo.repo_id.split("/", 1)[0]
        return (
            all(tag in repo.tags for tag in q.filter)
            and (q.author is None or owner.lower() == q.author.lower())
            and (q.search is None or q.search.lower() in repo.repo_id.lower())
        )


PROBE_MARGIN = 100
"""Records a strategy's first page of a window asks for beyond those the catalogue already holds in
it: repos modified since the last sync that it cannot know of yet. A window holding more costs one
request more, never a record (ListingQuery.probe_size)."""


def strategies(
    settings: Settings,
    modified_since: datetime | None,
    page_size: int = 1000,
    known: Iterable[tuple[str, str | None, list[str]]] = (),
) -> list[Strategy]:
    """The configured strategies; for a window (`modified_since`), each first asks for the records
    the catalogue already holds in the window (`known`: its repos modified since then) and a margin."""
    base = ListingQuery(expand=LISTING_EXPAND, page_size=page_size, modified_since=modified_since)
    found = [Strategy(Method.TAG, replace(base, filter=("gguf",)))]
    if settings.sync_behavior.enable_multi_strategy_discovery:
        found.append(Strategy(Method.SEARCH, replace(base, search="gguf")))
        found += [Strategy(Method.AUTHOR, replace(base, author=a)) for a in settings.discovery.authors]
        found += [Strategy(Method.TERM, replace(base, search=t)) for t in settings.discovery.search_terms]
    if modified_since is None:
        return found
    repos = [KnownRepo(*repo) for repo in known]
    return [_probing(strategy, repos) for strategy in found]


def _probing(strategy: Strategy, known: Sequence[KnownRepo]) -> Strategy:
    expected = sum(strategy.lists(repo) for repo in known) + PROBE_MARGIN
    if expected >= strategy.query.page_size:
        return strategy
    return replace(strategy, query=replace(strategy.query, probe_size=expected))


@dataclass
class Page:
    """What one listing page gave a strategy; `done` marks the strategy's end (an empty page)."""

    strategy: Strategy
    rows: list[dict[str, Any]] = field(default_factory=list)
    """Valid rows of repos in the window that have .gguf files."""
    rejects: list[tuple[Any, str]] = field(default_factory=list)
    fixed: list[tuple[Any, list[str]]] = field(default_factory=list)
    without_gguf_files: list[str] = field(default_factory=list)
    done: bool = False


RECORDS_AHEAD = 4_000
"""Records the strategies beyond the one being read may hold in their first pages: four full pages of
1,000 (about 5 MB each once parsed), so a full sync's listings stay within a few pages of memory
whatever the Hub's size and however many authors and search terms are configured; and as many
strategies as fit when their first pages are small (a window the catalogue knows to be quiet)."""


class _ReadAhead:
    """Each strategy's listing pages, fetched by a task of its own, one page ahead of its reader: a
    strategy asks for its next page once its reader has taken the last, so it holds one page at most.
    A strategy starts once the first pages between it and the reader fit in RECORDS_AHEAD."""

    def __init__(self, client: HubClient, found: list[Strategy]) -> None:
        self._client, self._found = client, found
        self._queues: list[asyncio.Queue[list[Any] | Exception | None]] = [asyncio.Queue(1) for _ in found]
        self._tasks: list[asyncio.Task[None]] = []

    async def _fetch(self, index: int) -> None:
        queue = self._queues[index]
        try:
            async for records in self._client.iter_model_pages(self._found[index].query):
                await queue.put(records)
                await queue.join()  # taken: only now ask for the next page
        except Exception as exc:  # raised where the strategy's pages are read, in their order
            await queue.put(exc)
            return
        await queue.put(None)

    async def pages(self, index: int) -> AsyncIterator[list[Any]]:
        while len(self._tasks) < self._reach(index):
            self._tasks.append(asyncio.create_task(self._fetch(len(self._tasks))))
        queue = self._queues[index]
        while True:
            item = await queue.get()
            queue.task_done()
            if item is None:
                return
            if isinstance(item, Exception):
                raise item
            yield item

    def _reach(self, index: int) -> int:
        """How many strategies may have started while strategy `index` is read: it, those before it,
        and those after it whose first pages add up to RECORDS_AHEAD at most."""
        reach, held = index + 1, 0
        while reach < len(self._found):
            query = self._found[reach].query
            held += query.probe_size or query.page_size
            if held > RECORDS_AHEAD:
                break
            reach += 1
        return reach

    async def aclose(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


CATCH_UP_MARGIN = timedelta(minutes=10)
"""How far before the sync began a complete pass's closing listing reaches: room for the Hub's clock
to be behind ours."""


async def discover(
    client: HubClient,
    settings: Settings,
    window: Window,
    known: Iterable[tuple[str, str | None, list[str]]] = (),
    *,
    now: datetime | None = None,
) -> AsyncGenerator[Page]:
    """Every strategy's pages, validated and cut to the window, strategy by strategy, each in the
    order the Hub serves them; `known` sizes each strategy's first page (see `strategies`). Read it
    under contextlib.aclosing: leaving early stops the fetching.

    A pass over the whole Hub takes minutes, and a repo modified meanwhile moves ahead of the pages
    still to come, where none lists it: so, given the sync's `now`, a complete pass ends by listing
    what was modified since (CATCH_UP_MARGIN before it), once every strategy is done."""
    spelled: dict[str, str] = {}  # lower-cased repo id -> the id as first listed
    passes = [(window, strategies(settings, window.start, known=known))]
    repeats = _Repeats(None)
    if now is not None and window.start is None and window.end is None:
        since = now - CATCH_UP_MARGIN
        passes.append((Window(since, None), strategies(settings, since)))
        repeats = _Repeats(since)
    for listed, found in passes:
        async with contextlib.aclosing(
            _pages(client, settings, listed, found, spelled=spelled, repeats=repeats)
        ) as pages:
            async for page in pages:
                yield page
        repeats.closing = True


@dataclass
class _Repeats:
    """The records a complete pass listed from its closing listing's window (modified since `since`),
    by strategy, id and sha: the closing listing skips them, so a record is judged once."""

    since: datetime | None
    closing: bool = False
    listed: set[tuple[str, str]] = field(default_factory=set)

    def __post_init__(self) -> None:
        self._since = f"{self.since:%Y-%m-%dT%H:%M:%S}" if self.since else ""

    def seen_before(self, strategy: Strategy, record: Any) -> bool:
        if self.since is None:
            return False
        whole = isinstance(record, dict)
        key = (strategy.label, f"{record.get('id')!r} {record.get('sha')!r}" if whole else repr(record))
        if self.closing:
            return key in self.listed
        # ISO 8601 from the Hub: its first 19 characters compare as the moments do. A record without
        # a readable time may be listed again too (its reject must not be).
        modified = record.get("lastModified") if whole else None
        if not (isinstance(modified, str) and modified[:19] < self._since):
            self.listed.add(key)
        return False


async def _pages(
    client: HubClient,
    settings: Settings,
    window: Window,
    found: list[Strategy],
    *,
    spelled: dict[str, str],
    repeats: _Repeats,
) -> AsyncGenerator[Page]:
    """One pass of `found` strategies over `window` (see `discover`)."""
    ahead = _ReadAhead(client, found)
    try:
        for index, strategy in enumerate(found):
            async for records in ahead.pages(index):
                page = Page(strategy)
                for record in records:
                    if repeats.seen_before(strategy, record):
                        continue
                    outcome = validate_with(settings, record)
                    if outcome.fixes:
                        page.fixed.append((record, outcome.fixes))
                    if outcome.row is not None:
                        repo_id = outcome.row["repo_id"]
                        first = spelled.setdefault(repo_id.lower(), repo_id)
                        if first != repo_id:
                            outcome.row, outcome.reason = (
                                None,
                                f"id: differs only in letter case from {first}",
                            )
                    if outcome.row is None:
                        page.rejects.append((record, outcome.reason or "invalid"))
                    elif not window.contains(outcome.row["last_modified"]):
                        continue
                    elif not outcome.has_gguf_files:
                        page.without_gguf_files.append(outcome.row["repo_id"])
                    else:
                        page.rows.append({**outcome.row, "listing_fixes": outcome.fixes})
                yield page
            yield Page(strategy, done=True)
    finally:
        await ahead.aclose()
