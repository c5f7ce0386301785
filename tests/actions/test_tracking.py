"""Parcel tracking: the form's validation and every branch of the answer."""

from __future__ import annotations

import logging
import threading

import pytest
from service_fakes import FakeTrackingClient, make_parcel, slot_events, with_candidates

from actions.clients import BadResponse, NotFound, ServiceUnavailable
from actions.tracking import ActionTrackParcel, ValidateTrackingForm

FORM = "tracking_form"
RESET = {"tracking_number": None, "invalid_attempts": 0.0}


async def run_form(
    make_tracker, dispatcher, domain, *, text, intent="inform", slots=None, candidates=None
):
    tracker = make_tracker(
        slots=slots or {"requested_slot": "tracking_number"},
        text=text,
        intent=intent,
        active_loop=FORM,
    )
    if candidates:
        with_candidates(tracker, **candidates)
    return slot_events(await ValidateTrackingForm().run(dispatcher, tracker, domain))


@pytest.mark.parametrize(
    "typed",
    ["JX482913077GB", "jx482913077gb", "jx 482 913 077 gb", "tracking number JX-482-913-077-GB"],
)
async def test_typed_tracking_number_is_normalised(make_tracker, dispatcher, domain, typed):
    slots = await run_form(make_tracker, dispatcher, domain, text=typed)
    assert slots["tracking_number"] == "JX482913077GB"
    assert dispatcher.messages == []


async def test_tracking_number_from_the_first_message(make_tracker, dispatcher, domain):
    slots = await run_form(
        make_tracker,
        dispatcher,
        domain,
        intent="track_parcel",
        text="where is jx482913077gb",
        slots={},
        candidates={"tracking_number": "jx482913077gb"},
    )
    assert slots["tracking_number"] == "JX482913077GB"


@pytest.mark.parametrize(
    ("text", "said_wrong"),
    [
        ("where is my parcel? tracking RX430563674G", True),
        ("hvor er pakka mi? sporingsnr KL12345678S", True),
        ("where is my parcel?", False),
        ("track order 40012345 please", False),
    ],
)
async def test_a_malformed_number_in_the_first_message_is_said_to_be_wrong(
    make_tracker, dispatcher, domain, text, said_wrong
):
    # it was only asked for the number, as if none had been given
    slots = await run_form(
        make_tracker,
        dispatcher,
        domain,
        intent="track_parcel",
        text=text,
        slots={"requested_slot": None},
    )
    if said_wrong:
        assert slots == {"tracking_number": None, "invalid_attempts": 1.0}
        assert [m["response"] for m in dispatcher.messages] == ["utter_invalid_tracking_number"]
    else:  # no number at all: no attempt
        assert "invalid_attempts" not in slots
        assert dispatcher.messages == []


async def test_invalid_tracking_number_gets_a_helpful_reask(make_tracker, dispatcher, domain):
    slots = await run_form(make_tracker, dispatcher, domain, text="JX4829")
    assert slots == {"tracking_number": None, "invalid_attempts": 1.0}
    assert [m["response"] for m in dispatcher.messages] == ["utter_invalid_tracking_number"]


async def test_third_invalid_try_ends_the_form(make_tracker, dispatcher, domain):
    slots = await run_form(
        make_tracker,
        dispatcher,
        domain,
        text="123",
        slots={"requested_slot": "tracking_number", "invalid_attempts": 2.0},
    )
    assert slots["requested_slot"] is None
    assert dispatcher.messages == []


async def test_other_topic_is_left_to_the_rules(make_tracker, dispatcher, domain):
    slots = await run_form(
        make_tracker, dispatcher, domain, text="how can I pay?", intent="payment_methods"
    )
    assert slots == {}


@pytest.mark.parametrize(
    ("text", "intent", "entities"),
    [
        (
            "i dont have one, my order is 40012347",
            "no_order_number",
            [{"entity": "order_number", "value": "40012347"}],
        ),
        ("its order 40012347", "inform", [{"entity": "order_number", "value": "40012347"}]),
        ("I don't have a tracking number", "no_order_number", []),
    ],
)
async def test_no_tracking_number_offers_the_lookup_through_the_order(
    make_tracker, dispatcher, domain, text, intent, entities
):
    tracker = make_tracker(
        slots={"requested_slot": "tracking_number"},
        text=text,
        intent=intent,
        entities=entities,
        active_loop="tracking_form",
    )
    slots = slot_events(await ValidateTrackingForm().run(dispatcher, tracker, domain))
    assert [m["response"] for m in dispatcher.messages] == ["utter_tracking_via_order"]
    assert slots["requested_slot"] is None and slots["tracking_via_order"] is True


async def test_the_lookup_through_the_order_starts_the_order_form(make_tracker, dispatcher, domain):
    act, client = action(make_parcel())
    events = await act.run(dispatcher, make_tracker(slots={"tracking_via_order": True}), domain)
    assert client.calls == [] and dispatcher.messages == []
    assert slot_events(events)["service_outcome"] == "ask_order"
    assert slot_events(events)["tracking_via_order"] is None


def action(result) -> tuple[ActionTrackParcel, FakeTrackingClient]:
    client = FakeTrackingClient(result)
    return ActionTrackParcel(client=client), client  # type: ignore[arg-type]


async def test_parcel_status_events_and_eta(make_tracker, dispatcher, domain):
    act, client = action(make_parcel())
    events = await act.run(
        dispatcher, make_tracker(slots={"tracking_number": "JX482913077GB"}), domain
    )
    assert client.calls == [("parcel", ("JX482913077GB",))]
    assert client.threads[0] != threading.get_ident()
    [message] = dispatcher.messages
    assert message["response"] == "utter_parcel_status"
    assert message["parcel_status"] == "on its way"
    assert message["eta"] == "Expected delivery: tomorrow."
    lines = message["events"].splitlines()
    assert len(lines) == 3  # the latest three, newest first
    assert lines[0] == "- today 05:30: Arrived at local depot (Hamburg depot)"
    assert slot_events(events) == {
        **RESET,
        "shown_parcel": "JX482913077GB",  # for a follow-up ("when will it come?")
        "service_outcome": "answered",
    }


async def test_pickup_point_is_named(make_tracker, dispatcher, domain):
    act, _ = action(make_parcel("at_pickup_point", pickup=True))
    await act.run(dispatcher, make_tracker(slots={"tracking_number": "JX482913077GB"}), domain)
    assert [m["response"] for m in dispatcher.messages] == [
        "utter_parcel_status",
        "utter_parcel_pickup_point",
    ]
    pickup = dispatcher.messages[1]
    assert pickup["pickup_address"] == "Marktstraße 12, 20357 Hamburg"
    assert dispatcher.messages[0]["parcel_status"] == "waiting for you at the pickup point"


async def test_delivered_parcel_has_no_eta(make_tracker, dispatcher, domain):
    act, _ = action(make_parcel("delivered"))
    await act.run(dispatcher, make_tracker(slots={"tracking_number": "JX482913077GB"}), domain)
    assert dispatcher.messages[0]["eta"] == ""


async def test_missing_eta_is_said_plainly(make_tracker, dispatcher, domain):
    act, _ = action(make_parcel(estimated_delivery=None, events=[]))
    await act.run(dispatcher, make_tracker(slots={"tracking_number": "JX482913077GB"}), domain)
    message = dispatcher.messages[0]
    assert message["eta"] == "The carrier has not given a delivery date yet."
    assert message["events"] == "- no scans yet"


async def test_unknown_parcel(make_tracker, dispatcher, domain):
    act, _ = action(NotFound("HTTP 404"))
    events = await act.run(
        dispatcher, make_tracker(slots={"tracking_number": "ZZ000000000GB"}), domain
    )
    assert [m["response"] for m in dispatcher.messages] == ["utter_parcel_not_found"]
    assert slot_events(events)["service_outcome"] == "needs_human"
    assert slot_events(events)["shown_parcel"] is None


@pytest.mark.parametrize("error", [ServiceUnavailable("timeout"), BadResponse("invalid JSON")])
async def test_service_failure(make_tracker, dispatcher, domain, caplog, error):
    act, _ = action(error)
    with caplog.at_level(logging.INFO):
        events = await act.run(
            dispatcher, make_tracker(slots={"tracking_number": "JX482913077GB"}), domain
        )
    assert [m["response"] for m in dispatcher.messages] == ["utter_service_unavailable"]
    assert slot_events(events) == {**RESET, "service_outcome": "needs_human"}
    assert f"parcel lookup failed: {error.reason}" in caplog.text
    assert "JX482913077GB" not in caplog.text


async def test_given_up_form(make_tracker, dispatcher, domain):
    act, client = action(make_parcel())
    events = await act.run(dispatcher, make_tracker(slots={"invalid_attempts": 3.0}), domain)
    assert client.calls == []
    assert slot_events(events)["service_outcome"] == "needs_human"


# --- a follow-up right after a parcel's status (rules in data/rules/tracking.yml) ---------

AFTER_STATUS = [
    {"event": "action", "name": "action_track_parcel"},
    {"event": "slot", "name": "service_outcome", "value": "answered"},
    {"event": "action", "name": "action_listen"},
]


def after_status(make_tracker, text: str, intent: str):
    """A message right after the status of JX482913077GB, as the follow-up rules run
    action_track_parcel for it (Rasa's action_extract_slots ran after the message)."""
    tracker = make_tracker(
        slots={"shown_parcel": "JX482913077GB", "tracking_number": None},
        text=text,
        intent=intent,
        events=AFTER_STATUS,
    )
    tracker.events.append({"event": "action", "name": "action_extract_slots"})
    return tracker


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("när kommer det?", "delivery_time"),
        ("which company is bringing it?", "delivery_methods"),
        ("and then?", "follow_up"),
    ],
)
async def test_a_follow_up_is_about_the_parcel_just_told(
    make_tracker, dispatcher, domain, text, intent
):
    act, client = action(make_parcel())
    events = await act.run(dispatcher, after_status(make_tracker, text, intent), domain)
    assert client.calls == [("parcel", ("JX482913077GB",))]
    [message] = dispatcher.messages
    assert message["response"] == "utter_parcel_status"
    assert message["eta"] == "Expected delivery: tomorrow."
    assert slot_events(events)["service_outcome"] == "answered"


async def test_a_given_up_form_is_not_taken_for_a_follow_up(make_tracker, dispatcher, domain):
    """Three invalid tracking numbers, the last one read as delivery_time: the form has
    ended, so the shopper hears that it gave up, not the previous parcel's status."""
    act, client = action(make_parcel())
    tracker = make_tracker(
        slots={"shown_parcel": "JX482913077GB", "tracking_number": None, "invalid_attempts": 3.0},
        text="when does 12 arrive",
        intent="delivery_time",
        events=AFTER_STATUS,
    )
    tracker.events.append({"event": "action", "name": "tracking_form"})
    tracker.events.append({"event": "active_loop", "name": None})
    events = await act.run(dispatcher, tracker, domain)
    assert client.calls == []
    assert [m["response"] for m in dispatcher.messages] == ["utter_too_many_attempts"]
    assert slot_events(events)["service_outcome"] == "needs_human"


async def test_a_shop_question_without_a_parcel_told_before_is_not_a_lookup(
    make_tracker, dispatcher, domain
):
    act, client = action(make_parcel())
    tracker = make_tracker(slots={"tracking_number": None}, intent="delivery_time")
    await act.run(dispatcher, tracker, domain)
    assert client.calls == []


@pytest.mark.parametrize("language", ["en", "sv", "fi", "nb"])
async def test_the_carrier_is_asked_in_the_conversations_language(
    make_tracker, dispatcher, domain, language
):
    """Its event texts then come in that language (services/carrier_texts.py)."""
    act, client = action(make_parcel())
    tracker = make_tracker(slots={"tracking_number": "JX482913077GB", "language": language})
    await act.run(dispatcher, tracker, domain)
    assert client.languages == [language]


@pytest.mark.parametrize(
    ("text", "intent", "answer"),
    [
        ("how long does delivery usually take?", "delivery_time", "utter_delivery_time"),
        ("kauanko toimitus yleensa kestaa?", "delivery_time", "utter_delivery_time"),
        ("vilka leveranssätt har ni vanligtvis?", "delivery_methods", "utter_delivery_methods"),
        # any delivery option but the carrier is no question about this parcel
        ("can it go to a pickup point instead?", "delivery_methods", "utter_delivery_methods"),
        ("hvor mye koster frakten?", "delivery_methods", "utter_delivery_methods"),
    ],
)
async def test_a_question_about_delivery_in_general_gets_the_general_answer(
    make_tracker, dispatcher, domain, text, intent, answer
):
    """It got the parcel's whole status again, word for word."""
    act, client = action(make_parcel())
    events = await act.run(dispatcher, after_status(make_tracker, text, intent), domain)
    assert client.calls == []
    assert [m["response"] for m in dispatcher.messages] == [answer]
    assert slot_events(events)["service_outcome"] == "answered"


@pytest.mark.parametrize(
    ("text", "intent", "answer"),
    [
        ("what if I'm not home?", "follow_up", "utter_delivery_not_home"),
        ("og hvis jeg ikke er hjemme da?", "follow_up", "utter_delivery_not_home"),
        ("mitä jos kukaan ei ole kotona silloin", "delivery_methods", "utter_delivery_not_home"),
        ("do I get anything for the delay?", "delivery_time", "utter_delay_compensation"),
        ("får jag nån ersättning för förseningen?", "follow_up", "utter_delay_compensation"),
    ],
)
async def test_after_the_status_nobody_home_and_a_delay_get_their_own_answer(
    make_tracker, dispatcher, domain, text, intent, answer
):
    """Blind trials: "what if I'm not home?" and "can I get compensation for the delay?"
    right after a parcel's status got that status again, word for word."""
    act, client = action(make_parcel())
    events = await act.run(dispatcher, after_status(make_tracker, text, intent), domain)
    assert client.calls == []
    assert [m["response"] for m in dispatcher.messages] == [answer]
    assert slot_events(events)["service_outcome"] == "answered"
