"""How messy generated repos are: `Realism` shares, honoured, switchable off, and the same per seed."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from ggufsync_assets.hubsim import HubSimulator, HubState, Realism, Repo
from ggufsync_tests.hub_fixtures import HUB_NOW, HUB_SEED

LARGE = 2000


def anyone(repo: Repo) -> bool:
    return True


def holds_gguf_files(repo: Repo) -> bool:
    return any(f.gguf and f.gguf.kind == "model" for f in repo.files)


def tagged_with_gguf_files(repo: Repo) -> bool:
    return "gguf" in repo.tags and holds_gguf_files(repo)


def lacks_license(repo: Repo) -> bool:
    return "license" not in (repo.card_data or {}) and not any(t.startswith("license:") for t in repo.tags)


def lacks_base_model(repo: Repo) -> bool:
    return "base_model" not in (repo.card_data or {}) and not any(
        t.startswith("base_model:") for t in repo.tags
    )


def lacks_pipeline_tag(repo: Repo) -> bool:
    return repo.pipeline_tag is None and "pipeline_tag" not in (repo.card_data or {})


def lacks_gguf_summary(repo: Repo) -> bool:
    return repo.gguf is None


def lacks_card(repo: Repo) -> bool:
    return repo.card_data is None and repo.file("README.md") is None


def has_odd_file_names(repo: Repo) -> bool:
    """Model files whose names nowhere spell the quantization their header declares."""
    models = [f for f in repo.files if f.gguf and f.gguf.kind == "model"]
    return bool(models) and all(f.gguf.quant.lower() not in f.path.lower() for f in models)


Predicate = Callable[[Repo], bool]
QUIRKS: dict[str, tuple[Predicate, Predicate]] = {
    "no_license": (anyone, lacks_license),
    "no_base_model": (anyone, lacks_base_model),
    "no_pipeline_tag": (anyone, lacks_pipeline_tag),
    "no_gguf_summary": (tagged_with_gguf_files, lacks_gguf_summary),
    "no_card": (anyone, lacks_card),
    "odd_file_names": (holds_gguf_files, has_odd_file_names),
}
"""The shares of `Realism` a sync cares most about: which repos each is a share of, and how to tell
that a repo has the quirk."""

CUSTOM = Realism(
    no_license=0.4,
    no_base_model=0.3,
    no_pipeline_tag=0.5,
    no_gguf_summary=0.2,
    no_card=0.2,
    odd_file_names=0.3,
)


def _share(state: HubState, quirk: str) -> tuple[float, int]:
    """The measured share, and how many repos it is a share of."""
    population, has_quirk = QUIRKS[quirk]
    pool = [repo for repo in state if population(repo)]
    return sum(1 for repo in pool if has_quirk(repo)) / len(pool), len(pool)


def _close_to(expected: float, pool: int) -> Any:
    """Within four standard deviations of a share drawn from `pool` repos, plus room for the
    planted edge cases."""
    return pytest.approx(expected, abs=4 * math.sqrt(expected * (1 - expected) / pool) + 0.01)


@pytest.fixture(scope="module")
def realistic() -> HubState:
    return HubState(LARGE, seed=HUB_SEED, now=HUB_NOW)


@pytest.fixture(scope="module")
def custom() -> HubState:
    return HubState(LARGE, seed=HUB_SEED, now=HUB_NOW, realism=CUSTOM)


@pytest.fixture(scope="module")
def tidy() -> HubState:
    return HubState(500, seed=HUB_SEED, now=HUB_NOW, realism=Realism.tidy())


@pytest.mark.parametrize("quirk", QUIRKS)
def test_by_default_each_quirk_has_its_realistic_share(realistic: HubState, quirk: str) -> None:
    expected = getattr(Realism(), quirk)
    assert 0 < expected < 0.5
    share, pool = _share(realistic, quirk)
    assert share == _close_to(expected, pool)


@pytest.mark.parametrize("quirk", QUIRKS)
def test_each_quirk_follows_the_share_asked_for(custom: HubState, quirk: str) -> None:
    share, pool = _share(custom, quirk)
    assert share == _close_to(getattr(CUSTOM, quirk), pool)


@pytest.mark.parametrize("quirk", QUIRKS)
def test_zero_shares_leave_only_the_planted_edge_cases_with_a_quirk(tidy: HubState, quirk: str) -> None:
    planted = tidy.edge_cases()
    population, has_quirk = QUIRKS[quirk]
    assert {repo.id for repo in tidy if population(repo) and has_quirk(repo)} <= planted.keys()


def test_zero_shares_still_plant_every_edge_case_once(tidy: HubState) -> None:
    cases = list(tidy.edge_cases().values())
    assert len(cases) == len(set(cases))
    assert {"no-card", "no-license", "no-base-model", "no-pipeline-tag", "no-summary", "odd-names"} <= set(
        cases
    )


def test_the_same_seed_and_shares_give_the_same_messy_repos() -> None:
    first = HubState(300, seed=7, now=HUB_NOW, realism=CUSTOM)
    second = HubState(300, seed=7, now=HUB_NOW, realism=CUSTOM)
    assert first.repos() == second.repos()


def test_another_seed_gives_quirks_to_other_repos() -> None:
    first = HubState(300, seed=7, now=HUB_NOW, realism=CUSTOM)
    second = HubState(300, seed=8, now=HUB_NOW, realism=CUSTOM)
    assert [lacks_license(r) for r in first] != [lacks_license(r) for r in second]


def test_changing_one_share_leaves_the_other_quirks_where_they_were() -> None:
    before = HubState(300, seed=7, now=HUB_NOW)
    after = HubState(300, seed=7, now=HUB_NOW, realism=Realism(no_pipeline_tag=0.6))
    assert [r.id for r in before if lacks_license(r)] == [r.id for r in after if lacks_license(r)]
    assert sum(map(lacks_pipeline_tag, after)) > 2 * sum(map(lacks_pipeline_tag, before))


def test_shares_change_what_repos_lack_not_who_published_what_when() -> None:
    realistic = HubState(300, seed=7, now=HUB_NOW)
    tidy = HubState(300, seed=7, now=HUB_NOW, realism=Realism.tidy())
    assert [(r.id, r.sha, r.created_at, r.downloads) for r in realistic] == [
        (r.id, r.sha, r.created_at, r.downloads) for r in tidy
    ]


@pytest.mark.parametrize(
    "shares",
    [
        {"no_license": 1.5},
        {"no_card": -0.1},
        {"no_card": 0.3, "no_license": 0.2},
        {"no_card": 0.3, "no_base_model": 0.2},
        {"license_card_only": 0.6, "license_tag_only": 0.5},
    ],
)
def test_impossible_shares_are_refused(shares: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="must"):
        Realism(**shares)


def test_a_repo_without_a_card_serves_neither_readme_nor_card_data(
    http: httpx.Client, hub_sim_factory: Callable[..., HubSimulator]
) -> None:
    sim = hub_sim_factory(realism=Realism(no_card=0.5, no_license=0.5, no_base_model=0.5))
    repo = next(r for r in sim.state if lacks_card(r))
    info = http.get(f"{sim.url}/api/models/{repo.id}").json()
    assert "cardData" not in info
    assert "README.md" not in {sibling["rfilename"] for sibling in info["siblings"]}
    assert http.get(f"{sim.url}/{repo.id}/resolve/main/README.md").status_code == 404


def test_full_shares_strip_license_base_model_and_pipeline_tag_from_every_drawn_repo(
    http: httpx.Client, hub_sim_factory: Callable[..., HubSimulator]
) -> None:
    sim = hub_sim_factory(realism=Realism(no_license=1.0, no_base_model=1.0, no_pipeline_tag=1.0))
    listed = http.get(f"{sim.url}/api/models", params={"expand": ["cardData", "tags", "pipeline_tag"]}).json()
    drawn = [record for record in listed if record["id"] not in sim.state.edge_cases()]
    assert drawn
    assert all("pipeline_tag" not in record for record in drawn)
    assert all(not t.startswith(("license:", "base_model:")) for record in drawn for t in record["tags"])
    cards = [record["cardData"] for record in drawn if "cardData" in record]
    assert cards
    assert all(card.keys().isdisjoint({"license", "base_model", "pipeline_tag"}) for card in cards)
