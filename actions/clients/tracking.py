"""Client of the tracking service (`GET /parcels/{tracking_number}`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from urllib.parse import quote

from actions.clients.base import (
    JsonServiceClient,
    accept_language,
    obj,
    opt_date,
    opt_str,
    req_datetime,
    req_list,
    req_str,
)


@dataclass(frozen=True)
class ParcelEvent:
    timestamp: datetime
    location: str | None
    description: str


@dataclass(frozen=True)
class PickupPoint:
    name: str
    address: str
    opening_hours: str | None


@dataclass(frozen=True)
class Parcel:
    tracking_number: str
    carrier: str
    status: str
    events: list[ParcelEvent]
    estimated_delivery: date | None
    pickup_point: PickupPoint | None

    @property
    def latest_event(self) -> ParcelEvent | None:
        return max(self.events, key=lambda e: e.timestamp, default=None)


def _event(data: Any) -> ParcelEvent:
    event = obj(data, "parcel event")
    return ParcelEvent(
        timestamp=req_datetime(event, "timestamp"),
        location=opt_str(event, "location"),
        description=req_str(event, "description"),
    )


def _pickup_point(data: Any) -> PickupPoint | None:
    if data is None:
        return None
    point = obj(data, "pickup point")
    return PickupPoint(
        name=req_str(point, "name"),
        address=req_str(point, "address"),
        opening_hours=opt_str(point, "opening_hours"),
    )


def parse_parcel(data: Any) -> Parcel:
    """A `Parcel` from the contract's JSON, or BadResponse if the shape is wrong."""
    parcel = obj(data, "parcel")
    return Parcel(
        tracking_number=req_str(parcel, "tracking_number"),
        carrier=req_str(parcel, "carrier"),
        status=req_str(parcel, "status"),
        events=req_list(parcel, "events", _event),
        estimated_delivery=opt_date(parcel, "estimated_delivery"),
        pickup_point=_pickup_point(parcel.get("pickup_point")),
    )


class TrackingClient(JsonServiceClient):
    def parcel(self, tracking_number: str, language: str | None = None) -> Parcel:
        """The parcel, its event texts in `language` (en, sv, fi, nb) if the carrier has
        them: asked for with Accept-Language, as carriers' tracking APIs are."""
        path = f"/parcels/{quote(tracking_number, safe='')}"
        return parse_parcel(self.request_json("GET", path, headers=accept_language(language)))
