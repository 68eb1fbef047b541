"""The files and listing steps overlap Hub requests with catalogue writes, without losing order or errors."""

import asyncio
import contextlib
import threading
import time

import pytest

from ggufsync_assets.settings import Settings
from ggufsync_assets.sync.listing import batch_ready
from ggufsync_assets.sync.refresh import as_finished
from ggufsync_assets.sync.writer import WriteBehind

HUNG = 60.0
"""Seconds after which waiting for what should happen at once counts as a hung test."""


def test_writes_run_one_at_a_time_in_the_order_submitted() -> None:
    done: list[int] = []
    running = threading.Semaphore(1)

    def write(n: int) -> None:
        assert running.acquire(blocking=False), "two writes ran at once"
        time.sleep(0.01)
        done.append(n)
        running.release()

    async def main() -> None:
        with WriteBehind() as writes:
            for n in range(5):
                await writes.submit(lambda n=n: write(n))
            await writes.settle()

    asyncio.run(main())
    assert done == [0, 1, 2, 3, 4]


def test_a_failed_write_fails_the_next_submit() -> None:
    def broken() -> None:
        raise OSError("disk full")

    async def main() -> None:
        with WriteBehind() as writes:
            await writes.submit(broken)
            await writes.submit(lambda: None)

    with pytest.raises(OSError, match="disk full"):
        asyncio.run(main())


def test_leaving_the_block_waits_for_the_running_write() -> None:
    finished = threading.Event()

    def slow() -> None:
        time.sleep(0.2)
        finished.set()

    async def main() -> None:
        with WriteBehind() as writes:
            await writes.submit(slow)
            raise RuntimeError("the step failed")

    with pytest.raises(RuntimeError):
        asyncio.run(main())
    assert finished.is_set()


def test_fetches_come_back_as_they_finish_with_a_bounded_number_in_flight() -> None:
    in_flight, peak = 0, 0

    async def main() -> list[str]:
        others_back = asyncio.Event()

        async def fetch(repo_id: str, _: str) -> str:
            nonlocal in_flight, peak
            in_flight += 1
            peak = max(peak, in_flight)
            if repo_id == "slow":  # still running until the others have come back (or never would)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(others_back.wait(), HUNG)
            else:
                await asyncio.sleep(0)
            in_flight -= 1
            return repo_id

        finished: list[str] = []
        todo = [("slow", ""), ("a", ""), ("b", ""), ("c", ""), ("d", "")]
        async for repo in as_finished(todo, fetch, 2):
            finished.append(repo)
            if len(finished) == len(todo) - 1:
                others_back.set()
        return finished

    finished = asyncio.run(main())
    assert finished[-1] == "slow"
    assert sorted(finished) == ["a", "b", "c", "d", "slow"]
    assert peak == 2


def test_fetches_still_running_are_cancelled_when_the_step_stops() -> None:
    cancelled = 0

    async def fetch(repo_id: str, _: str) -> str:
        nonlocal cancelled
        try:
            await asyncio.sleep(0 if repo_id == "first" else 10)
        except asyncio.CancelledError:
            cancelled += 1
            raise
        return repo_id

    async def main() -> None:
        todo = [("first", ""), ("x", ""), ("y", "")]
        fetched = as_finished(todo, fetch, 3)
        assert await anext(fetched) == "first"
        await fetched.aclose()

    asyncio.run(main())
    assert cancelled == 2


def _listing_settings(*, streaming: bool = True, deduplication: bool = True) -> Settings:
    return Settings(
        performance={"enable_streaming_processing": streaming, "chunk_size": 100},
        sync_behavior={"enable_deduplication": deduplication},
    )


def _ready(strategy_done: bool, rows: int, *, writing: bool, settings: Settings) -> bool:
    """batch_ready with the writer idle, or busy with a write that waits for the answer."""
    release = threading.Event()

    async def main() -> bool:
        with WriteBehind() as writes:
            if writing:
                await writes.submit(lambda: release.wait(HUNG) and None)
            try:
                return batch_ready(strategy_done, rows, writes, settings)
            finally:
                release.set()

    return asyncio.run(main())


def test_streaming_rows_go_at_once_to_an_idle_writer() -> None:
    assert _ready(False, 3, writing=False, settings=_listing_settings())


def test_streaming_rows_that_arrive_during_a_write_wait_to_join_the_next_batch() -> None:
    assert not _ready(False, 3, writing=True, settings=_listing_settings())
    assert not _ready(True, 3, writing=True, settings=_listing_settings())


def test_streaming_a_chunk_of_rows_goes_even_while_a_write_runs() -> None:
    assert _ready(False, 100, writing=True, settings=_listing_settings())


def test_without_deduplication_a_strategys_rows_go_at_its_end() -> None:
    assert _ready(True, 3, writing=True, settings=_listing_settings(streaming=False, deduplication=False))


def test_without_streaming_rows_wait_for_the_end_of_the_listing() -> None:
    assert not _ready(False, 5000, writing=False, settings=_listing_settings(streaming=False))
    assert not _ready(True, 5000, writing=False, settings=_listing_settings(streaming=False))
