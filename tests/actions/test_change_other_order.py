"""Another order named while a change waits for its Yes / No.

"no wait, it's order 40012350 I want cancelled, farid.haddad@example.net" at the question
about 40012349 was asked about 40012350 with 40012349's items and total, and without
checking that the e-mail belongs to it. Now the named order is looked up (against the
real reference service) and the question starts again about it, or the change ends with
"not found". Its own service process: the orders here are cancelled by other modules.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from typing import Any

import pytest
from service_fakes import slot_events, with_candidates

from actions.clients import OrderClient
from actions.self_service import ActionAskChangeAnswer, ValidateChangeConfirmationForm, summary
from actions.sizes import load_items
from devkit.servers import stop
from devkit.stack import start_reference_service

EMMA, EMMA_ORDER = "emma.novak@example.org", "40012349"
FARID, FARID_ORDER = "farid.haddad@example.net", "40012350"
NILS, NILS_ORDER = "nils.lind@example.org", "40012364"  # received, two items


@pytest.fixture(scope="module")
def service() -> Iterator[str]:
    url, proc = start_reference_service(dict(os.environ))
    yield url
    stop(proc)


def waiting(kind: str = "cancel", **more: Any) -> dict[str, Any]:
    """The question about Emma's order, as action_change_confirm left it."""
    return {
        "verified_order": EMMA_ORDER,
        "verified_email": EMMA,
        "verified_at": time.time(),
        "order_number": EMMA_ORDER,
        "email": EMMA,
        "change_kind": kind,
        "change_key": "key-emma-0001",
        "change_summary": "1 item, €49.95",
        "change_reasks": 0.0,
        "requested_slot": "change_answer",
        **more,
    }


def entities(number: str, email: str | None = None) -> list[dict[str, Any]]:
    found = [{"entity": "order_number", "value": number}]
    return found + ([{"entity": "email", "value": email}] if email else [])


async def answer(service, make_tracker, dispatcher, domain, text, number, email=None, **slots):
    tracker = make_tracker(
        slots=waiting(**slots),
        intent="cancel_order",
        text=text,
        entities=entities(number, email),
        active_loop="change_confirmation_form",
    )
    # the slot mapping has put the message's number (and e-mail) in the slots already
    with_candidates(tracker, order_number=number, **({"email": email} if email else {}))
    form = ValidateChangeConfirmationForm(client=OrderClient(service))
    return slot_events(await form.run(dispatcher, tracker, domain))


def responses(dispatcher) -> list[str]:
    return [m.get("response") or m.get("text") or "" for m in dispatcher.messages]


async def test_another_order_with_its_email_is_looked_up_and_asked_about(
    service, make_tracker, dispatcher, domain
):
    text = f"no wait, it's order {FARID_ORDER} I want cancelled, {FARID}"
    slots = await answer(service, make_tracker, dispatcher, domain, text, FARID_ORDER, FARID)
    assert slots["order_number"] == FARID_ORDER and slots["email"] == FARID
    assert slots["verified_order"] == FARID_ORDER
    # the new order's own items and total, a new key, and no answer taken from the message
    assert slots["change_summary"] == summary(OrderClient(service).lookup(FARID_ORDER, FARID))
    assert slots["change_summary"] != waiting()["change_summary"]
    assert slots["change_key"] not in (None, "key-emma-0001")
    assert slots["change_answer"] is None and slots["change_reasks"] == 0.0


async def test_another_order_that_the_email_does_not_open_ends_the_change(
    service, make_tracker, dispatcher, domain
):
    # Emma's e-mail (the proven one) with Farid's order: nothing to confirm, nothing shown
    text = f"sorry I meant {FARID_ORDER}"
    slots = await answer(service, make_tracker, dispatcher, domain, text, FARID_ORDER)
    assert slots["change_answer"] == "skip" and slots["verified_order"] is None
    assert slots["service_outcome"] == "needs_human"
    assert responses(dispatcher) == ["utter_order_not_found"]
    assert "change_summary" not in slots


async def test_the_same_order_named_again_is_an_answer(service, make_tracker, dispatcher, domain):
    text = f"yes cancel {EMMA_ORDER}"
    slots = await answer(service, make_tracker, dispatcher, domain, text, EMMA_ORDER)
    assert slots["change_answer"] == "yes"
    assert "change_summary" not in slots and "verified_order" not in slots


async def test_a_size_change_starts_again_with_the_items_of_the_other_order(
    service, make_tracker, dispatcher, domain
):
    text = f"actually it's in the other order, {NILS_ORDER}, {NILS}"
    slots = await answer(
        service, make_tracker, dispatcher, domain, text, NILS_ORDER, NILS, kind="size"
    )
    items = OrderClient(service).lookup(NILS_ORDER, NILS).items
    assert slots["verified_order"] == NILS_ORDER
    assert [i.article_number for i in load_items(slots["change_items"])] == [
        i.article_number for i in items
    ]
    assert len(items) > 1
    # a top and a one-size scarf: the top, the only item that comes in sizes, is taken;
    # no size is carried over from the first order
    assert slots["change_item"] == "218044" and slots["new_size"] is None


async def test_a_question_at_the_confirmation_is_asked_again_without_a_reproach(
    make_tracker, dispatcher, domain
):
    """After an unclear answer (reasks 1), "does cancelling cost anything?" is answered by
    a rule and the question comes again: it used to start with "I need a clear yes or no"."""
    tracker = make_tracker(
        slots=waiting(change_reasks=1.0), intent="cancellation_fee", text="does it cost?"
    )
    await ActionAskChangeAnswer().run(dispatcher, tracker, domain)
    assert responses(dispatcher) == ["utter_ask_cancel_confirmation"]
    tracker = make_tracker(slots=waiting(change_reasks=1.0), intent="nlu_fallback", text="hm")
    dispatcher.messages.clear()
    await ActionAskChangeAnswer().run(dispatcher, tracker, domain)
    assert responses(dispatcher) == ["utter_change_need_yes_no", "utter_ask_cancel_confirmation"]


async def test_another_address_for_an_invoice_copy_is_refused_and_asked_again(
    make_tracker, dispatcher, domain
):
    """ "can you send it to my work email instead?" got the opening hours and the question
    again; the copy only ever goes to the order's address, and now the shopper hears so."""
    tracker = make_tracker(
        slots=waiting(kind="invoice_copy"),
        intent="contact",
        text="can you send it to my work email instead? j.weber@firma.example.com",
        entities=[{"entity": "email", "value": "j.weber@firma.example.com"}],
        active_loop="change_confirmation_form",
    )
    with_candidates(tracker, email="j.weber@firma.example.com")
    slots = slot_events(await ValidateChangeConfirmationForm().run(dispatcher, tracker, domain))
    assert responses(dispatcher) == ["utter_invoice_copy_order_address_only"]
    assert slots["email"] == EMMA  # the proven address, not the one in the message
    assert "change_answer" not in slots or slots["change_answer"] is None
