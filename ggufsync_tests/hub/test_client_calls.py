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
