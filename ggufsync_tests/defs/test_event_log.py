"""The instance ggufsync writes for itself records a partition range's materializations in one batch,
and what it records is what Dagster's stock SQLite storage records event by event."""

import os
import warnings
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest
import sqlalchemy as sa
from dagster._core.storage.asset_check_execution_record import AssetCheckExecutionRecordStatus
from dagster._core.storage.event_log.schema import AssetCheckExecutionsTable, SqlEventLogStorageTable
from dagster.version import __version__ as dagster_version

from ggufsync_assets.defs.event_log import (
    BATCH_SIZE_VARIABLE,
    KEPT_CONNECTIONS,
    BatchingSqliteEventLogStorage,
)
from ggufsync_assets.defs.instance import dagster_home

DAYS = dg.DailyPartitionsDefinition(start_date="2026-01-01", end_date="2026-03-01")
KEYS = DAYS.get_partition_keys()


with warnings.catch_warnings():  # backfill_policy is beta in Dagster 1.13
    warnings.simplefilter("ignore", dg.BetaWarning)

    @dg.asset(partitions_def=DAYS, backfill_policy=dg.BackfillPolicy.single_run())
    def upstream() -> dg.MaterializeResult[None]:
        return dg.MaterializeResult()

    @dg.asset(partitions_def=DAYS, backfill_policy=dg.BackfillPolicy.single_run(), deps=[upstream])
    def downstream() -> dg.MaterializeResult[None]:
        return dg.MaterializeResult(tags={"source": "test"})


@dg.asset_check(asset=downstream)
def downstream_check() -> dg.AssetCheckResult:
    return dg.AssetCheckResult(passed=True)


JOB = dg.Definitions(
    assets=[upstream, downstream], asset_checks=[downstream_check]
).resolve_implicit_global_asset_job_def()
RANGE = {"dagster/asset_partition_range_start": KEYS[0], "dagster/asset_partition_range_end": KEYS[-1]}
ASSETS = (dg.AssetKey("upstream"), dg.AssetKey("downstream"))


@pytest.fixture
def ggufsync_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "ggufsync_home"))
    monkeypatch.delenv(BATCH_SIZE_VARIABLE, raising=False)
    return dagster_home()


@pytest.fixture
def stock_home(tmp_path: Path) -> Path:
    home = tmp_path / "stock_home"
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    return home


def materialize_range(home: Path) -> Iterator[dg.DagsterInstance]:
    with dg.DagsterInstance.from_config(str(home)) as instance:
        assert JOB.execute_in_process(instance=instance, tags=RANGE).success
        yield instance


def records(instance: dg.DagsterInstance, key: dg.AssetKey) -> list[tuple[str | None, list[str]]]:
    """Each materialization's partition and tag names (tag values name the run, so they differ)."""
    found = instance.fetch_materializations(key, limit=1000, ascending=True).records
    return [
        (r.partition_key, sorted(r.asset_materialization.tags or {}))
        for r in found
        if r.asset_materialization
    ]


def check_rows(instance: dg.DagsterInstance) -> list[tuple[str | None, str]]:
    """The check's execution rows: one per planned partition, each with its status."""
    with instance.event_log_storage.index_connection() as conn:  # type: ignore[attr-defined]
        rows = conn.execute(
            AssetCheckExecutionsTable.select().order_by(AssetCheckExecutionsTable.c.partition)
        ).fetchall()
    return [(row.partition, row.execution_status) for row in rows]


def test_the_written_instance_uses_the_batching_storage(ggufsync_home: Path) -> None:
    with dg.DagsterInstance.from_config(str(ggufsync_home)) as instance:
        assert isinstance(instance.event_log_storage, BatchingSqliteEventLogStorage)


def test_opening_the_instance_turns_on_event_batches(ggufsync_home: Path) -> None:
    with dg.DagsterInstance.from_config(str(ggufsync_home)):
        assert int(os.environ[BATCH_SIZE_VARIABLE]) >= len(KEYS)


def test_every_partition_of_the_range_is_materialized(ggufsync_home: Path) -> None:
    for instance in materialize_range(ggufsync_home):
        for key in ASSETS:
            assert instance.get_materialized_partitions(key) == set(KEYS)


def test_materializations_match_the_stock_storage(ggufsync_home: Path, stock_home: Path) -> None:
    for batched in materialize_range(ggufsync_home):
        for stock in materialize_range(stock_home):
            assert not isinstance(stock.event_log_storage, BatchingSqliteEventLogStorage)
            for key in ASSETS:
                assert records(batched, key) == records(stock, key)
            assert check_rows(batched) == check_rows(stock)


def test_the_asset_record_holds_the_last_partition(ggufsync_home: Path) -> None:
    for instance in materialize_range(ggufsync_home):
        for key in ASSETS:
            latest = instance.get_latest_materialization_event(key)
            assert latest is not None
            assert latest.dagster_event is not None
            assert latest.dagster_event.partition == KEYS[-1]


def test_storage_ids_follow_the_partitions(ggufsync_home: Path) -> None:
    for instance in materialize_range(ggufsync_home):
        found = instance.fetch_materializations(ASSETS[1], limit=1000, ascending=True).records
        assert [r.partition_key for r in found] == KEYS
        assert [r.storage_id for r in found] == sorted({r.storage_id for r in found})


def test_each_indexed_tag_points_at_its_own_materialization(ggufsync_home: Path) -> None:
    for instance in materialize_range(ggufsync_home):
        with instance.event_log_storage.index_connection() as conn:  # type: ignore[attr-defined]
            pointed = conn.execute(
                sa.text(
                    "SELECT t.asset_key, e.asset_key, e.dagster_event_type, t.event_timestamp, e.timestamp "
                    "FROM asset_event_tags t LEFT JOIN event_logs e ON e.id = t.event_id"
                )
            ).fetchall()
        assert len(pointed) >= len(ASSETS) * len(KEYS)
        for tag_asset, event_asset, event_type, tag_time, event_time in pointed:
            assert (event_asset, event_type, event_time) == (tag_asset, "ASSET_MATERIALIZATION", tag_time)


def test_a_range_is_planned_once_per_asset(ggufsync_home: Path) -> None:
    for instance in materialize_range(ggufsync_home):
        [run] = instance.get_runs()
        planned = instance.all_logs(run.run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION_PLANNED)
        assert sorted(str(e.dagster_event.asset_key) for e in planned if e.dagster_event) == sorted(
            map(str, ASSETS)
        )


def test_check_results_are_stored_as_usual(ggufsync_home: Path) -> None:
    for instance in materialize_range(ggufsync_home):
        check = dg.AssetCheckKey(ASSETS[1], "downstream_check")
        [record] = instance.event_log_storage.get_asset_check_execution_history(check, limit=1)
        assert record.status is AssetCheckExecutionRecordStatus.SUCCEEDED


def test_another_instance_reads_every_run_while_this_one_keeps_its_connections(ggufsync_home: Path) -> None:
    runs = KEPT_CONNECTIONS + 2
    with dg.DagsterInstance.from_config(str(ggufsync_home)) as writer:
        for _ in range(runs):
            assert JOB.execute_in_process(instance=writer, tags=RANGE).success
        with dg.DagsterInstance.from_config(str(ggufsync_home)) as reader:
            finished = reader.get_runs()
            assert len(finished) == runs
            for run in finished:
                assert reader.all_logs(run.run_id, of_type=dg.DagsterEventType.RUN_SUCCESS)


def _insert_then_fail(storage: BatchingSqliteEventLogStorage) -> None:
    with storage.index_connection() as conn:
        conn.execute(SqlEventLogStorageTable.insert().values(run_id="r", event="{}", dagster_event_type=None))
        raise RuntimeError("a failure inside the write")


def test_a_write_that_fails_midway_leaves_nothing(ggufsync_home: Path) -> None:
    with dg.DagsterInstance.from_config(str(ggufsync_home)) as instance:
        storage = instance.event_log_storage
        assert isinstance(storage, BatchingSqliteEventLogStorage)
        count = sa.select(sa.func.count()).select_from(SqlEventLogStorageTable)
        with storage.index_connection() as conn:
            before = conn.execute(count).scalar()
        with pytest.raises(RuntimeError):
            _insert_then_fail(storage)
        with storage.index_connection() as conn:
            assert conn.execute(count).scalar() == before


def _run_file(home: Path) -> sa.Engine:
    """The file of the one run `materialize_range` made in `home`."""
    with dg.DagsterInstance.from_config(str(home)) as instance:
        [run] = instance.get_runs()
    return sa.create_engine(
        f"sqlite:///{home / 'history' / 'runs' / f'{run.run_id}.db'}", poolclass=sa.NullPool
    )


def _layout(engine: sa.Engine) -> tuple[object, ...]:
    with engine.connect() as conn:
        return (
            conn.execute(
                sa.text("SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY name")
            ).fetchall(),
            conn.execute(sa.text("SELECT version_num FROM alembic_version")).fetchall(),
            conn.execute(sa.text("PRAGMA journal_mode")).scalar(),
        )


def test_a_new_runs_file_is_laid_out_as_the_stock_storage_makes_it(
    ggufsync_home: Path, stock_home: Path
) -> None:
    for home in (ggufsync_home, stock_home):
        for _ in materialize_range(home):
            pass

    assert _layout(_run_file(ggufsync_home)) == _layout(_run_file(stock_home))


def test_new_runs_files_are_copies_of_one_empty_file_made_once(ggufsync_home: Path) -> None:
    with dg.DagsterInstance.from_config(str(ggufsync_home)) as instance:
        for _ in range(3):
            assert JOB.execute_in_process(instance=instance, tags=RANGE).success
        runs = ggufsync_home / "history" / "runs"
        assert [path.name for path in runs.glob(".*")] == [f".new-run-{dagster_version}.sqlite"]
        assert len(list(runs.glob("*.db"))) == 3 + 1  # and the index
