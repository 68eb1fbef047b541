"""A Hub client pointed at the simulator, fast enough for tests (high local limits, short backoff)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Iterator
from typing import Any, TypeVar

import pytest

from ggufsync_assets.hub.client import ClientOptions, HubClient
from ggufsync_assets.hubsim import HubSimulator
from ggufsync_assets.settings import Settings
from ggufsync_tests.loopback import LoopbackHandler, LoopbackServer, serving

T = TypeVar("T")
CDN_HOST = "127.0.0.2"
TOKEN = "hf_testtoken0123456789abcdefgh"


def options_for(endpoint: str, **overrides: Any) -> ClientOptions:
    values: dict[str, Any] = {
        "endpoint": endpoint,
        "requests_per_second": 1000.0,
        "requests_per_hour": 1_000_000,
        "max_concurrent_requests": 8,
        "max_retries": 3,
        "allowed_domains": (CDN_HOST,),
        "backoff_base_seconds": 0.01,
        "backoff_max_seconds": 0.2,
        "timeout_seconds": 30.0,
    }
    values.update(overrides)
    return ClientOptions.from_settings(Settings(), **values)


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coroutine)


def client_runner(sim: HubSimulator, **defaults: Any) -> Callable[..., Any]:
    """`call(work, **overrides)` runs `work(client)` with a fresh client against `sim`."""

    def call(work: Callable[[HubClient], Coroutine[Any, Any, T]], **overrides: Any) -> T:
        async def main() -> T:
            async with HubClient(options_for(sim.url, **{**defaults, **overrides})) as client:
                return await work(client)

        return run(main())

    return call


GENEROUS_QUOTA = 100_000
"""Enough that the client's spreading of the advertised budget never slows a test down."""


@pytest.fixture
def hub_sim(hub_sim_factory: Callable[..., HubSimulator]) -> HubSimulator:
    return hub_sim_factory(api_quota=GENEROUS_QUOTA)


@pytest.fixture
def with_client(hub_sim: HubSimulator) -> Callable[..., Any]:
    return client_runner(hub_sim)


@pytest.fixture
def with_client_factory() -> Callable[..., Callable[..., Any]]:
    return client_runner


class _Scripted(LoopbackHandler):
    """Answers every GET with the status and headers the test put on the server."""

    def do_GET(self) -> None:
        server: ScriptedServer = self.server  # type: ignore[assignment]
        server.hits.append(self.path)
        self.answer(server.status, server.body, server.headers)


class ScriptedServer(LoopbackServer):
    def __init__(self) -> None:
        super().__init__(_Scripted)
        self.status = 200
        self.headers: dict[str, str] = {}
        self.body = b"[]"
        self.hits: list[str] = []


@pytest.fixture
def scripted_server() -> Iterator[ScriptedServer]:
    """A loopback server that answers as told: a Hub that sends clients somewhere they must not go."""
    with serving(ScriptedServer()) as server:
        yield server
