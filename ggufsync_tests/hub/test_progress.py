"""What a step's progress line tells whoever watches a sync."""

from __future__ import annotations

from ggufsync_assets.hub.progress import HubStats, ProgressTracker


def test_a_step_that_knows_its_repos_says_how_many_are_done_and_the_time_left() -> None:
    stats = HubStats(
        requests=240, retries=2, rate_limited=1, repos_done=100, repos_total=300, elapsed_seconds=20.0
    )
    line = stats.describe("files")
    assert line == (
        "files: 100/300 repos, 240 requests (12.0/s), 0 records, 2 retries, 1 rate-limited, 20 s, "
        "about 40 s left"
    )


def test_a_step_that_cannot_know_its_total_says_what_it_has_done() -> None:
    line = HubStats(requests=8, records=726, elapsed_seconds=2.0).describe("listing")
    assert line == "listing: 8 requests (4.0/s), 726 records, 0 retries, 0 rate-limited, 2 s"


def test_the_tracker_reports_at_its_interval_and_counts_every_field() -> None:
    now = [0.0]
    reports: list[HubStats] = []
    tracker = ProgressTracker(10.0, reports.append, clock=lambda: now[0])
    tracker.add(repos_total=3)
    tracker.add(repos_done=1, requests=2)
    now[0] = 11.0
    tracker.add(repos_done=1)
    [report] = reports
    assert (report.repos_done, report.repos_total, report.requests) == (2, 3, 2)
