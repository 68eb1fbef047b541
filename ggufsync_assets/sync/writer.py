"""What the sync steps need from the catalogue: the writes and reads of a step, nothing more.

The DuckDB store (catalogue/store.py) provides it; the steps never see DuckDB itself.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

import polars as pl

from ggufsync_assets.catalogue.store import UpsertCounts


class SyncWriter(Protocol):
    chunk_size: int

    def upsert_models(
        self, frame: pl.DataFrame, *, run_id: str, now: datetime, merge_methods: bool = True
    ) -> UpsertCounts: ...

    def add_rejects(self, rejects: pl.DataFrame) -> None: ...

    def repos_needing_files(
        self, since: datetime | None, until: datetime | None
    ) -> list[tuple[str, str]]: ...

    def replace_files(self, files: pl.DataFrame, summaries: pl.DataFrame) -> None: ...

    def repos_without_header_facts(self) -> set[str]: ...

    def fill_header_facts(self, facts: pl.DataFrame) -> None: ...

    def completeness_facts(
        self, since: datetime | None, until: datetime | None, model_facts: tuple[str, ...]
    ) -> pl.DataFrame: ...

    def set_completeness(self, scores: pl.DataFrame) -> None: ...
