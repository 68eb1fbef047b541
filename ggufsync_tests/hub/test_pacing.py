"""Pacing against the Hub's advertised budget: full speed while it covers the declared work, spread
evenly when the work would outrun it, nothing sent once a window is spent."""

from __future__ import annotations

import asyncio

import pytest

from ggufsync_assets.hub.pacing import RequestPacer

WINDOW = 300
HEADERS = {
    "ratelimit": f'"api";r=100;t={WINDOW}',
    "ratelimit-policy": f'"fixed window";"api";q=500;w={WINDOW}',
}


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def pacer_after_one_answer(clock: Clock) -> RequestPacer:
    pacer = RequestPacer(1000.0, 10_000_000, clock=clock)
    pacer.observe("api", HEADERS)
    return pacer


def waits(pacer: RequestPacer, requests: int) -> list[float]:
    """The delay before each of up to `requests` requests sent back to back while the clock stands
    still; stops at the first request that would have to wait."""

    async def send() -> list[float]:
        found: list[float] = []
        for _ in range(requests):
            found.append(pacer.delay("api"))
            if found[-1] > 0:
                break
            await pacer.acquire("api")
            pacer.release("api")
        return found

    return asyncio.run(send())


def test_declared_work_the_budget_covers_goes_without_waiting() -> None:
    clock = Clock()
    pacer = pacer_after_one_answer(clock)
    pacer.expect("api", 80)
    assert waits(pacer, 80) == [0.0] * 80


def test_undeclared_work_is_spread_over_the_window() -> None:
    clock = Clock()
    pacer = pacer_after_one_answer(clock)
    found = waits(pacer, 2)
    assert found == [0.0, pytest.approx(WINDOW / 99)]  # the 99 requests left, over the window


def test_work_larger_than_the_budget_is_spread_over_the_window() -> None:
    clock = Clock()
    pacer = pacer_after_one_answer(clock)
    pacer.expect("api", 150)
    assert waits(pacer, 2)[-1] > 0


def test_once_the_declared_work_is_done_the_rest_is_spread_again() -> None:
    clock = Clock()
    pacer = pacer_after_one_answer(clock)
    pacer.expect("api", 3)
    found = waits(pacer, 5)
    assert found[:3] == [0.0, 0.0, 0.0]
    assert found[3] > 0


def test_a_spent_window_holds_everything_until_it_resets() -> None:
    clock = Clock()
    pacer = RequestPacer(1000.0, 10_000_000, clock=clock)
    pacer.observe("api", {"ratelimit": '"api";r=0;t=40'})
    pacer.expect("api", 1)
    assert waits(pacer, 1)[0] >= 40
