"""The change client against the real reference service and the misbehaving server.

What matters to the shopper: a confirmed change happens at most once whatever the network
does, refusals come back as codes the assistant can explain, and an unknown result is
never mistaken for success.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
import requests

from actions.clients import (
    Address,
    BadResponse,
    ChangeClient,
    Conflict,
    FieldError,
    Invalid,
    NotFound,
    OrderClient,
    ServiceUnavailable,
    new_idempotency_key,
)
from actions.clients.factory import change_client
from actions.settings import Settings

FAST: dict[str, Any] = {"connect_timeout": 0.5, "read_timeout": 0.3, "backoff": 0.01}
STOCKHOLM = Address(street="Storgatan 12", postcode="11122", city="Stockholm", country="SE")


# --- real reference service -------------------------------------------------------


def test_cancel_once_even_when_the_confirmation_is_sent_twice(service_url: str) -> None:
    client = ChangeClient(service_url)
    key = new_idempotency_key()
    first = client.cancel("40012365", "olga.brennan@example.net", idempotency_key=key)
    again = client.cancel("40012365", "olga.brennan@example.net", idempotency_key=key)
    assert first == again
    assert first.status == "cancelled" and first.total is not None
    with pytest.raises(Conflict) as refused:  # a new confirmation: too late now
        client.cancel("40012365", "olga.brennan@example.net", idempotency_key=new_idempotency_key())
    assert refused.value.code == "already_cancelled"
    sent = requests.get(
        f"{service_url}/outbox", params={"to": "olga.brennan@example.net"}, timeout=5
    ).json()["messages"]
    assert [m["kind"] for m in sent] == ["cancellation_confirmation"]


def test_cancel_of_a_shipped_order_is_a_conflict_with_its_reason(service_url: str) -> None:
    with pytest.raises(Conflict) as refused:
        ChangeClient(service_url).cancel(
            "40012345", "anna.berg@example.com", idempotency_key=new_idempotency_key()
        )
    assert refused.value.code == "already_shipped"
    assert OrderClient(service_url).lookup("40012345", "anna.berg@example.com").status == (
        "shipped"
    )


def test_not_found_for_someone_elses_order(service_url: str) -> None:
    with pytest.raises(NotFound):
        ChangeClient(service_url).cancel(
            "40012345", "ben.okafor@example.org", idempotency_key=new_idempotency_key()
        )


def test_address_change_returns_the_normalised_address(service_url: str) -> None:
    change = ChangeClient(service_url).change_address(
        "40012361", "katja.rossi@example.org", STOCKHOLM, idempotency_key=new_idempotency_key()
    )
    assert change.address == Address("Storgatan 12", "111 22", "Stockholm", "SE")


def test_address_field_errors_come_back_as_codes(service_url: str) -> None:
    bad = Address(street="Storgatan", postcode="1112", city="Stockholm", country="SE")
    with pytest.raises(Invalid) as refused:
        ChangeClient(service_url).change_address(
            "40012361", "katja.rossi@example.org", bad, idempotency_key=new_idempotency_key()
        )
    assert refused.value.fields == [
        FieldError("street", "invalid_format"),
        FieldError("postcode", "invalid_format"),
    ]


def test_size_change_and_its_refusals(service_url: str) -> None:
    client = ChangeClient(service_url)
    order = client.change_size(
        "40012362", "liam.jensen@example.net", "241015", "43", idempotency_key=new_idempotency_key()
    )
    assert {i.article_number: i.size for i in order.items}["241015"] == "43"
    with pytest.raises(Conflict) as sold_out:
        client.change_size(
            "40012362",
            "liam.jensen@example.net",
            "230122",
            "S",
            idempotency_key=new_idempotency_key(),
        )
    assert sold_out.value.code == "out_of_stock"
    with pytest.raises(Invalid) as unknown:
        client.change_size(
            "40012362",
            "liam.jensen@example.net",
            "241015",
            "XXL",
            idempotency_key=new_idempotency_key(),
        )
    assert unknown.value.fields == [FieldError("size", "unknown_size")]


def test_invoice_copy_and_unsubscribe_are_accepted(service_url: str) -> None:
    client = change_client(Settings(order_service_url=service_url))
    client.invoice_copy("40012364", "nils.lind@example.org", idempotency_key=new_idempotency_key())
    client.unsubscribe("nobody@example.net", idempotency_key=new_idempotency_key())
    sent = requests.get(f"{service_url}/outbox", params={"to": "nils.lind@example.org"}, timeout=5)
    assert [m["kind"] for m in sent.json()["messages"]] == ["invoice_copy"]


def test_a_malformed_key_is_refused_before_any_request(service_url: str) -> None:
    with pytest.raises(ValueError):
        ChangeClient(service_url).cancel(
            "40012349", "emma.novak@example.org", idempotency_key="short"
        )


# --- misbehaving server -----------------------------------------------------------


def test_a_retry_after_a_timeout_carries_the_same_key(
    bad_server: str, seen_keys: dict[str, list[str | None]]
) -> None:
    """The first attempt times out (the service may have cancelled already); the retry
    must be recognisable as the same request, or the order could change twice."""
    client = ChangeClient(f"{bad_server}/slowfirst/{uuid.uuid4().hex}", **FAST)
    key = new_idempotency_key()
    order = client.cancel("40012345", "a@example.com", idempotency_key=key)
    assert order.status == "cancelled"
    assert seen_keys[client.base_url.removeprefix(bad_server) + "/orders/cancel"] == [key, key]


def test_each_confirmation_gets_its_own_key(
    bad_server: str, seen_keys: dict[str, list[str | None]]
) -> None:
    client = ChangeClient(f"{bad_server}/slowfirst/{uuid.uuid4().hex}", **FAST)
    client.cancel("40012345", "a@example.com", idempotency_key=new_idempotency_key())
    client.cancel("40012345", "a@example.com", idempotency_key=new_idempotency_key())
    first, retry, second = seen_keys[client.base_url.removeprefix(bad_server) + "/orders/cancel"]
    assert first == retry != second


def test_timeout_after_every_retry_is_unavailable_not_success(bad_server: str) -> None:
    client = ChangeClient(f"{bad_server}/slow", **FAST, retries=1)
    with pytest.raises(ServiceUnavailable):
        client.cancel("40012345", "a@example.com", idempotency_key=new_idempotency_key())


@pytest.mark.parametrize("prefix", ["/fail/500", "/garbage", "/wrongshape", "/list"])
def test_errors_and_garbage_are_our_exceptions(bad_server: str, prefix: str) -> None:
    client = ChangeClient(f"{bad_server}{prefix}", **FAST, retries=0)
    with pytest.raises((ServiceUnavailable, BadResponse)):
        client.cancel("40012345", "a@example.com", idempotency_key=new_idempotency_key())


def test_refusals_carry_codes_and_never_the_backends_text(bad_server: str) -> None:
    with pytest.raises(Conflict) as conflict:
        ChangeClient(f"{bad_server}/refuse/409", **FAST).cancel(
            "40012345", "a@example.com", idempotency_key=new_idempotency_key()
        )
    assert conflict.value.code == "already_shipped"
    with pytest.raises(Invalid) as invalid:
        ChangeClient(f"{bad_server}/refuse/422", **FAST).change_address(
            "40012345", "a@example.com", STOCKHOLM, idempotency_key=new_idempotency_key()
        )
    assert invalid.value.fields == [FieldError("postcode", "invalid_format")]  # "<b>" dropped
    for error in (conflict.value, invalid.value):
        assert "Backend text" not in str(error)


def test_a_dead_service_is_unavailable(dead_url: str) -> None:
    with pytest.raises(ServiceUnavailable):
        ChangeClient(dead_url, **FAST, retries=0).unsubscribe(
            "a@example.com", idempotency_key=new_idempotency_key()
        )
