"""Handover actions: opening hours with a fixed clock, the handover form, the queue."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from rasa_sdk import Tracker
from rasa_sdk.events import ConversationPaused, SlotSet

from actions.clients.errors import NotFound, ServiceUnavailable
from actions.handover import (
    ActionCheckOpeningHours,
    ActionJoinQueue,
    ActionLeaveMessage,
    ValidateHandoverForm,
    ValidateLeaveMessageForm,
    topic_of,
)
from actions.verified import remember
from handover.models import OFFLINE, ORDER_MATCHES, ORDER_NO_MATCH, ORDER_UNCHECKED, WAITING
from handover.settings import HandoverSettings
from handover.store import HandoverStore, make_engine
from tests.actions.service_fakes import FakeOrderClient, make_order

MONDAY_NOON = dt.datetime(2026, 11, 23, 12, 0, tzinfo=ZoneInfo("Europe/Berlin")).timestamp()
SUNDAY_NOON = dt.datetime(2026, 11, 29, 12, 0, tzinfo=ZoneInfo("Europe/Berlin")).timestamp()


def responses(dispatcher) -> list[str]:
    return [m.get("response") for m in dispatcher.messages]


def form_turn(
    make_tracker,
    *,
    requested: str,
    text: str,
    intent: str = "inform",
    candidates: dict[str, Any] | None = None,
    slots: dict[str, Any] | None = None,
    entities: list[dict[str, Any]] | None = None,
) -> Tracker:
    """A tracker as Rasa sends it to a form's validation action: the latest message,
    then the slot candidates Rasa extracted for it as trailing slot events."""
    tracker = make_tracker(
        slots={"requested_slot": requested, **(slots or {}), **(candidates or {})},
        text=text,
        intent=intent,
        entities=entities,
        active_loop="handover_form",
    )
    for name, value in (candidates or {}).items():
        tracker.events.append({"event": "slot", "name": name, "value": value})
    return tracker


def slot_events(events: list[dict[str, Any]]) -> dict[str, Any]:
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


def join_action(store: HandoverStore, orders: FakeOrderClient) -> ActionJoinQueue:
    """action_join_queue with the order service faked at the client's edge."""
    return ActionJoinQueue(store=store, client=orders)  # type: ignore[arg-type]


@pytest.fixture()
def queue(tmp_path: Path):
    store = HandoverStore(
        make_engine(f"sqlite:///{tmp_path / 'rasa.db'}"), clock=lambda: MONDAY_NOON
    )
    yield store
    store.engine.dispose()


# --- opening hours ---------------------------------------------------------------------


async def test_within_opening_hours_agents_are_available(dispatcher, make_tracker, domain) -> None:
    action = ActionCheckOpeningHours(settings=HandoverSettings(), clock=lambda: MONDAY_NOON)
    events = await action.run(dispatcher, make_tracker(intent="human_handoff"), domain)
    assert events == [SlotSet("agents_available", True)]
    assert dispatcher.messages == []


async def test_an_order_proven_in_the_chat_is_handed_to_the_handover_form(
    dispatcher, make_tracker, domain
) -> None:
    action = ActionCheckOpeningHours(settings=HandoverSettings(), clock=lambda: MONDAY_NOON)
    proven = {e["name"]: e["value"] for e in remember("40012347", "carla.munoz@example.net")}
    tracker = make_tracker(slots=proven)
    events = await action.run(dispatcher, tracker, domain)
    assert slot_events(events) == {
        "agents_available": True,
        "order_number": "40012347",
        "email": "carla.munoz@example.net",
    }
    # the shopper hears that the order goes along (the one-line question alone read like
    # the start of something new)
    assert [(m["response"], m.get("order_ref")) for m in dispatcher.messages] == [
        ("utter_handover_with_order", "40012347")
    ]
    dispatcher.messages.clear()
    # nothing proven: the form asks as usual
    events = await action.run(dispatcher, make_tracker(), domain)
    assert slot_events(events) == {"agents_available": True}
    assert dispatcher.messages == []


async def test_outside_opening_hours_the_bot_says_when(dispatcher, make_tracker, domain) -> None:
    action = ActionCheckOpeningHours(settings=HandoverSettings(), clock=lambda: SUNDAY_NOON)
    events = await action.run(dispatcher, make_tracker(intent="human_handoff"), domain)
    assert events == [SlotSet("agents_available", False)]
    [message] = dispatcher.messages
    assert message["response"] == "utter_agents_closed"
    assert message["next_opening"] == "tomorrow at 08:00"
    assert "Monday to Friday 08:00-20:00" in message["opening_hours"]
    assert "utter_agents_closed" in domain["responses"]


# --- the handover form -----------------------------------------------------------------


async def test_valid_order_number_is_kept(dispatcher, make_tracker, domain) -> None:
    tracker = form_turn(
        make_tracker,
        requested="order_number",
        text="40012345",
        candidates={"order_number": "40012345"},
    )
    events = await ValidateHandoverForm().run(dispatcher, tracker, domain)
    # Rasa picks the next question itself unless the no-order-number answer changed them.
    assert slot_events(events) == {"order_number": "40012345"}
    assert dispatcher.messages == []


async def test_invalid_order_number_is_asked_again(dispatcher, make_tracker, domain) -> None:
    tracker = form_turn(
        make_tracker, requested="order_number", text="123", candidates={"order_number": "123"}
    )
    events = await ValidateHandoverForm().run(dispatcher, tracker, domain)
    assert slot_events(events)["order_number"] is None
    assert responses(dispatcher) == ["utter_handover_invalid_order_number"]


@pytest.mark.parametrize(
    ("text", "intent"),
    [("order 4001234", "inform"), ("#400123", "inform"), ("1234", "out_of_scope")],
)
async def test_digits_without_an_order_number_get_the_format(
    dispatcher, make_tracker, domain, text, intent
) -> None:
    """No entity to fill the slot: the form used to reject the message and another flow
    took it (a product search for six digits), dropping the handover."""
    tracker = form_turn(make_tracker, requested="order_number", text=text, intent=intent)
    events = await ValidateHandoverForm().run(dispatcher, tracker, domain)
    assert slot_events(events)["order_number"] is None
    assert responses(dispatcher) == ["utter_handover_invalid_order_number"]


@pytest.mark.parametrize(
    ("text", "intent"),
    [("where is parcel 12", "track_parcel"), ("I want a person, not 3 bots", "human_handoff")],
)
async def test_digits_in_another_request_are_not_an_order_number(
    dispatcher, make_tracker, domain, text, intent
) -> None:
    tracker = form_turn(make_tracker, requested="order_number", text=text, intent=intent)
    events = await ValidateHandoverForm().run(dispatcher, tracker, domain)
    assert "order_number" not in slot_events(events)
    assert responses(dispatcher) == []


@pytest.mark.parametrize(
    ("text", "intent"), [("it's not about an order", "no_order_number"), ("no", "deny")]
)
async def test_no_order_number_skips_to_the_email(
    dispatcher, make_tracker, domain, text, intent
) -> None:
    tracker = form_turn(make_tracker, requested="order_number", text=text, intent=intent)
    events = await ValidateHandoverForm().run(dispatcher, tracker, domain)
    assert slot_events(events) == {"handover_no_order": True, "requested_slot": "email"}
    assert responses(dispatcher) == []


@pytest.mark.parametrize(
    ("text", "intent"), [("how long does delivery take", "delivery_time"), ("bye", "goodbye")]
)
async def test_a_question_while_the_email_is_asked_is_not_taken_for_an_address(
    dispatcher, make_tracker, domain, text, intent
) -> None:
    tracker = form_turn(
        make_tracker, requested="email", text=text, intent=intent, slots={"handover_no_order": True}
    )
    events = await ValidateHandoverForm().run(dispatcher, tracker, domain)
    assert "email" not in slot_events(events)
    assert responses(dispatcher) == []


@pytest.mark.parametrize("intent", ["inform", "out_of_scope", "nlu_fallback"])
async def test_invalid_email_is_explained_and_asked_again(
    dispatcher, make_tracker, domain, intent
) -> None:
    tracker = form_turn(
        make_tracker,
        requested="email",
        text="anna at example",
        intent=intent,
        slots={"order_number": "40012345"},
    )
    events = await ValidateHandoverForm().run(dispatcher, tracker, domain)
    assert slot_events(events) == {"email": None}
    assert responses(dispatcher) == ["utter_handover_invalid_email"]


def email_answered(
    make_tracker, *earlier: dict[str, Any], email: str = "lisa@example.com"
) -> Tracker:
    """The email given in the handover form, with the order number known: the form's next
    question would be the one line. `earlier` are the conversation's events before it."""
    tracker = form_turn(
        make_tracker,
        requested="email",
        text=email,
        candidates={"email": email},
        slots={"order_number": "40012345"},
        entities=[{"entity": "email", "value": email}],
    )
    tracker.events[:0] = list(earlier)
    return tracker


async def test_valid_email_then_description_completes_the_form(
    dispatcher, make_tracker, domain
) -> None:
    tracker = email_answered(make_tracker, email="Anna@Example.com")
    events = await ValidateHandoverForm().run(dispatcher, tracker, domain)
    assert slot_events(events) == {"email": "anna@example.com"}
    dispatcher.messages.clear()
    tracker = form_turn(
        make_tracker,
        requested="handover_description",
        text="zip   broken on my jacket",
        candidates={"handover_description": "zip   broken on my jacket"},
        slots={"order_number": "40012345", "email": "anna@example.com"},
    )
    events = await ValidateHandoverForm().run(dispatcher, tracker, domain)
    assert slot_events(events) == {"handover_description": "zip broken on my jacket"}


async def test_reused_values_mean_only_the_description_is_asked(
    dispatcher, make_tracker, domain
) -> None:
    tracker = make_tracker(
        slots={"order_number": "40012345", "email": "anna@example.com", "requested_slot": None},
        intent="human_handoff",
        active_loop="handover_form",
    )
    events = await ValidateHandoverForm().run(dispatcher, tracker, domain)
    assert slot_events(events).get("requested_slot") in (None, "handover_description")


def said(text: str, intent: str) -> dict[str, Any]:
    """An earlier shopper message, as the tracker's events hold it."""
    return {"event": "user", "text": text, "parse_data": {"text": text, "intent": {"name": intent}}}


LOGIN = "I can't log in, it says my password is wrong even after a reset"


async def test_a_problem_told_before_is_the_agents_line_and_not_asked_again(
    dispatcher, make_tracker, domain
) -> None:
    tracker = email_answered(
        make_tracker,
        {"event": "session_started"},
        said(LOGIN, "login_problem"),
        {"event": "bot", "text": "To get back into your account, ..."},
        said("that didn't help, I need a human", "human_handoff"),
    )
    events = await ValidateHandoverForm().run(dispatcher, tracker, domain)
    slots = slot_events(events)
    assert slots["handover_description"] == LOGIN
    assert "requested_slot" in slots and slots["requested_slot"] is None  # the form is done
    assert responses(dispatcher) == ["utter_handover_description_told"]
    assert dispatcher.messages[0]["told"] == LOGIN


async def test_the_agent_gets_the_last_two_misses_in_order(
    dispatcher, make_tracker, domain
) -> None:
    first = "my gift card code gives an error at the checkout page"
    second = "it is printed on a paper card and the site says invalid"
    tracker = email_answered(
        make_tracker,
        said("an old question about the weather today", "out_of_scope"),
        said(first, "nlu_fallback"),
        said(second, "out_of_scope"),
        said("yes please", "affirm"),
        said("40012345", "inform"),
    )
    events = await ValidateHandoverForm().run(dispatcher, tracker, domain)
    assert slot_events(events)["handover_description"] == f"{first} / {second}"
    assert len(dispatcher.messages[0]["told"]) <= 121  # read back shortened


@pytest.mark.parametrize(
    "earlier",
    [
        [said("I need a human", "human_handoff")],  # nothing told
        [said("it broke", "complaint")],  # too few words to be the line
        [said("where is my order, it should have come", "order_status")],  # a question answered
        # told, but handed over already: that handover took it
        [
            said(LOGIN, "login_problem"),
            {"event": "action", "name": "action_join_queue"},
            said("can I talk to someone again", "human_handoff"),
        ],
        [said(LOGIN, "login_problem"), {"event": "session_started"}],  # an earlier session
    ],
)
async def test_without_a_problem_told_the_one_line_is_asked(
    dispatcher, make_tracker, domain, earlier
) -> None:
    events = await ValidateHandoverForm().run(dispatcher, email_answered(make_tracker, *earlier),
                                              domain)  # fmt: skip
    assert "handover_description" not in slot_events(events)
    assert "utter_handover_description_told" not in responses(dispatcher)


async def test_an_answer_to_the_one_line_question_is_kept(dispatcher, make_tracker, domain) -> None:
    tracker = form_turn(
        make_tracker,
        requested="handover_description",
        text="I want to change my delivery date",
        candidates={"handover_description": "I want to change my delivery date"},
        slots={"order_number": "40012345", "email": "lisa@example.com"},
    )
    tracker.events[:0] = [said(LOGIN, "login_problem")]
    events = await ValidateHandoverForm().run(dispatcher, tracker, domain)
    assert slot_events(events) == {"handover_description": "I want to change my delivery date"}
    assert "utter_handover_description_told" not in responses(dispatcher)


async def test_stop_is_not_taken_as_an_email(dispatcher, make_tracker, domain) -> None:
    tracker = form_turn(make_tracker, requested="email", text="forget it", intent="stop")
    events = await ValidateHandoverForm().run(dispatcher, tracker, domain)
    assert "email" not in slot_events(events)
    assert dispatcher.messages == []


async def test_leave_message_form_checks_the_email(dispatcher, make_tracker, domain) -> None:
    tracker = form_turn(make_tracker, requested="email", text="ben@", slots={})
    tracker.active_loop = {"name": "leave_message_form"}
    events = await ValidateLeaveMessageForm().run(dispatcher, tracker, domain)
    assert slot_events(events)["email"] is None
    assert responses(dispatcher) == ["utter_handover_invalid_email"]


# --- the queue -------------------------------------------------------------------------


async def test_join_queue_states_position_and_wait_and_pauses(
    dispatcher, make_tracker, domain, queue
) -> None:
    earlier = [
        {
            "event": "user",
            "text": "where is my order",
            "parse_data": {"intent": {"name": "order_status"}},
        }
    ]
    first = make_tracker(
        sender_id="first",
        intent="inform",
        events=earlier,
        slots={
            "order_number": "40012345",
            "email": "anna@example.com",
            "handover_description": "parcel is late",
        },
    )
    orders = FakeOrderClient(make_order())
    events = await join_action(queue, orders).run(dispatcher, first, domain)
    assert events[-1] == ConversationPaused()
    assert SlotSet("handover_description", None) in events
    [message] = dispatcher.messages
    assert (message["response"], message["position"], message["minutes"]) == (
        "utter_queue_position",
        1,
        4,
    )
    [request] = queue.queue()
    assert (
        request.status,
        request.topic,
        request.order_number,
        request.email,
        request.description,
    ) == (WAITING, "order_status", "40012345", "anna@example.com", "parcel is late")

    dispatcher.messages.clear()
    second = make_tracker(
        sender_id="second",
        slots={
            "order_number": "40099999",
            "email": "ben@example.com",
            "handover_no_order": True,
            "handover_description": "voucher question",
        },
    )
    await join_action(queue, orders).run(dispatcher, second, domain)
    assert (dispatcher.messages[0]["position"], dispatcher.messages[0]["minutes"]) == (2, 8)
    assert queue.open_request("second").order_number is None  # "no order number" wins
    # the first request's order was checked with its email; the second has none to check
    assert orders.calls == [("lookup", ("40012345", "anna@example.com"))]
    assert queue.open_request("first").order_check == ORDER_MATCHES
    assert queue.open_request("second").order_check is None


HANDOVER_SLOTS = {
    "order_number": "40012345",
    "email": "someone.else@example.com",
    "handover_description": "where is it",
}


@pytest.mark.parametrize(
    ("result", "check"),
    [
        (make_order(), ORDER_MATCHES),
        (NotFound("no such order for that email"), ORDER_NO_MATCH),
        (ServiceUnavailable("timeout"), ORDER_UNCHECKED),
    ],
)
async def test_the_agent_sees_whether_the_order_and_email_belong_together(
    dispatcher, make_tracker, domain, queue, result, check
) -> None:
    """An order number with someone else's email must not pass for the owner's: the
    console marks it, and the shopper is queued all the same, told nothing about it."""
    tracker = make_tracker(slots=HANDOVER_SLOTS)
    events = await join_action(queue, FakeOrderClient(result)).run(dispatcher, tracker, domain)
    assert events[-1] == ConversationPaused()
    assert responses(dispatcher) == ["utter_queue_position"]
    assert queue.open_request(tracker.sender_id).order_check == check


async def test_an_order_proven_earlier_in_the_chat_is_not_asked_again(
    dispatcher, make_tracker, domain, queue
) -> None:
    proven = {e["name"]: e["value"] for e in remember("40012345", "someone.else@example.com")}
    tracker = make_tracker(slots={**HANDOVER_SLOTS, **proven})
    orders = FakeOrderClient(NotFound("must not be asked"))
    await join_action(queue, orders).run(dispatcher, tracker, domain)
    assert orders.calls == []
    assert queue.open_request(tracker.sender_id).order_check == ORDER_MATCHES


async def test_join_queue_without_database_gives_other_ways(
    dispatcher, make_tracker, domain
) -> None:
    broken = HandoverStore(make_engine("sqlite:////nonexistent/dir/x.db"))
    events = await ActionJoinQueue(store=broken).run(dispatcher, make_tracker(), domain)
    assert events == []
    assert responses(dispatcher) == ["utter_handover_unavailable"]


async def test_leave_message_creates_an_offline_request(
    dispatcher, make_tracker, domain, queue
) -> None:
    tracker = make_tracker(
        sender_id="night", slots={"email": "ben@example.com", "handover_message": "please call me"}
    )
    events = await ActionLeaveMessage(store=queue).run(dispatcher, tracker, domain)
    assert events == [SlotSet("handover_message", None)]
    assert responses(dispatcher) == ["utter_message_left"]
    assert dispatcher.messages[0]["masked_email"] == "b***@example.com"
    [request] = queue.offline_requests()
    assert (request.status, request.email, request.description) == (
        OFFLINE,
        "ben@example.com",
        "please call me",
    )
    assert queue.queue() == []


HTML = '<img src=x onerror="alert(1)">'


async def test_slots_set_past_the_form_are_checked_before_queueing(
    dispatcher, make_tracker, domain, queue
) -> None:
    """A typed `/human_handoff{"order_number": "<img ...>"}` or a direct webhook call sets
    slots without the form: the markup must not reach an agent's queue."""
    tracker = make_tracker(
        sender_id="probe",
        slots={
            "order_number": HTML,
            "email": "<script>x</script>@example.com",
            "handover_description": "x" * 5000,
        },
    )
    await ActionJoinQueue(store=queue).run(dispatcher, tracker, domain)
    [request] = queue.queue()
    assert (request.order_number, request.email) == (None, None)
    assert len(request.description or "") == 500


async def test_well_formed_slots_are_queued_in_canonical_form(
    dispatcher, make_tracker, domain, queue
) -> None:
    tracker = make_tracker(
        sender_id="tidy",
        slots={
            "order_number": "4001.2345",
            "email": "<Anna@Example.com>",
            "handover_description": "late",
        },
    )
    orders = FakeOrderClient(make_order())
    await join_action(queue, orders).run(dispatcher, tracker, domain)
    [request] = queue.queue()
    assert (request.order_number, request.email) == ("40012345", "anna@example.com")
    assert orders.calls == [("lookup", ("40012345", "anna@example.com"))]


async def test_offline_message_with_a_malformed_email_is_not_stored(
    dispatcher, make_tracker, domain, queue
) -> None:
    tracker = make_tracker(
        sender_id="night",
        slots={"email": HTML, "handover_message": "please call me", "order_number": HTML},
    )
    events = await ActionLeaveMessage(store=queue).run(dispatcher, tracker, domain)
    assert SlotSet("email", None) in events
    assert responses(dispatcher) == ["utter_handover_invalid_email"]
    assert queue.offline_requests() == []


def test_topic_skips_small_talk_and_handover_intents(make_tracker) -> None:
    events = [
        {"event": "user", "parse_data": {"intent": {"name": "returns"}}},
        {"event": "user", "parse_data": {"intent": {"name": "greet"}}},
        {"event": "user", "parse_data": {"intent": {"name": "follow_up"}}},  # "is it free?"
    ]
    assert topic_of(make_tracker(intent="human_handoff", events=events)) == "returns"
    assert topic_of(make_tracker(intent="human_handoff")) == "general"


def test_every_response_the_actions_use_is_in_the_domain(domain) -> None:
    for name in (
        "utter_queue_position",
        "utter_agents_closed",
        "utter_message_left",
        "utter_handover_invalid_email",
        "utter_handover_invalid_order_number",
        "utter_handover_unavailable",
        "utter_handover_closed",
        "utter_queue_left",
        "utter_handover_description_too_short",
    ):
        assert name in domain["responses"], name


@pytest.mark.parametrize(
    "text",
    [
        "sorry typo, ben.okafor@example.org",
        "sori kirjotusvirhe, ben.okafor@example.org",
        "ben.okafor@example.org",
    ],
)
async def test_an_email_at_the_description_question_corrects_the_email(
    dispatcher, make_tracker, domain, text
) -> None:
    # A blind trial: the correction was filed as the problem and the agent kept the typo.
    start = text.index("ben.")
    tracker = form_turn(
        make_tracker,
        requested="handover_description",
        text=text,
        candidates={"handover_description": text, "email": "ben.okafor@example.org"},
        slots={"order_number": "40012346", "email": "ben.okafor@exmaple.org"},
        entities=[{"entity": "email", "value": text[start:], "start": start, "end": len(text)}],
    )
    events = slot_events(await ValidateHandoverForm().run(dispatcher, tracker, domain))
    assert events["email"] == "ben.okafor@example.org"
    assert events["handover_description"] is None
    assert [m.get("response") for m in dispatcher.messages] == ["utter_email_corrected"]


async def test_a_description_that_names_an_email_is_the_description(
    dispatcher, make_tracker, domain
) -> None:
    text = "the confirmation for my jacket went to ben.okafor@example.org and never arrived"
    start = text.index("ben.")
    tracker = form_turn(
        make_tracker,
        requested="handover_description",
        text=text,
        candidates={"handover_description": text},
        slots={"order_number": "40012346", "email": "ben.okafor@example.org"},
        entities=[
            {
                "entity": "email",
                "value": "ben.okafor@example.org",
                "start": start,
                "end": start + 22,
            }
        ],
    )
    events = slot_events(await ValidateHandoverForm().run(dispatcher, tracker, domain))
    assert events["handover_description"] == text
    assert dispatcher.messages == []
