"""A shopper on the real socket.io web chat channel, timing each turn: for load benchmarks and
the multi-worker test.

It connects exactly like the widget (session_request -> session_confirm, then user_uttered
-> bot_uttered), over websocket only: with several Sanic workers, HTTP long-polling
requests of one client may reach different workers. How a turn ends and is timed is
described in bench/load.py, which drives many of these.
"""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass
from typing import Any

import aiohttp
import socketio


def _websocket_compat() -> None:
    """Let python-engineio 4.15's async websocket transport run on the pinned aiohttp 3.9.

    engineio builds `aiohttp.ClientWSTimeout(ws_close=...)`, which exists only from
    aiohttp 3.10; 3.9's `ws_connect` takes the same close timeout as a plain float.
    Only this client needs it (the server side does not use aiohttp), so the shim lives
    here instead of re-pinning Rasa's aiohttp.
    """
    if not hasattr(aiohttp, "ClientWSTimeout"):
        aiohttp.ClientWSTimeout = lambda ws_close=10.0, **_: float(ws_close)  # type: ignore[attr-defined]


_websocket_compat()


@dataclass
class Options:
    """How the shoppers behave; defaults are the ones the README figures use."""

    think: float = 1.0
    quiet: float = 0.25
    timeout: float = 30.0
    intro: bool = True
    # Shoppers start at random moments within this many seconds, not all at once.
    ramp: float = 0.0
    socketio_path: str = "/socket.io"
    # The page's language the widget sends with its session request (None: no hint).
    language: str | None = None


class Shopper:
    """One websocket connection and session; bot messages are queued with arrival times."""

    def __init__(self, url: str, options: Options) -> None:
        self.url = url
        self.options = options
        self.sio = socketio.AsyncClient(reconnection=False)
        self.replies: asyncio.Queue[tuple[float, Any]] = asyncio.Queue()
        self.confirm: asyncio.Future[Any] | None = None
        self.session_id = ""
        self.sio.on("bot_uttered", self._on_bot)
        self.sio.on("session_confirm", self._on_confirm)

    async def _on_bot(self, data: Any = None) -> None:
        self.replies.put_nowait((time.perf_counter(), data))

    async def _on_confirm(self, data: Any = None) -> None:
        if self.confirm is not None and not self.confirm.done():
            self.confirm.set_result(data)

    async def open(self) -> str:
        """Connect and get a server-issued session; returns the session id."""
        self.confirm = asyncio.get_running_loop().create_future()
        await self.sio.connect(
            self.url,
            transports=["websocket"],
            socketio_path=self.options.socketio_path,
            wait_timeout=self.options.timeout,
        )
        request = {} if self.options.language is None else {"language": self.options.language}
        await self.sio.emit("session_request", request)
        confirmed = await asyncio.wait_for(self.confirm, self.options.timeout)
        self.session_id = str(confirmed["session_id"])
        return self.session_id

    async def close(self) -> None:
        if self.sio.connected:
            await self.sio.disconnect()

    async def turn(self, text: str, expect: str | None) -> tuple[str, float, list[Any]]:
        """Send one message; returns (outcome, latency in ms, bot messages of the turn)."""
        while not self.replies.empty():  # late messages of an earlier turn are not ours
            self.replies.get_nowait()
        sent = time.perf_counter()
        deadline = sent + self.options.timeout
        if not self.sio.connected:
            return "disconnected", 0.0, []
        await self.sio.emit("user_uttered", {"message": text})
        got: list[Any] = []
        last = sent
        matched = expect is None
        notice = False
        while True:
            now = time.perf_counter()
            wait = deadline - now
            if matched and got:
                wait = min(wait, self.options.quiet)
            if wait <= 0:
                break
            try:
                arrived, data = await asyncio.wait_for(self.replies.get(), wait)
            except asyncio.TimeoutError:
                break
            got.append(data)
            last = arrived
            body = data if isinstance(data, dict) else {}
            notice = notice or bool(body.get("notice"))
            if expect is not None and expect in str(body.get("text", "")).lower():
                matched = True
        latency = (last - sent) * 1000
        if notice:
            return "error", latency, got
        if not got:
            return "timeout", (time.perf_counter() - sent) * 1000, got
        if not matched:
            return "unexpected", latency, got
        return "ok", latency, got


async def think(rng: random.Random, mean: float) -> None:
    """A person's pause before a message: uniform 0.5x-1.5x of `mean` seconds (0: none)."""
    if mean > 0:
        await asyncio.sleep(rng.uniform(0.5 * mean, 1.5 * mean))
