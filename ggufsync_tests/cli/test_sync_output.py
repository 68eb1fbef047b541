"""How `ggufsync sync` words its figures for a person."""

from __future__ import annotations

import pytest

from ggufsync_assets.cli.sync_cmd import duration


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [(0.25, "0.2 s"), (29.42, "29.4 s"), (285.2, "4 min 45 s"), (7500, "2 h 05 min")],
)
def test_a_duration_reads_in_seconds_minutes_or_hours(seconds: float, shown: str) -> None:
    assert duration(seconds) == shown
