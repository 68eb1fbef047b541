"""What a step's progress line tells whoever watches a sync."""

from __future__ import annotations

from ggufsync_assets.hub.progress import LIVE_SECONDS, HubStats, ProgressTracker


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


def test_a_live_watcher_hears_every_few_seconds_and_the_run_log_at_its_own_interval() -> None:
    now = [0.0]
    logged: list[HubStats] = []
    live: list[HubStats] = []
    pace = int(LIVE_SECONDS)
    tracker = ProgressTracker(10.0 * pace, logged.append, live=live.append, clock=lambda: now[0])
    for second in range(1, 6 * pace + 1):  # one request a second
        now[0] = float(second)
        tracker.add(requests=1)
    assert [s.requests for s in live] == [n * pace for n in range(1, 7)]
    assert logged == []


def test_the_final_report_reaches_both_watchers() -> None:
    logged: list[HubStats] = []
    live: list[HubStats] = []
    tracker = ProgressTracker(60.0, logged.append, live=live.append, clock=lambda: 1.0)
    tracker.add(requests=3)
    tracker.report()
    assert [s.requests for s in logged] == [3]
    assert [s.requests for s in live] == [3]
