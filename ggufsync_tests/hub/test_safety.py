"""Requests go only where allowed; the token goes only to the endpoint and never shows anywhere."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from ggufsync_assets.hub.client import REQUEST_LOGGER, ClientOptions, HubClient, ListingQuery
from ggufsync_assets.hub.errors import HubRefused, HubResponseError
from ggufsync_assets.hub.safety import HUB_FILE_HOSTS, UrlPolicy, refused_file_hosts
from ggufsync_assets.hubsim import HubSimulator, Repo
from ggufsync_assets.settings import Settings
from ggufsync_assets.settings.model import DEFAULT_ENDPOINT
from ggufsync_tests.hub.conftest import TOKEN, ScriptedServer, options_for
from ggufsync_tests.hub_fixtures import HUB_HOST

WithClient = Callable[..., Any]


def _gguf_file(sim: HubSimulator, *, gated: bool) -> tuple[Repo, str]:
    return next(
        (repo, f.path)
        for repo in sim.state.repos()
        if bool(repo.gated) == gated
        for f in repo.files
        if f.path.endswith(".gguf")
    )


def test_token_goes_to_the_endpoint_but_never_to_the_cdn(
    with_client: WithClient, hub_sim: HubSimulator
) -> None:
    repo, path = _gguf_file(hub_sim, gated=False)
    with_client(lambda c: c.read_range(repo.id, path, 0, 63), token=TOKEN)
    api = [r for r in hub_sim.requests if r.host == "api"]
    cdn = [r for r in hub_sim.requests if r.host == "cdn"]
    assert api
    assert all(r.authorized for r in api)
    assert cdn
    assert not any(r.authorized for r in cdn)


def test_anonymous_requests_carry_no_authorization(with_client: WithClient, hub_sim: HubSimulator) -> None:
    repo, path = _gguf_file(hub_sim, gated=False)
    with_client(lambda c: c.read_range(repo.id, path, 0, 63))
    assert not any(r.authorized for r in hub_sim.requests)


def test_gated_files_need_the_token(with_client: WithClient, hub_sim: HubSimulator) -> None:
    repo, path = _gguf_file(hub_sim, gated=True)
    with pytest.raises(HubResponseError, match="401 GatedRepo"):
        with_client(lambda c: c.read_range(repo.id, path, 0, 3))
    assert with_client(lambda c: c.read_range(repo.id, path, 0, 3), token=TOKEN) == b"GGUF"


def test_a_redirect_to_a_host_outside_allowed_domains_is_refused_before_sending(
    with_client: WithClient, hub_sim: HubSimulator
) -> None:
    repo, path = _gguf_file(hub_sim, gated=False)
    with pytest.raises(HubRefused, match=r"refused to contact 127\.0\.0\.2"):
        with_client(lambda c: c.read_range(repo.id, path, 0, 3), allowed_domains=("hub.invalid",))
    assert not [r for r in hub_sim.requests if r.host == "cdn"]


def test_a_link_to_a_host_outside_allowed_domains_is_refused(scripted_server: ScriptedServer) -> None:
    scripted_server.headers = {"Link": '<http://127.0.0.3:9/api/models?cursor=x>; rel="next"'}
    scripted_server.body = b'[{"id": "a/b-GGUF"}]'

    async def main() -> None:
        options = ClientOptions.from_settings(
            Settings(), endpoint=scripted_server.url, allowed_domains=("hf.co",), requests_per_second=100
        )
        async with HubClient(options) as client:
            async for _ in client.iter_model_pages(ListingQuery()):
                pass

    with pytest.raises(HubRefused, match=r"127\.0\.0\.3"):
        asyncio.run(main())
    assert len(scripted_server.hits) == 1


def test_redirect_hops_are_checked_one_by_one(scripted_server: ScriptedServer) -> None:
    scripted_server.status = 302
    scripted_server.headers = {"Location": "http://127.0.0.3:9/elsewhere"}

    async def main() -> None:
        options = ClientOptions.from_settings(
            Settings(), endpoint=scripted_server.url, allowed_domains=("hf.co",), requests_per_second=100
        )
        async with HubClient(options) as client:
            await client.model_info("a/b")

    with pytest.raises(HubRefused):
        asyncio.run(main())


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("https://hub.example.org/api/models", True),
        ("https://cdn-lfs.files.example.net/repos/x", True),
        ("https://cas-bridge.xet.files.example.net/x", True),
        ("https://evilfiles.example.net/x", False),
        ("https://hub.example.org.evil.example/x", False),
        ("ftp://hub.example.org/x", False),
        ("http://127.0.0.1:8000/api/models", True),
    ],
)
def test_allowed_domains_cover_subdomains_but_nothing_else(url: str, allowed: bool) -> None:
    policy = UrlPolicy("http://127.0.0.1:8000", ["hub.example.org", "files.example.net"])
    assert policy.is_allowed(url) is allowed


def test_token_may_only_go_to_the_endpoint_origin() -> None:
    policy = UrlPolicy("https://hub.example.org", ["hub.example.org", "files.example.net"])
    assert policy.may_carry_token("https://hub.example.org/api/models")
    assert not policy.may_carry_token("https://cdn-lfs.files.example.net/x")
    assert not policy.may_carry_token("http://hub.example.org/api/models")


def test_token_never_appears_in_reprs_errors_or_logs(
    with_client: WithClient, hub_sim: HubSimulator, caplog: pytest.LogCaptureFixture
) -> None:
    hub_sim.faults.script("error", count=10, path_prefix="/api/models")
    caplog.set_level(logging.DEBUG, logger="ggufsync")

    async def work(client: HubClient) -> None:
        assert TOKEN not in repr(client)
        assert TOKEN not in repr(client.options)
        await client.model_info("some/repo")

    with pytest.raises(HubResponseError) as caught:
        with_client(work, token=TOKEN, max_retries=1)
    assert TOKEN not in str(caught.value)
    assert caplog.records
    assert TOKEN not in caplog.text


@pytest.fixture
def request_lines(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """Every Hub request line the client logs (its logger does not propagate: the capture is attached
    to it)."""
    logger = logging.getLogger(REQUEST_LOGGER)
    caplog.set_level(logging.DEBUG, logger=REQUEST_LOGGER)
    logger.addHandler(caplog.handler)
    try:
        yield caplog
    finally:
        logger.removeHandler(caplog.handler)


@pytest.mark.parametrize("mask", [True, False])
def test_signed_cdn_query_strings_are_masked_in_logs_when_asked(
    mask: bool, with_client: WithClient, hub_sim: HubSimulator, request_lines: pytest.LogCaptureFixture
) -> None:
    repo, path = _gguf_file(hub_sim, gated=False)
    with_client(lambda c: c.read_range(repo.id, path, 0, 3), mask_sensitive_data=mask)
    cdn_lines = [line for line in request_lines.text.splitlines() if "127.0.0.2" in line]
    assert cdn_lines
    assert all(("?****" in line) is mask for line in cdn_lines)
    assert all(("response-content-disposition" in line) is not mask for line in cdn_lines)


def test_the_endpoint_host_is_allowed_without_being_listed(hub_sim: HubSimulator) -> None:
    async def main() -> dict[str, Any]:
        async with HubClient(options_for(hub_sim.url, allowed_domains=("hf.co",))) as client:
            return await client.model_info(hub_sim.state.repos()[0].id)

    assert asyncio.run(main())["id"] == hub_sim.state.repos()[0].id


@pytest.mark.parametrize(("detailed", "level"), [(True, logging.INFO), (False, logging.DEBUG)])
def test_detailed_logging_raises_request_lines_to_info(
    detailed: bool,
    level: int,
    with_client: WithClient,
    hub_sim: HubSimulator,
    request_lines: pytest.LogCaptureFixture,
) -> None:
    with_client(lambda c: c.model_info(hub_sim.state.repos()[0].id), detailed_logging=detailed)
    assert {r.levelno for r in request_lines.records if r.name == REQUEST_LOGGER} == {level}


def test_the_default_allowed_domains_cover_the_hubs_file_hosts() -> None:
    assert refused_file_hosts(DEFAULT_ENDPOINT, Settings().security.allowed_domains) == []


def test_allowed_domains_without_hf_co_refuse_every_hub_file_host() -> None:
    refused = refused_file_hosts(DEFAULT_ENDPOINT, [HUB_HOST, f"api.{HUB_HOST}"])
    assert refused == list(HUB_FILE_HOSTS)


def test_another_endpoints_file_hosts_are_not_guessed() -> None:
    assert refused_file_hosts("https://hub.example.org", ["hub.example.org"]) == []
