"""Invoice status: the order is verified like for its status, then its invoice is told;
every failure of the order service gets an answer and the offer of a person."""

from __future__ import annotations

import string
import time
from datetime import timedelta
from decimal import Decimal

import pytest
from service_fakes import TODAY, FakeOrderClient, make_order, slot_events, with_candidates

from actions.clients import BadResponse, Invoice, NotFound, ServiceUnavailable
from actions.invoices import ActionInvoiceStatus, ValidateInvoiceForm, format_amount

EMAIL = "jonas.weber@example.com"


def invoice(
    status: str = "unpaid", amount: str = "128.90", currency: str = "EUR", due_in: int = 26
) -> Invoice:
    return Invoice(Decimal(amount), currency, TODAY + timedelta(days=due_in), status)


def verified(make_tracker):
    return make_tracker(slots={"order_number": "40012354", "email": EMAIL}, intent="inform")


async def run_action(make_tracker, dispatcher, domain, result):
    client = FakeOrderClient(result)
    events = await ActionInvoiceStatus(client=client, today=TODAY).run(
        dispatcher, verified(make_tracker), domain
    )
    return client, slot_events(events)


def rendered(domain, message) -> str:
    """The response as the shopper reads it: every placeholder must be filled."""
    template = domain["responses"][message["response"]][0]["text"]
    fields = {f for _, f, _, _ in string.Formatter().parse(template) if f}
    slots = {name: spec.get("initial_value") for name, spec in domain["slots"].items()}
    values = {f: message.get(f, slots.get(f)) for f in fields}
    assert all(v not in (None, "") for v in values.values()), values
    return template.format(**values)


async def test_unpaid_invoice_tells_amount_with_currency_and_due_date(
    make_tracker, dispatcher, domain
):
    order = make_order("delivered", order_number="40012354", invoice=invoice())
    client, slots = await run_action(make_tracker, dispatcher, domain, order)
    assert client.calls == [("lookup", ("40012354", EMAIL))]
    [message] = dispatcher.messages
    assert message["response"] == "utter_invoice_unpaid"
    text = rendered(domain, message)
    assert "€128.90" in text
    assert f"{(TODAY + timedelta(days=26)):%A} {(TODAY + timedelta(days=26)).day}" in text
    assert "j***@example.com" in text and EMAIL not in text
    assert slots["service_outcome"] == "answered"
    assert slots["order_number"] is None and slots["email"] is None  # ready for another
    # proven: a copy of the invoice or a person asked for next needs no questions
    assert (slots["verified_order"], slots["verified_email"]) == ("40012354", EMAIL)


async def test_overdue_invoice_is_said_and_a_person_offered(make_tracker, dispatcher, domain):
    order = make_order("delivered", invoice=invoice("overdue", "183.95", due_in=-9))
    _, slots = await run_action(make_tracker, dispatcher, domain, order)
    [message] = dispatcher.messages
    assert message["response"] == "utter_invoice_overdue"
    text = rendered(domain, message)
    assert "€183.95" in text and "overdue" in text
    assert slots["service_outcome"] == "needs_human"


async def test_paid_invoice(make_tracker, dispatcher, domain):
    order = make_order("delivered", invoice=invoice("paid", "64.90"))
    _, slots = await run_action(make_tracker, dispatcher, domain, order)
    [message] = dispatcher.messages
    assert message["response"] == "utter_invoice_paid"
    assert "€64.90" in rendered(domain, message)
    assert slots["service_outcome"] == "answered"


async def test_order_paid_by_card_has_no_invoice(make_tracker, dispatcher, domain):
    order = make_order("shipped", payment_method="credit card", invoice=None)
    _, slots = await run_action(make_tracker, dispatcher, domain, order)
    [message] = dispatcher.messages
    assert message["response"] == "utter_invoice_none"
    assert "credit card" in rendered(domain, message)
    assert slots["service_outcome"] == "answered"


@pytest.mark.parametrize(
    ("amount", "currency", "shown"),
    [
        ("1299", "SEK", "SEK1,299.00"),
        ("5.5", "EUR", "€5.50"),
        ("1234.5", "GBP", "£1,234.50"),
    ],
)
def test_amounts_are_formatted_with_their_currency(amount, currency, shown):
    assert format_amount(invoice(amount=amount, currency=currency)) == shown


async def test_wrong_email_or_number_is_not_found_and_offers_a_person(
    make_tracker, dispatcher, domain
):
    _, slots = await run_action(make_tracker, dispatcher, domain, NotFound("HTTP 404"))
    assert [m["response"] for m in dispatcher.messages] == ["utter_order_not_found"]
    assert slots["service_outcome"] == "needs_human"
    assert "verified_order" not in slots  # nothing proven


@pytest.mark.parametrize("failure", [ServiceUnavailable("timeout"), BadResponse("invalid JSON")])
async def test_service_failure_apologises_and_offers_a_person(
    make_tracker, dispatcher, domain, failure
):
    _, slots = await run_action(make_tracker, dispatcher, domain, failure)
    assert [m["response"] for m in dispatcher.messages] == ["utter_service_unavailable"]
    assert slots["service_outcome"] == "needs_human"
    assert slots["order_number"] is None


async def test_without_verified_order_nothing_is_looked_up(make_tracker, dispatcher, domain):
    client = FakeOrderClient(make_order())
    tracker = make_tracker(slots={"order_number": "<b>1</b>", "email": EMAIL})
    events = await ActionInvoiceStatus(client=client).run(dispatcher, tracker, domain)
    assert client.calls == []
    assert [m["response"] for m in dispatcher.messages] == ["utter_too_many_attempts"]
    assert slot_events(events)["service_outcome"] == "needs_human"


async def test_invoice_form_validates_like_the_order_form(make_tracker, dispatcher, domain):
    tracker = make_tracker(
        slots={"requested_slot": "order_number"}, text="# 4001 2354", active_loop="invoice_form"
    )
    slots = slot_events(await ValidateInvoiceForm().run(dispatcher, tracker, domain))
    assert slots["order_number"] == "40012354"
    tracker = make_tracker(
        slots={"requested_slot": "email", "order_number": "40012354"},
        text="jonas.weber@example",
        active_loop="invoice_form",
    )
    with_candidates(tracker)
    slots = slot_events(await ValidateInvoiceForm().run(dispatcher, tracker, domain))
    assert slots["email"] is None
    assert [m["response"] for m in dispatcher.messages] == ["utter_invalid_email"]


def proven_slots(at: float) -> dict:
    return {"verified_order": "40012354", "verified_email": EMAIL, "verified_at": at}


async def test_an_order_proven_in_the_chat_is_the_invoices_order(make_tracker, dispatcher, domain):
    """'when is the invoice due?' + 'yes' after an order status answer: that order's
    invoice, without asking for the order again."""
    tracker = make_tracker(
        slots=proven_slots(time.time()), intent="affirm", text="yes", active_loop="invoice_form"
    )
    slots = slot_events(await ValidateInvoiceForm().run(dispatcher, tracker, domain))
    assert (slots["order_number"], slots["email"]) == ("40012354", EMAIL)
    assert dispatcher.messages == []


@pytest.mark.parametrize(
    ("slots", "asked"),
    [
        ({"order_number": "40012361"}, "40012361"),  # another order named: that one
        (proven_slots(time.time() - 3600), None),  # proven an hour ago: asked again
    ],
)
async def test_another_order_or_an_old_proof_is_not_reused(
    make_tracker, dispatcher, domain, slots, asked
):
    tracker = make_tracker(slots=slots, intent="affirm", text="yes", active_loop="invoice_form")
    events = slot_events(await ValidateInvoiceForm().run(dispatcher, tracker, domain))
    assert events.get("order_number", slots.get("order_number")) == asked
    assert events.get("email") is None
