"""The reference service honours services/openapi.yaml and its seed data is fit for demos."""

from __future__ import annotations

import html
import re
from collections import Counter
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
import requests
import yaml

from actions.products import search_terms
from services import db
from services.seed import (
    _PRODUCTS,
    DEMO_ORDERS,
    DEMO_TRACKING,
    LOCAL_COLOURS,
    LOCAL_NAMES,
    STATUSES,
    build_seed,
)

TODAY = date(2026, 3, 10)
ROOT = Path(__file__).resolve().parents[2]
OPENAPI = ROOT / "services" / "openapi.yaml"


def lookup(base_url: str, number: object, email: object) -> requests.Response:
    return requests.post(
        f"{base_url}/orders/lookup", json={"order_number": number, "email": email}, timeout=5
    )


def test_health(base_url: str) -> None:
    body = requests.get(f"{base_url}/health", timeout=5).json()
    assert body["status"] == "ok"
    assert body["orders"] >= 30 and body["products"] >= 20 and body["parcels"] > 0


@pytest.mark.parametrize(("number", "email", "status"), [d[:3] for d in DEMO_ORDERS])
def test_demo_orders_are_found(base_url: str, number: str, email: str, status: str) -> None:
    response = lookup(base_url, number, email)
    assert response.status_code == 200
    order = response.json()
    assert order["status"] == status
    assert "email" not in order  # the service never echoes personal data it was given


def test_mismatch_and_unknown_look_identical(base_url: str) -> None:
    wrong_email = lookup(base_url, "40012345", "ben.okafor@example.org")
    unknown = lookup(base_url, "40099999", "anna.berg@example.com")
    malformed = lookup(base_url, "4001", "anna.berg@example.com")
    assert wrong_email.status_code == unknown.status_code == malformed.status_code == 404
    assert wrong_email.json() == unknown.json() == malformed.json()


@pytest.mark.parametrize("body", [b"not json", b"[1]", b'{"order_number": 40012345}'])
def test_malformed_lookup_is_400(base_url: str, body: bytes) -> None:
    response = requests.post(
        f"{base_url}/orders/lookup",
        data=body,
        timeout=5,
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert response.json()["error"] == "bad_request"


@pytest.mark.parametrize(
    "body",
    [b"[" * 50_000 + b"]" * 50_000, b'{"a":' * 50_000 + b"1" + b"}" * 50_000],
    ids=["arrays", "objects"],
)
def test_deeply_nested_json_is_400_not_a_server_error(base_url: str, body: bytes) -> None:
    """Hostile nesting exhausts the JSON decoder's recursion: a bad request, not a 500."""
    response = requests.post(
        f"{base_url}/orders/lookup",
        data=body,
        timeout=10,
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert response.json()["error"] == "bad_request"
    assert requests.get(f"{base_url}/health", timeout=5).ok  # the service lives on


def test_parcel_case_insensitive_and_newest_event_first(base_url: str) -> None:
    parcel = requests.get(f"{base_url}/parcels/jx482913077gb", timeout=5).json()
    assert parcel["tracking_number"] == "JX482913077GB"
    stamps = [datetime.fromisoformat(e["timestamp"]) for e in parcel["events"]]
    assert stamps == sorted(stamps, reverse=True)


@pytest.mark.parametrize(
    ("header", "language", "first_event"),
    [
        ("sv-SE,sv;q=0.9,en;q=0.5", "sv", "Försändelseinformation mottagen"),
        ("fi", "fi", "Lähetystiedot vastaanotettu"),
        ("no", "nb", "Sendingsinformasjon mottatt"),
        ("de-DE", "en", "Shipment information received"),
        (None, "en", "Shipment information received"),
    ],
)
def test_parcel_events_in_the_language_asked_for(
    base_url: str, header: str | None, language: str, first_event: str
) -> None:
    """A carrier answers in the request's language; the shopper read English events in a
    Swedish answer before."""
    headers = {"Accept-Language": header} if header else {}
    response = requests.get(f"{base_url}/parcels/JX482913077GB", headers=headers, timeout=5)
    assert response.headers["Content-Language"] == language
    events = response.json()["events"]
    assert events[-1]["description"] == first_event  # newest first: the oldest is last
    if language != "en":
        english = requests.get(f"{base_url}/parcels/JX482913077GB", timeout=5).json()["events"]
        for ours, theirs in zip(events, english, strict=True):
            assert ours["description"] != theirs["description"], theirs["description"]
            assert ours["timestamp"] == theirs["timestamp"]


def test_every_seed_event_text_has_its_translations() -> None:
    """A new text in services/seed.py without translations would reach a Swedish shopper in
    English."""
    from services.carrier_texts import LANGUAGES, in_language
    from services.seed import _CITIES, build_seed

    parcels = build_seed(date(2026, 3, 10)).parcels
    texts = {e.description for p in parcels for e in p.events}
    texts |= {e.location for p in parcels for e in p.events if e.location}
    names = {p.pickup_name or "" for p in parcels}  # names of places, as they are
    names |= {(p.pickup_address or "").rsplit(" ", 1)[-1] for p in parcels}
    names |= set(_CITIES)
    for text in texts - names:
        for language in LANGUAGES:
            assert in_language(text, language) != text, (text, language)


@pytest.mark.parametrize("number", ["ZZ000000000GB", "nonsense"])
def test_unknown_parcel_is_404(base_url: str, number: str) -> None:
    assert requests.get(f"{base_url}/parcels/{number}", timeout=5).status_code == 404


def test_product_and_search(base_url: str) -> None:
    product = requests.get(f"{base_url}/products/230122", timeout=5).json()
    assert all(s["stock"] == 0 for s in product["sizes"])  # the sold-out demo product
    found = requests.get(f"{base_url}/products", params={"q": "Jeans"}, timeout=5).json()
    assert {p["article_number"] for p in found["products"]} == {"211415", "211416"}
    assert requests.get(f"{base_url}/products/12345", timeout=5).status_code == 404
    assert requests.get(f"{base_url}/products", timeout=5).status_code == 400
    bad_limit = requests.get(f"{base_url}/products", params={"q": "x", "limit": "a"}, timeout=5)
    assert bad_limit.status_code == 400


@pytest.mark.parametrize(
    ("query", "articles"),
    [
        ("ullkappa", {"230122"}),  # sv
        ("villakangastakkia", {"230122"}),  # fi, partitive
        ("farkkuja", {"211415", "211416"}),  # fi, consonant gradation: a stem in the names
        ("pillifarkkuja", {"211416"}),  # fi, "pillifarkut" in another stem grade
        ("kåpe", {"230122"}),  # nb, head of "ullkåpe"
        ("svarta jeans", {"211416"}),  # sv colour and an English word
        ("jeansjacka", {"230140"}),
    ],
)
def test_search_finds_products_by_their_nordic_names(
    base_url: str, query: str, articles: set[str]
) -> None:
    found = requests.get(f"{base_url}/products", params={"q": query}, timeout=5).json()
    assert {p["article_number"] for p in found["products"]} == articles
    # the catalogue's name stays what the answer shows
    assert all(p["name"] and "nordic" not in p for p in found["products"])


def _demo_page_products() -> list[tuple[str, str, str]]:
    """(page, article, name) for every product the demo pages show, in each language."""
    shown = []
    for page in sorted((ROOT / "webchat").glob("index*.html")):
        pairs = re.findall(r'data-article="(\d+)"><span[^>]*></span>([^<]+)<', page.read_text())
        shown += [(page.name, article, html.unescape(name).strip()) for article, name in pairs]
    return shown


def test_the_demo_pages_show_products() -> None:
    assert len(_demo_page_products()) >= 12  # three on each of the four pages


@pytest.mark.parametrize(("page", "article", "name"), _demo_page_products())
def test_a_name_on_a_demo_page_finds_that_product(
    base_url: str, page: str, article: str, name: str
) -> None:
    # the assistant searches with the words of the question that are no small words:
    # "har ni ankelboots i skinn?" found nothing, and then "skinn" found the skinny jeans
    terms = search_terms(name)
    found = requests.get(f"{base_url}/products", params={"q": terms}, timeout=5).json()
    assert [p["article_number"] for p in found["products"]] == [article]


@pytest.mark.parametrize(
    ("accept", "name", "colour", "language"),
    [
        ("sv-SE,sv;q=0.9", "Ankelboots i skinn", "konjak", "sv"),
        ("fi", "Nahkaiset nilkkurit", "konjakki", "fi"),
        ("no", "Ankelstøvletter i skinn", "konjakk", "nb"),
        ("de-DE", "Leather ankle boots", "cognac", "en"),
        (None, "Leather ankle boots", "cognac", "en"),
    ],
)
def test_a_product_is_named_in_the_language_asked_for(
    base_url: str, accept: str | None, name: str, colour: str, language: str
) -> None:
    headers = {"Accept-Language": accept} if accept else {}
    one = requests.get(f"{base_url}/products/241007", headers=headers, timeout=5)
    assert (one.json()["name"], one.json()["colour"]) == (name, colour)
    assert one.headers["Content-Language"] == language
    found = requests.get(
        f"{base_url}/products", params={"q": "ankle boots"}, headers=headers, timeout=5
    ).json()["products"]
    assert [(p["name"], p["colour"]) for p in found] == [(name, colour)]


def test_every_product_has_its_names_and_colour_in_each_language() -> None:
    for article, *_rest in _PRODUCTS:
        assert article in LOCAL_NAMES and all(LOCAL_NAMES[article])
    assert {colour for _a, _n, _c, colour, *_ in _PRODUCTS} <= set(LOCAL_COLOURS)


@pytest.mark.parametrize(
    ("article", "language", "name"),
    [
        (a, lang, names[i])
        for a, names in LOCAL_NAMES.items()
        for i, lang in enumerate(("sv", "fi", "nb"))
    ],
)
def test_a_local_name_finds_its_product(
    base_url: str, article: str, language: str, name: str
) -> None:
    found = requests.get(f"{base_url}/products", params={"q": search_terms(name)}, timeout=5)
    assert article in [p["article_number"] for p in found.json()["products"]]


def test_search_escapes_like_wildcards(base_url: str) -> None:
    found = requests.get(f"{base_url}/products", params={"q": "%"}, timeout=5).json()
    assert found["products"] == []


# --- seed data (no server needed) ------------------------------------------------


def test_seed_is_deterministic() -> None:
    assert build_seed(TODAY) == build_seed(TODAY)


def test_seed_covers_every_status_and_formats() -> None:
    data = build_seed(TODAY)
    assert len(data.orders) >= 30 and len(data.products) >= 20
    assert set(Counter(o.status for o in data.orders)) == set(STATUSES)
    articles = {p.article_number for p in data.products}
    for order in data.orders:
        assert re.fullmatch(r"\d{8}", order.order_number)
        assert re.fullmatch(r"[a-z.\d]+@example\.(com|org|net)", order.email)
        assert all(a in articles for a, _, _ in order.items)
        if order.tracking_number:
            assert re.fullmatch(r"[A-Z]{2}\d{9}[A-Z]{2}", order.tracking_number)
    assert all(re.fullmatch(r"\d{6}", a) for a in articles)
    assert len({o.order_number for o in data.orders}) == len(data.orders)
    assert len({p.tracking_number for p in data.parcels}) == len(data.parcels)
    assert {o.tracking_number for o in data.orders if o.tracking_number} == {
        p.tracking_number for p in data.parcels
    }
    assert set(DEMO_TRACKING.values()) <= {p.tracking_number for p in data.parcels}


def test_seed_dates_fit_the_status() -> None:
    for order in build_seed(TODAY).orders:
        eta = order.expected_delivery
        if order.status in ("received", "packed", "delayed"):
            assert eta is not None and eta > TODAY
        elif order.status == "shipped" and order.delivery_method == "pickup point":
            # waiting there since yesterday, so its history shows it at any hour of today
            assert eta == TODAY - timedelta(days=1)
        elif order.status == "shipped":
            assert eta is not None and eta > TODAY
        elif order.status == "out_for_delivery":
            assert eta == TODAY
        elif order.status == "delivered":
            assert eta is not None and eta < TODAY
        else:
            assert eta is None
        assert order.placed_on <= TODAY


def test_openapi_lists_every_route() -> None:
    spec = yaml.safe_load(OPENAPI.read_text(encoding="utf-8"))
    assert set(spec["paths"]) == {
        "/health",
        "/orders/lookup",
        "/parcels/{tracking_number}",
        "/products/{article_number}",
        "/products",
        "/orders/cancel",
        "/orders/address",
        "/orders/items",
        "/orders/invoice-copy",
        "/newsletter/unsubscribe",
        "/outbox",
    }


def test_a_parcel_never_reports_events_that_have_not_happened_yet(tmp_path: Path) -> None:
    """Seed events sit at fixed times of the day; early in the morning today's depot scan
    must not show up as the latest news (nor be announced by the bot)."""
    today = date(2026, 11, 25)
    conn = db.connect(tmp_path / "services.db")
    db.seed(conn, today)
    number = DEMO_TRACKING["40012345"]
    all_day = db.find_parcel(conn, number, now=datetime(2026, 11, 25, 23, 0, tzinfo=timezone.utc))
    early = db.find_parcel(conn, number, now=datetime(2026, 11, 25, 4, 0, tzinfo=timezone.utc))
    assert all_day is not None and early is not None
    cutoff = "2026-11-25T04:00:00+00:00"
    assert any(e["timestamp"] > cutoff for e in all_day["events"])
    assert all(e["timestamp"] <= cutoff for e in early["events"])
    assert early["events"], "yesterday's events are still reported"


def test_invoice_demo_orders_cover_every_invoice_status(base_url: str) -> None:
    from services.seed import INVOICE_DEMO_ORDERS

    seen = set()
    for number, email, status, _ in INVOICE_DEMO_ORDERS:
        order = lookup(base_url, number, email).json()
        assert order["payment_method"] == "invoice"
        assert order["invoice"]["status"] == status
        assert re.fullmatch(r"\d+\.\d{2}", order["invoice"]["amount"])
        assert order["invoice"]["currency"] == "EUR"
        date.fromisoformat(order["invoice"]["due_date"])
        seen.add(status)
    assert seen == {"paid", "unpaid", "overdue"}


def test_invoice_is_the_items_total_and_only_on_invoice_orders() -> None:
    data = build_seed(TODAY)
    prices = {p.article_number: p.price for p in data.products}
    from decimal import Decimal

    for order in data.orders:
        if order.payment_method != "invoice" or order.status == "cancelled":
            assert order.invoice is None
            continue
        assert order.invoice is not None
        total = sum(Decimal(prices[a]) * q for a, _, q in order.items)
        assert Decimal(order.invoice.amount) == total
        if order.order_number not in {"40012354", "40012355", "40012356"}:
            overdue = order.invoice.due_date < TODAY
            assert order.invoice.status == ("overdue" if overdue else "unpaid")


def test_invoice_demo_orders_leave_the_other_demo_data_unchanged() -> None:
    """The invoice orders draw from their own random stream: README's demo orders keep
    their items, dates and tracking numbers."""
    orders = {o.order_number: o for o in build_seed(TODAY).orders}
    assert len(orders) == 50
    assert orders["40012345"].tracking_number == "JX482913077GB"
