"""Generated repos: deterministic, realistic in shape, with every edge case a sync must handle."""

from __future__ import annotations

import re
from collections import Counter

import pytest

from ggufsync_assets.hubsim import HubState
from ggufsync_assets.hubsim.generator import WINDOW_START
from ggufsync_assets.hubsim.publishers import PUBLISHERS
from ggufsync_tests.hub_fixtures import HUB_NOW, HUB_SEED, SMALL_HUB


@pytest.fixture(scope="module")
def large() -> HubState:
    return HubState(2000, seed=HUB_SEED, now=HUB_NOW)


def test_same_seed_and_now_give_identical_repos() -> None:
    assert HubState(300, seed=5, now=HUB_NOW).repos() == HubState(300, seed=5, now=HUB_NOW).repos()


def test_another_seed_gives_other_repos() -> None:
    first, second = HubState(50, seed=5, now=HUB_NOW), HubState(50, seed=6, now=HUB_NOW)
    assert {r.id for r in first} != {r.id for r in second}


def test_repo_ids_are_unique_and_shaped_like_hub_ids(large: HubState) -> None:
    ids = [repo.id for repo in large]
    assert len(ids) == len(set(ids))
    assert all(re.fullmatch(r"[\w.-]+/[\w.-]+", repo_id) for repo_id in ids)


def test_a_few_big_publishers_own_a_large_share_and_a_long_tail_the_rest(large: HubState) -> None:
    authors = Counter(repo.author for repo in large)
    publishers = sum(authors[name] for name in PUBLISHERS)
    assert 0.4 < publishers / len(large) < 0.7
    assert len(authors) > 150
    assert sum(1 for count in authors.values() if count == 1) > 50


def test_a_small_hub_plants_every_edge_case() -> None:
    repos = HubState(SMALL_HUB, seed=HUB_SEED, now=HUB_NOW).repos()
    paths = [f.path for r in repos for f in r.files]
    assert {r.gated for r in repos} == {False, "auto", "manual"}
    assert any(r.card_data is None for r in repos)
    assert any(r.gguf is None and any(f.gguf for f in r.files) for r in repos)
    assert any("gguf" in r.tags and not any(f.path.endswith(".gguf") for f in r.files) for r in repos)
    assert any("GGUF" in r.id and "gguf" not in r.tags for r in repos)
    assert any(r.card_data and isinstance(r.card_data.get("base_model"), list) for r in repos)
    assert any(r.card_data and isinstance(r.card_data.get("base_model"), str) for r in repos)
    assert any(r.card_data and "base_model" not in r.card_data for r in repos)
    assert any(
        r.card_data and "license" not in r.card_data and not any(t.startswith("license:") for t in r.tags)
        for r in repos
    )
    assert any(r.pipeline_tag is None for r in repos)
    models = [[f for f in r.files if f.gguf and f.gguf.kind == "model"] for r in repos]
    assert any(files and all(f.gguf.quant.lower() not in f.path.lower() for f in files) for files in models)
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
    assert any(p.endswith(".gguf-split-b") for p in paths)
    assert any(re.search(r"\.gguf\.part2of\d$", p) for p in paths)
    assert any(re.fullmatch(r"UD-Q4_K_XL/.+-UD-Q4_K_XL-00001-of-000\d\d\.gguf", p) for p in paths)
    assert any(p.startswith("mmproj") for p in paths)
    assert any(p.endswith((".imatrix", "imatrix.dat")) for p in paths)
    assert any(".i1-" in p for p in paths)
    assert any(r.created_at < WINDOW_START for r in repos)


def test_tags_carry_library_pipeline_base_model_and_region(large: HubState) -> None:
    tagged = [r for r in large if r.card_data is not None and "gguf" in r.tags]
    assert all("region:us" in r.tags for r in tagged)
    assert all(r.pipeline_tag in r.tags for r in tagged if r.pipeline_tag is not None)
    assert all(r.library_name == "gguf" for r in tagged)
    assert all(
        any(t.startswith("base_model:quantized:") for t in r.tags)
        for r in tagged
        if "base_model" in r.card_data
    )
    assert any("conversational" in r.tags for r in tagged)
    assert any("imatrix" in r.tags for r in tagged)


def test_dates_lie_mostly_between_august_2023_and_now_weighted_to_recent(large: HubState) -> None:
    created = [r.created_at for r in large]
    assert all(r.created_at <= r.last_modified <= HUB_NOW for r in large)
    early = sum(1 for moment in created if moment < WINDOW_START)
    assert 0 < early < len(large) * 0.05
    midpoint = WINDOW_START + (HUB_NOW - WINDOW_START) / 2
    assert sum(1 for moment in created if moment >= midpoint) > len(large) * 0.55


def test_downloads_and_likes_are_heavy_tailed(large: HubState) -> None:
    downloads = sorted(r.downloads for r in large)
    assert downloads[-1] > 100 * downloads[len(downloads) // 2]
    assert sum(downloads[-len(downloads) // 100 :]) > 0.3 * sum(downloads)


def test_shas_are_forty_hex_and_object_ids_twenty_four_hex(large: HubState) -> None:
    assert all(re.fullmatch(r"[0-9a-f]{40}", r.sha) for r in large)
    assert all(re.fullmatch(r"[0-9a-f]{24}", r.object_id) for r in large)


def test_ten_thousand_repos_build_with_distinct_ids() -> None:
    state = HubState(10_000, seed=3, now=HUB_NOW)
    assert len(state) == 10_000
    assert len({r.id.lower() for r in state}) == 10_000
