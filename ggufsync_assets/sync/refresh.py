"""The files step: fetch the file tree of every new or changed repo in a window, and only those.

Optionally (validation.enable_file_verification) it checks each refreshed repo's model file, and
as an experimental feature reads GGUF headers for facts the listing lacked.
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

from ggufsync_assets.catalogue.contract import FILE_FRAME, HEADER_FACTS_FRAME, REJECT_FRAME, SUMMARY_FRAME
from ggufsync_assets.gguf.header import GgufHeaderError, parse_header
from ggufsync_assets.hub.client import HubClient
from ggufsync_assets.hub.errors import HubError, HubNotFound, HubResponseError
from ggufsync_assets.settings import Settings
from ggufsync_assets.sync.files import repo_files
from ggufsync_assets.sync.records import reject_row
from ggufsync_assets.sync.window import Window
from ggufsync_assets.sync.writer import SyncWriter, WriteBehind

log = logging.getLogger("ggufsync.sync")

_T = TypeVar("_T")

HEADER_FIRST_READ = 256 * 1024
HEADER_MAX_READ = 16 * 1024 * 1024
MAGIC_READ = 8


@dataclass
class FilesResult:
    refreshed: int = 0
    files: int = 0
    rejected: int = 0
    gone: int = 0
    headers_read: int = 0
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
    todo = writer.repos_needing_files(window.start, window.end)
    client.expect_api_requests(len(todo))  # one tree page each, for nearly every repo
    parallel = (
        settings.rate_limiting.max_concurrent_requests
        if settings.performance.enable_parallel_processing
        else 1
    )
    verify = settings.validation.enable_file_verification
    read_headers = settings.custom_settings.enable_experimental_features
    needs_header = writer.repos_without_header_facts() if read_headers else set()

    async def one(repo_id: str, sha: str) -> tuple[str, str, Any]:
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

    chunk = _Chunk()
    with WriteBehind() as writes:
        async with contextlib.aclosing(as_finished(todo, one, parallel)) as outcomes:
            async for repo_id, sha, outcome in outcomes:
                chunk.add(repo_id, sha, outcome, result, run_id=run_id, now=now)
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
    header_facts: list[dict[str, Any]] = field(default_factory=list)

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
        if facts.header:
            result.headers_read += 1
            self.header_facts.append({"repo_id": repo_id, **facts.header})

    def write(self, writer: SyncWriter) -> None:
        if self.summaries:
            writer.replace_files(
                pl.DataFrame(self.files, schema=FILE_FRAME),
                pl.DataFrame(self.summaries, schema=SUMMARY_FRAME),
            )
        if self.header_facts:
            writer.fill_header_facts(pl.DataFrame(self.header_facts, schema=HEADER_FACTS_FRAME))
        if self.rejects:
            writer.add_rejects(pl.DataFrame(self.rejects, schema=REJECT_FRAME))


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
