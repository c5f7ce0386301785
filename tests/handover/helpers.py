"""Helpers shared by the handover tests (a module, so test files can import it)."""

from __future__ import annotations

from typing import Any


class FakeClock:
    """A clock the test moves by hand: joins get distinct, known timestamps."""

    def __init__(self, start: float = 1_750_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> float:
        self.now += seconds
        return self.now


class RecordingChannel:
    """Stands in for the web chat channel: records what would reach shoppers' widgets."""

    def __init__(self) -> None:
        self.emitted: list[tuple[str, str, Any]] = []

    async def emit_to_conversation(self, conversation_id: str, event: str, data: Any) -> None:
        self.emitted.append((conversation_id, event, data))

    def get_output_channel(self) -> None:
        return None
