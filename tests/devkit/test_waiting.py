"""`eventually`: the one polling loop of tests and benchmarks waits, answers, and explains."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable

import pytest

from devkit.waiting import NotYet, eventually, eventually_async


def counter(ready_at: int) -> Callable[[], int]:
    """A probe whose value grows by one a call: ready from the `ready_at`-th call."""
    calls = {"n": 0}

    def probe() -> int:
        calls["n"] += 1
        return calls["n"] if calls["n"] >= ready_at else 0

    return probe


def test_returns_the_first_good_value() -> None:
    assert eventually(counter(3), timeout=5, interval=0.01) == 3


def test_until_decides_what_good_means() -> None:
    values = iter([["hi"], ["hi"], ["hi", "thanks"]])
    got = eventually(lambda: next(values), until=lambda t: t == ["hi", "thanks"], interval=0)
    assert got == ["hi", "thanks"]


def test_timeout_names_what_was_awaited_and_the_last_value() -> None:
    started = time.monotonic()
    with pytest.raises(NotYet) as caught:
        eventually(lambda: ["hi"], until=lambda t: len(t) == 2, timeout=0.3, interval=0.05,
                   what="both stored messages")  # fmt: skip
    assert time.monotonic() - started < 2
    assert "both stored messages" in str(caught.value)
    assert "['hi']" in str(caught.value)
    assert caught.value.last == ["hi"]
    assert isinstance(caught.value, AssertionError)  # pytest shows it as a failed check


def test_ignored_errors_mean_not_yet_and_are_reported_last() -> None:
    def refused() -> int:
        raise ConnectionRefusedError("still starting")

    with pytest.raises(NotYet, match="still starting"):
        eventually(refused, timeout=0.2, interval=0.05, ignore=(OSError,))


def test_other_errors_end_the_wait_at_once() -> None:
    def exited() -> int:
        raise RuntimeError("server exited with 1")

    started = time.monotonic()
    with pytest.raises(RuntimeError, match="exited"):
        eventually(exited, timeout=10, ignore=(OSError,))
    assert time.monotonic() - started < 1


def test_a_zero_timeout_still_looks_once() -> None:
    assert eventually(lambda: "up", timeout=0) == "up"


def test_async_flavour_lets_the_loop_fill_what_it_watches() -> None:
    async def scenario() -> list[str]:
        pings: list[str] = []
        asyncio.get_running_loop().call_later(0.1, pings.append, "ping")
        return await eventually_async(lambda: pings, timeout=5, interval=0.02)

    assert asyncio.run(scenario()) == ["ping"]


def test_async_flavour_times_out_clearly() -> None:
    with pytest.raises(NotYet, match=re.escape("a ping not reached within 0.2 s; last seen: []")):
        asyncio.run(eventually_async(lambda: [], timeout=0.2, interval=0.05, what="a ping"))
