"""Transient failures are retried with backoff; a page is used whole or fetched again, never half-used."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from ggufsync_assets.hub.client import HubClient, ListingQuery
from ggufsync_assets.hub.errors import HubResponseError
from ggufsync_assets.hubsim import HubSimulator

WithClient = Callable[..., Any]
TIMEOUT_SECONDS = 5.0
"""The client's timeout where one answer is to outlast it: every other answer must not, however busy
the machine."""


async def _listing(client: HubClient) -> list[dict[str, Any]]:
    query = ListingQuery(filter=("gguf",), page_size=10, expand=("sha",))
    return [record async for page in client.iter_model_pages(query) for record in page]


def _expected(sim: HubSimulator) -> list[str]:
    return sorted(repo.id for repo in sim.state.repos() if "gguf" in repo.tags)


@pytest.mark.parametrize("kind", ["error", "drop", "truncate"])
def test_each_transient_fault_is_retried_until_the_page_arrives_whole(
    kind: str, with_client: WithClient, hub_sim: HubSimulator
) -> None:
    hub_sim.faults.script(kind, count=2, path_prefix="/api/models")

    async def work(client: HubClient) -> tuple[list[dict[str, Any]], int]:
        return await _listing(client), client.stats.retries

    records, retries = with_client(work)
    assert sorted(r["id"] for r in records) == _expected(hub_sim)
    assert retries == 2


def test_a_slow_answer_past_the_timeout_is_retried(with_client: WithClient, hub_sim: HubSimulator) -> None:
    # An answer that would take an hour; every other answer, the retry's too, comes at once, well
    # within the timeout even on a busy machine (the test waits the timeout out once).
    hub_sim.faults.script("slow", count=1, path_prefix="/api/models", delay=3600)

    async def work(client: HubClient) -> tuple[list[dict[str, Any]], int]:
        return await _listing(client), client.stats.retries

    records, retries = with_client(work, timeout_seconds=TIMEOUT_SECONDS)
    assert sorted(r["id"] for r in records) == _expected(hub_sim)
    assert retries == 1


def test_retries_give_up_after_max_retries_with_a_clear_error(
    with_client: WithClient, hub_sim: HubSimulator
) -> None:
    hub_sim.faults.script("error", count=10, path_prefix="/api/models", status=503)
    with pytest.raises(HubResponseError, match=r"gave up after 3 attempts: server error 503"):
        with_client(_listing, max_retries=2)
    assert len([r for r in hub_sim.requests if r.path == "/api/models"]) == 3


def test_malformed_records_are_passed_on_for_validation_not_retried(
    with_client: WithClient, hub_sim: HubSimulator
) -> None:
    hub_sim.faults.script("malformed", count=1, path_prefix="/api/models")

    async def work(client: HubClient) -> tuple[list[dict[str, Any]], int]:
        return await _listing(client), client.stats.retries

    records, retries = with_client(work)
    assert retries == 0
    assert len(records) == len(_expected(hub_sim))


def test_not_found_is_not_retried(with_client: WithClient, hub_sim: HubSimulator) -> None:
    with pytest.raises(HubResponseError):
        with_client(lambda c: c.list_tree("nobody/missing-GGUF"))
    assert len([r for r in hub_sim.requests if "/tree/" in r.path]) == 1


def test_errors_make_adaptive_concurrency_back_off(with_client: WithClient, hub_sim: HubSimulator) -> None:
    hub_sim.faults.script("error", count=3, path_prefix="/api/models")

    async def work(client: HubClient) -> int:
        await _listing(client)
        return client.concurrency.limit

    assert with_client(work, max_concurrent_requests=8, adaptive_concurrency=True) < 8
    assert with_client(work, max_concurrent_requests=8, adaptive_concurrency=False) == 8
