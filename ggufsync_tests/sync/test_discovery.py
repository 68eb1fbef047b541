"""Finding GGUF repos: which listing queries a sync runs."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ggufsync_assets.settings import Settings
from ggufsync_assets.sync.discovery import PROBE_MARGIN, KnownRepo, Method, strategies
from ggufsync_assets.sync.records import LISTING_EXPAND

SINCE = datetime(2025, 5, 1, tzinfo=UTC)


def settings(multi: bool, authors: list[str] | None = None, terms: list[str] | None = None) -> Settings:
    return Settings(
        sync_behavior={"enable_multi_strategy_discovery": multi},
        discovery={"authors": authors or [], "search_terms": terms or []},
    )


def test_without_multi_strategy_discovery_only_the_gguf_tag_is_listed() -> None:
    found = strategies(settings(False, ["bartowski"], ["quant"]), SINCE)
    assert [s.label for s in found] == ["tag:gguf"]
    assert found[0].method is Method.TAG
    assert found[0].query.filter == ("gguf",)


def test_multi_strategy_discovery_adds_name_search_each_author_and_each_term() -> None:
    found = strategies(settings(True, ["bartowski", "unsloth"], ["quantized", "ggml"]), SINCE)
    assert [s.label for s in found] == [
        "tag:gguf",
        "search:gguf",
        "author:bartowski",
        "author:unsloth",
        "term:quantized",
        "term:ggml",
    ]
    assert [s.method for s in found] == [
        Method.TAG,
        Method.SEARCH,
        Method.AUTHOR,
        Method.AUTHOR,
        Method.TERM,
        Method.TERM,
    ]
    assert (found[1].query.search, found[2].query.author, found[4].query.search) == (
        "gguf",
        "bartowski",
        "quantized",
    )


def test_the_default_authors_are_listed() -> None:
    defaults = Settings().discovery.authors
    found = strategies(Settings(), None)
    assert [s.query.author for s in found if s.method is Method.AUTHOR] == defaults


@pytest.mark.parametrize("multi", [False, True])
@pytest.mark.parametrize("since", [None, SINCE])
def test_every_query_expands_the_listing_properties_and_carries_the_window_start(
    multi: bool, since: datetime | None
) -> None:
    for strategy in strategies(settings(multi, ["bartowski"], ["quant"]), since, page_size=250):
        query = strategy.query
        assert query.expand == LISTING_EXPAND
        assert query.modified_since == since
        assert query.sort == "lastModified"  # newest first, so a window's listing can stop early
        assert query.page_size == 250
        assert ("expand", "siblings") in query.params()


KNOWN_IN_WINDOW = [
    KnownRepo("bartowski/Llama-GGUF", "bartowski", ["gguf", "llama"]),
    KnownRepo("bartowski/Qwen-GGUF", "bartowski", ["gguf"]),
    KnownRepo("someone/model-gguf-q4", "someone", []),
]


def test_for_a_window_each_strategy_first_asks_for_what_the_catalogue_holds_there_and_a_margin() -> None:
    found = strategies(settings(True, ["Bartowski", "unsloth"], ["qwen"]), SINCE, known=KNOWN_IN_WINDOW)
    assert {s.label: s.query.probe_size for s in found} == {
        "tag:gguf": 2 + PROBE_MARGIN,
        "search:gguf": 3 + PROBE_MARGIN,  # the Hub's search compares ids without case
        "author:Bartowski": 2 + PROBE_MARGIN,
        "author:unsloth": PROBE_MARGIN,
        "term:qwen": 1 + PROBE_MARGIN,
    }


def test_a_strategy_that_expects_a_full_page_asks_for_full_pages_from_the_start() -> None:
    found = strategies(settings(False), SINCE, page_size=PROBE_MARGIN + 2, known=KNOWN_IN_WINDOW)
    assert [s.query.probe_size for s in found] == [None]


def test_a_listing_of_everything_asks_for_full_pages() -> None:
    found = strategies(settings(True, ["bartowski"]), None, known=KNOWN_IN_WINDOW)
    assert {s.query.probe_size for s in found} == {None}
