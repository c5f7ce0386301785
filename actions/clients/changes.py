"""Client of the change endpoints of the order service (cancel, address, size, invoice copy,
newsletter unsubscribe).

Every call takes the Idempotency-Key of the shopper's confirmation: the action creates it
when it asks "Yes / No" and keeps it until the answer, so a retry after a timeout, a double
"yes" or the same confirmation from two tabs reach the service with one key and change
the order at most once. Outcomes:

- the change's result (an `Order`, an `AddressChange`, or None for 202 answers);
- `Conflict(code)`: the order no longer allows it (nothing changed);
- `Invalid(fields)`: fields the shopper can correct (nothing changed);
- `NotFound`: number and email do not belong together (nothing changed);
- `ServiceUnavailable` / `BadResponse`: the result is unknown (it may have happened).
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Any

from actions.clients.base import JsonServiceClient, obj, opt_str, req_str
from actions.clients.orders import Order, parse_order

KEY = re.compile(r"^[\x21-\x7e]{8,255}$")


def new_idempotency_key() -> str:
    return str(uuid.uuid4())


@dataclass(frozen=True)
class Address:
    street: str
    postcode: str
    city: str
    country: str  # ISO 3166-1 alpha-2
    name: str | None = None

    def as_json(self) -> dict[str, str]:
        data = {
            "street": self.street,
            "postcode": self.postcode,
            "city": self.city,
            "country": self.country,
        }
        if self.name:
            data["name"] = self.name
        return data


@dataclass(frozen=True)
class AddressChange:
    order_number: str
    status: str
    address: Address


def parse_address(data: Any) -> Address:
    address = obj(data, "address")
    return Address(
        street=req_str(address, "street"),
        postcode=req_str(address, "postcode"),
        city=req_str(address, "city"),
        country=req_str(address, "country"),
        name=opt_str(address, "name"),
    )


class ChangeClient(JsonServiceClient):
    """The five change calls; each needs the key of the confirmation it carries out."""

    def _post(self, path: str, body: dict[str, Any], idempotency_key: str) -> Any:
        if not KEY.match(idempotency_key):
            raise ValueError("an Idempotency-Key has 8 to 255 visible ASCII characters")
        return self.request_json(
            "POST", path, json=body, headers={"Idempotency-Key": idempotency_key}
        )

    def cancel(self, order_number: str, email: str, *, idempotency_key: str) -> Order:
        data = self._post(
            "/orders/cancel", {"order_number": order_number, "email": email}, idempotency_key
        )
        return parse_order(data)

    def change_address(
        self, order_number: str, email: str, address: Address, *, idempotency_key: str
    ) -> AddressChange:
        data = obj(
            self._post(
                "/orders/address",
                {"order_number": order_number, "email": email, "address": address.as_json()},
                idempotency_key,
            ),
            "address change",
        )
        return AddressChange(
            order_number=req_str(data, "order_number"),
            status=req_str(data, "status"),
            address=parse_address(data.get("address")),
        )

    def change_size(
        self,
        order_number: str,
        email: str,
        article_number: str,
        size: str,
        *,
        idempotency_key: str,
    ) -> Order:
        data = self._post(
            "/orders/items",
            {
                "order_number": order_number,
                "email": email,
                "article_number": article_number,
                "size": size,
            },
            idempotency_key,
        )
        return parse_order(data)

    def invoice_copy(self, order_number: str, email: str, *, idempotency_key: str) -> None:
        self._post(
            "/orders/invoice-copy", {"order_number": order_number, "email": email}, idempotency_key
        )

    def unsubscribe(self, email: str, *, idempotency_key: str) -> None:
        self._post("/newsletter/unsubscribe", {"email": email}, idempotency_key)
