"""How much a header read asks for: learned from the headers a sync has already read."""

from __future__ import annotations

from collections.abc import Callable

from ggufsync_assets.hubsim import HubSimulator
from ggufsync_assets.sync.headers import HEADER_FIRST_READ, LEARNED_FROM, FirstReads
from ggufsync_tests.sync.conftest import Sync

MIB = 1024 * 1024


def test_the_first_reads_ask_for_256_kib_until_enough_headers_are_known() -> None:
    reads = FirstReads()
    for _ in range(LEARNED_FROM - 1):
        reads.add(3 * MIB)
    assert reads.length() == HEADER_FIRST_READ


def test_then_a_first_read_covers_nine_headers_in_ten_with_a_margin() -> None:
    reads = FirstReads()
    for size in range(1, 101):
        reads.add(size * 100_000)
    assert 9_000_000 * 1.1 <= reads.length() <= 10_000_000 * 1.1


def test_a_first_read_never_asks_for_less_than_256_kib() -> None:
    reads = FirstReads()
    for _ in range(LEARNED_FROM * 2):
        reads.add(1000)
    assert reads.length() == HEADER_FIRST_READ


def test_once_a_sync_has_read_a_few_headers_most_take_one_range_request(
    hub_sim_factory: Callable[..., HubSimulator], sync_factory: Callable[..., Sync]
) -> None:
    sim = hub_sim_factory(repos=40, api_quota=100_000, resolvers_quota=100_000)
    sync = sync_factory(sim, gguf_headers={"read": True}, performance={"enable_parallel_processing": False})
    sync.list()
    sync.refresh()
    requests = [
        count for (count,) in sync.rows("SELECT range_requests FROM gguf_headers WHERE error IS NULL")
    ]
    learned = len(requests) - LEARNED_FROM
    assert learned >= 20
    assert requests.count(1) >= 0.75 * learned, sorted(requests)
