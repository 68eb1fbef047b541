"""The steps of a sync, free of Dagster: list a window, refresh changed repos' files, score, finish.

Each Dagster asset calls one step with a Hub client and a catalogue writer; the steps are also
what tests drive directly. A window is the span of lastModified days a partition range covers.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import polars as pl

from ggufsync_assets.catalogue.store import CatalogueWriter
from ggufsync_assets.gguf.header import GgufHeaderError, parse_header
from ggufsync_assets.hub.client import HubClient
from ggufsync_assets.hub.errors import HubError, HubNotFound, HubResponseError
from ggufsync_assets.settings import Settings
from ggufsync_assets.sync import completeness
from ggufsync_assets.sync.discovery import strategies
from ggufsync_assets.sync.files import repo_files
from ggufsync_assets.sync.records import reject_row, validate_with

log = logging.getLogger("ggufsync.sync")

HEADER_FIRST_READ = 256 * 1024
HEADER_MAX_READ = 16 * 1024 * 1024
MAGIC_READ = 8


@dataclass(frozen=True)
class Window:
    """lastModified from `start` (inclusive, None = the beginning) to `end` (exclusive, None = now)."""

    start: datetime | None
    end: datetime | None

    def contains(self, moment: datetime) -> bool:
        return (self.start is None or moment >= self.start) and (self.end is None or moment < self.end)


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
class FilesResult:
    refreshed: int = 0
    files: int = 0
    rejected: int = 0
    gone: int = 0
    headers_read: int = 0
    verified: int = 0
    verification_failures: int = 0


@dataclass
class _Listing:
    """What the listing collected so far, before it is written (see enable_streaming_processing)."""

    rows: dict[str, dict[str, Any]] = field(default_factory=dict)
    methods: dict[str, list[str]] = field(default_factory=dict)
    rejects: list[dict[str, Any]] = field(default_factory=list)


async def list_window(
    client: HubClient,
    writer: CatalogueWriter,
    settings: Settings,
    window: Window,
    *,
    run_id: str,
    now: datetime,
) -> ListingResult:
    """Discover every GGUF repo modified in the window and upsert its listing row."""
    result = ListingResult()
    seen: set[str] = set()
    without_files: set[str] = set()
    pending = _Listing()
    stream = settings.performance.enable_streaming_processing
    merge = settings.sync_behavior.enable_deduplication

    def flush() -> None:
        if pending.rows:
            frame = _models_frame(pending, now)
            counts = writer.upsert_models(frame, run_id=run_id, now=now, merge_methods=merge)
            result.new += counts.added
            result.changed += counts.changed
            result.restored += counts.restored
            result.rows_written += frame.height
        if pending.rejects:
            writer.add_rejects(pl.DataFrame(pending.rejects, schema=REJECT_SCHEMA))
        pending.rows.clear()
        pending.methods.clear()
        pending.rejects.clear()

    for strategy in strategies(settings, window.start):
        found = 0
        async for page in client.iter_model_pages(strategy.query):
            for record in page:
                outcome = validate_with(settings, record)
                if outcome.fixes:
                    result.fixed += 1
                    log.info("fixed %s: %s", record.get("id"), "; ".join(outcome.fixes))
                if outcome.row is None:
                    result.rejected += 1
                    pending.rejects.append(
                        reject_row(
                            record, outcome.reason or "invalid", run_id=run_id, stage="listing", now=now
                        )
                    )
                    continue
                row = outcome.row
                if not window.contains(row["last_modified"]):
                    continue
                if not outcome.has_gguf_files:
                    without_files.add(row["repo_id"])
                    continue
                found += 1
                seen.add(row["repo_id"])
                _collect(pending, row, strategy.method.value, merge=merge)
            if stream:
                flush()
        result.strategies[strategy.label] = found
        if not merge:
            flush()  # without deduplication each strategy's rows land on their own
    flush()
    result.listed = len(seen)
    result.without_gguf_files = len(without_files)
    result.unchanged = result.listed - result.new - result.changed - result.restored
    return result


def _collect(pending: _Listing, row: dict[str, Any], method: str, *, merge: bool) -> None:
    repo_id = row["repo_id"]
    methods = pending.methods.get(repo_id, []) if merge else []
    pending.methods[repo_id] = sorted({*methods, method})
    pending.rows[repo_id] = row


MODEL_SCHEMA = {
    "repo_id": pl.String,
    "author": pl.String,
    "sha": pl.String,
    "created_at": pl.Datetime("us", "UTC"),
    "last_modified": pl.Datetime("us", "UTC"),
    "downloads": pl.Int64,
    "likes": pl.Int64,
    "gated": pl.Boolean,
    "gated_mode": pl.String,
    "pipeline_tag": pl.String,
    "library_name": pl.String,
    "license": pl.String,
    "base_models": pl.List(pl.String),
    "tags": pl.List(pl.String),
    "architecture": pl.String,
    "parameter_count": pl.Int64,
    "context_length": pl.Int64,
    "discovery_methods": pl.List(pl.String),
    "last_seen_at": pl.Datetime("us", "UTC"),
    "last_synced_at": pl.Datetime("us", "UTC"),
}
REJECT_SCHEMA = {
    "run_id": pl.String,
    "repo_id": pl.String,
    "stage": pl.String,
    "reason": pl.String,
    "record": pl.String,
    "rejected_at": pl.Datetime("us", "UTC"),
}
FILE_SCHEMA = {
    "repo_id": pl.String,
    "path": pl.String,
    "size_bytes": pl.Int64,
    "quantization": pl.String,
    "split_index": pl.Int32,
    "split_count": pl.Int32,
    "logical_file": pl.String,
    "is_mmproj": pl.Boolean,
    "lfs_sha256": pl.String,
    "download_url": pl.String,
    "header_ok": pl.Boolean,
    "synced_at": pl.Datetime("us", "UTC"),
}
SUMMARY_SCHEMA = {
    "repo_id": pl.String,
    "files_sha": pl.String,
    "quantizations": pl.List(pl.String),
    "gguf_file_count": pl.Int32,
    "total_gguf_bytes": pl.Int64,
    "has_mmproj": pl.Boolean,
}


def _models_frame(pending: _Listing, now: datetime) -> pl.DataFrame:
    rows = [
        {**row, "discovery_methods": pending.methods[repo_id], "last_seen_at": now, "last_synced_at": now}
        for repo_id, row in pending.rows.items()
    ]
    return pl.DataFrame(rows, schema=MODEL_SCHEMA)


async def refresh_files(
    client: HubClient,
    writer: CatalogueWriter,
    settings: Settings,
    window: Window,
    *,
    run_id: str,
    now: datetime,
) -> FilesResult:
    """Fetch the file tree of every new or changed repo in the window (and only those)."""
    result = FilesResult()
    todo = writer.repos_needing_files(window.start, window.end)
    parallel = (
        settings.rate_limiting.max_concurrent_requests
        if settings.performance.enable_parallel_processing
        else 1
    )
    gate = asyncio.Semaphore(parallel)
    verify = settings.validation.enable_file_verification
    read_headers = settings.custom_settings.enable_experimental_features
    needs_header = writer.repos_without_header_facts() if read_headers else set()

    async def one(repo_id: str, sha: str) -> tuple[str, str, Any]:
        async with gate:
            try:
                entries = await client.list_tree(repo_id, sha)
            except HubNotFound:
                return repo_id, sha, None
            except HubError as exc:
                return repo_id, sha, exc
            files = repo_files(repo_id, sha, entries, endpoint=client.options.endpoint, now=now)
            facts = await _inspect(
                client, repo_id, sha, files.files, verify=verify, header=repo_id in needs_header
            )
            return repo_id, sha, (files, facts)

    for start in range(0, len(todo), writer.chunk_size):
        batch = todo[start : start + writer.chunk_size]
        outcomes = await asyncio.gather(*(one(repo_id, sha) for repo_id, sha in batch))
        file_rows: list[dict[str, Any]] = []
        summaries: list[dict[str, Any]] = []
        rejects: list[dict[str, Any]] = []
        header_facts: list[dict[str, Any]] = []
        for repo_id, sha, outcome in outcomes:
            if outcome is None:
                result.gone += 1
                continue
            if isinstance(outcome, Exception):
                result.rejected += 1
                rejects.append(
                    reject_row(
                        {"id": repo_id, "sha": sha}, str(outcome), run_id=run_id, stage="files", now=now
                    )
                )
                continue
            files, facts = outcome
            for problem in files.problems:
                rejects.append(
                    reject_row({"id": repo_id, "sha": sha}, problem, run_id=run_id, stage="files", now=now)
                )
                result.rejected += 1
            file_rows += files.files
            summaries.append(files.summary)
            result.refreshed += 1
            result.files += len(files.files)
            result.verified += facts.verified
            result.verification_failures += facts.failures
            if facts.header:
                result.headers_read += 1
                header_facts.append({"repo_id": repo_id, **facts.header})
        writer.replace_files(
            pl.DataFrame(file_rows, schema=FILE_SCHEMA), pl.DataFrame(summaries, schema=SUMMARY_SCHEMA)
        )
        if header_facts:
            writer.fill_header_facts(pl.DataFrame(header_facts, schema=HEADER_FACTS_SCHEMA))
        if rejects:
            writer.add_rejects(pl.DataFrame(rejects, schema=REJECT_SCHEMA))
    return result


HEADER_FACTS_SCHEMA = {"repo_id": pl.String, "architecture": pl.String, "context_length": pl.Int64}


@dataclass
class _Inspection:
    verified: int = 0
    failures: int = 0
    header: dict[str, Any] | None = None


async def _inspect(
    client: HubClient, repo_id: str, sha: str, files: list[dict[str, Any]], *, verify: bool, header: bool
) -> _Inspection:
    """File verification and, as an experimental feature, header facts for repos whose listing had
    no `gguf` summary. Verification checks every file's size and reads the magic bytes of one model
    file per repo: one Range request a repo keeps it affordable at Hub scale."""
    found = _Inspection()
    model = next((f for f in files if f["split_index"] in (None, 1) and not f["is_mmproj"]), None)
    if verify and model is not None:
        ok = all(f["size_bytes"] > MAGIC_READ for f in files)
        try:
            data = await client.read_range(repo_id, model["path"], 0, MAGIC_READ - 1, revision=sha)
            ok = ok and data[:4] == b"GGUF"
        except HubResponseError as exc:
            if exc.status in (401, 403):  # gated and no access: unverifiable, not broken
                return found
            ok = False
        except HubError:
            ok = False
        model["header_ok"] = ok
        found.verified += 1
        found.failures += not ok
    if header and model is not None:
        found.header = await _read_header_facts(client, repo_id, sha, model["path"], model["size_bytes"])
    return found


async def _read_header_facts(
    client: HubClient, repo_id: str, sha: str, path: str, size: int
) -> dict[str, Any] | None:
    length = HEADER_FIRST_READ
    while True:
        end = min(length, size) - 1
        try:
            parsed = parse_header(await client.read_range(repo_id, path, 0, end, revision=sha))
        except (HubError, GgufHeaderError) as exc:
            log.warning("could not read the GGUF header of %s/%s: %s", repo_id, path, exc)
            return None
        if parsed.header_complete or end + 1 >= min(size, HEADER_MAX_READ):
            return {"architecture": parsed.architecture, "context_length": parsed.context_length}
        length = min(max(parsed.bytes_needed or 0, length * 2), HEADER_MAX_READ)


@dataclass(frozen=True)
class CompletenessResult:
    scored: int
    mean: float | None
    minimum: float | None
    below_threshold: int


def score_completeness(writer: CatalogueWriter, window: Window, threshold: float) -> CompletenessResult:
    facts = writer.completeness_facts(window.start, window.end)
    scored = completeness.scores(facts)
    writer.set_completeness(scored)
    values = scored.get_column("completeness_score")
    return CompletenessResult(
        scored=scored.height,
        mean=float(values.mean()) if scored.height else None,  # type: ignore[arg-type]
        minimum=float(values.min()) if scored.height else None,  # type: ignore[arg-type]
        below_threshold=int((values < threshold).sum()),
    )
