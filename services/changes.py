"""Order changes of the reference service: cancel, address, size, invoice copy, unsubscribe.

Each change is one function `(conn, body) -> (status, answer)` run inside one SQLite
transaction, so a change and its idempotency record are written together or not at all.
The rules a retailer's own service may decide differently (which statuses still allow
what) are the constants below; the answers' shape is the contract in openapi.yaml.
"""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from typing import Any

from services import db

Answer = tuple[int, dict[str, Any]]

ORDER_NUMBER = re.compile(r"^\d{8}$")
EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,255}$")
ARTICLE_NUMBER = re.compile(r"^\d{6}$")
IDEMPOTENCY_KEY = re.compile(r"^[\x21-\x7e]{8,255}$")

# Postcode formats per country (ISO 3166-1 alpha-2): pattern and the canonical form.
POSTCODES: dict[str, tuple[re.Pattern[str], Callable[[re.Match[str]], str], str]] = {
    "SE": (
        re.compile(r"^(?:SE-?)?(\d{3}) ?(\d{2})$"),
        lambda m: f"{m[1]} {m[2]}",
        "A Swedish postcode has five digits, e.g. 111 22.",
    ),
    "FI": (
        re.compile(r"^(?:FI-?)?(\d{5})$"),
        lambda m: m[1],
        "A Finnish postcode has five digits, e.g. 00100.",
    ),
    "NO": (
        re.compile(r"^(?:NO-?)?(\d{4})$"),
        lambda m: m[1],
        "A Norwegian postcode has four digits, e.g. 0150.",
    ),
}
DELIVERY_COUNTRIES = frozenset(POSTCODES)

# Which order statuses allow which change, and the 409 reason code otherwise.
LEFT_WAREHOUSE = {
    "shipped": "already_shipped",
    "out_for_delivery": "already_shipped",
    "delayed": "already_shipped",
    "delivered": "already_delivered",
    "returned": "already_returned",
    "cancelled": "already_cancelled",
}
CANCEL_BLOCKED = LEFT_WAREHOUSE
ADDRESS_BLOCKED = LEFT_WAREHOUSE
ITEMS_BLOCKED = {**LEFT_WAREHOUSE, "packed": "already_packed"}

REASONS = {
    "already_shipped": "The parcel has been handed to the carrier.",
    "already_delivered": "The order has been delivered.",
    "already_returned": "The order has been returned.",
    "already_cancelled": "The order is already cancelled.",
    "already_packed": "The order has been packed; its items can no longer be changed.",
    "out_of_stock": "That size is not in stock.",
}

NOT_FOUND: Answer = (
    404,
    {"error": "not_found", "message": "No order for this order number and email found."},
)


def bad_request(message: str) -> Answer:
    return 400, {"error": "bad_request", "message": message}


def conflict(reason: str) -> Answer:
    return 409, {"error": "conflict", "reason": reason, "message": REASONS[reason]}


def invalid(fields: list[dict[str, str]]) -> Answer:
    return 422, {"error": "invalid", "message": "Some fields cannot be accepted.", "fields": fields}


def field_error(field: str, code: str, message: str) -> dict[str, str]:
    return {"field": field, "code": code, "message": message}


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _send(conn: sqlite3.Connection, kind: str, to: str, order_number: str | None) -> None:
    """What a real shop would e-mail; the reference service only records it."""
    conn.execute(
        "INSERT INTO outbox (created_at, kind, recipient, order_number) VALUES (?, ?, ?, ?)",
        (_now(), kind, to, order_number),
    )


def _owned(conn: sqlite3.Connection, body: Mapping[str, Any]) -> sqlite3.Row | Answer:
    """The order row if number and email belong together, else the lookup's 404 (or 400)."""
    number, email = body.get("order_number"), body.get("email")
    if not isinstance(number, str) or not isinstance(email, str):
        return bad_request("order_number and email are required strings.")
    number, email = number.strip(), email.strip()
    row = None
    if ORDER_NUMBER.match(number) and EMAIL.match(email):
        row = conn.execute(
            "SELECT * FROM orders WHERE order_number = ? AND lower(email) = lower(?)",
            (number, email),
        ).fetchone()
    return NOT_FOUND if row is None else row


def _order(conn: sqlite3.Connection, row: sqlite3.Row) -> dict[str, Any]:
    order = db.find_order(conn, row["order_number"], row["email"])
    assert order is not None
    return order


def cancel(conn: sqlite3.Connection, body: Mapping[str, Any]) -> Answer:
    row = _owned(conn, body)
    if not isinstance(row, sqlite3.Row):
        return row
    if row["status"] in CANCEL_BLOCKED:
        return conflict(CANCEL_BLOCKED[row["status"]])
    conn.execute(
        "UPDATE orders SET status = 'cancelled', expected_delivery = NULL WHERE order_number = ?",
        (row["order_number"],),
    )
    _send(conn, "cancellation_confirmation", row["email"], row["order_number"])
    return 200, _order(conn, row)


def _address(value: Any) -> dict[str, str] | list[dict[str, str]]:
    """The normalised address, or the field errors a shopper can act on."""
    if not isinstance(value, Mapping):
        return [field_error("address", "required", "An address object is required.")]
    errors: list[dict[str, str]] = []
    clean: dict[str, str] = {}
    limits = {"name": 100, "street": 100, "postcode": 12, "city": 60, "country": 2}
    for key, limit in limits.items():
        raw = value.get(key)
        if raw is None and key == "name":
            continue
        text = " ".join(raw.split()) if isinstance(raw, str) else ""
        if not text:
            if key != "name":
                errors.append(field_error(key, "required", f"The {key} is required."))
            continue
        if len(text) > limit:
            errors.append(field_error(key, "too_long", f"The {key} is too long."))
            continue
        clean[key] = text
    street = clean.get("street")
    if street and not (re.search(r"\d", street) and re.search(r"[^\W\d_]", street)):
        errors.append(
            field_error("street", "invalid_format", "The street needs a name and a house number.")
        )
    city = clean.get("city")
    if city and not re.fullmatch(r"[^\W\d_][^\W\d_ .'-]*(?:[ .'-]+[^\W\d_]+)*\.?", city):
        errors.append(field_error("city", "invalid_format", "The city should be a place name."))
    country = clean.get("country", "").upper()
    if country:
        clean["country"] = country
        if country not in DELIVERY_COUNTRIES:
            errors.append(
                field_error(
                    "country",
                    "not_delivered",
                    "We deliver to " + ", ".join(sorted(DELIVERY_COUNTRIES)) + " only.",
                )
            )
        elif "postcode" in clean:
            pattern, canonical, hint = POSTCODES[country]
            match = pattern.match(clean["postcode"].upper())
            if match:
                clean["postcode"] = canonical(match)
            else:
                errors.append(field_error("postcode", "invalid_format", hint))
    return errors or clean


def change_address(conn: sqlite3.Connection, body: Mapping[str, Any]) -> Answer:
    row = _owned(conn, body)
    if not isinstance(row, sqlite3.Row):
        return row
    if row["status"] in ADDRESS_BLOCKED:  # first: no point correcting a departed address
        return conflict(ADDRESS_BLOCKED[row["status"]])
    address = _address(body.get("address"))
    if isinstance(address, list):
        return invalid(address)
    conn.execute(
        "INSERT OR REPLACE INTO delivery_addresses VALUES (?, ?, ?, ?, ?, ?)",
        (
            row["order_number"],
            address.get("name"),
            address["street"],
            address["postcode"],
            address["city"],
            address["country"],
        ),
    )
    _send(conn, "address_confirmation", row["email"], row["order_number"])
    return 200, {"order_number": row["order_number"], "status": row["status"], "address": address}


def change_item(conn: sqlite3.Connection, body: Mapping[str, Any]) -> Answer:
    row = _owned(conn, body)
    if not isinstance(row, sqlite3.Row):
        return row
    article, size = body.get("article_number"), body.get("size")
    if not isinstance(article, str) or not isinstance(size, str):
        return bad_request("article_number and size are required strings.")
    article, size = article.strip(), " ".join(size.split())
    if row["status"] in ITEMS_BLOCKED:
        return conflict(ITEMS_BLOCKED[row["status"]])
    item = (
        conn.execute(
            "SELECT rowid, size FROM order_items WHERE order_number = ? AND article_number = ?",
            (row["order_number"], article),
        ).fetchone()
        if ARTICLE_NUMBER.match(article)
        else None
    )
    if item is None:
        return invalid(
            [field_error("article_number", "not_in_order", "This article is not in the order.")]
        )
    sizes = {
        r["size"].lower(): (r["size"], r["stock"])
        for r in conn.execute(
            "SELECT size, stock FROM product_sizes WHERE article_number = ?", (article,)
        )
    }
    wanted = sizes.get(size.lower())
    if wanted is None:
        return invalid(
            [
                field_error(
                    "size", "unknown_size", "Sizes: " + ", ".join(s for s, _ in sizes.values())
                )
            ]
        )
    if item["size"] and wanted[0].lower() == item["size"].lower():
        return invalid([field_error("size", "same_size", "The item already has this size.")])
    if wanted[1] <= 0:
        return conflict("out_of_stock")
    conn.execute("UPDATE order_items SET size = ? WHERE rowid = ?", (wanted[0], item["rowid"]))
    conn.execute(
        "UPDATE product_sizes SET stock = stock - 1 WHERE article_number = ? AND size = ?",
        (article, wanted[0]),
    )
    if item["size"]:
        conn.execute(
            "UPDATE product_sizes SET stock = stock + 1 WHERE article_number = ? AND size = ?",
            (article, item["size"]),
        )
    _send(conn, "size_change_confirmation", row["email"], row["order_number"])
    return 200, _order(conn, row)


def invoice_copy(conn: sqlite3.Connection, body: Mapping[str, Any]) -> Answer:
    row = _owned(conn, body)
    if not isinstance(row, sqlite3.Row):
        return row
    _send(conn, "invoice_copy", row["email"], row["order_number"])
    return 202, {"status": "accepted"}


def unsubscribe(conn: sqlite3.Connection, body: Mapping[str, Any]) -> Answer:
    """Always 202 for a well-formed address: the answer never tells who is subscribed."""
    email = body.get("email")
    if not isinstance(email, str):
        return bad_request("email is a required string.")
    email = email.strip().lower()
    if not EMAIL.match(email):
        return invalid([field_error("email", "invalid_format", "This is not an email address.")])
    removed = conn.execute("DELETE FROM newsletter_subscribers WHERE email = ?", (email,))
    if removed.rowcount:
        _send(conn, "unsubscribe_confirmation", email, None)
    return 202, {"status": "accepted"}


def body_hash(body: Mapping[str, Any]) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def idempotent(
    conn: sqlite3.Connection,
    endpoint: str,
    key: str,
    body: Mapping[str, Any],
    change: Callable[[sqlite3.Connection, Mapping[str, Any]], Answer],
) -> tuple[Answer, bool]:
    """The change's answer, done at most once per key; True when it is a replay.

    A key sent again with a different request (another endpoint or body) is refused with
    422 `idempotency_key_reused`: repeating the first answer would confirm something the
    caller did not ask for, and doing the new request would break the key's promise.
    Runs without awaiting, so in the single-threaded service nothing interleaves.
    """
    digest = body_hash(body)
    with conn:
        seen = conn.execute(
            "SELECT endpoint, body_hash, status, answer FROM idempotency_keys WHERE key = ?",
            (key,),
        ).fetchone()
        if seen is not None:
            if seen["endpoint"] != endpoint or seen["body_hash"] != digest:
                return (
                    422,
                    {
                        "error": "idempotency_key_reused",
                        "message": "This Idempotency-Key was used for another request.",
                    },
                ), False
            return (seen["status"], json.loads(seen["answer"])), True
        status, answer = change(conn, body)
        if status != 400:  # nothing happened and nothing to remember
            conn.execute(
                "INSERT INTO idempotency_keys VALUES (?, ?, ?, ?, ?, ?)",
                (key, endpoint, digest, status, json.dumps(answer), _now()),
            )
        return (status, answer), False


def outbox(conn: sqlite3.Connection, to: str | None) -> list[dict[str, Any]]:
    sql = 'SELECT id, created_at, kind, recipient AS "to", order_number FROM outbox'
    rows = (
        conn.execute(sql + " WHERE lower(recipient) = lower(?) ORDER BY id", (to,))
        if to
        else conn.execute(sql + " ORDER BY id")
    )
    return [dict(r) for r in rows]
