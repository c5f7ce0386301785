"""HTTP routes of the reference service (aiohttp), implementing services/openapi.yaml.

Error bodies are generic on purpose: a lookup that fails says the same thing whether the
order number exists or not, so the endpoint cannot be used to probe for order numbers.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from datetime import date
from typing import Any

from aiohttp import web

from services import carrier_texts, changes, db, seed

ORDER_NUMBER = re.compile(r"^\d{8}$")
EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,255}$")
TRACKING_NUMBER = re.compile(r"^[A-Z]{2}\d{9}[A-Z]{2}$")
ARTICLE_NUMBER = re.compile(r"^\d{6}$")

CONN: web.AppKey[sqlite3.Connection] = web.AppKey("conn", sqlite3.Connection)
MODES = ("development", "demo", "production")
DEV_MODES = frozenset({"development", "demo"})


def _error(status: int, code: str, message: str) -> web.Response:
    return web.json_response({"error": code, "message": message}, status=status)


def _not_found(what: str) -> web.Response:
    return _error(404, "not_found", f"No {what} found.")


async def health(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok", **db.counts(request.app[CONN])})


async def read_json(request: web.Request) -> Any:
    """The decoded body, or None when it is no JSON the service can decode.

    Hostile nesting (thousands of brackets) exhausts the decoder's recursion limit; that
    is a malformed request like any other, not a server error.
    """
    try:
        return await request.json()
    except (ValueError, RecursionError):
        return None


async def lookup_order(request: web.Request) -> web.Response:
    body = await read_json(request)
    if body is None:
        return _error(400, "bad_request", "Body must be JSON.")
    if not isinstance(body, dict):
        return _error(400, "bad_request", "Body must be a JSON object.")
    number, email = body.get("order_number"), body.get("email")
    if not isinstance(number, str) or not isinstance(email, str):
        return _error(400, "bad_request", "order_number and email are required strings.")
    number, email = number.strip(), email.strip()
    order = None
    if ORDER_NUMBER.match(number) and EMAIL.match(email):
        order = db.find_order(request.app[CONN], number, email)
    if order is None:
        return _not_found("order for this order number and email")
    return web.json_response(order)


def _language(request: web.Request) -> str:
    """The language the caller's Accept-Language asks for, of those we have texts in."""
    return carrier_texts.requested_language(request.headers.get("Accept-Language"))


async def get_parcel(request: web.Request) -> web.Response:
    number = request.match_info["tracking_number"].strip().upper()
    parcel = db.find_parcel(request.app[CONN], number) if TRACKING_NUMBER.match(number) else None
    if parcel is None:
        return _not_found("parcel with this tracking number")
    language = _language(request)
    for event in parcel["events"]:
        event["description"] = carrier_texts.in_language(event["description"], language)
        event["location"] = carrier_texts.in_language(event["location"], language)
    return web.json_response(parcel, headers={"Content-Language": language})


async def get_product(request: web.Request) -> web.Response:
    number = request.match_info["article_number"].strip()
    product = db.find_product(request.app[CONN], number) if ARTICLE_NUMBER.match(number) else None
    if product is None:
        return _not_found("product with this article number")
    language = _language(request)
    return web.json_response(
        seed.localised(product, language), headers={"Content-Language": language}
    )


async def search_products(request: web.Request) -> web.Response:
    query = request.query.get("q", "").strip()
    if not query:
        return _error(400, "bad_request", "Query parameter q is required.")
    try:
        limit = min(max(int(request.query.get("limit", "10")), 1), 50)
    except ValueError:
        return _error(400, "bad_request", "limit must be a whole number.")
    products = db.search_products(request.app[CONN], query[:200], limit)
    language = _language(request)
    return web.json_response(
        {"query": query, "products": [seed.localised(p, language) for p in products]},
        headers={"Content-Language": language},
    )


def change_route(
    change: Callable[[sqlite3.Connection, Mapping[str, Any]], changes.Answer],
) -> Callable[[web.Request], Awaitable[web.Response]]:
    """A POST handler for one change: Idempotency-Key required, the change done once."""

    async def handle(request: web.Request) -> web.Response:
        key = request.headers.get("Idempotency-Key", "")
        if not changes.IDEMPOTENCY_KEY.match(key):
            return _error(
                400,
                "idempotency_key_required",
                "An Idempotency-Key header of 8 to 255 visible characters is required.",
            )
        body = await read_json(request)
        if not isinstance(body, dict):
            return _error(400, "bad_request", "Body must be a JSON object.")
        (status, answer), replayed = changes.idempotent(
            request.app[CONN], request.path, key, body, change
        )
        response = web.json_response(answer, status=status)
        if replayed:
            response.headers["Idempotent-Replayed"] = "true"
        return response

    return handle


async def get_outbox(request: web.Request) -> web.Response:
    """Dev/demo only: what the shop would have e-mailed, so tests and demos can see it."""
    messages = changes.outbox(request.app[CONN], request.query.get("to", "").strip() or None)
    return web.json_response({"messages": messages})


def create_app(
    db_path: str = ":memory:", today: date | None = None, mode: str = "demo"
) -> web.Application:
    """The application with a freshly seeded database (seeded here, not at import).

    `mode` "production" leaves out the development routes (`GET /outbox`)."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}")
    conn = db.connect(db_path)
    db.seed(conn, today or date.today())
    app = web.Application()
    app[CONN] = conn
    app.router.add_get("/health", health)
    app.router.add_post("/orders/lookup", lookup_order)
    app.router.add_get("/parcels/{tracking_number}", get_parcel)
    app.router.add_get("/products/{article_number}", get_product)
    app.router.add_get("/products", search_products)
    app.router.add_post("/orders/cancel", change_route(changes.cancel))
    app.router.add_post("/orders/address", change_route(changes.change_address))
    app.router.add_post("/orders/items", change_route(changes.change_item))
    app.router.add_post("/orders/invoice-copy", change_route(changes.invoice_copy))
    app.router.add_post("/newsletter/unsubscribe", change_route(changes.unsubscribe))
    if mode in DEV_MODES:
        app.router.add_get("/outbox", get_outbox)

    async def close_on_cleanup(app: web.Application) -> AsyncIterator[None]:
        yield
        app[CONN].close()

    app.cleanup_ctx.append(close_on_cleanup)
    return app
