"""Our own exceptions for service calls.

`reason` is a short, PII-free description ("timeout", "HTTP 503", "invalid JSON") that
actions may log; it never contains order numbers, emails or tracking numbers.
"""

from __future__ import annotations

from dataclasses import dataclass


class ServiceError(Exception):
    """Base class: anything that went wrong talking to a service."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class NotFound(ServiceError):
    """The service answered 404: no such order for that email, parcel or product."""


class ServiceUnavailable(ServiceError):
    """Timeout, connection failure or 5xx even after retries: worth trying again later."""


class BadResponse(ServiceError):
    """The service answered, but not with what the contract promises."""


class Conflict(ServiceError):
    """409: the order's state no longer allows the change. `code` is the contract's reason
    (already_shipped, already_cancelled, out_of_stock ...; "unknown" for anything else)."""

    def __init__(self, code: str) -> None:
        super().__init__(f"HTTP 409 {code}")
        self.code = code


@dataclass(frozen=True)
class FieldError:
    """One field the service could not accept: codes only, never the service's text."""

    field: str  # street, postcode, city, country, size, article_number, email ...
    code: str  # required, invalid_format, not_delivered, unknown_size, not_in_order ...


class Invalid(ServiceError):
    """422: the request's fields cannot be accepted; `fields` says which and why."""

    def __init__(self, fields: list[FieldError]) -> None:
        super().__init__("HTTP 422 " + ",".join(f"{f.field}:{f.code}" for f in fields))
        self.fields = fields
