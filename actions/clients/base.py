"""Shared HTTP plumbing: one `requests.Session` per client, timeouts, retries, parsing.

The clients are synchronous on purpose (requests is the simplest robust HTTP stack);
actions call them through `asyncio.to_thread` so the action server's loop never blocks.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

import requests

from actions.clients.deadline import DeadlineAdapter, remaining, within
from actions.clients.errors import (
    BadResponse,
    Conflict,
    FieldError,
    Invalid,
    NotFound,
    ServiceUnavailable,
)

RETRY_STATUSES = frozenset({502, 503, 504})
T = TypeVar("T")


class JsonServiceClient:
    """Issues JSON requests against one base URL with bounded time and bounded retries.

    Retries cover only failures that a second attempt can plausibly fix (connection
    errors, timeouts, 502/503/504); a 404 or garbage is final. `total_timeout` bounds the
    whole call (connecting, every read, every retry and the pauses between them), so a
    service that trickles its answer cannot hold a shopper's turn.
    """

    def __init__(
        self,
        base_url: str,
        *,
        connect_timeout: float = 2.0,
        read_timeout: float = 5.0,
        retries: int = 2,
        total_timeout: float = 8.0,
        backoff: float = 0.1,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = (connect_timeout, read_timeout)
        self.retries = retries
        self.total_timeout = total_timeout
        self.backoff = backoff
        self._sleep = sleep
        if session is None:
            session = requests.Session()
            # Actions run in worker threads: allow as many pooled connections as shoppers
            # are likely to wait at the same time, instead of urllib3's default of 10.
            adapter = DeadlineAdapter(pool_connections=4, pool_maxsize=32)
            session.mount("http://", adapter)
            session.mount("https://", adapter)
        session.headers.setdefault("Accept", "application/json")
        self.session = session

    def close(self) -> None:
        self.session.close()

    def request_json(
        self,
        method: str,
        path: str,
        *,
        json: Mapping[str, Any] | None = None,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Any:
        """The decoded JSON body of a 2xx answer, or one of our exceptions.

        `headers` go with every attempt unchanged: a change's Idempotency-Key is the same
        on each retry, so a retry after a timeout cannot change an order twice."""
        with within(self.total_timeout):
            return self._attempts(method, f"{self.base_url}{path}", json, params, headers)

    def _attempts(
        self,
        method: str,
        url: str,
        json: Mapping[str, Any] | None,
        params: Mapping[str, str] | None,
        headers: Mapping[str, str] | None = None,
    ) -> Any:
        connect_timeout, read_timeout = self.timeout
        attempt = 0
        while True:
            left = _left()
            if left <= 0:
                raise ServiceUnavailable("timeout")
            timeout = (min(connect_timeout, left), min(read_timeout, left))
            try:
                response = self.session.request(
                    method, url, json=json, params=params, headers=headers, timeout=timeout
                )
                if response.status_code not in RETRY_STATUSES:
                    return self._decode(response)
                failure = ServiceUnavailable(f"HTTP {response.status_code}")
            except requests.RequestException as exc:
                failure = _failure(exc)
            pause = self.backoff * (2**attempt)
            if attempt >= self.retries or pause >= _left():
                raise failure
            self._sleep(pause)
            attempt += 1

    @staticmethod
    def _decode(response: requests.Response) -> Any:
        status = response.status_code
        if status == 404:
            raise NotFound("HTTP 404")
        if status in (409, 422):
            raise _refusal(status, response)
        if status >= 500:
            raise ServiceUnavailable(f"HTTP {status}")
        if not 200 <= status < 300:
            raise BadResponse(f"HTTP {status}")
        try:
            return response.json()
        except ValueError:
            raise BadResponse("invalid JSON") from None


def _refusal(status: int, response: requests.Response) -> Conflict | Invalid | BadResponse:
    """A change the service refused, with its codes only (its message text stays here)."""
    try:
        body = response.json()
    except ValueError:
        return BadResponse(f"HTTP {status} without JSON")
    if not isinstance(body, Mapping):
        return BadResponse(f"HTTP {status} body is not an object")
    if status == 409:
        reason = body.get("reason")
        return Conflict(reason if isinstance(reason, str) and CODE.match(reason) else "unknown")
    if body.get("error") == "idempotency_key_reused":
        return BadResponse("idempotency key reused")  # our bug, not the shopper's
    fields = body.get("fields")
    errors = [
        FieldError(str(f["field"]), str(f["code"]))
        for f in (fields if isinstance(fields, list) else [])
        if isinstance(f, Mapping)
        and isinstance(f.get("field"), str)
        and isinstance(f.get("code"), str)
        and CODE.match(f["field"])
        and CODE.match(f["code"])
    ]
    return Invalid(errors)


CODE = re.compile(r"^[a-z][a-z_]{0,39}$")


def _left() -> float:
    left = remaining()
    assert left is not None  # only called inside `within`
    return left


def _failure(exc: requests.RequestException) -> ServiceUnavailable:
    """Our exception for a failed attempt; anything but a timeout or a connection error is
    final at once. A body read cut off by the deadline surfaces from requests as a
    ConnectionError, so the clock decides what to call it."""
    if isinstance(exc, requests.Timeout) or _left() <= 0:
        return ServiceUnavailable("timeout")
    if isinstance(exc, requests.ConnectionError):
        return ServiceUnavailable("connection error")
    raise ServiceUnavailable(f"request failed: {type(exc).__name__}") from None


# Parsing helpers: each turns a contract violation into BadResponse with the field name
# (never the value, which may be personal data).


def accept_language(language: str | None) -> dict[str, str] | None:
    """The header that asks a service for its texts in `language` (en, sv, fi, nb)."""
    return {"Accept-Language": language} if language else None


def obj(data: Any, what: str) -> Mapping[str, Any]:
    if not isinstance(data, Mapping):
        raise BadResponse(f"{what} is not an object")
    return data


def req_str(data: Mapping[str, Any], key: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value:
        raise BadResponse(f"field {key!r} missing or not a string")
    return value


def opt_str(data: Mapping[str, Any], key: str) -> str | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise BadResponse(f"field {key!r} is not a string")
    return value or None


def req_int(data: Mapping[str, Any], key: str) -> int:
    value = data.get(key)
    if isinstance(value, bool) or not isinstance(value, int):
        raise BadResponse(f"field {key!r} missing or not an integer")
    return value


def req_decimal(data: Mapping[str, Any], key: str) -> Decimal:
    value = data.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise BadResponse(f"field {key!r} missing or not a number")
    try:
        return Decimal(str(value))
    except InvalidOperation:
        raise BadResponse(f"field {key!r} is not a number") from None


def opt_date(data: Mapping[str, Any], key: str) -> date | None:
    value = opt_str(data, key)
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise BadResponse(f"field {key!r} is not an ISO date") from None


def req_date(data: Mapping[str, Any], key: str) -> date:
    value = opt_date(data, key)
    if value is None:
        raise BadResponse(f"field {key!r} missing")
    return value


def req_datetime(data: Mapping[str, Any], key: str) -> datetime:
    value = req_str(data, key)
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise BadResponse(f"field {key!r} is not an ISO timestamp") from None


def req_list(data: Mapping[str, Any], key: str, item: Callable[[Any], T]) -> list[T]:
    value = data.get(key)
    if not isinstance(value, list):
        raise BadResponse(f"field {key!r} missing or not a list")
    return [item(element) for element in value]
