"""`ggufsync sync`: run the Dagster sync job in this process, against the instance in DAGSTER_HOME.

The same assets, checks and run records as a run launched from the Dagster UI, so CLI runs show
up there too. `--dry-run` lists the window, prints the plan and writes nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from logging.handlers import RotatingFileHandler
from pathlib import Path
from typing import Any

import dagster as dg

from ggufsync_assets.alerts import Notifier
from ggufsync_assets.catalogue.store import CatalogueStore, repos_modified_since
from ggufsync_assets.cli.common import EXIT_OK, add_catalogue_option, add_settings_options, setting_flags
from ggufsync_assets.defs.history import sync_history
from ggufsync_assets.defs.instance import instance
from ggufsync_assets.defs.jobs import execute_sync_job, sync_tags
from ggufsync_assets.defs.partitions import window_of
from ggufsync_assets.defs.resources import (
    LIVE_LOGGER,
    LOG_BYTES,
    LOG_FILES,
    LOGGER,
    SyncResource,
    configure_logging,
)
from ggufsync_assets.defs.sensors import alert_failed_run
from ggufsync_assets.defs.tags import ALERTED_BY_TAG, RANGE_END_TAG, RANGE_START_TAG
from ggufsync_assets.hub.client import ClientOptions, HubClient
from ggufsync_assets.hub.progress import LIVE_SECONDS, HubStats
from ggufsync_assets.settings import Settings, SyncMode, load_settings
from ggufsync_assets.settings.layers import config_dir
from ggufsync_assets.sync.modes import decide_mode
from ggufsync_assets.sync.ownership import published_refusal
from ggufsync_assets.sync.plan import Plan, plan_sync

EXIT_SYNC_FAILED = 1
LOG_FILE = "logs/sync.log"
LISTED_REPOS = 20
"""A dry run names this many of the repos it would refresh, then says how many more."""
TOLD_LOGGER = "ggufsync.cli"
"""What the command tells the user, kept in logs/sync.log whatever log_level says (see _logging)."""
PRINTED = "ggufsync_printed"
"""A log record's flag: the command printed this line already; log it to the file only."""


def configure(sync: argparse.ArgumentParser) -> None:
    add_settings_options(sync)
    sync.add_argument("--mode", choices=[m.value for m in SyncMode], help="override sync_behavior.mode")
    sync.add_argument("--dry-run", action="store_true", help="list only: print the plan, write nothing")
    add_catalogue_option(sync)
    sync.add_argument("--config-dir", type=Path, default=None, help="the config folder (default ./config)")
    sync.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help=f"a progress line per step every {LIVE_SECONDS:.0f} s on stderr (default: on a terminal)",
    )
    sync.set_defaults(handler=_sync)


def sync_flags(args: argparse.Namespace) -> dict[str, Any]:
    flags = setting_flags(args)
    if args.mode:
        flags["sync_behavior.mode"] = args.mode
    return flags


def _sync(args: argparse.Namespace) -> int:
    flags = sync_flags(args)
    directory = args.config_dir or config_dir()
    settings = load_settings(env=args.env, flags=flags, directory=directory).settings
    configure_logging(settings)
    live = sys.stderr.isatty() if args.progress is None else args.progress
    with _logging(Path(LOG_FILE)) as logged, _live_progress(live, logged):
        return _sync_logged(args, flags, directory, settings)


def _told(line: str, *, failed: bool = False) -> None:
    """A line for the user (stdout, or stderr when the sync failed), kept in logs/sync.log too."""
    print(line, file=sys.stderr if failed else sys.stdout)
    told = logging.getLogger(TOLD_LOGGER)
    if told.level:  # set while `_logging` keeps the file; elsewhere (the demo) printing is all
        told.log(logging.ERROR if failed else logging.INFO, line, extra={PRINTED: True})


def _sync_logged(args: argparse.Namespace, flags: dict[str, Any], directory: Path, settings: Settings) -> int:
    now = datetime.now(UTC)
    store = CatalogueStore.from_settings(settings)
    if foreign := published_refusal(store, settings.hub.endpoint):
        _told(f"sync refused: {foreign}", failed=True)
        return EXIT_SYNC_FAILED
    # Closed when the command ends: the event log keeps its SQLite files open, and closing them is
    # what folds their write-ahead logs back in.
    with instance() as dagster:
        mode, reason = decide_mode(settings, sync_history(dagster, store), now)
        tags = sync_tags(settings, mode, now)
        window = window_of(tags[RANGE_START_TAG], tags[RANGE_END_TAG])
        _told(f"{mode.value} sync ({reason}); partitions {tags[RANGE_START_TAG]}..{tags[RANGE_END_TAG]}")
        if args.dry_run:
            plan = asyncio.run(_plan(settings, store, window, mode, reason, now=now))
            print_plan(plan)
            return EXIT_OK
        resource = SyncResource(
            environment=args.env, config_dir=str(directory), overrides_json=json.dumps(flags, default=str)
        )
        return run_sync(resource, settings, dagster, tags)


def run_sync(
    resource: SyncResource, settings: Settings, dagster: dg.DagsterInstance, tags: dict[str, str]
) -> int:
    """Execute the sync job in this process, print how it went, and alert on its failure (tagged
    ALERTED_BY_TAG, so that a daemon's failure sensor does not alert twice)."""
    from ggufsync_assets.definitions import build_definitions  # noqa: PLC0415 - loads Dagster definitions

    result = execute_sync_job(
        build_definitions(resource),
        dagster,
        tags={**tags, ALERTED_BY_TAG: "cli"},
        # The terminal shows the steps' own lines (INFO and up); Dagster's DEBUG events (a step
        # started, a resource initialised, ...) stay in the run's log in the UI, even under DEBUG.
        run_config={"loggers": {"console": {"config": {"log_level": console_level(settings)}}}},
    )
    if not result.success:
        failed_checks = [
            e
            for e in result.get_asset_check_evaluations()
            if not e.passed and e.severity is dg.AssetCheckSeverity.ERROR
        ]
        failure = next((e for e in result.all_events if e.is_failure), None)
        if failed_checks:
            message = "; ".join(
                f"blocking check {e.check_name} failed: {e.description}" for e in failed_checks
            )
        else:
            message = _why(failure) if failure else "see the run in the Dagster UI"
        _told(f"sync failed (run {result.run_id}): {message}", failed=True)
        alert_failed_run(Notifier(settings), dagster, result.run_id, message)
        return EXIT_SYNC_FAILED
    print_summary(CatalogueStore.from_settings(settings), result.run_id)
    return EXIT_OK


def console_level(settings: Settings) -> str:
    """log_level, but never below INFO."""
    return max(settings.log_level.value, "INFO", key=logging.getLevelName)


def _why(failure: dg.DagsterEvent) -> str:
    """The failed step and the error that failed it, unwrapped from Dagster's step error."""
    error = getattr(failure.event_specific_data, "error", None)
    if error is None:
        return failure.message or "see the run in the Dagster UI"
    while error.cause is not None and error.cls_name in STEP_ERROR_WRAPPERS:
        error = error.cause
    kind, _, text = error.message.strip().partition(": ")
    return f"{failure.step_key}: {kind.rsplit('.', 1)[-1]}: {text}" if text else f"{failure.step_key}: {kind}"


STEP_ERROR_WRAPPERS = ("DagsterExecutionStepExecutionError", "RetryRequestedFromPolicy", "RetryRequested")


@contextlib.contextmanager
def _logging(path: Path) -> Iterator[logging.Handler]:
    """For the command's duration: log lines on stderr, and ggufsync's own lines also in
    logs/sync.log (rotating), for `tail -f` while a sync runs; yields the file's handler. The
    handlers go again when the command ends, so that calling the command in a process (tests,
    scripts) leaves its logging as it was."""
    root = logging.getLogger()
    before = list(root.handlers)
    logging.basicConfig(format="%(message)s", stream=sys.stderr)
    added = [handler for handler in root.handlers if handler not in before]
    for console in added:  # a line the command printed on stdout is not repeated on stderr
        console.addFilter(lambda record: not getattr(record, PRINTED, False))
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = RotatingFileHandler(path, maxBytes=LOG_BYTES, backupCount=LOG_FILES, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logger, told = logging.getLogger(LOGGER), logging.getLogger(TOLD_LOGGER)
    logger.addHandler(handler)
    told_level = told.level
    told.setLevel(logging.INFO)
    try:
        yield handler
    finally:
        told.setLevel(told_level)
        logger.removeHandler(handler)
        handler.close()
        for console in added:
            root.removeHandler(console)


@contextlib.contextmanager
def _live_progress(wanted: bool, logged: logging.Handler) -> Iterator[None]:
    """While the command runs, the steps' live progress lines (see LIVE_LOGGER) in logs/sync.log
    (`logged`), and on stderr when `wanted`."""
    live = logging.getLogger(LIVE_LOGGER)
    handlers = [logged]
    if wanted:
        console = logging.StreamHandler(sys.stderr)
        console.setFormatter(logging.Formatter("  %(message)s"))
        handlers.append(console)
    level, propagate = live.level, live.propagate
    for handler in handlers:
        live.addHandler(handler)
    live.setLevel(logging.INFO)  # whatever log_level says: they are for watching a sync
    live.propagate = False  # not once more through the console and file handlers
    try:
        yield
    finally:
        for handler in handlers:
            live.removeHandler(handler)
        live.setLevel(level)
        live.propagate = propagate


async def _plan(
    settings: Settings, store: CatalogueStore, window: Any, mode: SyncMode, reason: str, *, now: datetime
) -> Plan:
    known: dict[str, str | None] = {}
    in_window: list[tuple[str, str | None, list[str]]] = []
    if store.published.exists():
        with store.reader() as con:
            known = dict(con.execute("SELECT repo_id, sha FROM models WHERE removed_at IS NULL").fetchall())
            if window.start is not None:
                in_window = repos_modified_since(con, window.start)
    bar = ProgressLine()
    options = ClientOptions.from_settings(settings, progress_interval_seconds=0.5)
    async with HubClient(options, progress=bar.update) as client:
        plan = await plan_sync(
            client,
            settings=settings,
            window=window,
            known_shas=known,
            known_in_window=in_window,
            mode=mode,
            reason=reason,
            now=now,
        )
    bar.close()
    return plan


class ProgressLine:
    """The Hub client's progress as one line rewritten in place on a terminal."""

    def __init__(self) -> None:
        self.active = sys.stderr.isatty()

    def update(self, stats: HubStats) -> None:
        if self.active:
            sys.stderr.write(
                f"\r  listing: {stats.pages} pages, {stats.records} records, {stats.requests} requests, "
                f"{stats.elapsed_seconds:.0f} s"
            )
            sys.stderr.flush()

    def close(self) -> None:
        if self.active:
            sys.stderr.write("\n")


def print_plan(plan: Plan) -> None:
    total = plan.listing_requests + plan.refresh_requests
    print("dry run: nothing was written")
    print(
        f"  repos in window:   {plan.repos_listed} ({len(plan.new)} new, {len(plan.changed)} changed, "
        f"{plan.unchanged} unchanged, {plan.rejected} records rejected)"
    )
    print(f"  repos to refresh:  {len(plan.new) + len(plan.changed)}")
    refresh = [*plan.new, *plan.changed]
    for repo_id in refresh[:LISTED_REPOS]:
        print(f"    {repo_id}")
    if len(refresh) > LISTED_REPOS:
        print(f"    ... and {len(refresh) - LISTED_REPOS:,} more")
    print(f"  requests needed:   {total} ({plan.listing_requests} listing, {plan.refresh_requests} detail)")
    print(f"  time at the configured rates: {plan.seconds_at_configured_rates:.0f} s")


def duration(seconds: float) -> str:
    """29.4 s, 4 min 45 s, 2 h 05 min."""
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {rest} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def print_summary(store: CatalogueStore, run_id: str) -> None:
    with store.reader() as con:
        run = con.execute(
            "SELECT mode, repos_listed, repos_new, repos_changed, repos_refreshed, repos_removed, rejects, "
            "api_requests, finished_at - started_at FROM sync_runs WHERE run_id = ?",
            [run_id],
        ).fetchall()
        [(repos, files, size)] = con.execute(
            "SELECT count(*), sum(gguf_file_count), sum(total_gguf_bytes) FROM models WHERE removed_at IS NULL"
        ).fetchall()
    if run:
        mode, listed, new, changed, refreshed, removed, rejects, requests, took = run[0]
        _told(
            f"{mode} sync done in {duration(took.total_seconds())}: {listed} repos listed "
            f"({new} new, {changed} changed), "
            f"{refreshed} refreshed, {removed} removed, {rejects} rejected, {requests} API requests"
        )
    _told(f"catalogue {store.published}: {repos} repos, {files or 0} GGUF files, {(size or 0) / 1e12:.2f} TB")
