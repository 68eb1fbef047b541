"""Repos whose file tree the Hub never manages to list: 500 on every attempt, all else working."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from ggufsync_assets.hubsim import FaultKind, HubSimulator, HubState
from ggufsync_tests.hub_fixtures import HUB_NOW, HUB_SEED

BrokenHub = Callable[..., HubSimulator]


@pytest.fixture
def broken_hub(hub_sim_factory: Callable[..., HubSimulator]) -> BrokenHub:
    """A running simulator in which a quarter of the repos have a broken tree."""
    return lambda **options: hub_sim_factory(broken_tree_share=0.25, **options)


def _tree(http: httpx.Client, sim: HubSimulator, repo_id: str, rest: str = "main") -> httpx.Response:
    return http.get(f"{sim.url}/api/models/{repo_id}/tree/{rest}", params={"recursive": "true"})


def test_no_tree_is_broken_by_default() -> None:
    assert HubState(50, seed=HUB_SEED, now=HUB_NOW).broken_trees() == frozenset()


def test_the_share_asked_for_gets_a_broken_tree() -> None:
    state = HubState(200, seed=HUB_SEED, now=HUB_NOW, broken_tree_share=0.1)
    assert len(state.broken_trees()) == 20
    assert state.broken_trees() <= {repo.id for repo in state}


def test_the_seed_picks_which_trees_are_broken() -> None:
    first, second, other = (
        HubState(200, seed=seed, now=HUB_NOW, broken_tree_share=0.1).broken_trees() for seed in (5, 5, 6)
    )
    assert first == second
    assert first != other


def test_a_share_outside_zero_to_one_is_refused() -> None:
    with pytest.raises(ValueError, match="between 0 and 1"):
        HubState(10, seed=HUB_SEED, now=HUB_NOW, broken_tree_share=1.5)


def test_a_broken_tree_answers_500_on_every_attempt(http: httpx.Client, broken_hub: BrokenHub) -> None:
    sim = broken_hub()
    repo_id = min(sim.state.broken_trees())
    responses = [_tree(http, sim, repo_id) for _ in range(5)]
    assert [response.status_code for response in responses] == [500] * 5
    assert all(response.headers["Content-Type"].startswith("application/json") for response in responses)
    assert all(response.json()["error"].startswith("Internal Error") for response in responses)


def test_a_broken_tree_fails_at_every_revision_and_folder(http: httpx.Client, broken_hub: BrokenHub) -> None:
    sim = broken_hub()
    repo = sim.state.get(min(sim.state.broken_trees()))
    assert repo is not None
    for rest in (repo.sha, "main/some-folder", f"{repo.sha}/some-folder"):
        assert _tree(http, sim, repo.id, rest).status_code == 500


def test_a_broken_repo_is_still_listed_and_answers_model_info(
    http: httpx.Client, broken_hub: BrokenHub
) -> None:
    sim = broken_hub()
    broken = sim.state.broken_trees()
    listed = {record["id"] for record in http.get(f"{sim.url}/api/models").json()}
    assert broken <= listed
    for repo_id in broken:
        info = http.get(f"{sim.url}/api/models/{repo_id}", params={"blobs": "true"})
        assert info.status_code == 200
        assert info.json()["siblings"]


def test_the_other_trees_answer_as_usual(http: httpx.Client, broken_hub: BrokenHub) -> None:
    sim = broken_hub()
    healthy = [repo.id for repo in sim.state if repo.id not in sim.state.broken_trees()]
    assert healthy
    assert {_tree(http, sim, repo_id).status_code for repo_id in healthy} == {200}


def test_broken_trees_use_none_of_the_fault_budget(http: httpx.Client, broken_hub: BrokenHub) -> None:
    sim = broken_hub(fault_rate=1.0, fault_limit=1, fault_kinds=[FaultKind.ERROR])
    repo_id = min(sim.state.broken_trees())
    assert [_tree(http, sim, repo_id).status_code for _ in range(3)] == [500] * 3
    assert sim.faults.injected == 0
    assert all(record.fault is None for record in sim.requests)
    assert http.get(f"{sim.url}/api/models").status_code in (500, 502, 503, 504)
    assert sim.faults.injected == 1


def test_injected_faults_never_alter_a_broken_tree_answer(http: httpx.Client, broken_hub: BrokenHub) -> None:
    sim = broken_hub(fault_rate=1.0, fault_kinds=[FaultKind.DROP, FaultKind.TRUNCATE])
    repo_id = min(sim.state.broken_trees())
    assert [_tree(http, sim, repo_id).status_code for _ in range(5)] == [500] * 5


def test_a_deleted_repo_no_longer_counts_as_broken(broken_hub: BrokenHub) -> None:
    sim = broken_hub()
    repo_id = min(sim.state.broken_trees())
    sim.delete(repo_id)
    assert repo_id not in sim.state.broken_trees()
