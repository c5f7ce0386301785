"""A total deadline for a service call: connect, every read and every retry together.

requests only knows per-operation timeouts: a read timeout of 5 s bounds the wait for the
*next* bytes, so a service that trickles one byte a second holds a call for as long as it
likes. Here every socket read and write first shrinks the socket's timeout to the time
left until the deadline, so the call fails with an ordinary read timeout once the
deadline has passed, whatever the service does.

The deadline lives in a `ContextVar`: `asyncio.to_thread` copies the context into the
worker thread, so an action can give all the calls of one turn a single budget
(`within(seconds)`), and each client call narrows it further to its own total timeout.
"""

from __future__ import annotations

import io
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

_DEADLINE: ContextVar[float | None] = ContextVar("service_call_deadline", default=None)


def remaining() -> float | None:
    """Seconds left until the current deadline (may be negative), or None without one."""
    deadline = _DEADLINE.get()
    return None if deadline is None else deadline - time.monotonic()


@contextmanager
def within(seconds: float) -> Iterator[None]:
    """Service calls inside finish within `seconds` from now (or an earlier deadline)."""
    deadline = time.monotonic() + seconds
    current = _DEADLINE.get()
    token = _DEADLINE.set(deadline if current is None else min(current, deadline))
    try:
        yield
    finally:
        _DEADLINE.reset(token)


class _DeadlineSocket:
    """A connected socket whose reads and writes never wait past the current deadline.

    Everything else is delegated to the real socket, so urllib3 and http.client can use
    it as they use any socket (select on it, close it, ask it for TLS details).
    """

    def __init__(self, sock: Any) -> None:
        self._sock = sock
        self._timeout: float | None = sock.gettimeout()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)

    def settimeout(self, value: float | None) -> None:
        self._timeout = value
        self._sock.settimeout(value)

    def gettimeout(self) -> float | None:
        return self._timeout

    def _bound(self) -> None:
        left = remaining()
        if left is None:
            self._sock.settimeout(self._timeout)
            return
        if left <= 0:
            raise TimeoutError("total deadline of the service call passed")
        self._sock.settimeout(left if self._timeout is None else min(self._timeout, left))

    def recv_into(self, buffer: Any, nbytes: int = 0, flags: int = 0) -> int:
        self._bound()
        return int(self._sock.recv_into(buffer, nbytes, flags))

    def recv(self, bufsize: int, flags: int = 0) -> bytes:
        self._bound()
        return bytes(self._sock.recv(bufsize, flags))

    def sendall(self, data: Any, flags: int = 0) -> None:
        self._bound()
        self._sock.sendall(data, flags)

    def makefile(self, mode: str = "rb", buffering: int = -1, **_: Any) -> io.BufferedReader:
        """A reader whose raw reads go through `recv_into` above (http.client reads the
        status line, headers and body through this file)."""
        if mode != "rb":
            raise ValueError(f"only 'rb' is supported, not {mode!r}")
        raw = socket.SocketIO(self, "rb")  # type: ignore[arg-type]
        # As socket.makefile does: while the file is open, closing the connection (which
        # http.client does as soon as it sees "Connection: close") leaves the socket
        # open for the body; SocketIO.close() calls our delegated _decref_socketios.
        self._sock._io_refs += 1
        return io.BufferedReader(raw, buffering if buffering > 0 else io.DEFAULT_BUFFER_SIZE)


class _DeadlineHTTPConnection(HTTPConnection):
    def connect(self) -> None:
        super().connect()
        self.sock = _DeadlineSocket(self.sock)


class _DeadlineHTTPSConnection(HTTPSConnection):
    def connect(self) -> None:
        super().connect()
        self.sock = _DeadlineSocket(self.sock)


class _DeadlineHTTPPool(HTTPConnectionPool):
    ConnectionCls = _DeadlineHTTPConnection


class _DeadlineHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _DeadlineHTTPSConnection


class DeadlineAdapter(HTTPAdapter):
    """requests transport adapter whose connections honour the current deadline."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {
            "http": _DeadlineHTTPPool,
            "https": _DeadlineHTTPSPool,
        }
