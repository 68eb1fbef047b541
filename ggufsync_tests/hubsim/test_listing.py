"""`GET /api/models`: filters, sorting, expand, cursor pagination and the shape of records."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from ggufsync_assets.hubsim import HubSimulator, Repo, hub_timestamp

DEFAULT_FIELDS = {
    "_id",
    "id",
    "likes",
    "trendingScore",
    "private",
    "downloads",
    "tags",
    "pipeline_tag",
    "library_name",
    "createdAt",
    "modelId",
}


def _models(http: httpx.Client, sim: HubSimulator, **params: object) -> httpx.Response:
    response = http.get(f"{sim.url}/api/models", params=params)
    assert response.status_code == 200, response.text
    return response


def _walk(http: httpx.Client, sim: HubSimulator, **params: object) -> tuple[list[dict], int]:
    """Every record over every page, following Link headers; and how many pages that took."""
    response = _models(http, sim, **params)
    records, pages = list(response.json()), 1
    while "next" in response.links:
        response = http.get(response.links["next"]["url"])
        assert response.status_code == 200
        records += response.json()
        pages += 1
    return records, pages


def test_listing_without_parameters_returns_the_default_fields(
    http: httpx.Client, hub_sim: HubSimulator
) -> None:
    records = _models(http, hub_sim).json()
    assert len(records) == len(hub_sim.state)
    for record in records:
        assert set(record) <= DEFAULT_FIELDS
        assert {"_id", "id", "modelId", "tags", "createdAt"} <= set(record)


def test_filter_gguf_returns_exactly_the_repos_tagged_gguf(http: httpx.Client, hub_sim: HubSimulator) -> None:
    records = _models(http, hub_sim, filter="gguf").json()
    expected = {repo.id for repo in hub_sim.state if "gguf" in repo.tags}
    assert {record["id"] for record in records} == expected
    assert len(expected) < len(hub_sim.state), "the generator plants GGUF repos without the tag"


def test_repeated_filters_must_all_match(http: httpx.Client, hub_sim: HubSimulator) -> None:
    records = _models(http, hub_sim, filter=["gguf", "conversational"]).json()
    expected = {r.id for r in hub_sim.state if {"gguf", "conversational"} <= set(r.tags)}
    assert {record["id"] for record in records} == expected


def test_author_returns_only_that_authors_repos(http: httpx.Client, hub_sim: HubSimulator) -> None:
    author = hub_sim.state.repos()[0].author
    records = _models(http, hub_sim, author=author).json()
    assert {record["id"] for record in records} == {r.id for r in hub_sim.state if r.author == author}


def test_search_is_a_case_insensitive_substring_of_the_repo_id(
    http: httpx.Client, hub_sim: HubSimulator
) -> None:
    records = _models(http, hub_sim, search="qWeN").json()
    expected = {r.id for r in hub_sim.state if "qwen" in r.id.lower()}
    assert expected
    assert {record["id"] for record in records} == expected


@pytest.mark.parametrize(
    ("sort", "key"),
    [
        ("lastModified", lambda r: hub_timestamp(r.last_modified)),
        ("createdAt", lambda r: hub_timestamp(r.created_at)),
        ("downloads", lambda r: r.downloads),
        ("likes", lambda r: r.likes),
        ("trendingScore", lambda r: r.trending_score),
    ],
)
def test_sort_is_always_descending_whatever_the_direction(
    http: httpx.Client, hub_sim: HubSimulator, sort: str, key: Callable[[Repo], object]
) -> None:
    truth = {repo.id: key(repo) for repo in hub_sim.state}
    for direction in (None, 1, -1):
        params = {"sort": sort} if direction is None else {"sort": sort, "direction": direction}
        values = [truth[record["id"]] for record in _models(http, hub_sim, **params).json()]
        assert values == sorted(values, reverse=True)


def test_expand_returns_only_the_requested_properties_plus_ids(
    http: httpx.Client, hub_sim: HubSimulator
) -> None:
    records = _models(http, hub_sim, expand=["gguf", "lastModified", "siblings"]).json()
    for record in records:
        assert {"_id", "id", "lastModified", "siblings"} <= set(record)
        assert set(record) <= {"_id", "id", "gguf", "lastModified", "siblings"}
    assert any("gguf" in record for record in records)


@pytest.mark.parametrize("other", ["full", "cardData", "config"])
def test_expand_combined_with_full_carddata_or_config_is_a_400(
    http: httpx.Client, hub_sim: HubSimulator, other: str
) -> None:
    response = http.get(f"{hub_sim.url}/api/models", params={"expand": "sha", other: "true"})
    assert response.status_code == 400
    assert "expand" in response.json()["error"]


def test_unknown_expand_property_is_a_400(http: httpx.Client, hub_sim: HubSimulator) -> None:
    response = http.get(f"{hub_sim.url}/api/models", params={"expand": "weights"})
    assert response.status_code == 400
    assert "weights" in response.json()["error"]


def test_listing_follows_link_cursor_until_last_page(http: httpx.Client, hub_sim: HubSimulator) -> None:
    records, pages = _walk(http, hub_sim, limit=7, sort="lastModified")
    ids = [record["id"] for record in records]
    assert pages == -(-len(hub_sim.state) // 7)
    assert len(ids) == len(set(ids)) == len(hub_sim.state)


def test_next_link_is_absolute_and_keeps_the_query(http: httpx.Client, hub_sim: HubSimulator) -> None:
    response = _models(http, hub_sim, limit=5, filter="gguf", expand=["sha", "tags"])
    link = httpx.URL(response.links["next"]["url"])
    assert str(link).startswith(f"{hub_sim.url}/api/models?")
    assert link.params.get_list("expand") == ["sha", "tags"]
    assert link.params["filter"] == "gguf"
    assert link.params["cursor"]


def test_last_page_has_no_link_header(http: httpx.Client, hub_sim: HubSimulator) -> None:
    response = _models(http, hub_sim, limit=len(hub_sim.state))
    assert "link" not in response.headers


def test_pagination_with_filters_returns_every_match_once(
    http: httpx.Client, hub_sim_factory: Callable[..., HubSimulator]
) -> None:
    sim = hub_sim_factory(repos=150)
    records, pages = _walk(http, sim, limit=10, filter="gguf", search="-", expand=["sha"])
    expected = {r.id for r in sim.state if "gguf" in r.tags and "-" in r.id}
    assert pages > 5
    assert [r["id"] for r in records].count(records[0]["id"]) == 1
    assert {record["id"] for record in records} == expected


def test_page_size_defaults_to_the_configured_size_when_limit_is_absent(
    http: httpx.Client, hub_sim_factory: Callable[..., HubSimulator]
) -> None:
    sim = hub_sim_factory(page_size=6)
    response = _models(http, sim)
    assert len(response.json()) == 6
    assert "next" in response.links


def test_page_size_is_capped_at_one_thousand(
    http: httpx.Client, hub_sim_factory: Callable[..., HubSimulator]
) -> None:
    sim = hub_sim_factory(repos=1100)
    response = _models(http, sim, limit=5000)
    assert len(response.json()) == 1000
    assert len(http.get(response.links["next"]["url"]).json()) == 100


def test_a_thousand_record_page_with_expand_is_served_whole(
    http: httpx.Client, hub_sim_factory: Callable[..., HubSimulator]
) -> None:
    sim = hub_sim_factory(repos=10_000)
    params = {"limit": 1000, "expand": ["gguf", "siblings", "lastModified", "sha", "tags", "cardData"]}
    response = http.get(f"{sim.url}/api/models", params=params)
    assert len(response.json()) == 1000
    assert "next" in response.links


@pytest.mark.parametrize("limit", ["0", "ten"])
def test_invalid_limit_is_a_400(http: httpx.Client, hub_sim: HubSimulator, limit: str) -> None:
    assert http.get(f"{hub_sim.url}/api/models", params={"limit": limit}).status_code == 400


def test_unset_properties_are_omitted_never_null(http: httpx.Client, hub_sim: HubSimulator) -> None:
    records = _models(http, hub_sim, expand=["cardData", "gguf", "pipeline_tag", "library_name"]).json()
    by_id = {record["id"]: record for record in records}
    for repo in hub_sim.state:
        assert ("cardData" in by_id[repo.id]) == (repo.card_data is not None)
        assert ("gguf" in by_id[repo.id]) == (repo.gguf is not None)
        assert ("library_name" in by_id[repo.id]) == (repo.library_name is not None)
    assert all(None not in record.values() for record in records)
    assert any("cardData" not in record for record in records)
    assert any("gguf" not in record for record in records)


def test_full_listing_siblings_carry_only_rfilename(http: httpx.Client, hub_sim: HubSimulator) -> None:
    records = _models(http, hub_sim, full="true").json()
    for record in records:
        assert {"sha", "lastModified", "author", "siblings"} <= set(record)
        assert all(set(sibling) == {"rfilename"} for sibling in record["siblings"])


def test_carddata_flag_adds_card_data_to_default_fields(http: httpx.Client, hub_sim: HubSimulator) -> None:
    records = _models(http, hub_sim, cardData="true").json()
    assert any("cardData" in record for record in records)
    assert all(set(record) <= DEFAULT_FIELDS | {"cardData"} for record in records)


def test_gguf_summary_counts_parameters_not_bytes(http: httpx.Client, hub_sim: HubSimulator) -> None:
    records = _models(http, hub_sim, expand=["gguf", "usedStorage"]).json()
    summarized = [record for record in records if "gguf" in record]
    assert summarized
    for record in summarized:
        repo = hub_sim.state.get(record["id"])
        assert record["gguf"]["total"] == repo.recipe.family.parameters
        assert {"architecture", "context_length", "bos_token", "eos_token"} <= set(record["gguf"])
