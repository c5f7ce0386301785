"""Complaints: the form's checks and the case agents see, in and outside opening hours."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from rasa_sdk.events import ConversationPaused, SlotSet
from service_fakes import FakeOrderClient, make_order

from actions.clients import NotFound, ServiceUnavailable
from actions.complaints import ActionFileComplaint, ValidateComplaintForm
from handover.models import OFFLINE, ORDER_MATCHES, ORDER_NO_MATCH, ORDER_UNCHECKED, WAITING
from handover.settings import HandoverSettings
from handover.store import HandoverStore, make_engine

MONDAY_NOON = dt.datetime(2026, 11, 23, 12, 0, tzinfo=ZoneInfo("Europe/Berlin")).timestamp()
SUNDAY_NOON = dt.datetime(2026, 11, 29, 12, 0, tzinfo=ZoneInfo("Europe/Berlin")).timestamp()
FILLED = {
    "order_number": "40012348",
    "email": "David.Klein@example.com",
    "complaint_description": "  the zip broke on the first day  ",
}


@pytest.fixture()
def queue(tmp_path: Path):
    store = HandoverStore(
        make_engine(f"sqlite:///{tmp_path / 'rasa.db'}"), clock=lambda: MONDAY_NOON
    )
    yield store
    store.engine.dispose()


def responses(dispatcher) -> list[str]:
    return [m.get("response") for m in dispatcher.messages]


def action(queue, when: float, orders=None) -> ActionFileComplaint:
    client = FakeOrderClient(orders if orders is not None else make_order("delivered"))
    return ActionFileComplaint(
        store=queue,
        settings=HandoverSettings(),
        clock=lambda: when,
        client=client,  # type: ignore[arg-type]
    )


@pytest.mark.parametrize(
    ("orders", "check"),
    [
        (make_order("delivered"), ORDER_MATCHES),
        (NotFound("HTTP 404"), ORDER_NO_MATCH),
        (ServiceUnavailable("timeout"), ORDER_UNCHECKED),  # filed all the same
    ],
)
@pytest.mark.parametrize("when", [MONDAY_NOON, SUNDAY_NOON])
async def test_the_agent_sees_whether_the_order_belongs_to_the_email(
    dispatcher, make_tracker, domain, queue, orders, check, when
):
    """As for a handover: before telling anything about the order, the agent knows
    whether its number and the email given belong together (complaints had no check)."""
    tracker = make_tracker(sender_id="zip", slots=FILLED, intent="inform")
    await action(queue, when, orders).run(dispatcher, tracker, domain)
    [request] = queue.queue() if when == MONDAY_NOON else queue.offline_requests()
    assert request.order_check == check


async def test_without_an_order_number_nothing_is_checked(dispatcher, make_tracker, domain, queue):
    slots = {**FILLED, "order_number": None, "handover_no_order": True}
    tracker = make_tracker(sender_id="zip", slots=slots, intent="inform")
    act = action(queue, MONDAY_NOON)
    await act.run(dispatcher, tracker, domain)
    assert act.client.calls == []  # type: ignore[attr-defined]
    [request] = queue.queue()
    assert request.order_check is None


async def test_within_opening_hours_the_complaint_joins_the_live_queue(
    dispatcher, make_tracker, domain, queue
):
    tracker = make_tracker(sender_id="zip", slots=FILLED, intent="inform")
    events = await action(queue, MONDAY_NOON).run(dispatcher, tracker, domain)
    assert events[-1] == ConversationPaused()  # the agent takes over this chat
    assert SlotSet("complaint_description", None) in events
    [request] = queue.queue()
    assert (request.status, request.topic, request.order_number, request.email) == (
        WAITING,
        "complaint",
        "40012348",
        "david.klein@example.com",
    )
    assert request.description == "the zip broke on the first day"
    assert responses(dispatcher) == ["utter_complaint_queued"]
    assert dispatcher.messages[0]["position"] == 1


async def test_outside_opening_hours_it_is_a_message_and_says_when(
    dispatcher, make_tracker, domain, queue
):
    tracker = make_tracker(sender_id="zip", slots=FILLED, intent="inform")
    events = await action(queue, SUNDAY_NOON).run(dispatcher, tracker, domain)
    assert ConversationPaused() not in events
    assert queue.queue() == []  # never waits in the live queue when nobody is there
    [request] = queue.offline_requests()
    assert (request.status, request.topic, request.order_number) == (
        OFFLINE,
        "complaint",
        "40012348",
    )
    [message] = dispatcher.messages
    assert message["response"] == "utter_complaint_left"
    assert message["next_opening"] == "tomorrow at 08:00"
    assert message["masked_email"] == "d***@example.com"
    text = domain["responses"]["utter_complaint_left"][0]["text"]
    assert "{next_opening}" in text and "working day" in text


async def test_complaint_not_about_an_order_keeps_no_order_number(
    dispatcher, make_tracker, domain, queue
):
    tracker = make_tracker(
        sender_id="service",
        intent="inform",
        slots={**FILLED, "order_number": "40012348", "handover_no_order": True},
    )
    await action(queue, MONDAY_NOON).run(dispatcher, tracker, domain)
    assert queue.queue()[0].order_number is None


async def test_without_the_database_the_shopper_gets_other_ways(dispatcher, make_tracker, domain):
    broken = HandoverStore(make_engine("sqlite:////nonexistent/dir/x.db"))
    tracker = make_tracker(slots=FILLED)
    for when in (MONDAY_NOON, SUNDAY_NOON):
        dispatcher.messages.clear()
        events = await action(broken, when).run(dispatcher, tracker, domain)
        assert responses(dispatcher) == ["utter_handover_unavailable"]
        assert ConversationPaused() not in events


async def test_slots_set_past_the_form_file_nothing(dispatcher, make_tracker, domain, queue):
    tracker = make_tracker(slots={"email": "<script>@x", "complaint_description": "broken"})
    await action(queue, MONDAY_NOON).run(dispatcher, tracker, domain)
    assert responses(dispatcher) == ["utter_complaint_incomplete"]
    assert queue.queue() == [] and queue.offline_requests() == []


async def described(make_tracker, dispatcher, domain, text: str, intent: str = "inform"):
    """The form's slot events for `text` typed at the description question."""
    tracker = make_tracker(
        slots={
            "requested_slot": "complaint_description",
            "order_number": "40012348",
            "email": "d@example.com",
        },
        text=text,
        intent=intent,
        active_loop="complaint_form",
    )
    # the from_text mapping has put the message in the slot already
    tracker.events.append({"event": "slot", "name": "complaint_description", "value": text})
    tracker.slots["complaint_description"] = text
    events = await ValidateComplaintForm().run(dispatcher, tracker, domain)
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        ("ok", None),
        ("the heel came off after one walk", "the heel came off after one walk"),
    ],
)
async def test_description_needs_a_few_words(dispatcher, make_tracker, domain, text, kept):
    values = await described(make_tracker, dispatcher, domain, text)
    assert values["complaint_description"] == kept
    if kept is None:
        assert responses(dispatcher) == ["utter_complaint_description_too_short"]


COSTS, FOR_AGENT = "utter_complaint_costs", "utter_complaint_question_for_agent"


@pytest.mark.parametrize(
    ("text", "intent", "answer"),
    [
        # a postage question at the description was filed as the complaint, unanswered
        ("måste jag betala portot för att skicka tillbaka dom?", "returns", COSTS),
        ("do I pay the postage?", "delivery_methods", COSTS),
        # short, no question mark (a blind trial: filed as the complaint)
        ("pitääks mun maksaa postikulut", "delivery_methods", COSTS),
        ("is the return free", "follow_up", COSTS),
        # another question, for the agent (a blind trial, in Swedish and Norwegian)
        ("hur lång tid tar det att få rätt storlek?", "delivery_time", FOR_AGENT),
        ("hvor lang tid tar det før jeg får riktig vare?", "delivery_time", FOR_AGENT),
        # descriptions: short without a cost word, mentioning a return, or saying what is
        # wrong beside a question
        ("the zip is broken", "follow_up", None),
        ("the zip broke on day two and I want to return them", "returns", None),
        ("the sole came off, can I get my money back or a new pair?", "complaint", None),
        ("the zip broke after a day, how long does a repair take?", "delivery_time", None),
    ],
)
async def test_a_question_at_the_description_is_answered_not_filed(
    dispatcher, make_tracker, domain, text, intent, answer
):
    values = await described(make_tracker, dispatcher, domain, text, intent)
    assert values["complaint_description"] == (None if answer else text)
    assert responses(dispatcher) == ([answer] if answer else [])


async def test_no_order_number_is_an_answer_in_the_complaint_form(dispatcher, make_tracker, domain):
    tracker = make_tracker(
        slots={"requested_slot": "order_number"},
        text="it's not about an order",
        intent="no_order_number",
        active_loop="complaint_form",
    )
    events = await ValidateComplaintForm().run(dispatcher, tracker, domain)
    values = {e["name"]: e["value"] for e in events if e.get("event") == "slot"}
    assert values["handover_no_order"] is True
    assert values["requested_slot"] == "email"
