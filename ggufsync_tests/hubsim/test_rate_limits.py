"""Fixed-window rate limits per client, separately for the API and for file resolution."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
from huggingface_hub.utils import parse_ratelimit_headers

from ggufsync_assets.hubsim import HubSimulator, RateLimiter, RateLimitPolicy


def _api(http: httpx.Client, sim: HubSimulator, token: str | None = None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return http.get(f"{sim.url}/api/models", params={"limit": 1}, headers=headers)


@pytest.mark.parametrize(
    "path", ["/api/models", "/api/models/nobody/nothing", "/api/models?limit=x", "/not/a/route/at/all"]
)
def test_every_api_response_carries_the_rate_limit_headers(
    http: httpx.Client, hub_sim: HubSimulator, path: str
) -> None:
    response = http.get(f"{hub_sim.url}{path}")
    assert response.headers["RateLimit"] == '"api";r=499;t=300'
    assert response.headers["RateLimit-Policy"] == '"fixed window";"api";q=500;w=300'


def test_resolve_and_cdn_count_in_the_resolvers_bucket(http: httpx.Client, hub_sim: HubSimulator) -> None:
    repo = next(r for r in hub_sim.state if not r.gated and any(f.gguf for f in r.files))
    path = next(f.path for f in repo.files if f.gguf)
    redirect = http.head(f"{hub_sim.url}/{repo.id}/resolve/main/{path}")
    cdn = http.head(redirect.headers["Location"])
    assert redirect.headers["RateLimit"].startswith('"resolvers";r=2999;')
    assert cdn.headers["RateLimit"].startswith('"resolvers";r=2998;')
    assert cdn.headers["RateLimit-Policy"] == '"fixed window";"resolvers";q=3000;w=300'
    assert _api(http, hub_sim).headers["RateLimit"].startswith('"api";r=499;')


def test_remaining_counts_down_with_each_request(
    http: httpx.Client, hub_sim_factory: Callable[..., HubSimulator]
) -> None:
    sim = hub_sim_factory(api_quota=5)
    remaining = [parse_ratelimit_headers(_api(http, sim).headers).remaining for _ in range(5)]
    assert remaining == [4, 3, 2, 1, 0]


def test_over_quota_is_a_429_with_retry_after_and_headers(
    http: httpx.Client, hub_sim_factory: Callable[..., HubSimulator]
) -> None:
    sim = hub_sim_factory(api_quota=2, api_window=120)
    _api(http, sim), _api(http, sim)
    response = _api(http, sim)
    assert response.status_code == 429
    assert "rate limit" in response.json()["error"]
    assert 0 < int(response.headers["Retry-After"]) <= 120
    info = parse_ratelimit_headers(response.headers)
    assert (info.resource_type, info.remaining, info.limit, info.window_seconds) == ("api", 0, 2, 120)


def test_retry_after_can_be_turned_off(
    http: httpx.Client, hub_sim_factory: Callable[..., HubSimulator]
) -> None:
    sim = hub_sim_factory(api_quota=1, retry_after=False)
    _api(http, sim)
    response = _api(http, sim)
    assert response.status_code == 429
    assert "Retry-After" not in response.headers
    assert "RateLimit" in response.headers


def test_quota_comes_back_when_the_window_ends() -> None:
    # The limiter's clock is given, so the window ends when the test says, however slow the machine.
    now = [1000.0]
    limiter = RateLimiter({"api": RateLimitPolicy(quota=1, window=60)}, clock=lambda: now[0])
    assert limiter.hit("api", "client").allowed
    now[0] += 59.5
    assert not limiter.hit("api", "client").allowed
    now[0] += 0.5
    decision = limiter.hit("api", "client")
    assert decision.allowed
    assert ("RateLimit", '"api";r=0;t=60') in decision.headers(retry_after=True)


def test_clients_are_counted_per_token_and_anonymous_per_address(
    http: httpx.Client, hub_sim_factory: Callable[..., HubSimulator]
) -> None:
    sim = hub_sim_factory(api_quota=1)
    assert _api(http, sim).status_code == 200
    assert _api(http, sim).status_code == 429
    assert _api(http, sim, token="hf_alice").status_code == 200
    assert _api(http, sim, token="hf_bob").status_code == 200
    assert _api(http, sim, token="hf_alice").status_code == 429


def test_api_exhaustion_leaves_downloads_alone(
    http: httpx.Client, hub_sim_factory: Callable[..., HubSimulator]
) -> None:
    sim = hub_sim_factory(api_quota=1)
    repo = next(r for r in sim.state if r.file("README.md") and not r.gated)
    _api(http, sim), _api(http, sim)
    assert http.get(f"{sim.url}/{repo.id}/resolve/main/README.md").status_code == 200


def test_rate_limits_can_be_reset_and_reconfigured_at_runtime(
    http: httpx.Client, hub_sim_factory: Callable[..., HubSimulator]
) -> None:
    sim = hub_sim_factory(api_quota=1)
    _api(http, sim)
    assert _api(http, sim).status_code == 429
    sim.rate_limits.reset()
    assert _api(http, sim).status_code == 200
    sim.rate_limits.configure("api", RateLimitPolicy(quota=10, window=60))
    assert _api(http, sim).headers["RateLimit-Policy"] == '"fixed window";"api";q=10;w=60'
