"""A catalogue belongs to the Hub it was synced from."""

from __future__ import annotations

from pathlib import Path

import pytest

from ggufsync_assets.sync.ownership import LOOPBACK, hub_identity, refusal

CATALOGUE = Path("data/catalogue.duckdb")


@pytest.mark.parametrize(
    "endpoint",
    ["http://127.0.0.1:41583", "http://127.9.9.9", "http://localhost:8080/", "http://[::1]:9000"],
)
def test_every_simulator_on_loopback_is_one_hub_whatever_its_port(endpoint: str) -> None:
    assert hub_identity(endpoint) == LOOPBACK


def test_a_hub_on_the_network_is_its_host() -> None:
    assert hub_identity("https://Hub.Invalid/") == "hub.invalid"


def test_a_catalogue_of_no_hub_yet_or_of_this_hub_is_accepted() -> None:
    assert refusal(None, "https://hub.invalid", CATALOGUE) is None
    assert refusal("hub.invalid", "https://hub.invalid", CATALOGUE) is None
    assert refusal(LOOPBACK, "http://127.0.0.1:5555", CATALOGUE) is None


def test_a_catalogue_of_another_hub_is_refused_with_what_to_change() -> None:
    message = refusal(LOOPBACK, "https://hub.invalid", CATALOGUE) or ""
    assert "data/catalogue.duckdb was synced from a Hub simulator on loopback" in message
    assert "configured for hub.invalid" in message
    assert "storage.catalogue_path" in message
