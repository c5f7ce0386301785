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
import time
from collections.abc import Callable
from typing import Any, Generic, TypeVar, cast

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


class _Attempts(Generic[T]):
    """The bookkeeping both flavours share: one look at the probe, then how long to pause."""

    def __init__(
        self,
        probe: Callable[[], T],
        until: Callable[[T], bool],
        timeout: float,
        interval: float,
        what: str,
        ignore: tuple[type[BaseException], ...],
    ) -> None:
        self.probe, self.until, self.ignore = probe, until, ignore
        self.timeout, self.interval, self.what = timeout, interval, what
        self.deadline = time.monotonic() + timeout
        self.last: Any = _MISSING

    def look(self) -> bool:
        """Call the probe once; True when its value is good (then in `last`)."""
        try:
            self.last = self.probe()
        except self.ignore as error:
            self.last = error
            return False
        return self.until(self.last)

    def pause(self) -> float:
        """Seconds to wait before the next look; NotYet when the time is up."""
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise NotYet(self.what, self.timeout, self.last)
        return min(self.interval, remaining)


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
    attempts = _Attempts(probe, until, timeout, interval, what, ignore)
    while not attempts.look():
        time.sleep(attempts.pause())
    return cast(T, attempts.last)


async def eventually_async(
    probe: Callable[[], T],
    *,
    until: Callable[[T], bool] = _truthy,
    timeout: float = 10.0,
    interval: float = 0.2,
    what: str = "the condition",
    ignore: tuple[type[BaseException], ...] = (),
) -> T:
    """`eventually` for code on an event loop: waits with asyncio.sleep, so the loop keeps
    serving (e.g. socket.io handlers that fill what the probe looks at). The probe is a
    plain function: it looks at state, the loop changes it."""
    attempts = _Attempts(probe, until, timeout, interval, what, ignore)
    while not attempts.look():  # noqa: ASYNC110 - what we watch has no event to wait on
        await asyncio.sleep(attempts.pause())
    return cast(T, attempts.last)
