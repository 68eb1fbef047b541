"""The DuckDB catalogue: a working file the sync writes, and a published copy readers open.

DuckDB locks a file exclusively per process, both ways: a sync holding the file would lock
analysts out, and an analyst's open session would stop the sync. So the sync writes a private
working file and, when a sync ends, publishes it by copy + atomic rename to
`storage.catalogue_path`. Readers (the `query` command, the duckdb CLI, BI tools) open the
published file read-only and always see a whole sync, never half of one; a reader that keeps the
old file open keeps its old snapshot.

Writes go in chunks of `performance.chunk_size` rows, each chunk one transaction, upserting on
the primary keys, so re-running any part of a sync is idempotent. One run at a time writes: see
catalogue/lease.py.
"""

from __future__ import annotations

import collections
import contextlib
import functools
import hashlib
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from ggufsync_assets.catalogue.contract import HEADER_FRAME, MODELS, TABLES, Source
from ggufsync_assets.catalogue.lease import Claim, Holder, Lease, Waiting, process_gone
from ggufsync_assets.catalogue.schema import DDL, SCHEMA_VERSION, VIEWS, migrate
from ggufsync_assets.catalogue.snapshot import open_snapshot
from ggufsync_assets.catalogue.web_exports import files_per_part, write_documents
from ggufsync_assets.gguf.quality import quality_table
from ggufsync_assets.settings import Settings

# What a new listing of a known repo overwrites (discovery_methods merges, see below).
MODEL_UPDATE_COLUMNS = tuple(
    name for name in MODELS.names(Source.LISTING, Source.STAMP) if name != "discovery_methods"
)
SUMMARY_UPDATES = ", ".join(f"{name} = s.{name}" for name in MODELS.names(Source.FILES))

# Written twice in one sync (same last_seen_at): keep the methods of both writes.
MERGED_METHODS = """CASE WHEN models.last_seen_at = EXCLUDED.last_seen_at
    THEN list_sort(list_distinct(list_concat(models.discovery_methods, EXCLUDED.discovery_methods)))
    ELSE EXCLUDED.discovery_methods END"""


@dataclass(frozen=True)
class UpsertCounts:
    added: int = 0
    changed: int = 0
    restored: int = 0
    unchanged: int = 0


class CatalogueWriter:
    """Every write the pipeline makes, each chunk in its own transaction."""

    def __init__(self, con: duckdb.DuckDBPyConnection, chunk_size: int) -> None:
        self.con = con
        self.chunk_size = chunk_size

    @contextlib.contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        self.con.begin()
        try:
            yield self.con
        except BaseException:
            self.con.rollback()
            raise
        self.con.commit()

    def _with_frame(self, name: str, frame: pl.DataFrame) -> contextlib.AbstractContextManager[None]:
        @contextlib.contextmanager
        def registered() -> Iterator[None]:
            self.con.register(name, frame.to_arrow())
            try:
                yield
            finally:
                self.con.unregister(name)

        return registered()

    # ----- sync runs --------------------------------------------------------------------

    def ensure_run(
        self,
        run_id: str,
        *,
        mode: str,
        started_at: datetime,
        dagster_run_id: str | None = None,
        partition_start: str | None = None,
        partition_end: str | None = None,
        complete_pass: bool = False,
        hub: str | None = None,
    ) -> None:
        """The sync_runs row of a run, created by its first step (later steps keep it)."""
        with self.transaction() as con:
            con.execute(
                "INSERT INTO sync_runs (run_id, dagster_run_id, mode, partition_start, partition_end, "
                "started_at, status, complete_pass, hub) VALUES (?, ?, ?, ?, ?, ?, 'running', ?, ?) "
                "ON CONFLICT (run_id) DO NOTHING",
                [
                    run_id,
                    dagster_run_id or run_id,
                    mode,
                    partition_start,
                    partition_end,
                    started_at,
                    complete_pass,
                    hub,
                ],
            )

    def finish_run(
        self,
        run_id: str,
        *,
        status: str,
        finished_at: datetime | None = None,
        error: str | None = None,
        **counts: int,
    ) -> None:
        """Set a run's status (and counts); counts not given keep their value."""
        sets = ", ".join(f"{name} = ?" for name in counts)
        with self.transaction() as con:
            con.execute(
                f"UPDATE sync_runs SET status = ?, finished_at = coalesce(?, finished_at), "  # noqa: S608 - our columns
                f"error = coalesce(?, error){', ' if sets else ''}{sets} WHERE run_id = ?",
                [status, finished_at, error, *counts.values(), run_id],
            )

    def abandon_run(self, run_id: str, *, finished_at: datetime, error: str) -> None:
        """A run that died holding the catalogue is `abandoned` from now on: one still `running`, and
        one that had written `succeeded` but died before it let go (while publishing or exporting)."""
        with self.transaction() as con:
            con.execute(
                "UPDATE sync_runs SET status = 'abandoned', finished_at = ?, error = ? "
                "WHERE run_id = ? AND status IN ('running', 'succeeded')",
                [finished_at, error, run_id],
            )

    def add_run_counts(self, run_id: str, **counts: int) -> None:
        """Add to a run's counters (several steps make API requests and rejects)."""
        sets = ", ".join(f"{name} = coalesce({name}, 0) + ?" for name in counts)
        with self.transaction() as con:
            con.execute(f"UPDATE sync_runs SET {sets} WHERE run_id = ?", [*counts.values(), run_id])  # noqa: S608

    def run(self, run_id: str) -> dict[str, Any] | None:
        rows = self.con.sql("SELECT * FROM sync_runs WHERE run_id = ?", params=[run_id]).fetchall()
        if not rows:
            return None
        columns = [c[0] for c in self.con.sql("DESCRIBE sync_runs").fetchall()]
        return dict(zip(columns, rows[0], strict=True))

    def totals(self) -> dict[str, int]:
        row = self.con.execute(
            """
            SELECT count(*) FILTER (WHERE removed_at IS NULL), count(*) FILTER (WHERE removed_at IS NOT NULL),
                   (SELECT count(*) FROM model_files f JOIN models m USING (repo_id) WHERE m.removed_at IS NULL),
                   coalesce(sum(total_gguf_bytes) FILTER (WHERE removed_at IS NULL), 0)
            FROM models
            """
        ).fetchall()[0]
        return {"repos": row[0], "repos_tombstoned": row[1], "gguf_files": row[2], "gguf_bytes": int(row[3])}

    # ----- models -----------------------------------------------------------------------

    def upsert_models(
        self, frame: pl.DataFrame, *, run_id: str, now: datetime, merge_methods: bool = True
    ) -> UpsertCounts:
        """Insert or update listing rows; every new, changed or restored repo gets a history row.

        With merge_methods, a repo written twice in one sync (found by two strategies) keeps every
        discovery method; otherwise the latest write's methods replace the earlier ones.
        """
        changes: collections.Counter[str] = collections.Counter()
        unchanged = 0
        for chunk in frame.iter_slices(self.chunk_size):
            with self._with_frame("incoming_models", chunk), self.transaction() as con:
                self._retire_other_spellings(con, run_id=run_id, now=now)
                # Every incoming repo that is new, changed or restored gets a history row; the rest
                # (present at the same sha) are unchanged.
                history = con.execute(
                    """
                    INSERT INTO model_history
                    SELECT i.repo_id, ?,
                           CASE WHEN m.repo_id IS NULL THEN 'added'
                                WHEN m.removed_at IS NOT NULL THEN 'restored'
                                ELSE 'changed' END,
                           m.sha, i.sha, ?
                    FROM incoming_models i LEFT JOIN models m USING (repo_id)
                    WHERE m.repo_id IS NULL OR m.removed_at IS NOT NULL OR m.sha IS DISTINCT FROM i.sha
                    RETURNING change
                    """,
                    [now, run_id],
                ).fetchall()
                changes.update(change for (change,) in history)
                unchanged += chunk.height - len(history)
                updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in MODEL_UPDATE_COLUMNS)
                methods = MERGED_METHODS if merge_methods else "EXCLUDED.discovery_methods"
                con.execute(
                    f"""
                    INSERT INTO models BY NAME
                    SELECT *, ? AS first_seen_at FROM incoming_models
                    ON CONFLICT (repo_id) DO UPDATE
                    SET {updates}, discovery_methods = {methods}, removed_at = NULL
                    """,  # noqa: S608 - column names are ours
                    [now],
                )
        return UpsertCounts(changes["added"], changes["changed"], changes["restored"], unchanged)

    @staticmethod
    def _retire_other_spellings(con: duckdb.DuckDBPyConnection, *, run_id: str, now: datetime) -> None:
        """The Hub compares repo ids without case, so a repo renamed by case alone is listed under
        its new spelling: the row under the old one is removed (with a history row), not kept as a
        second copy of the repo."""
        retired = con.execute(
            """
            SELECT m.repo_id, m.sha
            FROM models m JOIN incoming_models i ON lower(m.repo_id) = lower(i.repo_id)
            WHERE m.repo_id <> i.repo_id AND m.removed_at IS NULL
            """
        ).fetchall()
        if retired:  # seldom: one scan of the catalogue finds none
            con.executemany(
                "UPDATE models SET removed_at = ? WHERE repo_id = ?",
                [[now, repo_id] for repo_id, _ in retired],
            )
            con.executemany(
                "INSERT INTO model_history VALUES (?, ?, 'removed', ?, NULL, ?)",
                [[repo_id, now, sha, run_id] for repo_id, sha in retired],
            )

    def repos_modified_since(self, since: datetime) -> list[tuple[str, str | None, list[str]]]:
        return repos_modified_since(self.con, since)

    def repos_needing_files(self, since: datetime | None, until: datetime | None) -> list[tuple[str, str]]:
        """(repo_id, sha) of present repos whose files were never fetched at their current sha."""
        return self.con.execute(
            """
            SELECT repo_id, sha FROM models
            WHERE removed_at IS NULL AND files_sha IS DISTINCT FROM sha
              AND (? IS NULL OR last_modified >= ?) AND (? IS NULL OR last_modified < ?)
            ORDER BY repo_id
            """,
            [since, since, until, until],
        ).fetchall()

    def replace_files(
        self, files: pl.DataFrame, summaries: pl.DataFrame, headers: pl.DataFrame | None = None
    ) -> None:
        """Swap in the file lists of refreshed repos, their per-repo summaries and the GGUF headers
        read from their files, repo by repo.

        `summaries` has one row per refreshed repo (contract.SUMMARY_FRAME); `files` has their
        model_files rows and `headers` their gguf_headers rows (contract.HEADER_FRAME). A repo's old
        and new files never coexist: delete and insert share a transaction. Facts read from headers
        fill the repo's architecture and context length where the Hub's summary had none; they never
        overwrite what the Hub said.
        """
        headers = headers if headers is not None else pl.DataFrame(schema=HEADER_FRAME)
        for chunk in summaries.iter_slices(self.chunk_size):
            repo_ids = chunk.get_column("repo_id").implode()
            with (
                self._with_frame("incoming_summaries", chunk),
                self._with_frame("incoming_files", files.filter(pl.col("repo_id").is_in(repo_ids))),
                self._with_frame("incoming_headers", headers.filter(pl.col("repo_id").is_in(repo_ids))),
                self.transaction() as con,
            ):
                for table, incoming in (
                    ("model_files", "incoming_files"),
                    ("gguf_headers", "incoming_headers"),
                ):
                    con.execute(
                        f"DELETE FROM {table} WHERE repo_id IN (SELECT repo_id FROM incoming_summaries)"  # noqa: S608
                    )
                    con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM {incoming}")  # noqa: S608
                con.execute(
                    f"UPDATE models SET {SUMMARY_UPDATES} "  # noqa: S608 - column names are ours
                    "FROM incoming_summaries s WHERE models.repo_id = s.repo_id"
                )
                con.execute(
                    """
                    UPDATE models SET architecture = coalesce(models.architecture, h.architecture),
                           context_length = coalesce(models.context_length, h.context_length)
                    FROM (SELECT repo_id, any_value(architecture) AS architecture,
                                 max(context_length) AS context_length
                          FROM incoming_headers WHERE error IS NULL GROUP BY repo_id) h
                    WHERE models.repo_id = h.repo_id
                    """
                )

    def completeness_facts(
        self, since: datetime | None, until: datetime | None, card_facts: tuple[str, ...]
    ) -> pl.DataFrame:
        """Per present repo in the window, what the completeness score weighs (sync/completeness.py):
        its tree (current, stale or missing), file and size counts, unreadable headers, listing
        fixes; and whether each of `card_facts` (models columns) holds a value."""
        present = ", ".join(f"{_has_value(name)} AS {name}" for name in card_facts)
        frame: pl.DataFrame = self.con.sql(
            f"""
            SELECT m.repo_id,
                   CASE WHEN m.gguf_file_count IS NULL THEN 'missing'
                        WHEN m.files_sha IS DISTINCT FROM m.sha THEN 'stale'
                        ELSE 'current' END AS tree,
                   coalesce(f.files, 0) AS files,
                   coalesce(f.sized, 0) AS sized,
                   coalesce(f.unreadable_headers, 0) + coalesce(h.unreadable, 0) AS unreadable_headers,
                   coalesce(len(m.listing_fixes), 0) AS fixes,
                   {present}
            FROM models m
            LEFT JOIN (
                SELECT repo_id, count(*) AS files, count(size_bytes) AS sized,
                       count(*) FILTER (WHERE NOT header_ok) AS unreadable_headers
                FROM model_files GROUP BY repo_id
            ) f USING (repo_id)
            LEFT JOIN (
                SELECT repo_id, count(*) AS unreadable FROM gguf_headers WHERE error IS NOT NULL GROUP BY repo_id
            ) h USING (repo_id)
            WHERE m.removed_at IS NULL
              AND (? IS NULL OR m.last_modified >= ?) AND (? IS NULL OR m.last_modified < ?)
            """,  # noqa: S608 - column names are ours
            params=[since, since, until, until],
        ).pl()
        return frame

    def set_completeness(self, scores: pl.DataFrame) -> None:
        """Store each repo's SCORE columns (contract.SCORE_FRAME), in the rows whose scores changed:
        DuckDB rewrites a row of an indexed table whose list column an UPDATE sets (completeness_gaps),
        about half a millisecond a row, and a full sync rescores every repo, nearly all as before."""
        names = MODELS.names(Source.SCORE)
        updates = ", ".join(f"{name} = s.{name}" for name in names)
        changed = " OR ".join(f"models.{name} IS DISTINCT FROM s.{name}" for name in names)
        for chunk in scores.iter_slices(self.chunk_size):
            with self._with_frame("incoming_scores", chunk), self.transaction() as con:
                con.execute(
                    f"UPDATE models SET {updates} FROM incoming_scores s "  # noqa: S608
                    f"WHERE models.repo_id = s.repo_id AND ({changed})"
                )

    def mark_removed(self, *, seen_since: datetime, run_id: str, now: datetime) -> int:
        """After a complete pass: repos not seen since the pass began are gone from the Hub."""
        with self.transaction() as con:
            con.execute(
                """
                INSERT INTO model_history
                SELECT repo_id, ?, 'removed', sha, NULL, ? FROM models
                WHERE removed_at IS NULL AND last_seen_at < ?
                """,
                [now, run_id, seen_since],
            )
            removed = con.execute(
                "UPDATE models SET removed_at = ? WHERE removed_at IS NULL AND last_seen_at < ?",
                [now, seen_since],
            ).fetchone()
        return int(removed[0]) if removed else 0

    def add_rejects(self, rejects: pl.DataFrame) -> None:
        for chunk in rejects.iter_slices(self.chunk_size):
            with self._with_frame("incoming_rejects", chunk), self.transaction() as con:
                con.execute("INSERT INTO rejected_records BY NAME SELECT * FROM incoming_rejects")


class CatalogueStore:
    def __init__(self, path: Path, *, chunk_size: int = 100, memory_limit_mb: int | None = None) -> None:
        self.published = path
        self.working = path.with_name(f".{path.stem}.working{path.suffix}")
        self.lease = Lease(path.with_name(f".{path.stem}.lease"))
        self.exports = path.parent / "exports"
        self.chunk_size = chunk_size
        self.memory_limit_mb = memory_limit_mb

    @classmethod
    def from_settings(cls, settings: Settings) -> CatalogueStore:
        return cls(
            Path(settings.storage.catalogue_path),
            chunk_size=settings.performance.chunk_size,
            memory_limit_mb=duckdb_share_mb(settings.performance.memory_limit_mb),
        )

    def claim(
        self, run_id: str, *, is_dead: Callable[[Holder], bool] = process_gone, waiting: Waiting = None
    ) -> Claim:
        """Hold the catalogue for `run_id` (waiting while another live run holds it). A run's first
        claim brings the working file's schema up to date, once for the whole run."""
        claim = self.lease.claim(run_id, is_dead=is_dead, waiting=waiting)
        if claim.first:
            with self._connection(prepare=True) as con:
                con.execute("CHECKPOINT")
        return claim

    def release(self, run_id: str) -> None:
        self.lease.release(run_id)

    def _limit(self, con: duckdb.DuckDBPyConnection) -> None:
        if self.memory_limit_mb:
            con.execute(f"SET memory_limit = '{int(self.memory_limit_mb)}MiB'")

    @contextlib.contextmanager
    def writer(self) -> Iterator[CatalogueWriter]:
        """Open the working file for one sync step; it is closed (and checkpointed) on exit."""
        with self._connection(prepare=not self.working.exists()) as con:
            yield CatalogueWriter(con, self.chunk_size)
            con.execute("CHECKPOINT")

    @contextlib.contextmanager
    def _connection(self, *, prepare: bool) -> Iterator[duckdb.DuckDBPyConnection]:
        self.working.parent.mkdir(parents=True, exist_ok=True)
        if not self.working.exists() and self.published.exists():
            shutil.copyfile(self.published, self.working)  # carry on from the last published sync
        con = _connect_when_free(self.working)
        try:
            self._limit(con)
            if prepare:
                prepare_schema(con)
            yield con
        finally:
            con.close()

    @contextlib.contextmanager
    def working_reader(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """Read-only SQL on the working file, for checks that score what a run wrote."""
        con = _connect_when_free(self.working, read_only=True)
        try:
            self._limit(con)
            yield con
        finally:
            con.close()

    def publish(self) -> None:
        """Copy the working file over the published one atomically: readers see all or nothing."""
        fd, tmp = tempfile.mkstemp(
            dir=self.published.parent, prefix=f".{self.published.name}.", suffix=".tmp"
        )
        os.close(fd)
        try:
            shutil.copyfile(self.working, tmp)
            with open(tmp, "rb+") as handle:
                os.fsync(handle.fileno())
            os.chmod(tmp, 0o644)
            os.replace(tmp, self.published)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise

    def reader(self) -> duckdb.DuckDBPyConnection:
        """A read-only snapshot of the catalogue as last published (see catalogue/snapshot.py),
        within this store's memory limit: a sync's checks and exports read through it."""
        con = open_snapshot(self.published)
        try:
            self._limit(con)
        except BaseException:
            con.close()
            raise
        return con

    def published_by(self, run_id: str) -> bool:
        """Whether the published catalogue holds `run_id`'s sync_runs row, that is, whether that run
        published it: a run writes its row in the working file and holds the catalogue until it ends,
        so no other run's publish carries the row there while it runs. A published file that does not
        open is no run's."""
        try:
            with self.reader() as con:
                found = con.execute("SELECT 1 FROM sync_runs WHERE run_id = ? LIMIT 1", [run_id]).fetchall()
        except (duckdb.Error, FileNotFoundError):
            return False
        return bool(found)

    def export(self, *, compress: bool) -> list[Path]:
        """Parquet copies of the published tables for tools that do not speak DuckDB, written
        beside the catalogue (zstd-compressed unless performance.enable_data_compression is off),
        and the JSON documents a website serves (catalogue/web_exports.py).

        On one thread: with two, each buffers a row group of its own to keep the rows in order
        (Parquet of 2 million files: 11.6 s and 139 MB with two, 8.7 s and 123 MB with one)."""
        self.exports.mkdir(parents=True, exist_ok=True)
        codec = "zstd" if compress else "uncompressed"
        written = []
        with self.reader() as con:
            con.execute("SET threads = 1")
            for table in EXPORTED_TABLES:
                target = self.exports / f"{table}.parquet"
                partial = target.with_suffix(".parquet.tmp")
                con.execute(f"COPY {table} TO '{partial}' (FORMAT parquet, COMPRESSION {codec})")
                os.replace(partial, target)
                written.append(target)
            written += write_documents(con, self.exports, files_per_part=files_per_part(self.memory_limit_mb))
        return written


EXPORTED_TABLES = tuple(t.name for t in TABLES)
DUCKDB_SHARE = 16
"""DuckDB gets a sixteenth of performance.memory_limit_mb (128 MiB by default); the rest is for
Python, Dagster and HTTP. A sync's DuckDB work is chunked upserts, a few aggregates and streamed
exports, which need little working memory; what a larger share holds is table blocks already read,
so the process grows with the catalogue up to the share. Exports of 200,000 repos (2 million files):
59 s and 194 MB within 128 MiB; 42 s and 572 MB within 512 MiB (the share was a quarter). Upserting
2,000 repos' files into them and the duplicate-key check differ by under a second."""


def duckdb_share_mb(memory_limit_mb: int) -> int:
    return max(memory_limit_mb // DUCKDB_SHARE, 32)


LOCK_WAIT_SECONDS = 600.0


STORAGE_VERSION = "v1.5.0"
"""The storage format a new catalogue file is written in: DuckDB 1.5's (storage version 68), which the
DuckDB 1.x CLIs and libraries users have installed read; DuckDB 2's own format (69) they refuse. A file
keeps the format it was created in."""


def _connect_when_free(path: Path, *, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """DuckDB refuses a file another process holds; wait for it rather than fail the step.

    The lease keeps other runs out; this covers a run's own steps and checks in separate
    processes (a multiprocess executor), bounded by LOCK_WAIT_SECONDS.
    """
    deadline = time.monotonic() + LOCK_WAIT_SECONDS
    delay = 0.05
    while True:
        try:
            con = duckdb.connect(
                str(path), read_only=read_only, config={"storage_compatibility_version": STORAGE_VERSION}
            )
            con.execute("SET enable_progress_bar = false")  # a step's log is no terminal
            return con
        except duckdb.IOException as exc:
            if "lock" not in str(exc).lower() or time.monotonic() > deadline:
                raise
            time.sleep(delay)
            delay = min(delay * 2, 2.0)


def _has_value(column: str) -> str:
    """SQL true when a models column holds a value (a list column: a non-empty one; a flag: true)."""
    kind = MODELS.column(column).sql
    if kind.endswith("[]"):
        return f"coalesce(len(m.{column}), 0) > 0"
    return f"coalesce(m.{column}, false)" if kind == "BOOLEAN" else f"m.{column} IS NOT NULL"


def prepare_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Tables and columns as the contract says, the quantization ranks and the views. A file this
    ggufsync prepared already is left as it is (schema_info carries the fingerprint of what it was
    prepared to), as on every run after the first: rewriting the ranks and views costs a run
    about 0.1 s and a checkpoint."""
    if _prepared_to(con) == schema_fingerprint():
        return
    migrate(con)
    ranks = pl.DataFrame(
        sorted(quality_table().items()),
        schema={"quantization": pl.String, "quality": pl.Float64},
        orient="row",
    )
    con.register("incoming_ranks", ranks.to_arrow())
    con.execute("CREATE OR REPLACE TABLE quantization_ranks AS SELECT * FROM incoming_ranks")
    con.unregister("incoming_ranks")
    con.execute(VIEWS)
    con.execute(f"COMMENT ON TABLE schema_info IS '{schema_fingerprint()}'")


@functools.cache
def schema_fingerprint() -> str:
    """What prepare_schema makes of a file: the schema version, the tables, the views and the ranks."""
    made = repr((SCHEMA_VERSION, DDL, VIEWS, sorted(quality_table().items())))
    return hashlib.sha256(made.encode()).hexdigest()[:16]


def _prepared_to(con: duckdb.DuckDBPyConnection) -> str | None:
    found = con.execute(
        "SELECT comment FROM duckdb_tables() "
        "WHERE database_name = current_database() AND schema_name = 'main' AND table_name = 'schema_info'"
    ).fetchall()
    return str(found[0][0]) if found and found[0][0] is not None else None


def repos_modified_since(
    con: duckdb.DuckDBPyConnection, since: datetime
) -> list[tuple[str, str | None, list[str]]]:
    """(repo_id, author, tags) of the present repos last modified at or after `since`: what a
    listing of that window finds again, before anything modified since the last sync."""
    rows = con.execute(
        "SELECT repo_id, author, tags FROM models WHERE removed_at IS NULL AND last_modified >= ?",
        [since],
    ).fetchall()
    return [(repo_id, author, list(tags or ())) for repo_id, author, tags in rows]


def catalogue_hub(con: duckdb.DuckDBPyConnection) -> str | None:
    """The Hub of the catalogue's last successful run that recorded one (None before any, or in a
    catalogue published before sync_runs had the column)."""
    try:
        found = con.execute(
            "SELECT hub FROM sync_runs WHERE status = 'succeeded' AND hub IS NOT NULL "
            "ORDER BY started_at DESC LIMIT 1"
        ).fetchall()
    except duckdb.BinderException:
        return None
    return str(found[0][0]) if found else None
