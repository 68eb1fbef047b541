"""Mutations of the simulated Hub: edits, additions and deletions, as stored and as served."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from ggufsync_assets.hubsim import HubSimulator, HubState, gguf_file, small_file
from ggufsync_tests.hub_fixtures import HUB_NOW, HUB_SEED


def test_edit_commits_a_new_sha_last_modified_and_file_set() -> None:
    state = HubState(20, seed=HUB_SEED, now=HUB_NOW)
    before = state.repos()[3]
    after = state.edit(before.id)
    assert after.sha != before.sha
    assert after.last_modified > before.last_modified
    assert after.last_modified >= HUB_NOW
    assert {f.path: f.oid for f in after.files} != {f.path: f.oid for f in before.files}
    assert state.get(before.id) == after
    assert state.at_revision(before.id, before.sha) == before


def test_edits_are_deterministic_for_the_same_seed() -> None:
    moment = HUB_NOW + timedelta(days=1)
    first, second = HubState(20, seed=9, now=HUB_NOW), HubState(20, seed=9, now=HUB_NOW)
    repo_id = first.repos()[0].id
    assert first.edit(repo_id, at=moment) == second.edit(repo_id, at=moment)


def test_edit_can_set_any_field() -> None:
    state = HubState(20, seed=HUB_SEED, now=HUB_NOW)
    repo = state.repos()[0]
    edited = state.edit(repo.id, gated="manual", files=[small_file("README.md", "# gone")])
    assert edited.gated == "manual"
    assert [f.path for f in edited.files] == ["README.md"]


def test_add_creates_a_repo_stamped_now() -> None:
    state = HubState(20, seed=HUB_SEED, now=HUB_NOW)
    repo = state.add()
    assert state.get(repo.id) == repo
    assert repo.created_at == repo.last_modified >= HUB_NOW
    assert len(state) == 21


def test_add_accepts_a_fully_specified_repo() -> None:
    state = HubState(5, seed=HUB_SEED, now=HUB_NOW)
    files = [gguf_file("tiny-Q4_K_M.gguf", size=8 << 20), small_file("README.md", "# tiny")]
    repo = state.add(
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
        state.add("me/tiny-GGUF")


def test_delete_removes_the_repo_and_its_history() -> None:
    state = HubState(5, seed=HUB_SEED, now=HUB_NOW)
    repo = state.repos()[0]
    state.edit(repo.id)
    state.delete(repo.id)
    assert repo.id not in state
    assert state.at_revision(repo.id, repo.sha) is None
    with pytest.raises(KeyError):
        state.delete(repo.id)


def test_concurrent_mutations_lose_nothing() -> None:
    state = HubState(50, seed=HUB_SEED, now=HUB_NOW)
    ids = [repo.id for repo in state]

    def work(offset: int) -> None:
        for repo_id in ids[offset::4]:
            state.edit(repo_id)
        for _ in range(5):
            state.add()

    threads = [threading.Thread(target=work, args=(offset,)) for offset in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(state) == 70
    assert all(state.get(repo_id).last_modified >= HUB_NOW for repo_id in ids)


def test_edit_is_visible_in_the_listing_order_and_model_info(
    http: httpx.Client, hub_sim: HubSimulator
) -> None:
    repo = hub_sim.state.repos()[-1]
    edited = hub_sim.edit(repo.id)
    newest = http.get(f"{hub_sim.url}/api/models", params={"sort": "lastModified", "limit": 1}).json()
    assert newest[0]["id"] == repo.id
    assert http.get(f"{hub_sim.url}/api/models/{repo.id}").json()["sha"] == edited.sha


def test_added_and_deleted_repos_show_up_over_http(http: httpx.Client, hub_sim: HubSimulator) -> None:
    added = hub_sim.add()
    gone = hub_sim.state.repos()[0]
    hub_sim.delete(gone.id)
    ids = {record["id"] for record in http.get(f"{hub_sim.url}/api/models").json()}
    assert added.id in ids
    assert gone.id not in ids
    assert http.get(f"{hub_sim.url}/api/models/{gone.id}").status_code == 401
