"""The files step: fetch the file tree of every new or changed repo in a window, and only those.

For each refreshed repo it also reads the GGUF header of one representative weights file
(gguf_headers.read; every logical file's with custom_settings.enable_experimental_features), and
with validation.enable_file_verification checks that file's magic, version and split count and
every file's size.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import itertools
import logging
from collections.abc import AsyncGenerator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

import polars as pl

from ggufsync_assets.catalogue.contract import FILE_FRAME, HEADER_FRAME, REJECT_FRAME, SUMMARY_FRAME
from ggufsync_assets.gguf.header import GgufHeader
from ggufsync_assets.hub.client import HubClient
from ggufsync_assets.hub.errors import HubError, HubNotFound
from ggufsync_assets.hub.safety import file_hosts_warning
from ggufsync_assets.settings import Settings
from ggufsync_assets.sync.files import repo_files
from ggufsync_assets.sync.headers import (
    HeaderRead,
    HeaderReader,
    header_row,
    header_targets,
    split_by_gguf_split,
)
from ggufsync_assets.sync.records import reject_row
from ggufsync_assets.sync.window import Window
from ggufsync_assets.sync.writer import SyncWriter, WriteBehind

log = logging.getLogger("ggufsync.sync")

_T = TypeVar("_T")

MAGIC_READ = 8
"""A .gguf file no larger than its magic and version cannot be a model."""


@dataclass
class FilesResult:
    refreshed: int = 0
    files: int = 0
    rejected: int = 0
    gone: int = 0
    headers_read: int = 0
    header_requests: int = 0
    header_bytes: int = 0
    headers_unreadable: int = 0
    verified: int = 0
    verification_failures: int = 0


async def refresh_files(
    client: HubClient,
    writer: SyncWriter,
    settings: Settings,
    window: Window,
    *,
    run_id: str,
    now: datetime,
) -> FilesResult:
    """Fetch the file tree of every new or changed repo in the window (and only those)."""
    result = FilesResult()
    if warning := file_hosts_warning(settings):
        log.warning("%s", warning)
    todo = writer.repos_needing_files(window.start, window.end)
    client.expect_api_requests(len(todo))  # one tree page each, for nearly every repo
    client.progress.add(repos_total=len(todo))
    parallel = (
        settings.rate_limiting.max_concurrent_requests
        if settings.performance.enable_parallel_processing
        else 1
    )
    inspection = _Inspector(
        HeaderReader(client, settings.gguf_headers.max_bytes),
        verify=settings.validation.enable_file_verification,
        keep_headers=settings.gguf_headers.read,
        every_logical_file=settings.custom_settings.enable_experimental_features,
    )

    async def one(repo_id: str, sha: str) -> tuple[str, str, Any]:
        try:
            entries = await client.list_tree(repo_id, sha)
        except HubNotFound:
            return repo_id, sha, None
        except HubError as exc:
            return repo_id, sha, exc
        files = repo_files(repo_id, sha, entries, endpoint=client.options.endpoint, now=now)
        return repo_id, sha, (files, await inspection.inspect(repo_id, sha, files.files))

    chunk = _Chunk()
    with WriteBehind() as writes:
        async with contextlib.aclosing(as_finished(todo, one, parallel)) as outcomes:
            async for repo_id, sha, outcome in outcomes:
                chunk.add(repo_id, sha, outcome, result, run_id=run_id, now=now)
                client.progress.add(repos_done=1)
                if chunk.repos >= writer.chunk_size:
                    await writes.submit(functools.partial(chunk.write, writer))
                    chunk = _Chunk()
        await writes.submit(functools.partial(chunk.write, writer))
        await writes.settle()
    return result


async def as_finished(
    todo: list[tuple[str, str]], fetch: Callable[[str, str], Awaitable[_T]], parallel: int
) -> AsyncGenerator[_T, None]:
    """`fetch` of every repo, in the order they finish, with at most `parallel` in flight: a slow
    answer holds up its own slot only, never a whole chunk."""
    waiting = iter(todo)
    running = {asyncio.ensure_future(fetch(*repo)) for repo in itertools.islice(waiting, parallel)}
    try:
        while running:
            done, running = await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
            running |= {asyncio.ensure_future(fetch(*repo)) for repo in itertools.islice(waiting, len(done))}
            for task in done:
                yield task.result()
    finally:
        for task in running:
            task.cancel()
        await asyncio.gather(*running, return_exceptions=True)


@dataclass
class _Chunk:
    """One transaction's worth of refreshed repos: their files, summaries, rejects, header facts."""

    repos: int = 0
    files: list[dict[str, Any]] = field(default_factory=list)
    summaries: list[dict[str, Any]] = field(default_factory=list)
    rejects: list[dict[str, Any]] = field(default_factory=list)
    headers: list[dict[str, Any]] = field(default_factory=list)

    def add(
        self, repo_id: str, sha: str, outcome: Any, result: FilesResult, *, run_id: str, now: datetime
    ) -> None:
        self.repos += 1
        if outcome is None:
            result.gone += 1
            return
        if isinstance(outcome, Exception):
            result.rejected += 1
            self.rejects.append(
                reject_row({"id": repo_id, "sha": sha}, str(outcome), run_id=run_id, stage="files", now=now)
            )
            return
        files, facts = outcome
        for problem in files.problems:
            self.rejects.append(
                reject_row({"id": repo_id, "sha": sha}, problem, run_id=run_id, stage="files", now=now)
            )
            result.rejected += 1
        self.files += files.files
        self.summaries.append(files.summary)
        result.refreshed += 1
        result.files += len(files.files)
        result.verified += facts.verified
        result.verification_failures += facts.failures
        for read in facts.reads:
            result.header_requests += read.requests
            result.header_bytes += read.bytes_read
            if read.error is not None:
                result.headers_unreadable += 1
                result.rejected += 1
                self.rejects.append(
                    reject_row(
                        {"id": repo_id, "sha": sha},
                        f"GGUF header of {read.path}: {read.error}",
                        run_id=run_id,
                        stage="files",
                        now=now,
                    )
                )
            elif read.header is not None:
                result.headers_read += 1
        self.headers += [
            header_row(repo_id, read, now) for read in facts.reads if facts.kept and not read.denied
        ]

    def write(self, writer: SyncWriter) -> None:
        if self.summaries:
            writer.replace_files(
                pl.DataFrame(self.files, schema=FILE_FRAME),
                pl.DataFrame(self.summaries, schema=SUMMARY_FRAME),
                pl.DataFrame(self.headers, schema=HEADER_FRAME),
            )
        if self.rejects:
            writer.add_rejects(pl.DataFrame(self.rejects, schema=REJECT_FRAME))


@dataclass
class _Inspection:
    verified: int = 0
    failures: int = 0
    reads: list[HeaderRead] = field(default_factory=list)
    kept: bool = False


@dataclass(frozen=True)
class _Inspector:
    """Header reads and file verification of one refreshed repo."""

    headers: HeaderReader
    verify: bool
    keep_headers: bool
    every_logical_file: bool

    async def inspect(self, repo_id: str, sha: str, files: list[dict[str, Any]]) -> _Inspection:
        found = _Inspection(kept=self.keep_headers)
        if not (self.keep_headers or self.verify):
            return found
        targets = header_targets(files, every_logical_file=self.every_logical_file and self.keep_headers)
        for target in targets:
            found.reads.append(
                # A split part's split.* keys follow its tokenizer (gguf-split appends them).
                await self.headers.read(
                    repo_id,
                    sha,
                    target["path"],
                    size=target["size_bytes"],
                    whole=split_by_gguf_split(target),
                    file_type_needed=target["quantization"] is None,
                )
            )
        if self.verify and found.reads and not found.reads[0].denied:
            model, first = targets[0], found.reads[0]  # the representative file comes first
            ok = (
                all((f["size_bytes"] or 0) > MAGIC_READ for f in files)
                and first.error is None
                and first.header is not None
                and _split_matches(model, first.header)
            )
            model["header_ok"] = ok
            found.verified += 1
            found.failures += not ok
        return found


def _split_matches(model: dict[str, Any], header: GgufHeader) -> bool:
    """The split count a file's name declares is the one its header declares."""
    if not split_by_gguf_split(model):
        return header.split_count in (None, 1)
    return bool(header.split_count == model["split_count"])
