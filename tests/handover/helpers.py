"""Helpers shared by the handover tests (a module, so test files can import it)."""

from __future__ import annotations


class FakeClock:
    """A clock the test moves by hand: joins get distinct, known timestamps."""

    def __init__(self, start: float = 1_750_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> float:
        self.now += seconds
        return self.now
