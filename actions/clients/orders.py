"""Client of the order service (`POST /orders/lookup`); changes are in changes.py."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from actions.clients.base import (
    JsonServiceClient,
    obj,
    opt_date,
    opt_str,
    req_date,
    req_decimal,
    req_int,
    req_list,
    req_str,
)
from actions.clients.errors import BadResponse

ORDER_STATUSES = frozenset(
    {
        "received",
        "packed",
        "shipped",
        "out_for_delivery",
        "delivered",
        "delayed",
        "cancelled",
        "returned",
    }
)


INVOICE_STATUSES = frozenset({"paid", "unpaid", "overdue"})


@dataclass(frozen=True)
class Invoice:
    """What the shopper owes for an order paid on invoice."""

    amount: Decimal
    currency: str
    due_date: date
    status: str  # one of INVOICE_STATUSES


@dataclass(frozen=True)
class OrderItem:
    article_number: str
    name: str
    size: str | None
    quantity: int


@dataclass(frozen=True)
class Order:
    order_number: str
    status: str
    placed_on: date
    items: list[OrderItem]
    delivery_method: str
    payment_method: str
    expected_delivery: date | None
    carrier: str | None
    tracking_number: str | None
    total: Decimal | None = None  # optional in the contract: the items' sum
    currency: str | None = None
    # None for orders paid at checkout (and from services that do not sell on invoice).
    invoice: Invoice | None = None

    @property
    def item_count(self) -> int:
        return sum(i.quantity for i in self.items)


def _invoice(data: Any) -> Invoice | None:
    if data is None:
        return None
    invoice = obj(data, "invoice")
    status = req_str(invoice, "status")
    if status not in INVOICE_STATUSES:
        raise BadResponse("unknown invoice status")
    currency = req_str(invoice, "currency")
    if len(currency) != 3 or not currency.isalpha():
        raise BadResponse("field 'currency' is not a currency code")
    return Invoice(
        amount=req_decimal(invoice, "amount"),
        currency=currency.upper(),
        due_date=req_date(invoice, "due_date"),
        status=status,
    )


def _item(data: Any) -> OrderItem:
    item = obj(data, "order item")
    return OrderItem(
        article_number=req_str(item, "article_number"),
        name=req_str(item, "name"),
        size=opt_str(item, "size"),
        quantity=req_int(item, "quantity"),
    )


def parse_order(data: Any) -> Order:
    """An `Order` from the contract's JSON, or BadResponse if the shape is wrong."""
    order = obj(data, "order")
    status = req_str(order, "status")
    if status not in ORDER_STATUSES:
        raise BadResponse("unknown order status")
    return Order(
        order_number=req_str(order, "order_number"),
        status=status,
        placed_on=req_date(order, "placed_on"),
        items=req_list(order, "items", _item),
        delivery_method=req_str(order, "delivery_method"),
        payment_method=req_str(order, "payment_method"),
        expected_delivery=opt_date(order, "expected_delivery"),
        carrier=opt_str(order, "carrier"),
        tracking_number=opt_str(order, "tracking_number"),
        total=req_decimal(order, "total") if order.get("total") is not None else None,
        currency=opt_str(order, "currency"),
        invoice=_invoice(order.get("invoice")),
    )


class OrderClient(JsonServiceClient):
    """Looks orders up by number and email; both are needed so numbers cannot be guessed."""

    def lookup(self, order_number: str, email: str) -> Order:
        data = self.request_json(
            "POST", "/orders/lookup", json={"order_number": order_number, "email": email}
        )
        return parse_order(data)
