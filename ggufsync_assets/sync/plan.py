"""A dry run: list the window like a sync would, write nothing, and say what the sync would cost."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from ggufsync_assets.hub.client import HubClient
from ggufsync_assets.settings import Settings, SyncMode
from ggufsync_assets.sync.discovery import discover
from ggufsync_assets.sync.window import Window


@dataclass(frozen=True)
class Plan:
    mode: SyncMode
    reason: str
    window: Window
    repos_listed: int
    new: list[str]
    changed: list[str]
    unchanged: int
    rejected: int
    listing_requests: int
    refresh_requests: int
    per_second: float = 1.0
    per_hour: int = 3600

    @property
    def seconds_at_configured_rates(self) -> float:
        """As the pacer's buckets let requests through: one every 1/requests_per_second seconds, and
        the hourly bucket's requests_per_hour at once, then the rest at its rate."""
        requests = self.listing_requests + self.refresh_requests
        beyond_the_hour = max(0, requests - self.per_hour) * 3600 / self.per_hour
        return max(requests / self.per_second, beyond_the_hour)


RANGE_READS_PER_HEADER = 1
"""Once a sync has read a few headers, its first read of the next covers most (sync/headers.py)."""


def requests_per_repo(settings: Settings) -> int:
    """Detail requests a refreshed repo costs: its tree (one page for nearly every repo), plus the
    Range reads of one header (for gguf_headers.read or file verification; with experimental
    features, one per logical file, which a plan cannot count before the trees); a Range request
    that lands on a CDN is two requests (redirect and download)."""
    reads_header = settings.gguf_headers.read or settings.validation.enable_file_verification
    return 1 + 2 * RANGE_READS_PER_HEADER * reads_header


async def plan_sync(
    client: HubClient,
    *,
    settings: Settings,
    window: Window,
    known_shas: dict[str, str | None],
    known_in_window: Sequence[tuple[str, str | None, list[str]]] = (),
    mode: SyncMode,
    reason: str,
    now: datetime | None = None,
) -> Plan:
    """What a sync of `window` would list and refresh, from the catalogue's repos and their shas
    (`known_shas`) and those it holds in the window (`known_in_window`, as the listing step reads them)."""
    found: dict[str, str | None] = {}
    rejected = 0
    async with contextlib.aclosing(discover(client, settings, window, known_in_window, now=now)) as pages:
        async for page in pages:
            rejected += len(page.rejects)
            found.update((row["repo_id"], row["sha"]) for row in page.rows)
    new = sorted(r for r in found if r not in known_shas)
    changed = sorted(r for r, sha in found.items() if r in known_shas and known_shas[r] != sha)
    return Plan(
        mode=mode,
        reason=reason,
        window=window,
        repos_listed=len(found),
        new=new,
        changed=changed,
        unchanged=len(found) - len(new) - len(changed),
        rejected=rejected,
        listing_requests=client.stats.requests,
        refresh_requests=(len(new) + len(changed)) * requests_per_repo(settings),
        per_second=settings.rate_limiting.requests_per_second,
        per_hour=settings.rate_limiting.requests_per_hour,
    )
