"""A dry run's time estimate follows the pacer's buckets, not a flat hourly rate."""

from __future__ import annotations

import pytest

from ggufsync_assets.settings import SyncMode
from ggufsync_assets.sync.plan import Plan
from ggufsync_assets.sync.window import Window


def plan(requests: int, per_second: float, per_hour: int) -> Plan:
    return Plan(
        mode=SyncMode.FULL,
        reason="test",
        window=Window(None, None),
        repos_listed=0,
        new=[],
        changed=[],
        unchanged=0,
        rejected=0,
        listing_requests=8,
        refresh_requests=requests - 8,
        per_second=per_second,
        per_hour=per_hour,
    )


@pytest.mark.parametrize(
    ("requests", "per_second", "per_hour", "seconds"),
    [
        (500, 50, 800, 10),  # within the hourly bucket: the per-second rate alone
        (500, 0.5, 800, 1000),
        (896, 50, 800, 96 * 4.5),  # 800 at once, then one every 4.5 s
    ],
)
def test_the_hourly_bucket_passes_its_quota_at_once_then_its_rate(
    requests: int, per_second: float, per_hour: int, seconds: float
) -> None:
    assert plan(requests, per_second, per_hour).seconds_at_configured_rates == pytest.approx(seconds)
