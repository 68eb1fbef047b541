"""The catalogue's columns, defined once: the DDL, the frames the sync writes, the upsert lists
and the migrations are all derived from the tables below (README's column tables are checked
against them by a test).

A column says which write fills it (`Source`). A `LISTING` column is filled from a validated
listing record: by the record's attribute of the same name unless `listing` says how. So adding
a column to `models` is one `Column(...)` line here (plus its README line): the table, the frame,
the upsert and the migration of existing catalogues follow.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from operator import attrgetter
from typing import Any

import polars as pl

UTC_TIME = pl.Datetime("us", "UTC")
DType = pl.DataType | type[pl.DataType]
"""A Polars type: an instance (`pl.List(pl.String)`) or a class (`pl.String`)."""


class Source(StrEnum):
    """Which write sets a column."""

    KEY = "key"  # the primary key, given by every write
    LISTING = "listing"  # every listing of the repo (upserted)
    STAMP = "stamp"  # the listing step's own bookkeeping (when, how it was found)
    FILES = "files"  # a refresh of the repo's file tree (one summary row per repo)
    SCORE = "score"  # the completeness step
    INSERT = "insert"  # set once, when the row is first written
    TOMBSTONE = "tombstone"  # a complete pass that no longer finds the repo
    ROW = "row"  # tables other than models: the writer gives the whole row


@dataclass(frozen=True)
class Column:
    name: str
    sql: str
    dtype: DType
    source: Source = Source.ROW
    required: bool = False
    listing: Callable[[Any], Any] | None = None
    """For LISTING columns: the value from a validated listing record (default: its attribute)."""

    @property
    def ddl(self) -> str:
        return f"{self.name} {self.sql}{' NOT NULL' if self.required else ''}"

    def from_listing(self, record: Any) -> Any:
        return (self.listing or attrgetter(self.name))(record)


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...] = ()

    def ddl(self) -> str:
        lines = [c.ddl for c in self.columns]
        if len(self.key) > 1:
            lines.append(f"PRIMARY KEY ({', '.join(self.key)})")
        elif self.key:
            lines[[c.name for c in self.columns].index(self.key[0])] += " PRIMARY KEY"
        body = ",\n    ".join(lines)
        return f"CREATE TABLE IF NOT EXISTS {self.name} (\n    {body}\n);"

    def names(self, *sources: Source) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if not sources or c.source in sources)

    def frame_schema(self, *sources: Source) -> dict[str, DType]:
        """The Polars schema of a frame holding the columns that these writes set."""
        return {c.name: c.dtype for c in self.columns if not sources or c.source in sources}

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)


MODELS = Table(
    "models",
    (
        Column("repo_id", "VARCHAR", pl.String, Source.KEY, listing=attrgetter("id")),
        Column("author", "VARCHAR", pl.String, Source.LISTING, listing=lambda r: r.owner),
        Column("sha", "VARCHAR", pl.String, Source.LISTING),
        Column("created_at", "TIMESTAMPTZ", UTC_TIME, Source.LISTING),
        Column("last_modified", "TIMESTAMPTZ", UTC_TIME, Source.LISTING),
        Column("downloads", "BIGINT", pl.Int64, Source.LISTING),
        Column("likes", "BIGINT", pl.Int64, Source.LISTING),
        Column("gated", "BOOLEAN", pl.Boolean, Source.LISTING, listing=lambda r: r.gated is not False),
        Column(
            "gated_mode",
            "VARCHAR",
            pl.String,
            Source.LISTING,
            listing=lambda r: r.gated if isinstance(r.gated, str) else None,
        ),
        Column("pipeline_tag", "VARCHAR", pl.String, Source.LISTING),
        Column("library_name", "VARCHAR", pl.String, Source.LISTING),
        Column("license", "VARCHAR", pl.String, Source.LISTING),
        Column("base_models", "VARCHAR[]", pl.List(pl.String), Source.LISTING),
        Column("tags", "VARCHAR[]", pl.List(pl.String), Source.LISTING),
        Column("has_card", "BOOLEAN", pl.Boolean, Source.LISTING),
        Column(
            "architecture", "VARCHAR", pl.String, Source.LISTING, listing=lambda r: r.summary.architecture
        ),
        Column("parameter_count", "BIGINT", pl.Int64, Source.LISTING, listing=lambda r: r.summary.total),
        Column(
            "context_length", "BIGINT", pl.Int64, Source.LISTING, listing=lambda r: r.summary.context_length
        ),
        Column("quantizations", "VARCHAR[]", pl.List(pl.String), Source.FILES),
        Column("gguf_file_count", "INTEGER", pl.Int32, Source.FILES),
        Column("total_gguf_bytes", "BIGINT", pl.Int64, Source.FILES),
        Column("has_mmproj", "BOOLEAN", pl.Boolean, Source.FILES),
        Column("discovery_methods", "VARCHAR[]", pl.List(pl.String), Source.STAMP),
        Column("listing_fixes", "VARCHAR[]", pl.List(pl.String), Source.STAMP),
        Column("completeness_score", "DOUBLE", pl.Float64, Source.SCORE),
        Column("completeness_gaps", "VARCHAR[]", pl.List(pl.String), Source.SCORE),
        Column("card_score", "DOUBLE", pl.Float64, Source.SCORE),
        Column("files_sha", "VARCHAR", pl.String, Source.FILES),
        Column("first_seen_at", "TIMESTAMPTZ", UTC_TIME, Source.INSERT, required=True),
        Column("last_seen_at", "TIMESTAMPTZ", UTC_TIME, Source.STAMP, required=True),
        Column("last_synced_at", "TIMESTAMPTZ", UTC_TIME, Source.STAMP, required=True),
        Column("removed_at", "TIMESTAMPTZ", UTC_TIME, Source.TOMBSTONE),
    ),
    key=("repo_id",),
)

MODEL_FILES = Table(
    "model_files",
    (
        Column("repo_id", "VARCHAR", pl.String, required=True),
        Column("path", "VARCHAR", pl.String, required=True),
        Column("size_bytes", "BIGINT", pl.Int64),
        Column("quantization", "VARCHAR", pl.String),
        Column("split_index", "INTEGER", pl.Int32),
        Column("split_count", "INTEGER", pl.Int32),
        Column("logical_file", "VARCHAR", pl.String, required=True),
        Column("is_mmproj", "BOOLEAN", pl.Boolean, required=True),
        Column("lfs_sha256", "VARCHAR", pl.String),
        Column("download_url", "VARCHAR", pl.String, required=True),
        Column("header_ok", "BOOLEAN", pl.Boolean),
        Column("synced_at", "TIMESTAMPTZ", UTC_TIME, required=True),
        # Last: a catalogue made before it gets it appended (NULL until its repo is refreshed).
        Column("is_imatrix", "BOOLEAN", pl.Boolean),
    ),
    key=("repo_id", "path"),
)

GGUF_HEADERS = Table(
    "gguf_headers",
    (
        Column("repo_id", "VARCHAR", pl.String, required=True),
        Column("path", "VARCHAR", pl.String, required=True),
        Column("gguf_version", "INTEGER", pl.Int32),
        Column("tensor_count", "BIGINT", pl.Int64),
        Column("kv_count", "BIGINT", pl.Int64),
        Column("architecture", "VARCHAR", pl.String),
        Column("name", "VARCHAR", pl.String),
        Column("basename", "VARCHAR", pl.String),
        Column("size_label", "VARCHAR", pl.String),
        Column("context_length", "BIGINT", pl.Int64),
        Column("embedding_length", "BIGINT", pl.Int64),
        Column("block_count", "BIGINT", pl.Int64),
        Column("head_count", "BIGINT", pl.Int64),
        Column("head_count_kv", "BIGINT", pl.Int64),
        Column("key_length", "BIGINT", pl.Int64),
        Column("value_length", "BIGINT", pl.Int64),
        Column("expert_count", "BIGINT", pl.Int64),
        Column("expert_used_count", "BIGINT", pl.Int64),
        Column("sliding_window", "BIGINT", pl.Int64),
        Column("file_type", "INTEGER", pl.Int32),
        Column("file_type_label", "VARCHAR", pl.String),
        Column("tokenizer_model", "VARCHAR", pl.String),
        Column("vocab_size", "BIGINT", pl.Int64),
        Column("has_chat_template", "BOOLEAN", pl.Boolean),
        Column("split_no", "INTEGER", pl.Int32),
        Column("split_count", "INTEGER", pl.Int32),
        Column("kv_bytes_per_token", "BIGINT", pl.Int64),
        Column("bytes_read", "BIGINT", pl.Int64, required=True),
        Column("range_requests", "INTEGER", pl.Int32, required=True),
        Column("error", "VARCHAR", pl.String),
        Column("read_at", "TIMESTAMPTZ", UTC_TIME, required=True),
    ),
    key=("repo_id", "path"),
)

MODEL_HISTORY = Table(
    "model_history",
    (
        Column("repo_id", "VARCHAR", pl.String, required=True),
        Column("changed_at", "TIMESTAMPTZ", UTC_TIME, required=True),
        Column("change", "VARCHAR", pl.String, required=True),
        Column("old_sha", "VARCHAR", pl.String),
        Column("new_sha", "VARCHAR", pl.String),
        Column("run_id", "VARCHAR", pl.String, required=True),
    ),
)

SYNC_RUNS = Table(
    "sync_runs",
    (
        Column("run_id", "VARCHAR", pl.String),
        Column("dagster_run_id", "VARCHAR", pl.String),
        Column("mode", "VARCHAR", pl.String, required=True),
        Column("partition_start", "VARCHAR", pl.String),
        Column("partition_end", "VARCHAR", pl.String),
        Column("started_at", "TIMESTAMPTZ", UTC_TIME, required=True),
        Column("finished_at", "TIMESTAMPTZ", UTC_TIME),
        Column("status", "VARCHAR", pl.String, required=True),
        Column("complete_pass", "BOOLEAN", pl.Boolean, required=True),
        Column("hub", "VARCHAR", pl.String),
        Column("api_requests", "BIGINT", pl.Int64),
        Column("repos_listed", "BIGINT", pl.Int64),
        Column("repos_new", "BIGINT", pl.Int64),
        Column("repos_changed", "BIGINT", pl.Int64),
        Column("repos_refreshed", "BIGINT", pl.Int64),
        Column("header_reads", "BIGINT", pl.Int64),
        Column("repos_removed", "BIGINT", pl.Int64),
        Column("rejects", "BIGINT", pl.Int64),
        Column("error", "VARCHAR", pl.String),
    ),
    key=("run_id",),
)

REJECTED_RECORDS = Table(
    "rejected_records",
    (
        Column("run_id", "VARCHAR", pl.String, required=True),
        Column("repo_id", "VARCHAR", pl.String),
        Column("stage", "VARCHAR", pl.String, required=True),
        Column("reason", "VARCHAR", pl.String, required=True),
        Column("record", "VARCHAR", pl.String),
        Column("rejected_at", "TIMESTAMPTZ", UTC_TIME, required=True),
    ),
)

TABLES = (MODELS, MODEL_FILES, GGUF_HEADERS, MODEL_HISTORY, SYNC_RUNS, REJECTED_RECORDS)
"""The public tables, in the order README documents them; each is exported as Parquet."""

LISTING_COLUMNS = tuple(c for c in MODELS.columns if c.source in (Source.KEY, Source.LISTING))
MODEL_FRAME = MODELS.frame_schema(Source.KEY, Source.LISTING, Source.STAMP)
"""A listing step's models frame: the listing's values plus its stamps."""
SUMMARY_FRAME = MODELS.frame_schema(Source.KEY, Source.FILES)
"""One row per refreshed repo: what its file tree says about the repo."""
HEADER_FRAME = GGUF_HEADERS.frame_schema()
SCORE_FRAME = MODELS.frame_schema(Source.KEY, Source.SCORE)
"""One row per scored repo: its completeness score, what lowered it, and its card score."""
FILE_FRAME = MODEL_FILES.frame_schema()
REJECT_FRAME = REJECTED_RECORDS.frame_schema()


def listing_row(record: Any) -> dict[str, Any]:
    """A validated listing record's values for the LISTING columns (and the key)."""
    return {c.name: c.from_listing(record) for c in LISTING_COLUMNS}
