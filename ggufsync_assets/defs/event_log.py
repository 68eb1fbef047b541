"""Dagster's SQLite event log, tuned for runs that materialize a whole partition range.

A sync runs a whole partition range as one run, and Dagster records one materialization per
partition and asset (3 x 1,219 for a full sync). The stock SQLite storage writes each event on its
own: a new engine, two transactions and two fsyncs per event, about a minute per full sync. Dagster
hands a partitioned output's events over as one batch when DAGSTER_EVENT_BATCH_SIZE is set (the
path its hosted storages use); this storage writes such a batch in one transaction per database
file. Rows, indexes and the asset table end up exactly as event-by-event writes leave them.
A check planned for a range gets one row per partition, as in the stock storage, with the event
serialized once rather than once per row. Anything else (run, step and check results) goes
through the stock path.

The stock storage also makes a new engine and SQLite connection for every event it writes or
reads; this one keeps a connection open per file for the cross-run index and the latest runs,
used under the storage's lock as the stock ones are (an incremental sync: about a tenth faster).
A new run's file is a copy of an empty one made once per Dagster version (`.new-run-<version>.sqlite`
beside the runs), where the stock storage creates and version-stamps each: 0.2 s a run here.

Before a run starts, Dagster also records one "planned" event per partition, asset and check
(about 4,900 for a full sync); this storage asks for one per asset for the range instead. Its cost,
as Dagster documents it: a run that fails does not mark its partitions failed in the UI (they keep
their last materialization); the failure still shows on the run, in sync_runs and through the
alert sensor.
"""

import os
import shutil
from collections import OrderedDict
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, Self

from dagster._core.definitions.asset_checks.asset_check_evaluation import AssetCheckEvaluationPlanned
from dagster._core.events import ASSET_EVENTS
from dagster._core.events.log import EventLogEntry
from dagster._core.storage.asset_check_execution_record import AssetCheckExecutionRecordStatus
from dagster._core.storage.event_log.schema import AssetCheckExecutionsTable, SqlEventLogStorageTable
from dagster._core.storage.event_log.sqlite.sqlite_event_log import INDEX_SHARD_NAME, SqliteEventLogStorage
from dagster._core.storage.sqlite import SQLITE_BUSY_TIMEOUT_SECONDS
from dagster._serdes import ConfigurableClassData, serialize_value
from dagster.version import __version__ as dagster_version
from sqlalchemy import Connection, Engine, create_engine
from sqlalchemy.dialects import sqlite
from sqlalchemy.pool import NullPool, StaticPool

BATCH_SIZE_VARIABLE = "DAGSTER_EVENT_BATCH_SIZE"
BATCH_SIZE = 10_000
"""Events Dagster buffers before it writes a batch: more than a full sync's partitions per asset."""
PLANNED_EVENTS_VARIABLE = "DAGSTER_EMIT_PARTITION_SUBSET_IN_PLANNED_EVENTS"
KEPT_CONNECTIONS = 4
"""SQLite files a process keeps a connection to: the index and the runs it touched last."""


class BatchingSqliteEventLogStorage(SqliteEventLogStorage):
    """SqliteEventLogStorage with a real `store_event_batch`; configured by ggufsync's dagster.yaml.

    Its files are where the stock storage keeps them (`history/runs/` in the instance's home), so a
    home can switch between the two. Dagster reads the batch size from the environment of the
    process that executes a run; every process that opens this instance sets it unless it is set."""

    def __init__(self, base_dir: str, inst_data: ConfigurableClassData | None = None) -> None:
        os.environ.setdefault(BATCH_SIZE_VARIABLE, str(BATCH_SIZE))
        self._engines: OrderedDict[str, Engine] = OrderedDict()
        self._engines_pid = os.getpid()
        super().__init__(base_dir, inst_data=inst_data)

    @classmethod
    def from_config_value(
        cls, inst_data: ConfigurableClassData | None, config_value: Mapping[str, Any]
    ) -> Self:
        return cls(config_value["base_dir"], inst_data=inst_data)

    @property
    def supports_partition_subset_in_asset_materialization_planned_events(self) -> bool:
        return os.environ.get(PLANNED_EVENTS_VARIABLE, "true").lower() != "false"

    @contextmanager
    def _connect(self, shard: str) -> Iterator[Connection]:
        with self._db_lock, self._engine(shard).connect() as conn, conn.begin():
            yield conn

    def _engine(self, shard: str) -> Engine:
        """One engine per SQLite file, holding one connection; the least recently used beyond
        KEPT_CONNECTIONS is closed. A forked process opens its own (SQLite connections do not
        survive a fork)."""
        if self._engines_pid != os.getpid():
            self._engines, self._engines_pid = OrderedDict(), os.getpid()
        engine = self._engines.pop(shard, None)
        if engine is None:
            if shard not in self._initialized_dbs:
                if not self._copy_new_run(shard):
                    self._initdb(self._engine_for(shard, NullPool))
                self._initialized_dbs.add(shard)
            engine = self._engine_for(shard, StaticPool)
        self._engines[shard] = engine
        while len(self._engines) > KEPT_CONNECTIONS:
            self._engines.popitem(last=False)[1].dispose()
        return engine

    def _engine_for(self, shard: str, pool: type[NullPool] | type[StaticPool]) -> Engine:
        # The storage's lock keeps the one connection to one thread at a time.
        connect_args = {"timeout": SQLITE_BUSY_TIMEOUT_SECONDS, "check_same_thread": False}
        return create_engine(self.conn_string_for_shard(shard), poolclass=pool, connect_args=connect_args)

    def _copy_new_run(self, shard: str) -> bool:
        """A run's file that does not exist yet, made as a copy of the empty one (made first if
        missing); False for the index, or a file that exists (the stock check then applies)."""
        path = self.path_for_shard(shard)
        if shard == INDEX_SHARD_NAME or os.path.exists(path):
            return False
        template = os.path.join(self._base_dir, f".new-run-{dagster_version}.sqlite")
        if not os.path.exists(template):
            making = f"{template}.{os.getpid()}.tmp"
            engine = create_engine(f"sqlite:///{making}", poolclass=NullPool)
            try:
                self._initdb(engine)  # as the stock storage makes a run's file, WAL mode included
            finally:
                engine.dispose()
            os.replace(making, template)
        copying = os.path.join(self._base_dir, f".{shard}.{os.getpid()}.tmp")
        shutil.copyfile(template, copying)
        try:
            os.link(copying, path)  # never over a file another process made meanwhile
        except FileExistsError:
            pass
        finally:
            os.unlink(copying)
        return True

    def dispose(self) -> None:
        with self._db_lock:
            while self._engines:
                self._engines.popitem()[1].dispose()
        super().dispose()

    def store_event_batch(self, events: Sequence[EventLogEntry]) -> None:
        if not _one_run_of_asset_events(events):
            super().store_event_batch(events)
            return
        rows = [self._event_to_row(event) for event in events]
        with self.run_connection(events[0].run_id) as conn:
            _insert_rows(conn, rows)
        # The index shard numbers events across runs; its ids are the storage ids readers see.
        with self.index_transaction() as conn:
            ids = _insert_rows(conn, rows)
            self._store_asset_event_tags(conn, events, ids)
            # The asset table keeps each asset's latest event: write each asset's last one only.
            latest = {
                _asset_key(event): (event, event_id) for event, event_id in zip(events, ids, strict=True)
            }
            for event, event_id in latest.values():
                self._store_asset_event(conn, event, event_id)

    def _store_asset_check_evaluation_planned(self, event: EventLogEntry, event_id: int | None) -> None:
        planned = event.get_dagster_event().event_specific_data
        assert isinstance(planned, AssetCheckEvaluationPlanned)
        partitions = planned.partitions_subset.get_partition_keys() if planned.partitions_subset else [None]
        row = {
            "asset_key": planned.asset_key.to_string(),
            "check_name": planned.check_name,
            "run_id": event.run_id,
            "execution_status": AssetCheckExecutionRecordStatus.PLANNED.value,
            "evaluation_event": serialize_value(event),
            "evaluation_event_timestamp": datetime.fromtimestamp(event.timestamp, UTC).replace(tzinfo=None),
            "evaluation_event_storage_id": event_id,
        }
        with self.index_connection() as conn:
            conn.execute(
                AssetCheckExecutionsTable.insert(), [{**row, "partition": key} for key in partitions]
            )


_COLUMNS = ["run_id", "event", "dagster_event_type", "timestamp", "step_key", "asset_key", "partition"]
_INSERT = str(SqlEventLogStorageTable.insert().compile(dialect=sqlite.dialect(), column_keys=_COLUMNS))


def _insert_rows(conn: Connection, rows: Sequence[Mapping[str, Any]]) -> list[int]:
    """`rows` inserted by the driver's executemany, and their ids: SQLAlchemy's own batch insert builds
    every row's parameters in Python (a third of the time a range's materializations take to write).
    The transaction holds SQLite's write lock from the first row, so the ids are the consecutive ones
    up to the last."""
    stored = SqlEventLogStorageTable.c.timestamp.type.dialect_impl(conn.dialect).bind_processor(conn.dialect)
    assert stored is not None  # SQLite keeps datetimes as text, in SQLAlchemy's format
    conn.exec_driver_sql(
        _INSERT,
        [tuple(stored(r[c]) if c == "timestamp" else r[c] for c in _COLUMNS) for r in rows],
    )
    last = int(conn.exec_driver_sql("SELECT last_insert_rowid()").scalar_one())
    return list(range(last - len(rows) + 1, last + 1))


def _one_run_of_asset_events(events: Sequence[EventLogEntry]) -> bool:
    return len({event.run_id for event in events}) == 1 and all(
        event.dagster_event is not None
        and event.dagster_event.event_type in ASSET_EVENTS
        and event.dagster_event.asset_key is not None
        for event in events
    )


def _asset_key(event: EventLogEntry) -> str:
    dagster_event = event.get_dagster_event()
    assert dagster_event.asset_key is not None
    return dagster_event.asset_key.to_string()
