"""The synthetic catalogue: deterministic, realistic in shape, with every edge case, and mutable."""

from __future__ import annotations

import re
import threading
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from ggufsync_assets.hubsim import Catalogue, HubSimulator, gguf_file, small_file
from ggufsync_assets.hubsim.catalogue import PUBLISHERS, WINDOW_START
from ggufsync_tests.hub_fixtures import HUB_NOW, HUB_SEED, SMALL_CATALOGUE


@pytest.fixture(scope="module")
def large() -> Catalogue:
    return Catalogue(2000, seed=HUB_SEED, now=HUB_NOW)


def test_same_seed_and_now_give_an_identical_catalogue() -> None:
    assert Catalogue(300, seed=5, now=HUB_NOW).repos() == Catalogue(300, seed=5, now=HUB_NOW).repos()


def test_another_seed_gives_another_catalogue() -> None:
    first, second = Catalogue(50, seed=5, now=HUB_NOW), Catalogue(50, seed=6, now=HUB_NOW)
    assert {r.id for r in first} != {r.id for r in second}


def test_repo_ids_are_unique_and_shaped_like_hub_ids(large: Catalogue) -> None:
    ids = [repo.id for repo in large]
    assert len(ids) == len(set(ids))
    assert all(re.fullmatch(r"[\w.-]+/[\w.-]+", repo_id) for repo_id in ids)


def test_a_few_big_publishers_own_a_large_share_and_a_long_tail_the_rest(large: Catalogue) -> None:
    authors = Counter(repo.author for repo in large)
    publishers = sum(authors[name] for name in PUBLISHERS)
    assert 0.4 < publishers / len(large) < 0.7
    assert len(authors) > 150
    assert sum(1 for count in authors.values() if count == 1) > 50


def test_small_catalogue_plants_every_edge_case() -> None:
    repos = Catalogue(SMALL_CATALOGUE, seed=HUB_SEED, now=HUB_NOW).repos()
    paths = [f.path for r in repos for f in r.files]
    assert {r.gated for r in repos} == {False, "auto", "manual"}
    assert any(r.card_data is None for r in repos)
    assert any(r.gguf is None and any(f.gguf for f in r.files) for r in repos)
    assert any("gguf" in r.tags and not any(f.path.endswith(".gguf") for f in r.files) for r in repos)
    assert any("GGUF" in r.id and "gguf" not in r.tags for r in repos)
    assert any(r.card_data and isinstance(r.card_data["base_model"], list) for r in repos)
    assert any(r.card_data and isinstance(r.card_data["base_model"], str) for r in repos)
    assert any(
        r.card_data and "license" not in r.card_data and any(t.startswith("license:") for t in r.tags)
        for r in repos
    )
    assert any(
        r.card_data and "license" in r.card_data and not any(t.startswith("license:") for t in r.tags)
        for r in repos
    )
    assert any(re.search(r"-Q8_0-00001-of-0000\d\.gguf$", p) for p in paths)
    assert any(re.search(r"-split-00001-of-0000\d\.gguf$", p) for p in paths)
    assert any(re.fullmatch(r"UD-Q4_K_XL/.+-UD-Q4_K_XL-00001-of-000\d\d\.gguf", p) for p in paths)
    assert any(p.startswith("mmproj") for p in paths)
    assert any(p.endswith((".imatrix", "imatrix.dat")) for p in paths)
    assert any(".i1-" in p for p in paths)
    assert any(r.created_at < WINDOW_START for r in repos)


def test_tags_carry_library_pipeline_base_model_and_region(large: Catalogue) -> None:
    tagged = [r for r in large if r.card_data is not None and "gguf" in r.tags]
    assert all({"region:us", r.pipeline_tag} <= set(r.tags) for r in tagged)
    assert all(r.library_name == "gguf" for r in tagged)
    assert all(any(t.startswith("base_model:quantized:") for t in r.tags) for r in tagged)
    assert any("conversational" in r.tags for r in tagged)
    assert any("imatrix" in r.tags for r in tagged)


def test_dates_lie_mostly_between_august_2023_and_now_weighted_to_recent(large: Catalogue) -> None:
    created = [r.created_at for r in large]
    assert all(r.created_at <= r.last_modified <= HUB_NOW for r in large)
    early = sum(1 for moment in created if moment < WINDOW_START)
    assert 0 < early < len(large) * 0.05
    midpoint = WINDOW_START + (HUB_NOW - WINDOW_START) / 2
    assert sum(1 for moment in created if moment >= midpoint) > len(large) * 0.55


def test_downloads_and_likes_are_heavy_tailed(large: Catalogue) -> None:
    downloads = sorted(r.downloads for r in large)
    assert downloads[-1] > 100 * downloads[len(downloads) // 2]
    assert sum(downloads[-len(downloads) // 100 :]) > 0.3 * sum(downloads)


def test_shas_are_forty_hex_and_object_ids_twenty_four_hex(large: Catalogue) -> None:
    assert all(re.fullmatch(r"[0-9a-f]{40}", r.sha) for r in large)
    assert all(re.fullmatch(r"[0-9a-f]{24}", r.object_id) for r in large)


def test_ten_thousand_repos_build_with_distinct_ids() -> None:
    catalogue = Catalogue(10_000, seed=3, now=HUB_NOW)
    assert len(catalogue) == 10_000
    assert len({r.id.lower() for r in catalogue}) == 10_000


def test_edit_commits_a_new_sha_last_modified_and_file_set() -> None:
    catalogue = Catalogue(20, seed=HUB_SEED, now=HUB_NOW)
    before = catalogue.repos()[3]
    after = catalogue.edit(before.id)
    assert after.sha != before.sha
    assert after.last_modified > before.last_modified
    assert after.last_modified >= HUB_NOW
    assert {f.path: f.oid for f in after.files} != {f.path: f.oid for f in before.files}
    assert catalogue.get(before.id) == after
    assert catalogue.at_revision(before.id, before.sha) == before


def test_edits_are_deterministic_for_the_same_seed() -> None:
    moment = HUB_NOW + timedelta(days=1)
    first, second = Catalogue(20, seed=9, now=HUB_NOW), Catalogue(20, seed=9, now=HUB_NOW)
    repo_id = first.repos()[0].id
    assert first.edit(repo_id, at=moment) == second.edit(repo_id, at=moment)


def test_edit_can_set_any_field() -> None:
    catalogue = Catalogue(20, seed=HUB_SEED, now=HUB_NOW)
    repo = catalogue.repos()[0]
    edited = catalogue.edit(repo.id, gated="manual", files=[small_file("README.md", "# gone")])
    assert edited.gated == "manual"
    assert [f.path for f in edited.files] == ["README.md"]


def test_add_creates_a_repo_stamped_now() -> None:
    catalogue = Catalogue(20, seed=HUB_SEED, now=HUB_NOW)
    repo = catalogue.add()
    assert catalogue.get(repo.id) == repo
    assert repo.created_at == repo.last_modified >= HUB_NOW
    assert len(catalogue) == 21


def test_add_accepts_a_fully_specified_repo() -> None:
    catalogue = Catalogue(5, seed=HUB_SEED, now=HUB_NOW)
    files = [gguf_file("tiny-Q4_K_M.gguf", size=8 << 20), small_file("README.md", "# tiny")]
    repo = catalogue.add(
        "me/tiny-GGUF",
        files=files,
        gated="auto",
        card_data=None,
        gguf=None,
        at=datetime(2025, 1, 1, tzinfo=UTC),
    )
    assert repo.id == "me/tiny-GGUF"
    assert [f.path for f in repo.files] == ["README.md", "tiny-Q4_K_M.gguf"]
    assert repo.created_at == datetime(2025, 1, 1, tzinfo=UTC)
    with pytest.raises(ValueError, match="already exists"):
        catalogue.add("me/tiny-GGUF")


def test_delete_removes_the_repo_and_its_history() -> None:
    catalogue = Catalogue(5, seed=HUB_SEED, now=HUB_NOW)
    repo = catalogue.repos()[0]
    catalogue.edit(repo.id)
    catalogue.delete(repo.id)
    assert repo.id not in catalogue
    assert catalogue.at_revision(repo.id, repo.sha) is None
    with pytest.raises(KeyError):
        catalogue.delete(repo.id)


def test_concurrent_mutations_lose_nothing() -> None:
    catalogue = Catalogue(50, seed=HUB_SEED, now=HUB_NOW)
    ids = [repo.id for repo in catalogue]

    def work(offset: int) -> None:
        for repo_id in ids[offset::4]:
            catalogue.edit(repo_id)
        for _ in range(5):
            catalogue.add()

    threads = [threading.Thread(target=work, args=(offset,)) for offset in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(catalogue) == 70
    assert all(catalogue.get(repo_id).last_modified >= HUB_NOW for repo_id in ids)


def test_edit_is_visible_in_the_listing_order_and_model_info(
    http: httpx.Client, hub_sim: HubSimulator
) -> None:
    repo = hub_sim.catalogue.repos()[-1]
    edited = hub_sim.edit(repo.id)
    newest = http.get(f"{hub_sim.url}/api/models", params={"sort": "lastModified", "limit": 1}).json()
    assert newest[0]["id"] == repo.id
    assert http.get(f"{hub_sim.url}/api/models/{repo.id}").json()["sha"] == edited.sha


def test_added_and_deleted_repos_show_up_over_http(http: httpx.Client, hub_sim: HubSimulator) -> None:
    added = hub_sim.add()
    gone = hub_sim.catalogue.repos()[0]
    hub_sim.delete(gone.id)
    ids = {record["id"] for record in http.get(f"{hub_sim.url}/api/models").json()}
    assert added.id in ids
    assert gone.id not in ids
    assert http.get(f"{hub_sim.url}/api/models/{gone.id}").status_code == 401


def test_a_thousand_record_page_with_expand_is_served_whole(
    http: httpx.Client, hub_sim_factory: Callable[..., HubSimulator]
) -> None:
    sim = hub_sim_factory(repos=10_000)
    params = {"limit": 1000, "expand": ["gguf", "siblings", "lastModified", "sha", "tags", "cardData"]}
    response = http.get(f"{sim.url}/api/models", params=params)
    assert len(response.json()) == 1000
    assert "next" in response.links
