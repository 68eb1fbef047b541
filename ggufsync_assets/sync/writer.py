"""What the sync steps need from the catalogue: the writes and reads of a step, nothing more.

The DuckDB store (catalogue/store.py) provides it; the steps never see DuckDB itself.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Protocol, Self

import polars as pl

from ggufsync_assets.catalogue.store import UpsertCounts


class SyncWriter(Protocol):
    chunk_size: int

    def upsert_models(
        self, frame: pl.DataFrame, *, run_id: str, now: datetime, merge_methods: bool = True
    ) -> UpsertCounts: ...

    def add_rejects(self, rejects: pl.DataFrame) -> None: ...

    def repos_modified_since(self, since: datetime) -> list[tuple[str, str | None, list[str]]]: ...

    def repos_needing_files(
        self, since: datetime | None, until: datetime | None
    ) -> list[tuple[str, str]]: ...

    def replace_files(
        self, files: pl.DataFrame, summaries: pl.DataFrame, headers: pl.DataFrame | None = None
    ) -> None: ...

    def completeness_facts(
        self, since: datetime | None, until: datetime | None, card_facts: tuple[str, ...]
    ) -> pl.DataFrame: ...

    def set_completeness(self, scores: pl.DataFrame) -> None: ...


class WriteBehind:
    """A step's catalogue writes, one at a time and in order, on a worker thread: the next chunk's
    Hub requests go out while DuckDB writes the last chunk (it releases the GIL while it works),
    so the Hub's latency and the catalogue's writes overlap instead of adding up.

    A failed write fails the step at the next `submit` or at `settle`. Leaving the block waits for
    a write still running, so the connection is never closed under it, whatever stops the step.
    """

    def __init__(self) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="catalogue-write")
        self._last: asyncio.Future[None] | None = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self._pool.shutdown(wait=True)

    async def submit(self, write: Callable[[], None]) -> None:
        """Start `write` once the previous write has finished."""
        await self.settle()
        self._last = asyncio.get_running_loop().run_in_executor(self._pool, write)

    @property
    def idle(self) -> bool:
        """No write is running: one submitted now starts at once."""
        return self._last is None or self._last.done()

    async def settle(self) -> None:
        """Wait for the last write; raise what it raised."""
        last, self._last = self._last, None
        if last is not None:
            await last
