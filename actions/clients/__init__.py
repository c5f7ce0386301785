"""Typed HTTP clients for the retailer's order, tracking and product services.

Each client raises only the exceptions in `actions.clients.errors`, so actions never see
`requests` exceptions and backend error text never reaches the shopper.
"""

from actions.clients.changes import Address, AddressChange, ChangeClient, new_idempotency_key
from actions.clients.errors import (
    BadResponse,
    Conflict,
    FieldError,
    Invalid,
    NotFound,
    ServiceError,
    ServiceUnavailable,
)
from actions.clients.orders import Invoice, Order, OrderClient, OrderItem
from actions.clients.products import Product, ProductClient, SizeStock
from actions.clients.tracking import Parcel, ParcelEvent, PickupPoint, TrackingClient

__all__ = [
    "Address",
    "AddressChange",
    "BadResponse",
    "ChangeClient",
    "Conflict",
    "FieldError",
    "Invalid",
    "Invoice",
    "NotFound",
    "Order",
    "OrderClient",
    "OrderItem",
    "Parcel",
    "ParcelEvent",
    "PickupPoint",
    "Product",
    "ProductClient",
    "ServiceError",
    "ServiceUnavailable",
    "SizeStock",
    "TrackingClient",
    "new_idempotency_key",
]
