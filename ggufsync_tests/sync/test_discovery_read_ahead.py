"""Discovery's read-ahead: the strategies page the Hub side by side, and their pages are read in order.

A loopback listing server answers each strategy (`filter=gguf` or `search=gguf`) with pages of real
listing records taken from the simulator, each page linking the next, and can hold a strategy's first
page until something happens: a request of the other strategy, or a number of them.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from ggufsync_assets.hub.client import HubClient
from ggufsync_assets.hub.errors import HubResponseError
from ggufsync_assets.hubsim import HubSimulator
from ggufsync_assets.settings import Settings
from ggufsync_assets.sync.discovery import PROBE_MARGIN, RECORDS_AHEAD, Page, discover, strategies
from ggufsync_assets.sync.window import Window
from ggufsync_tests.hub.conftest import options_for
from ggufsync_tests.hub_fixtures import HUB_NOW, HUB_SEED
from ggufsync_tests.loopback import LoopbackHandler, LoopbackServer, serving

TAG, SEARCH, AUTHOR = "tag", "search", "author:"
JSON = {"Content-Type": "application/json"}
EVERYTHING = Window(None, None)
SETTINGS = Settings.model_validate(
    {
        "sync_behavior": {"enable_multi_strategy_discovery": True},
        "discovery": {"authors": [], "search_terms": []},
    }
)
WAIT_SECONDS = 10.0
"""How long a held page waits for what it waits for: far longer than it takes, never reached."""


@dataclass
class Script:
    """What the listing server answers: each strategy's pages, and what holds the tag strategy's first."""

    pages: dict[str, list[list[dict[str, Any]]]]
    failing: str | None = None
    hold_tag_until: Callable[[Script], bool] = lambda _: True
    hold_seconds: float = WAIT_SECONDS
    then_hold_until: Callable[[Script], bool] = lambda _: True
    then_hold_seconds: float = 0.0
    """Once `hold_tag_until` holds, how the page is held still: room for what must not arrive, counted
    from when what must arrive has (however late a busy machine lets it come)."""
    requests: list[tuple[str, int]] = field(default_factory=list)
    """(strategy, page) in the order they arrived."""
    before_tag_answered: list[tuple[str, int]] = field(default_factory=list)
    """What had arrived when the tag strategy's first page was answered (its own request included):
    the strategies start together, so either may ask first."""
    changed: threading.Condition = field(default_factory=threading.Condition)


def _strategy(query: dict[str, list[str]]) -> str:
    """The strategy a listing request is of: `tag`, `search` or `author:<name>`."""
    if "author" in query:
        return AUTHOR + query["author"][0]
    return TAG if query.get("filter") == ["gguf"] else SEARCH


class _Listing(LoopbackHandler):
    def do_GET(self) -> None:
        server: ListingServer = self.server  # type: ignore[assignment]
        script = server.script
        query = parse_qs(urlsplit(self.path).query)
        strategy = _strategy(query)
        page = int(query.get("page", ["0"])[0])
        with script.changed:
            script.requests.append((strategy, page))
            script.changed.notify_all()
            if (strategy, page) == (TAG, 0):
                script.changed.wait_for(lambda: script.hold_tag_until(script), timeout=script.hold_seconds)
                script.changed.wait_for(
                    lambda: script.then_hold_until(script), timeout=script.then_hold_seconds
                )
                script.before_tag_answered = list(script.requests)
        if strategy == script.failing:
            self.answer(400, b'{"error": "bad request"}', JSON)
            return
        pages = script.pages[strategy]
        headers = dict(JSON)
        if page + 1 < len(pages):
            headers["Link"] = (
                f'<{server.url}/api/models?{self._strategy_query(strategy)}&page={page + 1}>; rel="next"'
            )
        self.answer(200, json.dumps(pages[page]).encode(), headers)

    @staticmethod
    def _strategy_query(strategy: str) -> str:
        if strategy.startswith(AUTHOR):
            return f"author={strategy.removeprefix(AUTHOR)}"
        return "filter=gguf" if strategy == TAG else "search=gguf"


class ListingServer(LoopbackServer):
    def __init__(self, script: Script) -> None:
        super().__init__(_Listing)
        self.script = script


@pytest.fixture(scope="module")
def records() -> list[dict[str, Any]]:
    """Listing records as the simulator serves them: what discovery must accept."""
    sim = HubSimulator(repos=30, seed=HUB_SEED, now=HUB_NOW).start()

    async def first_page() -> list[dict[str, Any]]:
        async with HubClient(options_for(sim.url)) as client:
            async for page in client.iter_model_pages(strategies(SETTINGS, None)[0].query):
                return page
        return []

    try:
        return asyncio.run(first_page())[:12]
    finally:
        sim.stop()


@pytest.fixture
def serve() -> Iterator[Callable[[Script], str]]:
    with contextlib.ExitStack() as servers:
        yield lambda script: servers.enter_context(serving(ListingServer(script))).url


def read(url: str, settings: Settings = SETTINGS, window: Window = EVERYTHING) -> list[Page]:
    """What discovery yields from the server at `url`."""

    async def main() -> list[Page]:
        async with HubClient(options_for(url)) as client:
            return [page async for page in discover(client, settings, window)]

    return asyncio.run(main())


def _ids(pages: list[Page]) -> list[list[str]]:
    return [[row["repo_id"] for row in page.rows] for page in pages if not page.done]


def tag_waits_for_search(records: list[dict[str, Any]]) -> Script:
    return Script(
        pages={TAG: [records[:4], records[4:6]], SEARCH: [records[6:9]]},
        hold_tag_until=lambda script: (SEARCH, 0) in script.requests,
    )


def test_a_later_strategy_is_listed_while_an_earlier_one_waits_for_its_page(
    records: list[dict[str, Any]], serve: Callable[[Script], str]
) -> None:
    script = tag_waits_for_search(records)
    read(serve(script))
    assert (SEARCH, 0) in script.before_tag_answered


def test_pages_are_read_strategy_by_strategy_whichever_answered_first(
    records: list[dict[str, Any]], serve: Callable[[Script], str]
) -> None:
    script = tag_waits_for_search(records)
    pages = read(serve(script))
    assert [page.strategy.label for page in pages if not page.done] == ["tag:gguf", "tag:gguf", "search:gguf"]
    assert _ids(pages) == [
        [r["id"] for r in records[:4]],
        [r["id"] for r in records[4:6]],
        [r["id"] for r in records[6:9]],
    ]


def test_a_strategy_waiting_to_be_read_fetches_one_page(
    records: list[dict[str, Any]], serve: Callable[[Script], str]
) -> None:
    many = [[record] for record in records]
    script = Script(
        pages={TAG: [records[:1]], SEARCH: many},
        # Held until the search strategy has asked for its first page, then until it asks for a
        # second (never), or for a while: long enough to fetch all its pages, were it not bounded.
        hold_tag_until=lambda script: (SEARCH, 0) in script.requests,
        then_hold_until=lambda script: sum(s == SEARCH for s, _ in script.requests) > 1,
        then_hold_seconds=2.0,
    )
    pages = read(serve(script))
    assert [s for s, _ in script.before_tag_answered if s == SEARCH] == [SEARCH]
    assert len(_ids(pages)) == 1 + len(many)


def test_only_the_next_strategies_ahead_start_while_one_is_read(
    records: list[dict[str, Any]], serve: Callable[[Script], str]
) -> None:
    authors = ["a", "b", "c", "d"]
    settings = SETTINGS.model_copy(
        update={"discovery": SETTINGS.discovery.model_copy(update={"authors": authors})}
    )
    order = [TAG, SEARCH, *(AUTHOR + author for author in authors)]
    ahead = (
        RECORDS_AHEAD // strategies(settings, None)[0].query.page_size
    )  # full pages: a listing of everything
    started, beyond = order[: 1 + ahead], order[1 + ahead]
    script = Script(
        pages={strategy: [records[i : i + 1]] for i, strategy in enumerate(order)},
        # Held until the strategies that may start have asked, then for a while for the next one,
        # which must not ask while the tag strategy is still being read.
        hold_tag_until=lambda script: set(started) <= {s for s, _ in script.requests},
        then_hold_until=lambda script: beyond in {s for s, _ in script.requests},
        then_hold_seconds=2.0,
    )
    pages = read(serve(script), settings)
    assert sorted({s for s, _ in script.before_tag_answered}) == sorted(started)
    assert _ids(pages) == [[r["id"]] for r in records[: len(order)]]


def test_strategies_whose_first_pages_are_small_start_together(
    records: list[dict[str, Any]], serve: Callable[[Script], str]
) -> None:
    authors = ["a", "b", "c", "d", "e", "f"]
    settings = SETTINGS.model_copy(
        update={"discovery": SETTINGS.discovery.model_copy(update={"authors": authors})}
    )
    order = [TAG, SEARCH, *(AUTHOR + author for author in authors)]
    script = Script(
        pages={strategy: [records[i : i + 1]] for i, strategy in enumerate(order)},
        hold_tag_until=lambda script: set(order) <= {s for s, _ in script.requests},
    )
    # A window (every record in it) of which the catalogue knows nothing: each first page is small.
    window = Window(datetime(2000, 1, 1, tzinfo=UTC), None)
    assert len(order) * PROBE_MARGIN <= RECORDS_AHEAD

    pages = read(serve(script), settings, window)

    assert sorted({s for s, _ in script.before_tag_answered}) == sorted(order)
    assert _ids(pages) == [[r["id"]] for r in records[: len(order)]]


def test_a_failing_strategy_fails_discovery_where_its_pages_come(
    records: list[dict[str, Any]], serve: Callable[[Script], str]
) -> None:
    script = Script(pages={TAG: [records[:3]], SEARCH: [records[3:6]]}, failing=SEARCH)
    got: list[Page] = []

    async def main() -> None:
        async with HubClient(options_for(serve(script))) as client:
            async for page in discover(client, SETTINGS, EVERYTHING):
                got.append(page)

    with pytest.raises(HubResponseError):
        asyncio.run(main())
    assert _ids(got) == [[r["id"] for r in records[:3]]]


def test_leaving_discovery_early_leaves_no_fetch_running(
    records: list[dict[str, Any]], serve: Callable[[Script], str]
) -> None:
    script = Script(pages={TAG: [records[:1]], SEARCH: [[record] for record in records]})

    async def main() -> set[asyncio.Task[Any]]:
        async with HubClient(options_for(serve(script))) as client:
            async with contextlib.aclosing(discover(client, SETTINGS, EVERYTHING)) as pages:
                async for _ in pages:
                    break
            return asyncio.all_tasks() - {asyncio.current_task()}

    assert asyncio.run(main()) == set()
