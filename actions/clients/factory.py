"""Build the real clients from settings (used lazily by the actions)."""

from __future__ import annotations

from typing import TypeVar

from actions.clients.base import JsonServiceClient
from actions.clients.changes import ChangeClient
from actions.clients.orders import OrderClient
from actions.clients.products import ProductClient
from actions.clients.tracking import TrackingClient
from actions.settings import Settings, load_settings

C = TypeVar("C", bound=JsonServiceClient)


def _build(cls: type[C], url: str, settings: Settings) -> C:
    return cls(
        url,
        connect_timeout=settings.service_connect_timeout,
        read_timeout=settings.service_read_timeout,
        retries=settings.service_retries,
        total_timeout=settings.service_total_timeout,
    )


def order_client(settings: Settings | None = None) -> OrderClient:
    s = settings or load_settings()
    return _build(OrderClient, s.order_service_url, s)


def tracking_client(settings: Settings | None = None) -> TrackingClient:
    s = settings or load_settings()
    return _build(TrackingClient, s.tracking_service_url, s)


def product_client(settings: Settings | None = None) -> ProductClient:
    s = settings or load_settings()
    return _build(ProductClient, s.product_service_url, s)


def change_client(settings: Settings | None = None) -> ChangeClient:
    """Changes go to the order service (the same retailer system that knows the orders)."""
    s = settings or load_settings()
    return _build(ChangeClient, s.order_service_url, s)


class UsesOrderService:
    """An action that looks orders up: the client is built from the settings on first use,
    or given (tests pass one for the reference service or a fake)."""

    def __init__(self, client: OrderClient | None = None) -> None:
        self._client = client

    @property
    def client(self) -> OrderClient:
        if self._client is None:
            self._client = order_client()
        return self._client
