"""The Hub client's calls against the simulator over loopback: listing, trees, model info, ranges."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from ggufsync_assets.gguf.header import verify_magic
from ggufsync_assets.hub.client import HubClient, ListingQuery
from ggufsync_assets.hub.errors import HubNotFound
from ggufsync_assets.hubsim import HubSimulator
from ggufsync_tests.hub.conftest import GENEROUS_QUOTA

WithClient = Callable[..., Any]


async def _all_records(client: HubClient, query: ListingQuery) -> list[dict[str, Any]]:
    return [record async for page in client.iter_model_pages(query) for record in page]


def _gguf_tagged(sim: HubSimulator) -> list[str]:
    return [repo.id for repo in sim.state.repos() if "gguf" in repo.tags]


def _api_listing_requests(sim: HubSimulator) -> list[Any]:
    return [r for r in sim.requests if r.path == "/api/models"]


def test_listing_follows_link_pages_until_the_last(with_client: WithClient, hub_sim: HubSimulator) -> None:
    query = ListingQuery(filter=("gguf",), page_size=7, expand=("lastModified", "sha"))
    records = with_client(lambda c: _all_records(c, query))
    expected = _gguf_tagged(hub_sim)
    assert sorted(r["id"] for r in records) == sorted(expected)
    assert len(_api_listing_requests(hub_sim)) == math.ceil(len(expected) / 7)


def test_listing_sends_each_expand_property_as_its_own_parameter(
    with_client: WithClient, hub_sim: HubSimulator
) -> None:
    query = ListingQuery(filter=("gguf",), expand=("sha", "gguf", "cardData"))
    records = with_client(lambda c: _all_records(c, query))
    assert _api_listing_requests(hub_sim)[0].query["expand"] == ["sha", "gguf", "cardData"]
    assert all(set(r) <= {"_id", "id", "sha", "gguf", "cardData"} for r in records)


def test_listing_by_author_and_search(with_client: WithClient, hub_sim: HubSimulator) -> None:
    author = hub_sim.state.repos()[0].author
    by_author = with_client(lambda c: _all_records(c, ListingQuery(author=author)))
    assert {r["id"].split("/")[0] for r in by_author} == {author}
    found = with_client(lambda c: _all_records(c, ListingQuery(search="gguf")))
    assert all("gguf" in r["id"].lower() for r in found)


def test_listing_stops_at_the_first_record_older_than_modified_since(
    with_client: WithClient, hub_sim: HubSimulator
) -> None:
    repos = sorted(hub_sim.state.repos(), key=lambda r: r.last_modified, reverse=True)
    since = repos[9].last_modified - timedelta(seconds=1)
    query = ListingQuery(expand=("lastModified",), page_size=4, modified_since=since)
    records = with_client(lambda c: _all_records(c, query))
    assert [r["id"] for r in records] == [r.id for r in repos if r.last_modified >= since]
    assert len(_api_listing_requests(hub_sim)) == math.ceil(11 / 4)


def _since_tenth_newest(sim: HubSimulator) -> tuple[list[str], Any]:
    """The ids of the ten newest repos, and a moment that only they reach."""
    repos = sorted(sim.state.repos(), key=lambda r: r.last_modified, reverse=True)
    since = repos[9].last_modified - timedelta(seconds=1)
    return [r.id for r in repos if r.last_modified >= since], since


def test_a_first_page_that_reaches_back_past_modified_since_is_the_whole_listing(
    with_client: WithClient, hub_sim: HubSimulator
) -> None:
    newest, since = _since_tenth_newest(hub_sim)
    query = ListingQuery(expand=("lastModified",), modified_since=since, probe_size=len(newest) + 2)
    records = with_client(lambda c: _all_records(c, query))
    assert [r["id"] for r in records] == newest
    assert [r.query["limit"] for r in _api_listing_requests(hub_sim)] == [[str(len(newest) + 2)]]


def test_a_window_larger_than_the_first_page_is_listed_again_in_full_pages(
    with_client: WithClient, hub_sim: HubSimulator
) -> None:
    newest, since = _since_tenth_newest(hub_sim)
    query = ListingQuery(expand=("lastModified",), modified_since=since, probe_size=4, page_size=1000)
    records = with_client(lambda c: _all_records(c, query))
    assert [r["id"] for r in records] == newest
    requests = _api_listing_requests(hub_sim)
    assert [r.query["limit"] for r in requests] == [["4"], ["1000"]]
    assert "cursor" not in requests[1].query  # from the start, not from where the first page ended


def test_a_hub_that_pages_at_a_smaller_size_than_the_first_page_asked_for_is_followed_page_by_page(
    hub_sim_factory: Callable[..., HubSimulator], with_client_factory: Callable[..., Any]
) -> None:
    sim = hub_sim_factory(max_page_size=3, api_quota=GENEROUS_QUOTA)
    newest, since = _since_tenth_newest(sim)
    query = ListingQuery(expand=("lastModified",), modified_since=since, probe_size=5, page_size=1000)
    records = with_client_factory(sim)(lambda c: _all_records(c, query))
    assert [r["id"] for r in records] == newest
    assert len(_api_listing_requests(sim)) == math.ceil((len(newest) + 1) / 3)  # no page asked twice


def test_a_first_page_holding_the_whole_listing_is_not_asked_again(
    with_client: WithClient, hub_sim: HubSimulator
) -> None:
    author = hub_sim.state.repos()[0].author
    theirs = [r for r in hub_sim.state.repos() if r.author == author]
    since = min(r.last_modified for r in theirs) - timedelta(days=1)
    query = ListingQuery(author=author, modified_since=since, probe_size=len(theirs) + 1)
    records = with_client(lambda c: _all_records(c, query))
    assert sorted(r["id"] for r in records) == sorted(r.id for r in theirs)
    assert len(_api_listing_requests(hub_sim)) == 1


def test_without_modified_since_every_page_is_a_full_page(
    with_client: WithClient, hub_sim: HubSimulator
) -> None:
    query = ListingQuery(filter=("gguf",), page_size=7, probe_size=2)
    records = with_client(lambda c: _all_records(c, query))
    assert sorted(r["id"] for r in records) == sorted(_gguf_tagged(hub_sim))
    assert {r.query["limit"][0] for r in _api_listing_requests(hub_sim)} == {"7"}


def test_tree_collects_every_page_of_files_and_folders(
    hub_sim_factory: Callable[..., HubSimulator], with_client_factory: Callable[..., Any]
) -> None:
    sim = hub_sim_factory(tree_page_size=3, api_quota=GENEROUS_QUOTA)
    repo = max(sim.state.repos(), key=lambda r: len(r.files))
    entries = with_client_factory(sim)(lambda c: c.list_tree(repo.id))
    files = {e["path"]: e for e in entries if e["type"] == "file"}
    assert set(files) == {f.path for f in repo.files}
    assert all(files[f.path]["size"] == f.size for f in repo.files)
    tree_requests = [r for r in sim.requests if "/tree/" in r.path]
    assert len(tree_requests) == math.ceil(len(entries) / 3)


def test_model_info_with_blobs_gives_sizes_and_lfs_hashes(
    with_client: WithClient, hub_sim: HubSimulator
) -> None:
    repo = next(r for r in hub_sim.state.repos() if any(f.is_lfs for f in r.files))
    info = with_client(lambda c: c.model_info(repo.id, blobs=True))
    siblings = {s["rfilename"]: s for s in info["siblings"]}
    lfs = next(f for f in repo.files if f.is_lfs)
    assert siblings[lfs.path]["size"] == lfs.size
    assert siblings[lfs.path]["lfs"]["sha256"] == lfs.lfs_sha256


def test_unknown_repo_is_not_found(with_client: WithClient) -> None:
    with pytest.raises(HubNotFound, match="RepoNotFound"):
        with_client(lambda c: c.model_info("nobody/nothing-GGUF"))


def test_read_range_follows_the_redirect_to_the_cdn_and_returns_gguf_bytes(
    with_client: WithClient, hub_sim: HubSimulator
) -> None:
    repo, path = next(
        (r, f.path) for r in hub_sim.state.repos() if not r.gated for f in r.files if f.path.endswith(".gguf")
    )
    data = with_client(lambda c: c.read_range(repo.id, path, 0, 1023))
    assert len(data) == 1024
    assert verify_magic(data)
    assert {r.host for r in hub_sim.requests} == {"api", "cdn"}
