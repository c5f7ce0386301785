"""SQLite storage of the reference service: schema, seeding and the few queries it needs.

The database is rebuilt on every start because the seed dates are relative to today; it is
demo data, not a system of record.
"""

from __future__ import annotations

import re
import sqlite3
from datetime import date, datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

from services.seed import SeedData, build_seed

SCHEMA = """
DROP TABLE IF EXISTS outbox;
DROP TABLE IF EXISTS idempotency_keys;
DROP TABLE IF EXISTS newsletter_subscribers;
DROP TABLE IF EXISTS delivery_addresses;
DROP TABLE IF EXISTS order_items;
DROP TABLE IF EXISTS orders;
DROP TABLE IF EXISTS parcel_events;
DROP TABLE IF EXISTS parcels;
DROP TABLE IF EXISTS product_sizes;
DROP TABLE IF EXISTS products;
CREATE TABLE products (
    article_number TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    category TEXT NOT NULL,
    colour TEXT NOT NULL,
    price TEXT NOT NULL,
    currency TEXT NOT NULL DEFAULT 'EUR',
    nordic_names TEXT NOT NULL DEFAULT ''
);
CREATE TABLE product_sizes (
    article_number TEXT NOT NULL REFERENCES products(article_number),
    position INTEGER NOT NULL,
    size TEXT NOT NULL,
    stock INTEGER NOT NULL,
    PRIMARY KEY (article_number, size)
);
CREATE TABLE parcels (
    tracking_number TEXT PRIMARY KEY,
    carrier TEXT NOT NULL,
    status TEXT NOT NULL,
    estimated_delivery TEXT,
    pickup_name TEXT,
    pickup_address TEXT,
    pickup_hours TEXT
);
CREATE TABLE parcel_events (
    tracking_number TEXT NOT NULL REFERENCES parcels(tracking_number),
    timestamp TEXT NOT NULL,
    location TEXT,
    description TEXT NOT NULL
);
CREATE TABLE orders (
    order_number TEXT PRIMARY KEY,
    email TEXT NOT NULL,
    status TEXT NOT NULL,
    placed_on TEXT NOT NULL,
    delivery_method TEXT NOT NULL,
    payment_method TEXT NOT NULL,
    expected_delivery TEXT,
    carrier TEXT,
    tracking_number TEXT REFERENCES parcels(tracking_number),
    invoice_amount TEXT,
    invoice_currency TEXT,
    invoice_due_date TEXT,
    invoice_status TEXT
);
CREATE TABLE order_items (
    order_number TEXT NOT NULL REFERENCES orders(order_number),
    article_number TEXT NOT NULL REFERENCES products(article_number),
    size TEXT,
    quantity INTEGER NOT NULL
);
CREATE TABLE delivery_addresses (
    order_number TEXT PRIMARY KEY REFERENCES orders(order_number),
    name TEXT,
    street TEXT NOT NULL,
    postcode TEXT NOT NULL,
    city TEXT NOT NULL,
    country TEXT NOT NULL
);
CREATE TABLE newsletter_subscribers (email TEXT PRIMARY KEY);
CREATE TABLE idempotency_keys (
    key TEXT PRIMARY KEY,
    endpoint TEXT NOT NULL,
    body_hash TEXT NOT NULL,
    status INTEGER NOT NULL,
    answer TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at TEXT NOT NULL,
    kind TEXT NOT NULL,
    recipient TEXT NOT NULL,
    order_number TEXT
);
CREATE INDEX parcel_events_by_parcel ON parcel_events(tracking_number);
CREATE INDEX order_items_by_order ON order_items(order_number);
"""


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None


def connect(path: str | Path) -> sqlite3.Connection:
    # The aiohttp app uses the connection from its single event-loop thread only.
    conn = sqlite3.connect(str(path), check_same_thread=False)
    conn.row_factory = sqlite3.Row
    return conn


def seed(conn: sqlite3.Connection, today: date) -> SeedData:
    """Recreate all tables and fill them with the demo data for `today`."""
    data = build_seed(today)
    with conn:
        conn.executescript(SCHEMA)
        for p in data.products:
            conn.execute(
                "INSERT INTO products (article_number, name, category, colour, price, nordic_names)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (p.article_number, p.name, p.category, p.colour, p.price, p.nordic_names),
            )
            conn.executemany(
                "INSERT INTO product_sizes VALUES (?, ?, ?, ?)",
                [(p.article_number, i, size, stock) for i, (size, stock) in enumerate(p.sizes)],
            )
        for parcel in data.parcels:
            conn.execute(
                "INSERT INTO parcels VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    parcel.tracking_number,
                    parcel.carrier,
                    parcel.status,
                    _iso(parcel.estimated_delivery),
                    parcel.pickup_name,
                    parcel.pickup_address,
                    parcel.pickup_hours,
                ),
            )
            conn.executemany(
                "INSERT INTO parcel_events VALUES (?, ?, ?, ?)",
                [
                    (parcel.tracking_number, e.timestamp.isoformat(), e.location, e.description)
                    for e in parcel.events
                ],
            )
        for o in data.orders:
            invoice = o.invoice
            conn.execute(
                "INSERT INTO orders VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    o.order_number,
                    o.email,
                    o.status,
                    o.placed_on.isoformat(),
                    o.delivery_method,
                    o.payment_method,
                    _iso(o.expected_delivery),
                    o.carrier,
                    o.tracking_number,
                    invoice.amount if invoice else None,
                    invoice.currency if invoice else None,
                    _iso(invoice.due_date) if invoice else None,
                    invoice.status if invoice else None,
                ),
            )
            conn.executemany(
                "INSERT INTO order_items VALUES (?, ?, ?, ?)",
                [(o.order_number, a, s, q) for a, s, q in o.items],
            )
        conn.executemany(
            "INSERT INTO newsletter_subscribers VALUES (?)",
            [(email,) for email in data.subscribers],
        )
    return data


def find_order(conn: sqlite3.Connection, order_number: str, email: str) -> dict[str, Any] | None:
    """The order only if number and email belong together: one query, one answer shape."""
    row = conn.execute(
        "SELECT * FROM orders WHERE order_number = ? AND lower(email) = lower(?)",
        (order_number, email),
    ).fetchone()
    if row is None:
        return None
    items = conn.execute(
        "SELECT i.article_number, p.name, i.size, i.quantity, p.price FROM order_items i"
        " JOIN products p USING (article_number) WHERE i.order_number = ? ORDER BY i.rowid",
        (order_number,),
    ).fetchall()
    order = dict(row)
    del order["email"]
    invoice = {
        key: order.pop(f"invoice_{key}") for key in ("amount", "currency", "due_date", "status")
    }
    # A cancelled order's invoice is void (the contract says null), also when the order
    # was cancelled through POST /orders/cancel after it was seeded.
    order["invoice"] = invoice if invoice["status"] and order["status"] != "cancelled" else None
    order["items"] = [dict(i) for i in items]
    total = sum((Decimal(i["price"]) * i["quantity"] for i in items), Decimal(0))
    order["total"] = f"{total:.2f}"
    order["currency"] = "EUR"
    return order


def find_parcel(
    conn: sqlite3.Connection, tracking_number: str, now: datetime | None = None
) -> dict[str, Any] | None:
    """The parcel with its events up to `now`, newest first.

    Seed events are placed at fixed times of the day; a carrier never reports what has
    not happened yet, so before 07:45 today's "out for delivery" is not shown.
    """
    now = now or datetime.now(timezone.utc)
    row = conn.execute(
        "SELECT * FROM parcels WHERE tracking_number = ?", (tracking_number,)
    ).fetchone()
    if row is None:
        return None
    events = conn.execute(
        "SELECT timestamp, location, description FROM parcel_events"
        " WHERE tracking_number = ? AND timestamp <= ? ORDER BY timestamp DESC",
        (tracking_number, now.isoformat()),
    ).fetchall()
    pickup = None
    if row["pickup_name"]:
        pickup = {
            "name": row["pickup_name"],
            "address": row["pickup_address"],
            "opening_hours": row["pickup_hours"],
        }
    return {
        "tracking_number": row["tracking_number"],
        "carrier": row["carrier"],
        "status": row["status"],
        "estimated_delivery": row["estimated_delivery"],
        "pickup_point": pickup,
        "events": [dict(e) for e in events],
    }


def _product(conn: sqlite3.Connection, row: sqlite3.Row) -> dict[str, Any]:
    sizes = conn.execute(
        "SELECT size, stock FROM product_sizes WHERE article_number = ? ORDER BY position",
        (row["article_number"],),
    ).fetchall()
    return {
        "article_number": row["article_number"],
        "name": row["name"],
        "category": row["category"],
        "colour": row["colour"],
        "price": row["price"],
        "currency": row["currency"],
        "sizes": [dict(s) for s in sizes],
    }


def find_product(conn: sqlite3.Connection, article_number: str) -> dict[str, Any] | None:
    row = conn.execute(
        "SELECT * FROM products WHERE article_number = ?", (article_number,)
    ).fetchone()
    return _product(conn, row) if row else None


def _stem(word: str) -> str:
    """Crude plural folding so "dresses" finds "dress" and "boots" finds "boot"."""
    if len(word) > 4 and word.endswith("es"):
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def _nordic_match(word: str, name: str) -> bool:
    """A Swedish, Finnish or Norwegian word for one of the product's names: the name; the
    name with an ending of up to four letters ("takkia", "farkkuja", "ullkappan"; not
    "jeansjacka" for "jeans"); the head of a compound ("kappa" for "ullkappa"; not
    "jeans" for "jeansjacka", whose head is the jacket); or the name whose plural
    `_stem` folded ("sneaker" for "sneakers")."""
    return (
        word == name
        or (len(name) >= 4 and word.startswith(name) and len(word) - len(name) <= 4)
        or (len(word) >= 4 and name.endswith(word))
        or (len(word) >= 4 and name.startswith(word) and len(name) - len(word) <= 2)
        or _graded(word, name)
    )


def _graded(word: str, name: str) -> bool:
    """A Finnish inflection that changes the stem's last letters ("pillifarkkuja" for
    "pillifarkut", "neuletakkia" for "neuletakki"): the same word up to the name's last
    two letters, then an ending of at most four letters."""
    common = next(
        (i for i, (a, b) in enumerate(zip(word, name, strict=False)) if a != b),
        min(len(word), len(name)),
    )
    return common >= 4 and common >= len(name) - 2 and len(word) - common <= 4


def _matches(word: str, row: sqlite3.Row) -> bool:
    """An English word inside the name, colour or category, or a Nordic name's word."""
    if any(word in str(row[column]).lower() for column in ("name", "colour", "category")):
        return True
    names = re.findall(r"[\w/-]+", str(row["nordic_names"]).lower())
    return any(_nordic_match(word, name) for name in names)


def search_products(conn: sqlite3.Connection, query: str, limit: int) -> list[dict[str, Any]]:
    """Products matching every word of `query` (English or Nordic names, colour, category)."""
    words = [_stem(w) for w in re.findall(r"[\w/-]+", query.lower())][:8]
    if not words:
        return []
    rows = conn.execute("SELECT * FROM products ORDER BY name, article_number").fetchall()
    found = [r for r in rows if all(_matches(word, r) for word in words)]
    return [_product(conn, r) for r in found[:limit]]


def counts(conn: sqlite3.Connection) -> dict[str, int]:
    return {
        table: conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # noqa: S608 - fixed names
        for table in ("orders", "parcels", "products")
    }
