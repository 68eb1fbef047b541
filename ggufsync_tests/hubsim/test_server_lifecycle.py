"""Starting and stopping: loopback only, two hosts, nothing left running afterwards."""

from __future__ import annotations

import threading
import time

import httpx
import pytest

from ggufsync_assets.hubsim import HubSimulator

HUNG = 60
"""Seconds after which a thread that should have ended counts as hung (it ends at once)."""


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.10", "::1", "localhost"])
def test_refuses_to_bind_outside_127_0_0_0_8(host: str) -> None:
    with pytest.raises(ValueError, match=r"127\.0\.0\.0/8"):
        HubSimulator(repos=1, host=host)
    with pytest.raises(ValueError, match=r"127\.0\.0\.0/8"):
        HubSimulator(repos=1, cdn_host=host)


def test_api_and_cdn_listen_on_different_loopback_hosts(hub_sim: HubSimulator) -> None:
    assert httpx.URL(hub_sim.url).host == "127.0.0.1"
    assert httpx.URL(hub_sim.cdn_url).host == "127.0.0.2"


def test_urls_are_unavailable_before_start() -> None:
    with pytest.raises(RuntimeError, match="not running"):
        _ = HubSimulator(repos=1).url


def test_stop_closes_keep_alive_connections_and_joins_every_thread() -> None:
    with httpx.Client() as client:
        with HubSimulator(repos=5) as sim:
            url = sim.url
            client.get(f"{url}/api/models")
            assert any(t.name.startswith("hubsim") for t in threading.enumerate())
        assert not any(t.name.startswith("hubsim") for t in threading.enumerate())
        with pytest.raises(httpx.TransportError):
            client.get(f"{url}/api/models")


def test_a_slow_fault_does_not_hold_up_stopping(hub_sim: HubSimulator) -> None:
    # An hour's delay: the answer ends only if stop() cuts it short.
    hub_sim.faults.script("slow", delay=3600)
    running = set(threading.enumerate())
    outcome: list[object] = []

    def slow_request() -> None:
        try:
            outcome.append(httpx.get(f"{hub_sim.url}/api/models", timeout=None).status_code)
        except httpx.TransportError as exc:
            outcome.append(exc)

    client = threading.Thread(target=slow_request, daemon=True)
    client.start()
    deadline = time.monotonic() + HUNG
    while hub_sim.faults.injected == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert hub_sim.faults.injected == 1, "the request never reached the simulator"

    hub_sim.stop()

    client.join(timeout=HUNG)
    assert not client.is_alive(), "the client still waits for its answer"
    assert len(outcome) == 1, "the client got an answer or a closed connection"
    left = [t.name for t in set(threading.enumerate()) - running if t.name.startswith("hubsim")]
    assert left == [], "a simulator thread still serves the slow answer"
