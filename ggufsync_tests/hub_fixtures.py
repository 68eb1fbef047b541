"""Fixtures that run the Hub simulator on loopback for the duration of one test."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import pytest
from huggingface_hub import HfApi

from ggufsync_assets.hubsim import HubSimulator
from ggufsync_assets.settings.model import DEFAULT_ENDPOINT

HUB_NOW = datetime(2025, 10, 1, 12, 0, tzinfo=UTC)
"""The fixed 'now' of simulated Hubs in tests, so that every run sees the same repos."""

_GGUF_FILE = re.compile(r".+\.gguf(?:-split-[a-z]|\.part[1-9][0-9]*of[1-9][0-9]*)?", re.IGNORECASE)


def is_gguf_file(path: str) -> bool:
    """Ground truth, written apart from the code under test: a .gguf file, or a part of one cut with
    `split` (TheBloke's `-split-a`, mradermacher's `.part1of2`)."""
    return _GGUF_FILE.fullmatch(path.rsplit("/", 1)[-1]) is not None


HUB_HOST = urlsplit(DEFAULT_ENDPOINT).hostname or ""
"""The public Hub's host, for settings that name it; no test sends it a request."""

HUB_SEED = 1234
SMALL_HUB = 40
"""Big enough to hold one of every edge case the generator plants (gated, split, untagged, ...)."""


@pytest.fixture
def hub_sim_factory() -> Iterator[Callable[..., HubSimulator]]:
    """Start simulators with custom options (`HubSimulator` keywords); all are stopped afterwards."""
    started: list[HubSimulator] = []

    def start(**options: Any) -> HubSimulator:
        options.setdefault("repos", SMALL_HUB)
        options.setdefault("seed", HUB_SEED)
        options.setdefault("now", HUB_NOW)
        simulator = HubSimulator(**options).start()
        started.append(simulator)
        return simulator

    yield start
    for simulator in started:
        simulator.stop()


@pytest.fixture
def hub_sim(hub_sim_factory: Callable[..., HubSimulator]) -> HubSimulator:
    """A running simulator with a small deterministic set of repos."""
    return hub_sim_factory()


@pytest.fixture
def hub_api(hub_sim: HubSimulator) -> HfApi:
    """huggingface_hub's client, pointed at `hub_sim`."""
    return HfApi(endpoint=hub_sim.url)
