"""Fakes for the service clients and helpers shared by the order/tracking/product tests.

The fakes return canned dataclasses or raise our client exceptions, and record the thread
they were called on, so the tests can prove the blocking call ran off the event loop.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from rasa_sdk import Tracker

from actions.clients import (
    Order,
    OrderItem,
    Parcel,
    ParcelEvent,
    PickupPoint,
    Product,
    SizeStock,
)

TODAY = date.today()


def with_candidates(tracker: Tracker, **slots: Any) -> Tracker:
    """Append slot events after the latest message, as action_extract_slots does, so
    `tracker.slots_to_validate()` sees them."""
    for name, value in slots.items():
        tracker.events.append({"event": "slot", "name": name, "value": value})
        tracker.slots[name] = value
    return tracker


def make_order(status: str = "shipped", **changes: Any) -> Order:
    fields: dict[str, Any] = {
        "order_number": "40012345",
        "status": status,
        "placed_on": TODAY - timedelta(days=2),
        "items": [OrderItem("204518", "Linen summer dress", "M", 1)],
        "delivery_method": "standard",
        "payment_method": "invoice",
        "expected_delivery": TODAY + timedelta(days=1),
        "carrier": "DHL",
        "tracking_number": "JX482913077GB",
    }
    fields.update(changes)
    return Order(**fields)


def make_parcel(status: str = "in_transit", pickup: bool = False, **changes: Any) -> Parcel:
    now = datetime.combine(TODAY, datetime.min.time(), tzinfo=timezone.utc)
    fields: dict[str, Any] = {
        "tracking_number": "JX482913077GB",
        "carrier": "DHL",
        "status": status,
        "events": [
            ParcelEvent(now - timedelta(days=1, hours=-9), "Warehouse", "Parcel handed over"),
            ParcelEvent(
                now + timedelta(hours=5, minutes=30), "Hamburg depot", "Arrived at local depot"
            ),
            ParcelEvent(
                now - timedelta(days=1, hours=-22), "National hub", "Arrived at sorting centre"
            ),
            ParcelEvent(now - timedelta(days=2, hours=-18), None, "Shipment information received"),
        ],
        "estimated_delivery": TODAY + timedelta(days=1),
        "pickup_point": PickupPoint(
            "Kiosk am Markt (parcel shop)", "Marktstraße 12, 20357 Hamburg", "Mon-Sat 8:00-20:00"
        )
        if pickup
        else None,
    }
    fields.update(changes)
    return Parcel(**fields)


def make_product(article: str = "204518", stock: int = 5, **changes: Any) -> Product:
    fields: dict[str, Any] = {
        "article_number": article,
        "name": "Linen summer dress",
        "price": Decimal("59.95"),
        "currency": "EUR",
        "colour": "sand",
        "sizes": [SizeStock("S", 0), SizeStock("M", stock), SizeStock("L", stock)],
    }
    fields.update(changes)
    return Product(**fields)


class Fake:
    """Answers every call with `result` (or raises it if it is an exception)."""

    def __init__(self, result: Any) -> None:
        self.result = result
        self.calls: list[tuple[str, tuple[Any, ...]]] = []
        self.threads: list[int] = []

    def _answer(self, method: str, *args: Any) -> Any:
        self.calls.append((method, args))
        self.threads.append(threading.get_ident())
        if isinstance(self.result, BaseException):
            raise self.result
        return self.result


class FakeOrderClient(Fake):
    def lookup(self, order_number: str, email: str) -> Order:
        return self._answer("lookup", order_number, email)


class FakeTrackingClient(Fake):
    def __init__(self, result: Any) -> None:
        super().__init__(result)
        self.languages: list[str | None] = []

    def parcel(self, tracking_number: str, language: str | None = None) -> Parcel:
        self.languages.append(language)  # asked in the conversation's language
        return self._answer("parcel", tracking_number)


class FakeProductClient(Fake):
    def __init__(self, result: Any) -> None:
        super().__init__(result)
        self.languages: list[str | None] = []

    def product(self, article_number: str, language: str | None = None) -> Product:
        self.languages.append(language)
        return self._answer("product", article_number)

    def search(self, query: str, limit: int = 5, language: str | None = None) -> list[Product]:
        self.languages.append(language)
        return self._answer("search", query, limit)


def slot_events(events: list[dict[str, Any]]) -> dict[str, Any]:
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


class _Trickle(BaseHTTPRequestHandler):
    """A service that answers one byte a second, without end: every read is quick, so only
    a total deadline frees the caller. Stops when the caller hangs up, or after 60 s."""

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""

    def _handle(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        started = time.monotonic()
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n{")
            while time.monotonic() - started < 60:
                self.wfile.write(b" ")
                self.wfile.flush()
                time.sleep(1.0)

    do_GET = _handle
    do_POST = _handle


@contextlib.contextmanager
def trickling_service() -> Iterator[str]:
    """The base URL of a trickling service on a free local port."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Trickle)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
