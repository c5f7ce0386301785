"""A shopper's socket.io connection to the web chat channel, for protocol tests.

Wraps python-socketio's blocking client: every event the server sends is queued, and
`wait_for` picks the first one that matches, so tests read like the conversation:

    with ChatClient(base_url) as chat:
        session = chat.request_session()
        chat.say("hi")
        reply = chat.wait_for_bot()
"""

from __future__ import annotations

import queue
import time
from collections.abc import Callable
from types import TracebackType
from typing import Any

import socketio


class ChatClient:
    def __init__(self, base_url: str, origin: str | None = None) -> None:
        self.base_url = base_url
        self.origin = origin
        self.events: queue.Queue[tuple[str, Any]] = queue.Queue()
        self.seen: list[tuple[str, Any]] = []
        self.sio = socketio.Client(reconnection=False)
        self.session: dict[str, Any] | None = None
        self.sio.on("*", self._record)

    def _record(self, event: str, data: Any = None) -> None:
        self.events.put((event, data))

    def connect(self) -> ChatClient:
        headers = {"Origin": self.origin} if self.origin else {}
        self.sio.connect(self.base_url, headers=headers, wait_timeout=10)
        return self

    def close(self) -> None:
        if self.sio.connected:
            self.sio.disconnect()

    def __enter__(self) -> ChatClient:
        return self.connect()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def wait_for(
        self, event: str, match: Callable[[Any], bool] = lambda _: True, timeout: float = 30.0
    ) -> Any:
        """The first not yet consumed `event` whose data matches; others stay seen."""
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"no {event!r} within {timeout}s; seen: {self.seen!r}")
            try:
                name, data = self.events.get(timeout=remaining)
            except queue.Empty:
                continue
            self.seen.append((name, data))
            if name == event and match(data):
                return data

    def drain(self, seconds: float) -> list[tuple[str, Any]]:
        """Everything that arrives within `seconds` (for "nothing must arrive" checks)."""
        got: list[tuple[str, Any]] = []
        deadline = time.monotonic() + seconds
        while (remaining := deadline - time.monotonic()) > 0:
            try:
                got.append(self.events.get(timeout=remaining))
            except queue.Empty:
                break
        self.seen.extend(got)
        return got

    def request_session(self, session_id: str | None = None, token: str | None = None) -> Any:
        payload: dict[str, Any] = {}
        if session_id is not None:
            payload["session_id"] = session_id
        if token is not None:
            payload["session_token"] = token
        self.sio.emit("session_request", payload)
        self.session = self.wait_for("session_confirm", timeout=15)
        return self.session

    def say(self, text: str) -> None:
        self.sio.emit("user_uttered", {"message": text})

    def wait_for_bot(
        self, match: Callable[[Any], bool] = lambda _: True, timeout: float = 30.0
    ) -> Any:
        return self.wait_for("bot_uttered", match, timeout)

    @property
    def auth(self) -> dict[str, str]:
        assert self.session is not None, "request_session() first"
        return {"Authorization": f"Bearer {self.session['session_token']}"}
