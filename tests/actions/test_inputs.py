"""One set of rules for what shoppers type, the same in every form (issue 12, point 3).

Before, the order form accepted '4001.2345' and '<anna@example.com>' while the handover
form rejected both; the same shopper got two answers to the same input.
"""

from __future__ import annotations

from typing import Any

import pytest

from actions.handover import ValidateHandoverForm, ValidateLeaveMessageForm
from actions.inputs import (
    bounded_text,
    mask_email,
    normalise_article_number,
    normalise_email,
    normalise_order_number,
    normalise_tracking_number,
)
from actions.orders import ValidateOrderStatusForm

ORDER_NUMBERS = [
    ("40012345", "40012345"),
    ("#4001-2345", "40012345"),
    ("4001 2345", "40012345"),
    ("4001.2345", "40012345"),  # digits grouped with a dot, as many people write them
    ("order number 40012345", "40012345"),
    ("my order is 40012345, thanks", "40012345"),
    ("<b>40012345</b>", "40012345"),  # only the digits survive
    ("4001234", None),
    ("400123456", None),
    ("40012345 or 40012346", None),  # two candidates: ask, do not guess
    ("<img src=x onerror=alert(1)>", None),
    ("", None),
    (None, None),
    (40012345, None),  # slots from `/intent{...}` can hold any JSON type
]

EMAILS = [
    ("anna.berg@example.com", "anna.berg@example.com"),
    ("<anna@example.com>", "anna@example.com"),  # as mail programs copy an address
    ("Anna.Berg@Example.COM", "anna.berg@example.com"),
    ("my email is anna@example.com.", "anna@example.com"),
    ("anna@example", None),
    ("anna at example dot com", None),
    ('"><script>alert(1)</script>"@example.com', None),
    ("<script>alert(1)</script>", None),
    ("a" * 250 + "@example.com", None),
    (["anna@example.com"], None),
]


@pytest.mark.parametrize(("typed", "expected"), ORDER_NUMBERS)
def test_order_numbers(typed: Any, expected: str | None) -> None:
    assert normalise_order_number(typed) == expected


@pytest.mark.parametrize(("typed", "expected"), EMAILS)
def test_emails(typed: Any, expected: str | None) -> None:
    assert normalise_email(typed) == expected


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("jx 482 913 077 gb", "JX482913077GB"),
        ("JX482913077GB", "JX482913077GB"),
        ("JX48291307GB", None),
        ("<script>JX482913077GB", "JX482913077GB"),
        ({}, None),
    ],
)
def test_tracking_numbers(typed: Any, expected: str | None) -> None:
    assert normalise_tracking_number(typed) == expected


@pytest.mark.parametrize(
    ("typed", "expected"),
    [("204518", "204518"), ("#204-518", "204518"), ("2045", None), (204518, None)],
)
def test_article_numbers(typed: Any, expected: str | None) -> None:
    assert normalise_article_number(typed) == expected


def test_bounded_text_and_mask() -> None:
    assert bounded_text("  call me  ", 5) == "call"
    assert bounded_text("   ", 5) is None and bounded_text(["x"], 5) is None
    assert mask_email("anna.berg@example.com") == "a***@example.com"


FORMS = [ValidateOrderStatusForm, ValidateHandoverForm]


@pytest.mark.parametrize("form", FORMS, ids=lambda f: f.__name__)
@pytest.mark.parametrize(("typed", "expected"), ORDER_NUMBERS[:8] + ORDER_NUMBERS[10:12])
def test_every_form_reads_order_numbers_alike(
    form, typed, expected, make_tracker, dispatcher, domain
) -> None:
    tracker = make_tracker(slots={"requested_slot": "order_number"}, text=str(typed))
    result = form().validate_order_number(typed, dispatcher, tracker, domain)
    assert result["order_number"] == expected


@pytest.mark.parametrize("form", [*FORMS, ValidateLeaveMessageForm], ids=lambda f: f.__name__)
@pytest.mark.parametrize(("typed", "expected"), EMAILS[:8])
def test_every_form_reads_emails_alike(
    form, typed, expected, make_tracker, dispatcher, domain
) -> None:
    tracker = make_tracker(slots={"requested_slot": "email"}, text=str(typed))
    result = form().validate_email(typed, dispatcher, tracker, domain)
    assert result["email"] == expected
