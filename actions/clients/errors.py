"""Our own exceptions for service calls.

`reason` is a short, PII-free description ("timeout", "HTTP 503", "invalid JSON") that
actions may log; it never contains order numbers, emails or tracking numbers.
"""

from __future__ import annotations


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
