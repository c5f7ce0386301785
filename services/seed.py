"""Deterministic demo data: the same orders, parcels and products on every start.

Dates are computed from a `today` argument (not stored), so the data always looks current
and tests can pin `today`. All emails are invented, on example.com/.org/.net.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal

SEED = 20240517


@dataclass(frozen=True)
class SeedProduct:
    article_number: str
    name: str
    category: str
    colour: str
    price: str  # decimal as text: SQLite has no decimal type and floats would round
    sizes: tuple[tuple[str, int], ...]
    # What Swedish, Finnish and Norwegian shoppers call it (names, kinds, colour), searched
    # beside the English name; answers keep the catalogue's name.
    nordic_names: str = ""


@dataclass(frozen=True)
class SeedEvent:
    timestamp: datetime
    location: str | None
    description: str


@dataclass(frozen=True)
class SeedParcel:
    tracking_number: str
    carrier: str
    status: str
    estimated_delivery: date | None
    pickup_name: str | None
    pickup_address: str | None
    pickup_hours: str | None
    events: tuple[SeedEvent, ...]


@dataclass(frozen=True)
class SeedInvoice:
    amount: str  # decimal as text, like product prices
    currency: str
    due_date: date
    status: str  # paid, unpaid or overdue


@dataclass(frozen=True)
class SeedOrder:
    order_number: str
    email: str
    status: str
    placed_on: date
    delivery_method: str
    payment_method: str
    expected_delivery: date | None
    carrier: str | None
    tracking_number: str | None
    items: tuple[tuple[str, str | None, int], ...]  # article number, size, quantity
    # Orders paid on invoice have one (none once cancelled); card, PayPal and direct
    # debit orders are paid at checkout and have none.
    invoice: SeedInvoice | None = None


@dataclass
class SeedData:
    products: list[SeedProduct] = field(default_factory=list)
    orders: list[SeedOrder] = field(default_factory=list)
    parcels: list[SeedParcel] = field(default_factory=list)
    subscribers: list[str] = field(default_factory=list)


CLOTHING = ("XS", "S", "M", "L", "XL")
SHOES = ("37", "38", "39", "40", "41", "42", "43", "44")
ONE_SIZE = ("one size",)

_PRODUCTS: tuple[tuple[str, str, str, str, str, tuple[str, ...]], ...] = (
    ("204518", "Linen summer dress", "dresses", "sand", "59.95", CLOTHING),
    ("204519", "Wrap midi dress", "dresses", "bottle green", "69.95", CLOTHING),
    ("204533", "Knitted jumper dress", "dresses", "oatmeal", "79.00", CLOTHING),
    ("211402", "Slim fit chinos", "trousers", "navy", "49.95", CLOTHING),
    ("211407", "Wide leg trousers", "trousers", "black", "54.95", CLOTHING),
    ("211415", "Straight leg jeans", "jeans", "mid blue", "64.95", CLOTHING),
    ("211416", "Skinny jeans", "jeans", "washed black", "59.95", CLOTHING),
    ("218020", "Organic cotton T-shirt", "tops", "white", "14.95", CLOTHING),
    ("218021", "Organic cotton T-shirt", "tops", "black", "14.95", CLOTHING),
    ("218044", "Striped Breton top", "tops", "navy/ecru", "29.95", CLOTHING),
    ("218060", "Silk blouse", "tops", "ivory", "89.00", CLOTHING),
    ("222310", "Merino wool jumper", "knitwear", "charcoal", "79.95", CLOTHING),
    ("222318", "Chunky cardigan", "knitwear", "camel", "84.95", CLOTHING),
    ("230105", "Quilted rain jacket", "outerwear", "olive", "119.00", CLOTHING),
    ("230122", "Wool blend coat", "outerwear", "camel", "189.00", CLOTHING),
    ("230140", "Denim jacket", "outerwear", "light blue", "79.95", CLOTHING),
    ("241007", "Leather ankle boots", "shoes", "cognac", "129.00", SHOES),
    ("241015", "Canvas trainers", "shoes", "white", "49.95", SHOES),
    ("241022", "Suede loafers", "shoes", "tan", "99.00", SHOES),
    ("252201", "Leather belt", "accessories", "brown", "34.95", ("S", "M", "L")),
    ("252230", "Wool scarf", "accessories", "grey melange", "39.95", ONE_SIZE),
    ("252244", "Canvas tote bag", "accessories", "natural", "24.95", ONE_SIZE),
    ("260310", "Pyjama set", "nightwear", "pale blue", "44.95", CLOTHING),
    ("260318", "Cashmere socks", "accessories", "heather", "19.95", ONE_SIZE),
)
# Names of the products in the shop's other languages, as a shop's catalogue would have
# them (sv | fi | nb; a few Finnish stems such as "farkku" and "kenk" so that the inflected
# "farkkuja" and "kenkiä" are found). The names on the demo pages (webchat/index.*.html)
# must find their product: tests/services/test_products.py reads them from the pages.
_NORDIC_NAMES: dict[str, str] = {
    "204518": "linneklänning sommarklänning linne klänning sand beige | pellavamekko kesämekko"
    " pellava mekko hiekka beige | linkjole sommerkjole lin kjole sand beige",
    "204519": "omlottklänning midiklänning klänning grön flaskgrön omlottklänning midilängd |"
    " kietaisumekko midimekko mekko vihreä midimittainen | omslagskjole midikjole"
    " kjole grønn flaskegrønn omslagskjole midilengde",
    "204533": "stickad klänning tröjklänning stickklänning klänning beige | neulemekko"
    " villamekko mekko beige | strikkekjole genserkjole strikket kjole beige",
    "211402": "chinos byxor marinblå | chinot chinohousut housut housu tummansininen"
    " laivastonsininen -chinot | chinos bukse bukser marineblå",
    "211407": "vida byxor byxor svart svarta | leveälahkeiset housut housu musta mustat"
    " | vide bukser bukse svart",
    "211415": "raka jeans jeans blå | suorat farkut farkku siniset sininen | rette jeans"
    " olabukse blå",
    "211416": "tajta jeans smala jeans svart svarta | kapeat farkut pillifarkut farkku musta"
    " mustat | smale jeans svart",
    "218020": "t-shirt t-tröja ekologisk bomull vit | t-paita paita luomupuuvilla valkoinen"
    " | t-skjorte økologisk bomull hvit",
    "218021": "t-shirt t-tröja ekologisk bomull svart | t-paita paita luomupuuvilla musta"
    " | t-skjorte økologisk bomull svart",
    "218044": "randig tröja bretonsk topp marinblå | raidallinen paita raitapaita"
    " tummansininen bretonipaita | stripete genser bretonsk topp marineblå",
    "218060": "sidenblus blus siden | silkkipusero pusero silkki | silkebluse bluse silke",
    "222310": "merinotröja ulltröja tröja merinoull grå | merinovillapaita villapaita"
    " neulepusero neule harmaa | merinogenser ullgenser genser merinoull grå",
    "222318": "kofta stickad kofta grov kofta grovstickad | neuletakki villatakki takki paksu"
    " | kofte strikkejakke cardigan grovstrikket",
    "230105": "regnjacka quiltad jacka jacka oliv grön | sadetakki tikattu takki takki"
    " oliivi vihreä | regnjakke quiltet jakke jakke oliven grønn",
    "230122": "ullkappa kappa ullrock rock ullblandad | villakangastakki villatakki takki"
    " talvitakki villasekoitetakki villasekoite | ullkåpe kåpe ullfrakk frakk ullblanding",
    "230140": "jeansjacka jacka ljusblå | farkkutakki takki vaaleansininen | dongerijakke"
    " olajakke jakke lyseblå",
    "241007": "skinnboots ankelboots boots kängor stövletter skor skinn | nilkkurit"
    " nahkanilkkurit nahka saappaat kengät kenk | skinnstøvletter ankelstøvletter støvletter"
    " ankelboots boots sko skinn",
    "241015": "sneakers gympaskor tygskor skor vit | lenkkarit tennarit kangaskengät kengät"
    " kenk valkoinen kangastennarit | joggesko tøysko sneakers sko hvit",
    "241022": "loafers mockaskor skor brun mocka | loaferit mokkakengät kengät kenk ruskea"
    " mokkaloaferit | loafers semskede sko brun semsket skinn",
    "252201": "skärp bälte läderbälte brun skinnbälte | vyö nahkavyö ruskea | belte"
    " skinnbelte brun",
    "252230": "halsduk ullhalsduk grå | kaulaliina villahuivi huivi harmaa villakaulaliina |"
    " skjerf ullskjerf grå",
    "252244": "tygkasse kasse väska | kangaskassi kassi laukku | handlenett veske",
    "260310": "pyjamas pyjamaset ljusblå | pyjama yöasu vaaleansininen | pyjamas pysjamas lyseblå",
    "260318": "kashmirstrumpor strumpor sockor | kashmirsukat sukat | kasjmirsokker sokker",
}

# The catalogue's own names and colours in the shop's other languages (sv, fi, nb): what a
# product's answer shows in a Swedish, Finnish or Norwegian chat (asked for with
# Accept-Language, as the parcel texts are). The demo pages show the same names. Swedish and
# Norwegian colours in the form that follows "i" ("i vitt", "i marinblått").
LOCAL_NAMES: dict[str, tuple[str, str, str]] = {
    "204518": ("Linneklänning", "Pellavainen kesämekko", "Sommerkjole i lin"),
    "204519": (
        "Omlottklänning i midilängd",
        "Midimittainen kietaisumekko",
        "Omslagskjole i midilengde",
    ),
    "204533": ("Stickad tröjklänning", "Neulemekko", "Strikket genserkjole"),
    "211402": ("Chinos, slim fit", "Slim fit -chinot", "Chinos, slim fit"),
    "211407": ("Vida byxor", "Leveälahkeiset housut", "Vide bukser"),
    "211415": ("Raka jeans", "Suorat farkut", "Rette jeans"),
    "211416": ("Smala jeans", "Pillifarkut", "Smale jeans"),
    "218020": (
        "T-shirt i ekologisk bomull",
        "Luomupuuvillainen T-paita",
        "T-skjorte i økologisk bomull",
    ),
    "218021": (
        "T-shirt i ekologisk bomull",
        "Luomupuuvillainen T-paita",
        "T-skjorte i økologisk bomull",
    ),
    "218044": ("Randig bretonsk tröja", "Raidallinen bretonipaita", "Stripete bretonsk genser"),
    "218060": ("Sidenblus", "Silkkipusero", "Silkebluse"),
    "222310": ("Tröja i merinoull", "Merinovillapaita", "Genser i merinoull"),
    "222318": ("Grovstickad kofta", "Paksu neuletakki", "Grovstrikket kofte"),
    "230105": ("Quiltad regnjacka", "Tikattu sadetakki", "Quiltet regnjakke"),
    "230122": ("Ullblandad kappa", "Villasekoitetakki", "Kåpe i ullblanding"),
    "230140": ("Jeansjacka", "Farkkutakki", "Dongerijakke"),
    "241007": ("Ankelboots i skinn", "Nahkaiset nilkkurit", "Ankelstøvletter i skinn"),
    "241015": ("Sneakers i canvas", "Kangastennarit", "Sneakers i canvas"),
    "241022": ("Loafers i mocka", "Mokkaloaferit", "Loafers i semsket skinn"),
    "252201": ("Skinnbälte", "Nahkavyö", "Skinnbelte"),
    "252230": ("Ullhalsduk", "Villakaulaliina", "Ullskjerf"),
    "252244": ("Tygkasse i canvas", "Kangaskassi", "Handlenett i canvas"),
    "260310": ("Pyjamasset", "Pyjama", "Pysjamassett"),
    "260318": ("Kashmirstrumpor", "Kashmirsukat", "Kasjmirsokker"),
}
LOCAL_COLOURS: dict[str, tuple[str, str, str]] = {
    "sand": ("sand", "hiekka", "sand"),
    "bottle green": ("flaskgrönt", "pullonvihreä", "flaskegrønt"),
    "oatmeal": ("havrebeige", "kauranbeige", "havrebeige"),
    "navy": ("marinblått", "tummansininen", "marineblått"),
    "black": ("svart", "musta", "svart"),
    "mid blue": ("mellanblått", "keskisininen", "mellomblått"),
    "washed black": ("tvättat svart", "haalistettu musta", "vasket svart"),
    "white": ("vitt", "valkoinen", "hvitt"),
    "navy/ecru": ("marinblått/ecru", "tummansininen/luonnonvalkoinen", "marineblått/ecru"),
    "ivory": ("elfenben", "norsunluu", "elfenben"),
    "charcoal": ("koksgrått", "hiilenharmaa", "koksgrått"),
    "camel": ("kamel", "kameli", "kamel"),
    "olive": ("oliv", "oliivi", "oliven"),
    "light blue": ("ljusblått", "vaaleansininen", "lyseblått"),
    "cognac": ("konjak", "konjakki", "konjakk"),
    "tan": ("ljusbrunt", "vaaleanruskea", "lysebrunt"),
    "brown": ("brunt", "ruskea", "brunt"),
    "grey melange": ("gråmelerat", "harmaameleerattu", "gråmelert"),
    "natural": ("natur", "luonnonvalkoinen", "natur"),
    "pale blue": ("ljusblått", "vaaleansininen", "lyseblått"),
    "heather": ("ljungmelerat", "kanervanvärinen", "lyngmelert"),
}
_LOCAL = ("sv", "fi", "nb")


def localised(product: dict[str, object], language: str) -> dict[str, object]:
    """The product as the catalogue names it in `language`; English as stored otherwise."""
    if language not in _LOCAL:
        return product
    index = _LOCAL.index(language)
    names = LOCAL_NAMES.get(str(product["article_number"]))
    colours = LOCAL_COLOURS.get(str(product.get("colour")))
    return {
        **product,
        "name": names[index] if names else product["name"],
        "colour": colours[index] if colours else product.get("colour"),
    }


# Sold out in every size, so the assistant's "not in stock" wording has a demo.
SOLD_OUT = frozenset({"230122"})

_FIRST = (
    "anna",
    "ben",
    "carla",
    "david",
    "emma",
    "farid",
    "greta",
    "hugo",
    "ines",
    "jonas",
    "katja",
    "liam",
    "mona",
    "nils",
    "olga",
    "paul",
    "rosa",
    "sami",
    "tara",
    "ugo",
)
_LAST = (
    "berg",
    "okafor",
    "munoz",
    "klein",
    "novak",
    "haddad",
    "lind",
    "moreau",
    "silva",
    "weber",
    "kowalski",
    "brennan",
    "rossi",
    "jensen",
    "ivanova",
    "tanaka",
)
_DOMAINS = ("example.com", "example.org", "example.net")
_CARRIERS = ("DHL", "DPD", "GLS", "UPS")
_CITIES = ("Hamburg", "Berlin", "Cologne", "Munich", "Leipzig", "Frankfurt", "Bremen")
_PICKUP_POINTS = (
    ("Kiosk am Markt (parcel shop)", "Marktstraße 12, 20357 Hamburg", "Mon-Sat 8:00-20:00"),
    ("Parcel locker Hauptbahnhof", "Europaplatz 1, 10557 Berlin", "24/7"),
    ("Post office Altstadt", "Domplatz 3, 50667 Cologne", "Mon-Fri 9:00-18:00"),
)
_PAYMENTS = ("invoice", "credit card", "PayPal", "direct debit")
STATUSES = (
    "received",
    "packed",
    "shipped",
    "out_for_delivery",
    "delivered",
    "delayed",
    "cancelled",
    "returned",
)

# Hand-picked demo orders listed in services/README.md; the rest are generated.
DEMO_ORDERS: tuple[tuple[str, str, str, str], ...] = (
    ("40012345", "anna.berg@example.com", "shipped", "standard"),
    ("40012346", "ben.okafor@example.org", "out_for_delivery", "express"),
    ("40012347", "carla.munoz@example.net", "delayed", "standard"),
    ("40012348", "david.klein@example.com", "delivered", "pickup point"),
    ("40012349", "emma.novak@example.org", "received", "standard"),
    ("40012350", "farid.haddad@example.net", "packed", "express"),
    ("40012351", "greta.lind@example.com", "cancelled", "standard"),
    ("40012352", "hugo.moreau@example.org", "returned", "standard"),
    ("40012353", "ines.silva@example.net", "shipped", "pickup point"),
)
# Demo orders paid on invoice, one per invoice status (delivered, so the invoice is out);
# added after the generated ones with their own random stream, so the orders above keep
# their data: order number, email, invoice status, days from today to the due date.
INVOICE_DEMO_ORDERS: tuple[tuple[str, str, str, int], ...] = (
    ("40012354", "jonas.weber@example.com", "unpaid", 26),
    ("40012355", "katja.rossi@example.org", "overdue", -9),
    ("40012356", "liam.jensen@example.net", "paid", 12),
)
INVOICE_DUE_DAYS = 30
INVOICE_STATUSES = ("paid", "unpaid", "overdue")
DEMO_TRACKING = {
    "40012345": "JX482913077GB",
    "40012346": "ZE188492446GB",
    "40012347": "RX430563674GB",
    "40012348": "SM408173398GB",
    "40012352": "NR106338687GB",
    "40012353": "PK550128734GB",
}

# Orders for trying the self-service changes (cancel, address, size, invoice copy), with
# fixed items so every path has a demo: one per purpose, so trying one leaves the others
# as they are. Appended after the generated orders, which therefore stay unchanged.
SELF_SERVICE_PLAN: tuple[tuple[str, str, str, str, tuple[tuple[str, str, int], ...]], ...] = (
    # order, email, status, payment method, items (article, size, quantity)
    (
        "40012360",
        "jonas.weber@example.com",
        "received",
        "credit card",
        (("211415", "M", 1), ("218020", "S", 2)),
    ),
    ("40012361", "katja.rossi@example.org", "received", "invoice", (("222310", "L", 1),)),
    (
        "40012362",
        "liam.jensen@example.net",
        "received",
        "PayPal",
        (("241015", "40", 1), ("230122", "M", 1)),
    ),
    ("40012363", "mona.tanaka@example.com", "packed", "invoice", (("204519", "S", 1),)),
    (
        "40012364",
        "nils.lind@example.org",
        "received",
        "direct debit",
        (("218044", "M", 1), ("252230", "one size", 1)),
    ),
    ("40012365", "olga.brennan@example.net", "received", "credit card", (("260310", "S", 1),)),
)
# Newsletter subscribers among the demo shoppers (unsubscribing one leaves an outbox entry).
SUBSCRIBERS = (
    "anna.berg@example.com",
    "emma.novak@example.org",
    "jonas.weber@example.com",
    "olga.brennan@example.net",
)


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=timezone.utc)


def _tracking_number(rng: random.Random) -> str:
    letters = "ABCDEFGHJKLMNPRSTUVWXYZ"
    return f"{rng.choice(letters)}{rng.choice(letters)}{rng.randrange(10**8, 10**9)}GB"


def _parcel(
    rng: random.Random,
    tracking: str,
    carrier: str,
    status: str,
    placed: date,
    today: date,
    pickup: tuple[str, str, str] | None,
) -> tuple[SeedParcel, date | None]:
    """A parcel whose event history fits the order status; returns it and its ETA."""
    city = rng.choice(_CITIES)
    if pickup:  # the local depot is in the pickup point's town
        city = pickup[1].rsplit(" ", 1)[-1]
    shipped_day = placed + timedelta(days=1)
    events = [
        SeedEvent(_at(placed, 18, 5), "Warehouse", "Shipment information received"),
        SeedEvent(_at(shipped_day, 9, 40), "Warehouse", f"Parcel handed over to {carrier}"),
        SeedEvent(_at(shipped_day, 22, 15), "National hub", "Arrived at sorting centre"),
    ]
    eta: date | None
    parcel_status = status
    if status == "shipped" and pickup:
        # Waiting since yesterday, so that its history shows it at any hour of today.
        yesterday = today - timedelta(days=1)
        events.append(SeedEvent(_at(yesterday, 5, 30), f"{city} depot", "Arrived at local depot"))
        events.append(
            SeedEvent(_at(yesterday, 11, 0), pickup[0], "Ready for collection at the pickup point")
        )
        parcel_status = "at_pickup_point"
        eta = yesterday
    elif status == "shipped":
        events.append(SeedEvent(_at(today, 5, 30), f"{city} depot", "Arrived at local depot"))
        eta = today + timedelta(days=1)
        parcel_status = "in_transit"
    elif status == "out_for_delivery":
        # at the depot since last night: before 07:45 that is its latest event, not a scan
        # from days ago under "out for delivery today"
        yesterday = today - timedelta(days=1)
        events.append(SeedEvent(_at(yesterday, 21, 40), f"{city} depot", "Arrived at local depot"))
        events.append(SeedEvent(_at(today, 7, 45), city, "Out for delivery"))
        eta = today
    elif status == "delayed":
        events.append(
            SeedEvent(
                _at(today - timedelta(days=1), 16, 20),
                "National hub",
                "Delayed: high parcel volumes, forwarded on the next run",
            )
        )
        eta = today + timedelta(days=2)
    elif status == "delivered":
        delivered_day = today - timedelta(days=rng.randint(1, 6))
        if pickup:
            events.append(
                SeedEvent(
                    _at(delivered_day, 10, 5), pickup[0], "Ready for collection at the pickup point"
                )
            )
            events.append(
                SeedEvent(_at(delivered_day, 17, 30), pickup[0], "Collected by the recipient")
            )
        else:
            events.append(
                SeedEvent(_at(delivered_day, 13, 12), city, "Delivered, handed to the recipient")
            )
        eta = delivered_day
    else:  # returned
        delivered_day = placed + timedelta(days=3)
        events.append(SeedEvent(_at(delivered_day, 12, 0), city, "Delivered"))
        events.append(
            SeedEvent(_at(today - timedelta(days=3), 15, 0), city, "Return parcel handed in")
        )
        events.append(
            SeedEvent(
                _at(today - timedelta(days=1), 10, 30),
                "Warehouse",
                "Return received at the warehouse",
            )
        )
        eta = None
        parcel_status = "returned"
    parcel = SeedParcel(
        tracking_number=tracking,
        carrier=carrier,
        status=parcel_status,
        estimated_delivery=eta,
        pickup_name=pickup[0] if pickup else None,
        pickup_address=pickup[1] if pickup else None,
        pickup_hours=pickup[2] if pickup else None,
        events=tuple(events),
    )
    return parcel, eta


def build_seed(today: date) -> SeedData:
    """All demo data for `today`; identical for the same `today`."""
    rng = random.Random(SEED)
    data = SeedData()
    for article, name, category, colour, price, sizes in _PRODUCTS:
        stock = tuple(
            (size, 0 if article in SOLD_OUT else rng.choice((0, 2, 5, 12, 30))) for size in sizes
        )
        data.products.append(
            SeedProduct(
                article, name, category, colour, price, stock, _NORDIC_NAMES.get(article, "")
            )
        )

    plan = list(DEMO_ORDERS)
    used_emails = {email for _, email, _, _ in plan}
    number = 40020001
    # four generated orders per status on top of the demo ones: 9 + 32 = 41 orders
    for status in STATUSES:
        for _ in range(4):
            while True:
                email = (
                    f"{rng.choice(_FIRST)}.{rng.choice(_LAST)}"
                    f"{rng.randint(1, 99)}@{rng.choice(_DOMAINS)}"
                )
                if email not in used_emails:
                    used_emails.add(email)
                    break
            method = rng.choice(("standard", "standard", "express", "pickup point"))
            plan.append((str(number), email, status, method))
            number += rng.randint(3, 977)

    for order_number, email, status, method in plan:
        data.orders.append(_order(rng, data, today, order_number, email, status, method))
    invoice_rng = random.Random(SEED + 1)
    for order_number, email, invoice_status, due_in in INVOICE_DEMO_ORDERS:
        order = _order(
            invoice_rng,
            data,
            today,
            order_number,
            email,
            "delivered",
            "standard",
            payment_method="invoice",
        )
        invoice = _invoice(data, order, today)
        assert invoice is not None
        data.orders.append(
            replace(
                order,
                invoice=replace(
                    invoice, status=invoice_status, due_date=today + timedelta(days=due_in)
                ),
            )
        )
    for order_number, email, status, payment, fixed in SELF_SERVICE_PLAN:
        order = SeedOrder(
            order_number=order_number,
            email=email,
            status=status,
            placed_on=today - timedelta(days=0 if status == "received" else 1),
            delivery_method="standard",
            payment_method=payment,
            expected_delivery=today + timedelta(days=5 if status == "received" else 3),
            carrier=None,
            tracking_number=None,
            items=fixed,
        )
        data.orders.append(replace(order, invoice=_invoice(data, order, today)))
    data.subscribers.extend(SUBSCRIBERS)
    return data


def _order(
    rng: random.Random,
    data: SeedData,
    today: date,
    order_number: str,
    email: str,
    status: str,
    method: str,
    payment_method: str | None = None,
) -> SeedOrder:
    """One order and its parcel (added to `data`); `payment_method` None draws one."""
    age = {
        "received": 0,
        "packed": 1,
        "shipped": 2,
        "out_for_delivery": 3,
        "delivered": 8,
        "delayed": 5,
        "cancelled": 2,
        "returned": 20,
    }[status]
    placed = today - timedelta(days=age + rng.randint(0, 1))
    pickup = rng.choice(_PICKUP_POINTS) if method == "pickup point" else None
    carrier: str | None = None
    tracking: str | None = None
    expected: date | None
    if status in ("received", "packed"):
        expected = today + timedelta(
            days=(5 if status == "received" else 3) - (1 if method == "express" else 0)
        )
    elif status == "cancelled":
        expected = None
    else:
        carrier = rng.choice(_CARRIERS)
        tracking = DEMO_TRACKING.get(order_number) or _tracking_number(rng)
        parcel, expected = _parcel(rng, tracking, carrier, status, placed, today, pickup)
        data.parcels.append(parcel)
    count = rng.randint(1, 3)
    items = []
    for product in rng.sample(data.products, count):
        size = rng.choice(product.sizes)[0]
        items.append((product.article_number, size, rng.choice((1, 1, 1, 2))))
    drawn = rng.choice(_PAYMENTS)
    order = SeedOrder(
        order_number=order_number,
        email=email,
        status=status,
        placed_on=placed,
        delivery_method=method,
        payment_method=payment_method or drawn,
        expected_delivery=expected,
        carrier=carrier,
        tracking_number=tracking,
        items=tuple(items),
    )
    return replace(order, invoice=_invoice(data, order, today))


def _invoice(data: SeedData, order: SeedOrder, today: date) -> SeedInvoice | None:
    """The invoice of an invoice order: the items' total, due 30 days after delivery (or
    the expected delivery); unpaid until the due date, then overdue. Paid ones are the
    demo orders'. A cancelled order's invoice is void, so it has none."""
    if order.payment_method != "invoice" or order.status == "cancelled":
        return None
    prices = {p.article_number: Decimal(p.price) for p in data.products}
    total = sum((prices[a] * q for a, _, q in order.items), Decimal("0"))
    delivered = order.expected_delivery or order.placed_on + timedelta(days=3)
    due = delivered + timedelta(days=INVOICE_DUE_DAYS)
    return SeedInvoice(
        amount=f"{total:.2f}",
        currency="EUR",
        due_date=due,
        status="overdue" if due < today else "unpaid",
    )
