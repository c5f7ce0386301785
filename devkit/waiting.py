"""Wait until something outside this process has happened: one polling loop for tests and benches.

A server that is still starting, a row Rasa writes after it has answered, a browser that
renders a moment later: each is checked by calling a probe until its value is good. The
probe's exceptions of the `ignore` types count as "not yet" (a refused connection while a
server starts); any other exception is a real error and ends the wait at once (a server
process that exited). On timeout the error names what was awaited and the last value or
exception seen, which is usually all one needs to see why.

    eventually(lambda: user_texts(engine, sid), until=lambda texts: texts == ["hi"],
               timeout=10, what="the stored messages")
    await eventually_async(lambda: pings, until=any, timeout=15, what="a ping")
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

T = TypeVar("T")

_MISSING: Any = object()


class NotYet(AssertionError):
    """The condition was still false at the timeout.

    An AssertionError, so that pytest reports it as a failed expectation, with the last
    value seen (`last`) in the message.
    """

    def __init__(self, what: str, timeout: float, last: Any) -> None:
        seen = "nothing (the probe never ran)" if last is _MISSING else repr(last)
        super().__init__(f"{what} not reached within {timeout:g} s; last seen: {seen}")
        self.last = None if last is _MISSING else last


def _truthy(value: Any) -> bool:
    return bool(value)


def eventually(
    probe: Callable[[], T],
    *,
    until: Callable[[T], bool] = _truthy,
    timeout: float = 10.0,
    interval: float = 0.2,
    what: str = "the condition",
    ignore: tuple[type[BaseException], ...] = (),
) -> T:
    """Call `probe` every `interval` seconds until `until(value)` holds; return that value.

    Raises NotYet after `timeout` seconds. The probe always runs at least once, and once
    more at the deadline, so a short timeout on a slow machine still gets a last look.
    """
    deadline = time.monotonic() + timeout
    last: Any = _MISSING
    while True:
        try:
            value = probe()
        except ignore as error:
            last = error
        else:
            if until(value):
                return value
            last = value
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise NotYet(what, timeout, last)
        time.sleep(min(interval, remaining))


async def eventually_async(
    probe: Callable[[], T | Awaitable[T]],
    *,
    until: Callable[[T], bool] = _truthy,
    timeout: float = 10.0,
    interval: float = 0.2,
    what: str = "the condition",
    ignore: tuple[type[BaseException], ...] = (),
) -> T:
    """`eventually` for code on an event loop: waits with asyncio.sleep, so the loop keeps
    serving (e.g. socket.io handlers that fill what the probe looks at). The probe may be a
    plain function or a coroutine function."""
    deadline = time.monotonic() + timeout
    last: Any = _MISSING
    while True:
        try:
            result = probe()
            value: T = await result if inspect.isawaitable(result) else result  # type: ignore[assignment]
        except ignore as error:
            last = error
        else:
            if until(value):
                return value
            last = value
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise NotYet(what, timeout, last)
        await asyncio.sleep(min(interval, remaining))
