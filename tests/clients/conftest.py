"""Fixtures for client tests: the real reference service, and a misbehaving server.

The reference service runs as a subprocess exactly as in production (`python -m services`),
on a free port, with the demo data pinned to a fixed date so expectations are stable.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from devkit.servers import free_port, stop
from devkit.stack import start_reference_service

ROOT = Path(__file__).resolve().parents[2]
TODAY = "2026-03-10"


@pytest.fixture(scope="session")
def service_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    db = tmp_path_factory.mktemp("service") / "ref.db"
    url, proc = start_reference_service(dict(os.environ), str(db), ("--today", TODAY))
    yield url
    stop(proc)


class Misbehaving(BaseHTTPRequestHandler):
    """Answers according to the first path segment: /slow, /fail/<status>, /flaky,
    /garbage, /wrongshape, /status/<code>, /trickle/<head|body>. Counts requests per
    path for retry checks."""

    hits: dict[str, int] = {}
    keys: dict[str, list[str | None]] = {}  # Idempotency-Key of every request, per path
    lock = threading.Lock()

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the tests provoke errors on purpose."""

    def _send(self, status: int, body: bytes, content_type: str = "application/json") -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        # the client may have given up already (timeout tests): expected
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self.wfile.write(body)

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        with self.lock:
            self.hits[self.path] = self.hits.get(self.path, 0) + 1
            count = self.hits[self.path]
            self.keys.setdefault(self.path, []).append(self.headers.get("Idempotency-Key"))
        parts = self.path.strip("/").split("/")
        kind = parts[0]
        if kind == "slow":
            time.sleep(1.0)
            self._send(200, b"{}")
        elif kind == "fail":
            self._send(int(parts[1]), b'{"error": "boom"}')
        elif kind == "flaky":  # 503 twice, then a real order
            if count <= 2:
                self._send(503, b"")
            else:
                self._send(200, json.dumps(FLAKY_ORDER).encode())
        elif kind == "slowfirst":  # the first attempt times out, the retry gets an answer
            if count == 1:
                time.sleep(1.0)
            self._send(200, json.dumps({**FLAKY_ORDER, "status": "cancelled"}).encode())
        elif kind == "refuse":  # /refuse/409 or /refuse/422: a contract refusal
            self._send(int(parts[1]), REFUSALS[int(parts[1])])
        elif kind == "garbage":
            self._send(200, b"<html>oops</html>", "text/html")
        elif kind == "wrongshape":
            self._send(200, b'{"order_number": 40012345, "status": ["shipped"]}')
        elif kind == "list":
            self._send(200, b"[1, 2, 3]")
        elif kind == "trickle":
            self._trickle(head=parts[1] == "head")
        else:
            self._send(404, b'{"error": "not_found"}')

    def _trickle(self, head: bool) -> None:
        """One byte a second, without end: of a header line that never finishes (`head`),
        or of a body that never reaches its announced length. Every single read is quick,
        so only a total deadline stops the client. Ends when the client hangs up (or after
        TRICKLE_LIMIT s, so a client without a deadline fails its test instead of hanging)."""
        self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n")
        if head:
            self.wfile.write(b"X-Trickle: ")
        else:
            self.wfile.write(b"Content-Length: 1000000\r\n\r\n{")
        started = time.monotonic()
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            while time.monotonic() - started < TRICKLE_LIMIT:
                self.wfile.write(b"a" if head else b" ")
                self.wfile.flush()
                time.sleep(1.0)

    do_GET = _handle
    do_POST = _handle


TRICKLE_LIMIT = 30.0

REFUSALS = {
    409: b'{"error": "conflict", "reason": "already_shipped", "message": "Backend text"}',
    422: b'{"error": "invalid", "message": "x", "fields": [{"field": "postcode",'
    b' "code": "invalid_format", "message": "Backend text"}, {"field": "<b>", "code": "x"}]}',
}


FLAKY_ORDER = {
    "order_number": "40012345",
    "status": "packed",
    "placed_on": "2026-03-09",
    "items": [
        {"article_number": "204518", "name": "Linen summer dress", "size": "M", "quantity": 1}
    ],
    "delivery_method": "standard",
    "payment_method": "invoice",
    "expected_delivery": "2026-03-12",
    "carrier": None,
    "tracking_number": None,
}


@pytest.fixture(scope="session")
def bad_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Misbehaving)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture()
def dead_url() -> str:
    """A port nobody listens on: connection refused."""
    return f"http://127.0.0.1:{free_port()}"


@pytest.fixture()
def seen_keys() -> dict[str, list[str | None]]:
    """The Idempotency-Key of every request the misbehaving server got, per path."""
    return Misbehaving.keys
