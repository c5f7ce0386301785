"""Erasing the customer account: the email is checked, the request is registered as an
offline request of its own kind, and the shopper hears what happens next."""

from __future__ import annotations

from pathlib import Path

import pytest
from rasa_sdk.events import SlotSet
from service_fakes import slot_events

from actions.privacy import ActionRegisterErasure, ValidateErasureForm
from handover.models import OFFLINE
from handover.store import ERASURE, HandoverStore, make_engine


@pytest.fixture()
def queue(tmp_path: Path):
    store = HandoverStore(make_engine(f"sqlite:///{tmp_path / 'rasa.db'}"))
    yield store
    store.engine.dispose()


async def test_erasure_request_is_registered_for_agents_not_queued(
    dispatcher, make_tracker, domain, queue
):
    tracker = make_tracker(sender_id="leaver", slots={"email": "<Anna.Berg@Example.com>"})
    events = await ActionRegisterErasure(store=queue).run(dispatcher, tracker, domain)
    assert events == [SlotSet("email", None)]
    assert queue.queue() == []  # never in the live queue
    [request] = queue.offline_requests()
    assert (request.status, request.topic, request.email) == (
        OFFLINE,
        ERASURE,
        "anna.berg@example.com",
    )
    assert "anna.berg@example.com" in (request.description or "")
    [message] = dispatcher.messages
    assert message["response"] == "utter_erasure_registered"
    assert message["masked_email"] == "a***@example.com"


def test_the_confirmation_says_what_happens_next(domain):
    text = domain["responses"]["utter_erasure_registered"][0]["text"]
    assert "{masked_email}" in text and "confirm" in text
    assert "within one month" in text
    assert "gear menu" in text  # this chat is deleted by the shopper, not by the request
    first = domain["responses"]["utter_delete_account"][0]["text"]
    assert "gear" not in first and "this conversation" not in first
    assert "register" in first


async def test_malformed_email_registers_nothing(dispatcher, make_tracker, domain, queue):
    tracker = make_tracker(slots={"email": "anna at example"})
    await ActionRegisterErasure(store=queue).run(dispatcher, tracker, domain)
    assert [m["response"] for m in dispatcher.messages] == ["utter_handover_invalid_email"]
    assert queue.offline_requests() == []


async def test_without_the_database_the_shopper_is_told_another_way(
    dispatcher, make_tracker, domain
):
    broken = HandoverStore(make_engine("sqlite:////nonexistent/dir/x.db"))
    tracker = make_tracker(slots={"email": "anna@example.com"})
    await ActionRegisterErasure(store=broken).run(dispatcher, tracker, domain)
    assert [m["response"] for m in dispatcher.messages] == ["utter_erasure_unavailable"]


@pytest.mark.parametrize(
    ("typed", "kept"),
    [
        ("Anna.Berg@Example.com", "anna.berg@example.com"),
        ("anna.berg@example", None),
    ],
)
async def test_the_form_checks_the_email(dispatcher, make_tracker, domain, typed, kept):
    tracker = make_tracker(
        slots={"requested_slot": "email"}, text=typed, active_loop="erasure_form"
    )
    events = await ValidateErasureForm().run(dispatcher, tracker, domain)
    values = {e["name"]: e["value"] for e in events if e.get("event") == "slot"}
    assert values["email"] == kept
    if kept is None:
        assert [m["response"] for m in dispatcher.messages] == ["utter_handover_invalid_email"]


async def activated_with_a_held_email(
    make_tracker, dispatcher, domain, text, email="carla.munoz@example.net"
):
    """The erasure form starting on `text` while the chat holds an email."""
    tracker = make_tracker(
        slots={"email": email},
        text=text,
        intent="delete_account",
        active_loop="erasure_form",
    )
    # Rasa validates a prefilled slot at activation by setting it again (forms.py)
    tracker.events.append(SlotSet("email", tracker.get_slot("email")))
    return await ValidateErasureForm().run(dispatcher, tracker, domain)


@pytest.mark.parametrize(
    "text", ["how do I delete my account?", "hvordan sletter jeg kontoen min?", "delete my account"]
)
async def test_an_email_the_chat_already_held_is_not_used_without_asking(
    dispatcher, make_tracker, domain, text
):
    """An order lookup or a declined handover leaves the email in its slot; the erasure
    form used it and registered the request for a how-to question."""
    events = await activated_with_a_held_email(make_tracker, dispatcher, domain, text)
    assert slot_events(events) == {"email": None}  # the form then asks for it
    assert dispatcher.messages == []  # no "that doesn't look like an email"


async def test_an_email_written_with_the_request_is_used(dispatcher, make_tracker, domain):
    text = "please delete my account, it's Carla.Munoz@example.net"
    events = await activated_with_a_held_email(make_tracker, dispatcher, domain, text)
    assert slot_events(events)["email"] == "carla.munoz@example.net"


@pytest.mark.parametrize(
    "text",
    [
        "poistakaa olga.brennan@example.net teidän uutiskirjeestä",
        "remove olga.brennan@example.net from the newsletter please",
    ],
)
async def test_an_email_with_the_newsletter_is_no_account_to_erase(
    dispatcher, make_tracker, domain, text
):
    """A blind trial: the newsletter read as delete_account (0.39 against 0.39) had the
    erasure of the account registered at once for the address in it."""
    events = await activated_with_a_held_email(
        make_tracker, dispatcher, domain, text, email="olga.brennan@example.net"
    )
    assert slot_events(events) == {"email": None}  # the form asks; the shopper can say no


async def test_the_account_named_beside_the_newsletter_is_an_erasure(
    dispatcher, make_tracker, domain
):
    text = "delete my account and newsletter, olga.brennan@example.net"
    events = await activated_with_a_held_email(
        make_tracker, dispatcher, domain, text, email="olga.brennan@example.net"
    )
    assert slot_events(events)["email"] == "olga.brennan@example.net"


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("will I lose my order history then?", "order_status"),  # 0.40: it was
        ("mister jeg ordrehistorikken da?", "order_status"),
        ("is everything really deleted", "delete_account"),
        ("what happens with my unpaid invoice?", "invoice"),
    ],
)
async def test_a_question_about_the_erasure_is_answered_and_the_email_asked_again(
    dispatcher, make_tracker, domain, text, intent
):
    """It got "that doesn't look like an email address", the form gave way to the order
    questions and the erasure was never registered."""
    tracker = make_tracker(
        slots={"requested_slot": "email"}, text=text, intent=intent, active_loop="erasure_form"
    )
    events = await ValidateErasureForm().run(dispatcher, tracker, domain)
    assert [m["response"] for m in dispatcher.messages] == ["utter_erasure_details"]
    assert slot_events(events) == {"email": None}  # the form asks for the email again


@pytest.mark.parametrize(
    ("text", "intent", "entities"),
    [
        ("where is order 40012345?", "order_status", [("order_number", "40012345")]),
        ("is it anna.berg@example.com?", "inform", [("email", "anna.berg@example.com")]),
        ("bye?", "goodbye", []),
        ("can I talk to someone?", "human_handoff", []),
    ],
)
async def test_other_messages_are_not_taken_for_questions_about_the_erasure(
    dispatcher, make_tracker, domain, text, intent, entities
):
    tracker = make_tracker(
        slots={"requested_slot": "email"},
        text=text,
        intent=intent,
        entities=[{"entity": name, "value": value} for name, value in entities],
        active_loop="erasure_form",
    )
    await ValidateErasureForm().run(dispatcher, tracker, domain)
    assert "utter_erasure_details" not in [m.get("response") for m in dispatcher.messages]
