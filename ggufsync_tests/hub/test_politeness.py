"""The client keeps to our limits and to the budget the Hub advertises, and waits out a 429."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from ggufsync_assets.hub.client import HubClient, ListingQuery
from ggufsync_assets.hub.concurrency import AdaptiveConcurrency
from ggufsync_assets.hubsim import HubSimulator
from ggufsync_tests.hub.conftest import options_for

WithClient = Callable[..., Any]
HUNG = 60
"""Seconds after which waiting for what should happen at once counts as a hung test."""


def _repo_ids(sim: HubSimulator, count: int) -> list[str]:
    repos = sim.state.repos()
    return [repos[i % len(repos)].id for i in range(count)]


async def _infos(client: HubClient, repo_ids: list[str]) -> int:
    await asyncio.gather(*(client.model_info(repo_id) for repo_id in repo_ids))
    return client.stats.rate_limited


def test_steady_state_spreads_the_advertised_budget_and_never_hits_429(
    hub_sim_factory: Callable[..., HubSimulator], with_client_factory: Callable[..., Any]
) -> None:
    sim = hub_sim_factory(api_quota=12, api_window=2)
    rate_limited = with_client_factory(sim)(
        lambda c: _infos(c, _repo_ids(sim, 30)), max_concurrent_requests=4
    )
    statuses = [r.status for r in sim.requests]
    assert rate_limited == 0
    assert 429 not in statuses
    assert statuses.count(200) == 30


@pytest.mark.parametrize("declared", [10, 30], ids=["within-the-budget", "beyond-the-budget"])
def test_declared_work_never_hits_429_whether_or_not_the_budget_covers_it(
    declared: int, hub_sim_factory: Callable[..., HubSimulator], with_client_factory: Callable[..., Any]
) -> None:
    sim = hub_sim_factory(api_quota=12, api_window=2)

    async def work(client: HubClient) -> int:
        client.expect_api_requests(declared)
        return await _infos(client, _repo_ids(sim, declared))

    assert with_client_factory(sim)(work, max_concurrent_requests=4) == 0
    assert [r.status for r in sim.requests].count(200) == declared


def test_listing_pages_the_budget_covers_are_sent_without_waiting(
    hub_sim_factory: Callable[..., HubSimulator], with_client_factory: Callable[..., Any]
) -> None:
    sim = hub_sim_factory(api_quota=100, api_window=300)
    waits: list[float] = []

    async def listing(client: HubClient) -> int:
        pacer_delay = client.pacer.delay

        def recorded(bucket: str) -> float:
            waits.append(pacer_delay(bucket))
            return waits[-1]

        client.pacer.delay = recorded  # type: ignore[method-assign]
        query = ListingQuery(filter=("gguf",), page_size=5)
        return len([page async for page in client.iter_model_pages(query)])

    pages = with_client_factory(sim)(listing)
    assert pages >= 5
    assert len(waits) >= pages
    assert max(waits) == 0.0


def _spend_quota(sim: HubSimulator) -> None:
    with httpx.Client() as plain:
        while plain.get(f"{sim.url}/api/models", params={"limit": 1}).status_code != 429:
            pass
    sim.clear_requests()


@pytest.mark.parametrize("retry_after", [True, False])
def test_a_429_pauses_every_request_until_the_window_resets(
    retry_after: bool, hub_sim_factory: Callable[..., HubSimulator], with_client_factory: Callable[..., Any]
) -> None:
    # The window must outlast spending the quota and starting the client, on a busy machine too.
    sim = hub_sim_factory(api_quota=5, api_window=5, retry_after=retry_after)
    _spend_quota(sim)
    rate_limited = with_client_factory(sim)(lambda c: _infos(c, _repo_ids(sim, 3)), max_concurrent_requests=3)
    records = sim.requests
    limited = [r for r in records if r.status == 429]
    served = [r for r in records if r.status == 200]
    assert rate_limited == len(limited) >= 1
    assert len(served) == 3
    # nothing was sent in the pause: every success came after the last 429 plus the reset wait
    assert min(r.time for r in served) > max(r.time for r in limited)


class _Sending(httpx.AsyncBaseTransport):
    """The client's transport, noting when each request leaves the client.

    The simulator's request log cannot say: it records a request once its answer is written, and on
    a busy machine the thread answering one request may be held up longer than the next one's."""

    def __init__(self) -> None:
        self.sent: list[float] = []
        self._transport = httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.sent.append(time.monotonic())
        return await self._transport.handle_async_request(request)

    async def aclose(self) -> None:
        await self._transport.aclose()


def test_requests_per_second_spaces_requests(hub_sim: HubSimulator) -> None:
    sending = _Sending()

    async def main() -> None:
        options = options_for(hub_sim.url, requests_per_second=10.0)
        async with HubClient(options, transport=sending) as client:
            await _infos(client, _repo_ids(hub_sim, 6))

    asyncio.run(main())
    assert len(sending.sent) == 6
    assert sending.sent[-1] - sending.sent[0] >= 0.4


def test_requests_per_hour_holds_requests_beyond_the_budget(hub_sim: HubSimulator) -> None:
    async def main() -> bool:
        async with HubClient(options_for(hub_sim.url, requests_per_hour=3)) as client:
            work = asyncio.ensure_future(_infos(client, _repo_ids(hub_sim, 4)))
            deadline = time.monotonic() + HUNG
            while len(hub_sim.requests) < 3 and time.monotonic() < deadline:
                await asyncio.sleep(0.01)
            await asyncio.sleep(0.2)  # room for a fourth request, were one let through
            held = not work.done()
            work.cancel()
            await asyncio.gather(work, return_exceptions=True)
            return held

    assert asyncio.run(main()), "the fourth request was not held"
    assert len(hub_sim.requests) == 3


def test_in_flight_requests_never_exceed_max_concurrent_requests(
    with_client: WithClient, hub_sim: HubSimulator
) -> None:
    hub_sim.faults.script("slow", count=12, path_prefix="/api/models", delay=0.3)

    async def work(client: HubClient) -> int:
        await _infos(client, _repo_ids(hub_sim, 12))
        return client.concurrency.peak_in_flight

    assert with_client(work, max_concurrent_requests=3, adaptive_concurrency=False) == 3


def test_connections_opened_never_exceed_max_concurrent_requests(
    with_client: WithClient, hub_sim: HubSimulator
) -> None:
    hub_sim.faults.script("slow", count=12, path_prefix="/api/models", delay=0.1)

    async def work(client: HubClient) -> int:
        await _infos(client, _repo_ids(hub_sim, 24))
        return client.connections_opened

    assert with_client(work, max_concurrent_requests=3, adaptive_concurrency=False) == 3


def test_requests_one_after_another_share_one_connection(
    with_client: WithClient, hub_sim: HubSimulator
) -> None:
    async def work(client: HubClient) -> int:
        for repo_id in _repo_ids(hub_sim, 5):
            await client.model_info(repo_id)
        return client.connections_opened

    assert with_client(work) == 1


def test_adaptive_limit_halves_on_trouble_and_climbs_back_on_health() -> None:
    limiter = AdaptiveConcurrency(8, adaptive=True)
    limiter.record(healthy=False, seconds=0.1)
    assert limiter.limit == 4
    for _ in range(4):
        limiter.record(healthy=True, seconds=0.1)
    assert limiter.limit == 5


def test_slow_answers_count_as_trouble() -> None:
    limiter = AdaptiveConcurrency(8, adaptive=True)
    limiter.record(healthy=True, seconds=30.0)
    assert limiter.limit == 4


def _reports(sim: HubSimulator, interval: float) -> list[Any]:
    reports: list[Any] = []

    async def main() -> None:
        async with HubClient(
            options_for(sim.url, progress_interval_seconds=interval), progress=reports.append
        ) as client:
            await _infos(client, _repo_ids(sim, 3))

    asyncio.run(main())
    return reports


def test_progress_is_reported_at_every_interval_with_request_counts(hub_sim: HubSimulator) -> None:
    reports = _reports(hub_sim, interval=0)
    assert len(reports) >= 3
    assert reports[-1].requests == 3


def test_progress_waits_for_the_interval_but_always_reports_at_the_end(hub_sim: HubSimulator) -> None:
    reports = _reports(hub_sim, interval=3600)
    assert [r.requests for r in reports] == [3]
