"""Injected faults, as a plain HTTP client experiences them."""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx
import pytest

from ggufsync_assets.hubsim import FaultKind, HubSimulator


def _listing(http: httpx.Client, sim: HubSimulator, **params: object) -> httpx.Response:
    return http.get(f"{sim.url}/api/models", params={"limit": 5, **params})


def _drain(response: httpx.Response, into: bytearray) -> None:
    """Read the body chunk by chunk, keeping what arrived before any failure."""
    for chunk in response.iter_raw():
        into += chunk


def test_scripted_error_answers_5xx_then_the_hub_recovers(http: httpx.Client, hub_sim: HubSimulator) -> None:
    hub_sim.faults.script("error", count=2, status=503)
    assert [_listing(http, hub_sim).status_code for _ in range(3)] == [503, 503, 200]


def test_error_responses_still_carry_rate_limit_headers(http: httpx.Client, hub_sim: HubSimulator) -> None:
    hub_sim.faults.script("error")
    response = _listing(http, hub_sim)
    assert response.status_code == 500
    assert "RateLimit" in response.headers


def test_scripted_drop_closes_the_connection_without_an_answer(
    http: httpx.Client, hub_sim: HubSimulator
) -> None:
    hub_sim.faults.script("drop")
    with pytest.raises(httpx.RemoteProtocolError):
        _listing(http, hub_sim)
    assert _listing(http, hub_sim).status_code == 200
    assert hub_sim.requests[0].status is None
    assert hub_sim.requests[0].fault == "drop"


def test_scripted_truncate_announces_the_full_length_then_hangs_up(hub_sim: HubSimulator) -> None:
    hub_sim.faults.script("truncate")
    with httpx.Client() as client, client.stream("GET", f"{hub_sim.url}/api/models") as response:
        announced = int(response.headers["Content-Length"])
        received = bytearray()
        with pytest.raises(httpx.RemoteProtocolError):
            _drain(response, received)
    assert 0 < len(received) < announced
    assert hub_sim.requests[0].response_bytes == len(received)


def test_scripted_slow_answer_arrives_after_the_delay(http: httpx.Client, hub_sim: HubSimulator) -> None:
    hub_sim.faults.script("slow", delay=0.4)
    started = time.monotonic()
    assert _listing(http, hub_sim).status_code == 200
    assert time.monotonic() - started >= 0.4


def test_scripted_malformed_page_breaks_exactly_one_record(http: httpx.Client, hub_sim: HubSimulator) -> None:
    hub_sim.faults.script("malformed", count=2)
    for _ in range(2):
        records = _listing(http, hub_sim, expand=["lastModified", "sha"]).json()
        broken = [r for r in records if "id" not in r or not isinstance(r["lastModified"], str)]
        assert len(broken) == 1
        assert len(records) == 5


def test_malformed_applies_only_to_json_documents(http: httpx.Client, hub_sim: HubSimulator) -> None:
    repo = next(r for r in hub_sim.state if r.file("README.md") and not r.gated)
    hub_sim.faults.script("malformed", path_prefix="")
    readme = http.get(f"{hub_sim.url}/{repo.id}/resolve/main/README.md")
    assert readme.content == repo.file("README.md").content
    tree = http.get(f"{hub_sim.url}/api/models/{repo.id}/tree/main").json()
    assert sum(1 for e in tree if "path" not in e or not isinstance(e["size"], int)) == 1


def test_scripted_faults_only_hit_matching_paths(http: httpx.Client, hub_sim: HubSimulator) -> None:
    repo = hub_sim.state.repos()[0]
    hub_sim.faults.script("error", path_prefix=f"/api/models/{repo.id}")
    assert _listing(http, hub_sim).status_code == 200
    assert http.get(f"{hub_sim.url}/api/models/{repo.id}").status_code == 500


def test_scripted_faults_with_a_query_only_hit_requests_carrying_it(
    http: httpx.Client, hub_sim: HubSimulator
) -> None:
    hub_sim.faults.script("error", path_prefix="/api/models", query={"filter": "gguf"})
    assert http.get(f"{hub_sim.url}/api/models", params={"search": "gguf"}).status_code == 200
    assert http.get(f"{hub_sim.url}/api/models", params={"filter": "gguf", "limit": "5"}).status_code == 500


def test_scripted_faults_can_target_the_cdn(http: httpx.Client, hub_sim: HubSimulator) -> None:
    repo = next(r for r in hub_sim.state if not r.gated and any(f.gguf for f in r.files))
    path = next(f.path for f in repo.files if f.gguf)
    hub_sim.faults.script("error", host="cdn", status=502)
    location = http.head(f"{hub_sim.url}/{repo.id}/resolve/main/{path}").headers["Location"]
    assert http.get(location, headers={"Range": "bytes=0-3"}).status_code == 502


def test_random_faults_follow_the_rate_and_the_seed(
    http: httpx.Client, hub_sim_factory: Callable[..., HubSimulator]
) -> None:
    def faulted(seed: int) -> list[int]:
        sim = hub_sim_factory(fault_rate=0.3, fault_seed=seed, fault_kinds=["error", "malformed"])
        for _ in range(60):
            _listing(http, sim)
        return [index for index, record in enumerate(sim.requests) if record.fault]

    first, again, other = faulted(7), faulted(7), faulted(8)
    assert 6 <= len(first) <= 30
    assert first == again
    assert first != other


def test_random_fault_kinds_are_spread_over_the_configured_kinds(
    http: httpx.Client, hub_sim_factory: Callable[..., HubSimulator]
) -> None:
    sim = hub_sim_factory(fault_rate=1.0, slow_delay=0.01, fault_kinds=["error", "slow", "malformed"])
    for _ in range(30):
        _listing(http, sim)
    assert {record.fault for record in sim.requests} == {"error", "slow", "malformed"}
    assert {r.status for r in sim.requests if r.fault == "error"} <= {500, 502, 503, 504}


def test_random_faults_are_bounded_by_the_limit(
    http: httpx.Client, hub_sim_factory: Callable[..., HubSimulator]
) -> None:
    sim = hub_sim_factory(fault_rate=1.0, fault_kinds=["error"], fault_limit=3)
    statuses = [_listing(http, sim).status_code for _ in range(6)]
    assert statuses == [*(s for s in statuses[:3] if s >= 500), 200, 200, 200]


def test_faults_can_be_switched_on_and_off_at_runtime(http: httpx.Client, hub_sim: HubSimulator) -> None:
    hub_sim.faults.configure(rate=1.0, kinds=[FaultKind.ERROR])
    assert _listing(http, hub_sim).status_code >= 500
    hub_sim.faults.clear()
    assert _listing(http, hub_sim).status_code == 200


def test_request_log_records_each_request_without_the_token(
    http: httpx.Client, hub_sim: HubSimulator
) -> None:
    http.get(
        f"{hub_sim.url}/api/models",
        params={"filter": ["gguf", "conversational"]},
        headers={"Authorization": "Bearer hf_secret"},
    )
    record = hub_sim.requests[-1]
    assert (record.host, record.method, record.path, record.status) == ("api", "GET", "/api/models", 200)
    assert record.query == {"filter": ["gguf", "conversational"]}
    assert record.authorized is True
    assert record.response_bytes > 0
    assert "hf_secret" not in repr(record)
    hub_sim.clear_requests()
    assert hub_sim.requests == []
