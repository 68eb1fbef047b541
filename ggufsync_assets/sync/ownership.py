"""Which Hub a catalogue belongs to, so that no sync writes one Hub's repos into another's catalogue.

The demo's catalogue (built from the simulator) and a real one share the default path: a schedule
left on, or a run launched from the UI with the shipped config, would fill the demo's with the real
Hub's repos, and a full pass would tombstone every simulated one. Each run records its Hub in
sync_runs.hub; a sync refuses a catalogue last synced from another Hub, and the schedules skip it.
A Hub is its endpoint's host; every simulator on loopback is one Hub (its port changes each start).
"""

from __future__ import annotations

import ipaddress
from pathlib import Path
from urllib.parse import urlsplit

import duckdb

from ggufsync_assets.catalogue.store import CatalogueStore, catalogue_hub

LOOPBACK = "loopback"


def hub_identity(endpoint: str) -> str:
    host = (urlsplit(endpoint).hostname or endpoint).lower()
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = host == "localhost"
    return LOOPBACK if loopback else host


def _described(hub: str) -> str:
    return "a Hub simulator on loopback" if hub == LOOPBACK else hub


def refusal(catalogue_hub: str | None, endpoint: str, catalogue: Path) -> str | None:
    """Why a sync configured for `endpoint` must not write into a catalogue of `catalogue_hub`."""
    ours = hub_identity(endpoint)
    if catalogue_hub is None or catalogue_hub == ours:
        return None
    return (
        f"the catalogue {catalogue} was synced from {_described(catalogue_hub)}, and this sync is "
        f"configured for {_described(ours)} (hub.endpoint {endpoint}): set storage.catalogue_path to "
        "another file, or hub.endpoint to the catalogue's Hub"
    )


def published_refusal(store: CatalogueStore, endpoint: str) -> str | None:
    """`refusal` for the published catalogue, whose last successful run says its Hub."""
    if not store.published.exists():
        return None
    try:
        with store.reader() as con:
            hub = catalogue_hub(con)
    except (duckdb.Error, FileNotFoundError):  # unreadable or gone: the sync itself will say so
        return None
    return refusal(hub, endpoint, store.published)
