"""The listing step: discover every GGUF repo modified in a window and upsert its listing row."""

from __future__ import annotations

import contextlib
import functools
import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import polars as pl

from ggufsync_assets.catalogue.contract import MODEL_FRAME, REJECT_FRAME
from ggufsync_assets.hub.client import HubClient
from ggufsync_assets.settings import Settings
from ggufsync_assets.sync.discovery import discover
from ggufsync_assets.sync.records import reject_row
from ggufsync_assets.sync.window import Window
from ggufsync_assets.sync.writer import SyncWriter, WriteBehind

log = logging.getLogger("ggufsync.sync")


@dataclass
class ListingResult:
    listed: int = 0
    new: int = 0
    changed: int = 0
    restored: int = 0
    unchanged: int = 0
    rejected: int = 0
    fixed: int = 0
    without_gguf_files: int = 0
    rows_written: int = 0
    strategies: dict[str, int] = field(default_factory=dict)


@dataclass
class _Pending:
    """What the listing collected so far, before it is written (see enable_streaming_processing)."""

    rows: dict[str, dict[str, Any]] = field(default_factory=dict)
    methods: dict[str, list[str]] = field(default_factory=dict)
    rejects: list[dict[str, Any]] = field(default_factory=list)


async def list_window(
    client: HubClient,
    writer: SyncWriter,
    settings: Settings,
    window: Window,
    *,
    run_id: str,
    now: datetime,
) -> ListingResult:
    """Write what discovery finds: as it comes with streaming on, else once at the end (without
    deduplication, once per strategy, so each strategy's rows land on their own); see `batch_ready`."""
    result = ListingResult()
    seen: set[str] = set()
    without_files: set[str] = set()
    pending = _Pending()
    merge = settings.sync_behavior.enable_deduplication

    def write(batch: _Pending) -> None:
        if batch.rows:
            frame = _models_frame(batch, now)
            counts = writer.upsert_models(frame, run_id=run_id, now=now, merge_methods=merge)
            result.new += counts.added
            result.changed += counts.changed
            result.restored += counts.restored
            result.rows_written += frame.height
        if batch.rejects:
            writer.add_rejects(pl.DataFrame(batch.rejects, schema=REJECT_FRAME))

    known = writer.repos_modified_since(window.start) if window.start else []
    async with contextlib.aclosing(discover(client, settings, window, known, now=now)) as pages:
        with WriteBehind() as writes:
            async for page in pages:
                label = page.strategy.label
                result.strategies[label] = result.strategies.get(label, 0) + len(page.rows)
                for record, fixes in page.fixed:
                    result.fixed += 1
                    log.info("fixed %s: %s", record.get("id"), "; ".join(fixes))
                for record, reason in page.rejects:
                    result.rejected += 1
                    pending.rejects.append(
                        reject_row(record, reason, run_id=run_id, stage="listing", now=now)
                    )
                without_files.update(page.without_gguf_files)
                for row in page.rows:
                    seen.add(row["repo_id"])
                    _collect(pending, row, page.strategy.method.value, merge=merge)
                if (pending.rows or pending.rejects) and batch_ready(
                    page.done, len(pending.rows), writes, settings
                ):
                    await writes.submit(functools.partial(write, pending))
                    pending = _Pending()
            await writes.submit(functools.partial(write, pending))
            await writes.settle()
    result.listed = len(seen)
    result.without_gguf_files = len(without_files)
    result.unchanged = result.listed - result.new - result.changed - result.restored
    return result


def batch_ready(strategy_done: bool, rows: int, writes: WriteBehind, settings: Settings) -> bool:
    """Whether the `rows` the listing collected go to the catalogue now. Streaming, they go as the
    writer comes free, or once they make a chunk (then they wait for the write before them): pages
    that arrive during a write join one batch, so a window's small pages cost a write or two, not one
    each, and the listing never waits to write a few rows. Without deduplication each strategy's
    rows land on their own; otherwise, not streaming, everything goes at the end."""
    if strategy_done and not settings.sync_behavior.enable_deduplication:
        return True
    if not settings.performance.enable_streaming_processing:
        return False
    return writes.idle or rows >= settings.performance.chunk_size


def _collect(pending: _Pending, row: dict[str, Any], method: str, *, merge: bool) -> None:
    repo_id = row["repo_id"]
    methods = pending.methods.get(repo_id, []) if merge else []
    pending.methods[repo_id] = sorted({*methods, method})
    pending.rows[repo_id] = row


def _models_frame(pending: _Pending, now: datetime) -> pl.DataFrame:
    rows = [
        {**row, "discovery_methods": pending.methods[repo_id], "last_seen_at": now, "last_synced_at": now}
        for repo_id, row in pending.rows.items()
    ]
    return pl.DataFrame(rows, schema=MODEL_FRAME)
