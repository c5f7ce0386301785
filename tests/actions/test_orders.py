"""Order status: the form's extraction and validation, and every branch of the answer."""

from __future__ import annotations

import logging
import threading
import time

import pytest
from service_fakes import (
    TODAY,
    FakeOrderClient,
    FakeTrackingClient,
    make_order,
    make_parcel,
    slot_events,
    trickling_service,
    with_candidates,
)

from actions.clients import BadResponse, NotFound, ServiceUnavailable
from actions.orders import ActionOrderStatus, ValidateOrderStatusForm, friendly_date

FORM = "order_status_form"
EMAIL = "anna.berg@example.com"

# --- the form ---------------------------------------------------------------------


async def run_form(
    make_tracker,
    dispatcher,
    domain,
    *,
    text,
    intent="inform",
    slots=None,
    candidates=None,
    entities=None,
):
    tracker = make_tracker(
        slots=slots or {}, text=text, intent=intent, entities=entities, active_loop=FORM
    )
    if candidates:
        with_candidates(tracker, **candidates)
    return slot_events(await ValidateOrderStatusForm().run(dispatcher, tracker, domain))


@pytest.mark.parametrize(
    "typed", ["40012345", "#40012345", "4001 2345", "4001-2345", "my order number is #4001-2345"]
)
async def test_typed_order_number_is_normalised(make_tracker, dispatcher, domain, typed):
    slots = await run_form(
        make_tracker, dispatcher, domain, text=typed, slots={"requested_slot": "order_number"}
    )
    assert slots["order_number"] == "40012345"
    assert dispatcher.messages == []


async def test_entity_values_are_validated_on_activation(make_tracker, dispatcher, domain):
    slots = await run_form(
        make_tracker,
        dispatcher,
        domain,
        intent="order_status",
        text="where is 40012345? email Anna.Berg@example.com",
        candidates={"order_number": "40012345", "email": "Anna.Berg@example.com"},
    )
    assert slots["order_number"] == "40012345"
    assert slots["email"] == "anna.berg@example.com"  # one spelling for service and agent


@pytest.mark.parametrize(
    "text",
    [
        "i orderd a dres last week and its still not here!!! order 4001234",
        "var är min beställning 4001234?",
        "missä tilaukseni 400123456 on",
    ],
)
async def test_a_malformed_order_number_in_the_first_message_is_explained(
    make_tracker, dispatcher, domain, text
):
    """It was not recognised, and the form asked for the number as if none was given."""
    slots = await run_form(make_tracker, dispatcher, domain, intent="order_status", text=text)
    assert slots["order_number"] is None
    assert [m["response"] for m in dispatcher.messages] == ["utter_invalid_order_number"]


@pytest.mark.parametrize(
    "text", ["where is my order?", "change my address to Storgatan 12, 11122 Stockholm"]
)
async def test_a_first_message_without_a_named_number_is_not_an_attempt(
    make_tracker, dispatcher, domain, text
):
    slots = await run_form(make_tracker, dispatcher, domain, intent="order_status", text=text)
    assert slots.get("order_number") is None
    assert dispatcher.messages == []


async def test_invalid_order_number_gets_a_helpful_reask(make_tracker, dispatcher, domain):
    slots = await run_form(
        make_tracker, dispatcher, domain, text="1234", slots={"requested_slot": "order_number"}
    )
    assert slots["order_number"] is None
    assert slots["invalid_attempts"] == 1.0
    assert [m["response"] for m in dispatcher.messages] == ["utter_invalid_order_number"]
    assert "8 digits" in domain["responses"]["utter_invalid_order_number"][0]["text"]


async def test_invalid_email_gets_a_helpful_reask(make_tracker, dispatcher, domain):
    slots = await run_form(
        make_tracker,
        dispatcher,
        domain,
        text="anna at example dot com",
        slots={"requested_slot": "email", "order_number": "40012345", "invalid_attempts": 1.0},
    )
    assert slots["email"] is None
    assert slots["invalid_attempts"] == 2.0
    assert [m["response"] for m in dispatcher.messages] == ["utter_invalid_email"]


async def test_third_invalid_try_ends_the_form_silently(make_tracker, dispatcher, domain):
    slots = await run_form(
        make_tracker,
        dispatcher,
        domain,
        text="123",
        slots={"requested_slot": "order_number", "invalid_attempts": 2.0},
    )
    assert slots["invalid_attempts"] == 3.0
    assert slots["requested_slot"] is None  # the form deactivates
    assert dispatcher.messages == []  # action_order_status apologises and offers a person


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("which payment methods do you accept?", "payment_methods"),
        ("are you a bot", "bot_challenge"),
        ("track JX482913077GB", "track_parcel"),  # another service topic: rules switch
    ],
)
async def test_topic_switch_is_left_to_the_rules(make_tracker, dispatcher, domain, text, intent):
    slots = await run_form(
        make_tracker,
        dispatcher,
        domain,
        text=text,
        intent=intent,
        slots={"requested_slot": "order_number"},
    )
    # nothing extracted: Rasa rejects the form and the interruption rule answers
    assert "order_number" not in slots and "invalid_attempts" not in slots
    assert dispatcher.messages == []


async def test_no_guessing_when_resuming_after_an_interruption(make_tracker, dispatcher, domain):
    tracker = make_tracker(
        slots={"requested_slot": "order_number"},
        active_loop=FORM,
        text="do you deliver in 2 days?",
        intent="delivery_time",
    )
    # what Rasa sends when the form resumes: the answer to the interruption, then the
    # form's own marker event
    tracker.events += [
        {"event": "action_execution_rejected", "name": FORM},
        {"event": "action", "name": "utter_delivery_time"},
        {"event": "bot", "text": "Orders placed before 2 pm ..."},
        {"event": "action", "name": FORM},
    ]
    tracker.latest_action_name = FORM
    events = await ValidateOrderStatusForm().run(dispatcher, tracker, domain)
    assert "invalid_attempts" not in slot_events(events)


async def test_answer_is_taken_although_rasa_marks_the_form_as_latest_action(
    make_tracker, dispatcher, domain
):
    # Rasa's temporary tracker for validation ends with the form's own action event
    tracker = make_tracker(
        slots={"requested_slot": "order_number"},
        active_loop=FORM,
        text="my order number is #4001-2346",
        intent="delivery_time",
    )
    tracker.events += [
        {"event": "slot", "name": "requested_slot", "value": "order_number"},
        {"event": "action", "name": FORM},
    ]
    tracker.latest_action_name = FORM
    events = await ValidateOrderStatusForm().run(dispatcher, tracker, domain)
    assert slot_events(events)["order_number"] == "40012346"


async def test_button_payload_is_not_an_answer(make_tracker, dispatcher, domain):
    slots = await run_form(
        make_tracker,
        dispatcher,
        domain,
        text="/inform",
        intent="inform",
        slots={"requested_slot": "order_number"},
    )
    assert "order_number" not in slots


# --- the answer -------------------------------------------------------------------


def action(result, parcel=None) -> tuple[ActionOrderStatus, FakeOrderClient, FakeTrackingClient]:
    orders = FakeOrderClient(result)
    tracking = FakeTrackingClient(parcel if parcel is not None else make_parcel())
    return ActionOrderStatus(client=orders, tracking=tracking), orders, tracking  # type: ignore[arg-type]


FILLED = {"order_number": "40012345", "email": EMAIL}
RESET = {"order_number": None, "email": None, "invalid_attempts": 0.0}


@pytest.mark.parametrize(
    "status",
    [
        "received",
        "packed",
        "shipped",
        "out_for_delivery",
        "delivered",
        "delayed",
        "cancelled",
        "returned",
    ],
)
async def test_each_status_has_its_answer(make_tracker, dispatcher, domain, status):
    act, orders, _ = action(make_order(status))
    events = await act.run(dispatcher, make_tracker(slots=FILLED), domain)

    assert orders.calls == [("lookup", ("40012345", EMAIL))]
    [message] = dispatcher.messages
    assert message["response"] == f"utter_order_{status}"
    assert message["response"] in domain["responses"]
    assert message["masked_email"] == "a***@example.com"
    assert message["order_ref"] == "40012345"
    slots = slot_events(events)
    # the order is now proven for a change in the same conversation (actions/verified.py)
    assert (slots.pop("verified_order"), slots.pop("verified_email")) == ("40012345", EMAIL)
    assert slots.pop("verified_at") > 0
    assert slots == {**RESET, "service_outcome": "answered"}


async def test_shipped_order_names_carrier_tracking_number_and_latest_event(
    make_tracker, dispatcher, domain
):
    act, _, tracking = action(make_order("shipped"))
    await act.run(dispatcher, make_tracker(slots=FILLED), domain)
    [message] = dispatcher.messages
    assert message["carrier"] == "DHL"
    assert message["tracking_ref"] == "JX482913077GB"
    assert message["expected_delivery"] == "tomorrow"
    assert message["latest_event"] == (
        "Latest update today at 05:30: Arrived at local depot (Hamburg depot)."
    )
    assert tracking.calls == [("parcel", ("JX482913077GB",))]
    assert tracking.languages == ["en"]  # the carrier's texts in the chat's language
    template = domain["responses"]["utter_order_shipped"][0]["text"]
    for key in ("carrier", "tracking_ref", "latest_event", "masked_email", "expected_delivery"):
        assert "{" + key + "}" in template


async def test_a_pick_up_point_order_on_its_way_names_the_point(make_tracker, dispatcher, domain):
    order = make_order("shipped", delivery_method="pickup point")
    act, _, _ = action(order, parcel=make_parcel(pickup=True))
    await act.run(dispatcher, make_tracker(slots=FILLED), domain)
    [message] = dispatcher.messages
    assert message["delivery_note"] == (
        " It goes to your pick-up point: Kiosk am Markt (parcel shop),"
        " Marktstraße 12, 20357 Hamburg."
    )


@pytest.mark.parametrize("language", ["en", "sv", "fi", "nb"])
async def test_a_parcel_already_at_its_pick_up_point_is_said_to_be_waiting(
    make_tracker, dispatcher, domain, language
):
    """It was "on its way ... should arrive today" while the parcel waited to be collected."""
    order = make_order("shipped", delivery_method="pickup point")
    act, _, _ = action(order, parcel=make_parcel("at_pickup_point", pickup=True))
    await act.run(dispatcher, make_tracker(slots={**FILLED, "language": language}), domain)
    [message] = dispatcher.messages
    assert message["response"] == "utter_order_at_pickup_point"
    assert (message["pickup_name"], message["pickup_address"]) == (
        "Kiosk am Markt (parcel shop)",
        "Marktstraße 12, 20357 Hamburg",
    )
    assert message["pickup_hours"]
    variants = domain["responses"]["utter_order_at_pickup_point"]
    fields = {"order_ref", "masked_email", "pickup_name", "pickup_address", "pickup_hours"}
    fields |= {"carrier", "tracking_ref"}
    for variant in variants:
        for key in fields | {"pickup_hold_days"}:
            assert "{" + key + "}" in variant["text"]
    assert fields <= message.keys()
    assert domain["slots"]["pickup_hold_days"]["initial_value"] == "14"


async def test_a_parcel_on_its_way_to_a_pick_up_point_is_still_on_its_way(
    make_tracker, dispatcher, domain
):
    order = make_order("shipped", delivery_method="pickup point")
    act, _, _ = action(order, parcel=make_parcel("in_transit", pickup=True))
    await act.run(dispatcher, make_tracker(slots=FILLED), domain)
    assert [m["response"] for m in dispatcher.messages] == ["utter_order_shipped"]


@pytest.mark.parametrize("status", ["received", "packed", "shipped"])
async def test_a_pick_up_point_order_without_a_named_point_says_where_it_goes(
    make_tracker, dispatcher, domain, status
):
    # no parcel yet, or a carrier that has not named the point
    order = make_order(status, delivery_method="pickup point")
    act, _, _ = action(order, parcel=make_parcel(pickup=False))
    await act.run(dispatcher, make_tracker(slots={**FILLED, "language": "sv"}), domain)
    [message] = dispatcher.messages
    assert message["delivery_note"] == " Den skickas till utlämningsstället du valde."


@pytest.mark.parametrize("status", ["received", "packed", "shipped", "out_for_delivery", "delayed"])
async def test_every_answer_before_delivery_has_room_for_the_note(
    make_tracker, dispatcher, domain, status
):
    act, _, _ = action(make_order(status))  # to the door: no note
    await act.run(dispatcher, make_tracker(slots=FILLED), domain)
    [message] = dispatcher.messages
    assert message["delivery_note"] == ""
    for variation in domain["responses"][f"utter_order_{status}"]:
        assert "{delivery_note}" in variation["text"]


async def test_order_without_parcel_does_not_call_tracking(make_tracker, dispatcher, domain):
    act, _, tracking = action(make_order("packed", carrier=None, tracking_number=None))
    await act.run(dispatcher, make_tracker(slots=FILLED), domain)
    assert tracking.calls == []
    assert dispatcher.messages[0]["tracking_ref"] == "not available yet"


async def test_tracking_failure_only_loses_the_latest_event(
    make_tracker, dispatcher, domain, caplog
):
    act, _, _ = action(make_order("delayed"), parcel=ServiceUnavailable("timeout"))
    with caplog.at_level(logging.INFO):
        events = await act.run(dispatcher, make_tracker(slots=FILLED), domain)
    [message] = dispatcher.messages
    assert message["response"] == "utter_order_delayed"
    assert message["latest_event"] == ""
    assert slot_events(events)["service_outcome"] == "answered"
    assert "parcel lookup for order status failed: timeout" in caplog.text


def slot(name, value):
    return {"event": "slot", "name": name, "value": value}


def user(text):
    return {"event": "user", "text": text, "parse_data": {"intent": {"name": "order_status"}}}


STARTED = {"event": "active_loop", "name": FORM}
ENDED = {"event": "active_loop", "name": None}


def with_history(tracker, events):
    """The tracker as Rasa sends it after the form: the history ends with the form."""
    tracker.events = events
    return tracker


async def test_not_found_is_polite_and_offers_a_person(make_tracker, dispatcher, domain, caplog):
    act, _, _ = action(NotFound("HTTP 404"))
    # both values given for this lookup: one in the first message, one in the form
    history = [
        user("where is 40012345"),
        slot("order_number", "40012345"),
        STARTED,
        user(EMAIL),
        slot("email", EMAIL),
        ENDED,
    ]
    with caplog.at_level(logging.INFO):
        events = await act.run(
            dispatcher, with_history(make_tracker(slots=FILLED), history), domain
        )
    assert [m["response"] for m in dispatcher.messages] == ["utter_order_not_found"]
    # the values stay, so that a correction of one of them is checked with the other
    assert slot_events(events) == {
        "invalid_attempts": 0.0,
        "failed_lookup": f"40012345 {EMAIL}",
        "service_outcome": "needs_human",
    }
    assert "order lookup failed: HTTP 404" in caplog.text


@pytest.mark.parametrize(
    "history",
    [
        # both left in a message for the agents, then "where is my order"
        [
            slot("email", "sam@example.com"),
            slot("order_number", "40012347"),
            user("where is my order"),
            STARTED,
            ENDED,
        ],
        # the email from the handover, the order number typed in the order form
        [
            slot("email", "sam@example.com"),
            user("where is my order"),
            STARTED,
            user("40012347"),
            slot("order_number", "40012347"),
            ENDED,
        ],
    ],
)
async def test_reused_details_that_match_no_order_are_named_and_asked_again(
    make_tracker, dispatcher, domain, history
):
    act, _, _ = action(NotFound("HTTP 404"))
    tracker = make_tracker(slots={"order_number": "40012347", "email": "sam@example.com"})
    events = await act.run(dispatcher, with_history(tracker, history), domain)
    [message] = dispatcher.messages
    assert message["response"] == "utter_order_not_found_tried"
    assert (message["order_ref"], message["masked_email"]) == ("40012347", "s***@example.com")
    # both cleared: the rule restarts the order form, which asks for both again
    assert slot_events(events) == {**RESET, "service_outcome": "ask_order"}


@pytest.mark.parametrize(
    "error",
    [ServiceUnavailable("timeout"), ServiceUnavailable("HTTP 503"), BadResponse("invalid JSON")],
)
async def test_service_failures_apologise_and_log_without_personal_data(
    make_tracker, dispatcher, domain, caplog, error
):
    act, _, _ = action(error)
    with caplog.at_level(logging.INFO):
        events = await act.run(dispatcher, make_tracker(slots=FILLED), domain)
    assert [m["response"] for m in dispatcher.messages] == ["utter_service_unavailable"]
    assert slot_events(events) == {**RESET, "service_outcome": "needs_human"}
    assert f"order lookup failed: {error.reason}" in caplog.text
    assert "40012345" not in caplog.text and "example.com" not in caplog.text


async def test_given_up_form_offers_a_person_without_calling(make_tracker, dispatcher, domain):
    act, orders, _ = action(make_order())
    events = await act.run(
        dispatcher, make_tracker(slots={"order_number": None, "invalid_attempts": 3.0}), domain
    )
    assert orders.calls == []
    assert [m["response"] for m in dispatcher.messages] == ["utter_too_many_attempts"]
    assert slot_events(events) == {**RESET, "service_outcome": "needs_human"}


async def test_lookup_runs_off_the_event_loop(make_tracker, dispatcher, domain):
    act, orders, _ = action(make_order("received"))
    await act.run(dispatcher, make_tracker(slots=FILLED), domain)
    assert orders.threads and orders.threads[0] != threading.get_ident()


def test_real_clients_are_created_lazily_from_settings(monkeypatch):
    from actions.settings import load_settings

    monkeypatch.setenv("ORDER_SERVICE_URL", "http://orders.invalid:9")
    load_settings.cache_clear()
    try:
        act = ActionOrderStatus()  # what rasa-sdk does at registration: no I/O, no client
        assert act._client is None
        assert act.client.base_url == "http://orders.invalid:9"
    finally:
        load_settings.cache_clear()


@pytest.mark.parametrize(
    ("offset", "expected"),
    [(0, "today"), (1, "tomorrow"), (-1, "yesterday")],
)
def test_friendly_dates(offset, expected):
    from datetime import timedelta

    assert friendly_date(TODAY + timedelta(days=offset)) == expected
    assert friendly_date(None) == "soon"


def test_friendly_date_names_the_weekday():
    from datetime import date

    assert friendly_date(date(2026, 11, 27), today=date(2026, 11, 20)) == "Friday 27 November"
    assert friendly_date(date(2026, 11, 27), date(2026, 11, 20), on=True) == (
        "on Friday 27 November"
    )


# --- a service that never finishes answering (issue 11, point 4) ----------------------


async def test_trickling_order_service_gets_the_apology_within_ten_seconds(
    make_tracker, dispatcher, domain
):
    """Default settings, real clients: the service sends a byte a second forever."""
    from actions.clients.factory import order_client, tracking_client
    from actions.settings import Settings

    with trickling_service() as url:
        settings = Settings(order_service_url=url, tracking_service_url=url)
        act = ActionOrderStatus(client=order_client(settings), tracking=tracking_client(settings))
        started = time.monotonic()
        events = await act.run(dispatcher, make_tracker(slots=FILLED), domain)
        elapsed = time.monotonic() - started
    assert elapsed < 10
    assert [m["response"] for m in dispatcher.messages] == ["utter_service_unavailable"]
    assert slot_events(events)["service_outcome"] == "needs_human"


async def test_order_and_parcel_lookups_share_one_turn_budget(
    make_tracker, dispatcher, domain, monkeypatch
):
    """The order answers at once, the parcel line trickles: the shopper still gets the
    order's status when the budget ends, not a second full deadline later."""
    from actions.clients.factory import tracking_client
    from actions.settings import Settings, load_settings

    monkeypatch.setenv("SERVICE_TOTAL_TIMEOUT", "1.5")
    load_settings.cache_clear()
    try:
        with trickling_service() as url:
            act = ActionOrderStatus(
                client=FakeOrderClient(make_order("shipped")),
                tracking=tracking_client(Settings(tracking_service_url=url)),
            )
            started = time.monotonic()
            await act.run(dispatcher, make_tracker(slots=FILLED), domain)
            elapsed = time.monotonic() - started
    finally:
        load_settings.cache_clear()
    assert elapsed < 2.5
    [message] = dispatcher.messages
    assert message["response"] == "utter_order_shipped" and message["latest_event"] == ""


@pytest.mark.parametrize(
    "slots",
    [
        {"order_number": "<img src=x onerror=alert(1)>", "email": EMAIL},
        {"order_number": "40012345", "email": "<script>@example.com"},
        {"order_number": ["40012345"], "email": EMAIL},
    ],
)
async def test_slots_set_past_the_form_never_reach_the_service_malformed(
    make_tracker, dispatcher, domain, slots
):
    """`/order_status{...}` typed by a shopper or a direct webhook call skip the form."""
    act, orders, _ = action(make_order())
    await act.run(dispatcher, make_tracker(slots=slots), domain)
    assert orders.calls == []


async def test_values_cleared_for_asking_again_are_no_wrong_answers(
    make_tracker, dispatcher, domain
):
    """The form restarts in the turn that cleared both values (after reused details
    matched no order): Rasa validates the cleared values, which must not count."""
    tracker = make_tracker(
        slots={"order_number": None, "email": None}, text="where is my order", intent="order_status"
    )
    tracker.events.extend([slot("order_number", None), slot("email", None)])
    slots = slot_events(await ValidateOrderStatusForm().run(dispatcher, tracker, domain))
    assert dispatcher.messages == []
    assert slots.get("invalid_attempts") is None


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("how long does delivery normally take?", "delivery_time"),
        ("can it be sent to a pickup point instead of my home", "delivery_methods"),
        ("how much is delivery", "delivery_methods"),
    ],
)
async def test_after_the_status_a_general_delivery_question_gets_the_general_answer(
    make_tracker, dispatcher, domain, text, intent
):
    """The follow-up rules send a delivery question right after a status to that order
    again; "usually", or any option but the carrier, asks about delivery in general (the
    status came a third time, word for word)."""
    act, orders, _ = action(make_order("shipped"))
    tracker = make_tracker(slots=FILLED, text=text, intent=intent)
    events = await act.run(dispatcher, tracker, domain)
    assert orders.calls == []
    assert [m["response"] for m in dispatcher.messages] == [f"utter_{intent}"]
    assert slot_events(events)["service_outcome"] == "answered"


@pytest.mark.parametrize(
    ("text", "intent", "answer"),
    [
        ("what happens if I miss the delivery", "follow_up", "utter_delivery_not_home"),
        ("vad händer om jag inte är hemma", "follow_up", "utter_delivery_not_home"),
        ("saanko mitään korvausta viivästyksestä?", "follow_up", "utter_delay_compensation"),
        ("will you compensate me for the wait?", "delivery_time", "utter_delay_compensation"),
    ],
)
async def test_after_the_status_nobody_home_and_a_delay_get_their_own_answer(
    make_tracker, dispatcher, domain, text, intent, answer
):
    """Blind trials: both got the order's whole status again."""
    act, orders, _ = action(make_order("shipped"))
    after_status = [
        {"event": "action", "name": "action_order_status"},
        {"event": "slot", "name": "service_outcome", "value": "answered"},
        {"event": "action", "name": "action_listen"},
    ]
    tracker = make_tracker(slots=FILLED, text=text, intent=intent, events=after_status)
    events = await act.run(dispatcher, tracker, domain)
    assert orders.calls == []
    assert [m["response"] for m in dispatcher.messages] == [answer]
    assert slot_events(events)["service_outcome"] == "answered"


@pytest.mark.parametrize(
    ("text", "looked_up"),
    [
        ("where is the pickup point?", True),
        ("var ligger utlämningsstället?", True),
        ("missä se noutopiste on?", True),
        ("hvilket hentested er det?", True),
        # the options, not this order's point
        ("which pickup points do you have?", False),
        ("can it go to a pickup point instead?", False),
        ("what does it cost to send it to a pickup point?", False),
    ],
)
async def test_after_the_status_where_the_pickup_point_is_is_that_order(
    make_tracker, dispatcher, domain, text, looked_up
):
    """A blind trial: "where is the pickup point?" right after a status got the delivery
    options; the status names the order's point (utter_order_at_pickup_point)."""
    act, orders, _ = action(make_order("shipped"))
    after_status = [
        {"event": "action", "name": "action_order_status"},
        {"event": "slot", "name": "service_outcome", "value": "answered"},
        {"event": "action", "name": "action_listen"},
    ]
    tracker = make_tracker(slots=FILLED, text=text, intent="delivery_methods", events=after_status)
    await act.run(dispatcher, tracker, domain)
    assert (len(orders.calls) == 1) is looked_up
    expected = "utter_order_shipped" if looked_up else "utter_delivery_methods"
    assert [m["response"] for m in dispatcher.messages] == [expected]


async def test_nobody_home_in_the_first_question_still_gets_the_status(
    make_tracker, dispatcher, domain
):
    """Only a follow-up to a status has those answers: the first question about an order
    is answered with its status, whatever else it says."""
    act, orders, _ = action(make_order("shipped"))
    tracker = make_tracker(
        slots=FILLED, text="I'm not home on Friday, when does it come?", intent="delivery_time"
    )
    await act.run(dispatcher, tracker, domain)
    assert len(orders.calls) == 1
    assert [m["response"] for m in dispatcher.messages] == ["utter_order_shipped"]


STALE = {"order_number": "99999999", "email": EMAIL, "failed_lookup": f"99999999 {EMAIL}"}


async def test_a_new_order_question_does_not_try_a_failed_lookup_again(
    make_tracker, dispatcher, domain
):
    """The walk-through: after "where is my order 99999999" found nothing, "where is my
    order?" got "I couldn't find order 99999999 ... let's check both again" and, in the
    same turn, the status of the order proven before it."""
    proven = {"verified_order": "40012345", "verified_email": EMAIL, "verified_at": time.time()}
    tracker = make_tracker(
        slots={**STALE, **proven}, text="where is my order?", intent="order_status"
    )
    slots = await ValidateOrderStatusForm().extract_order_number(dispatcher, tracker, domain)
    assert slots == {"order_number": "40012345", "email": EMAIL}
    tracker = make_tracker(slots=STALE, text="where is my order?", intent="order_status")
    slots = await ValidateOrderStatusForm().extract_order_number(dispatcher, tracker, domain)
    assert slots == {"order_number": None, "email": None}  # the form asks for both


async def test_a_correction_after_a_failed_lookup_keeps_the_other_value(
    make_tracker, dispatcher, domain
):
    tracker = make_tracker(
        slots={**STALE, "email": "anna.b@example.com"},
        text="sorry, it's anna.b@example.com",
        intent="inform",
        entities=[{"entity": "email", "value": "anna.b@example.com"}],
    )
    slots = await ValidateOrderStatusForm().extract_order_number(dispatcher, tracker, domain)
    assert slots.get("order_number") in (None, "99999999") and "email" not in slots


async def test_a_lookup_that_finds_nothing_is_remembered(make_tracker, dispatcher, domain):
    act, _, _ = action(NotFound("HTTP 404"))
    history = [
        user("where is 99999999"),
        slot("order_number", "99999999"),
        STARTED,
        user(EMAIL),
        slot("email", EMAIL),
        ENDED,
    ]
    slots = {"order_number": "99999999", "email": EMAIL}
    events = await act.run(dispatcher, with_history(make_tracker(slots=slots), history), domain)
    assert [m["response"] for m in dispatcher.messages] == ["utter_order_not_found"]
    assert slot_events(events)["failed_lookup"] == f"99999999 {EMAIL}"


@pytest.mark.parametrize(
    ("text", "response"),
    [
        ("it isn't about an order", "utter_not_about_an_order"),
        ("det gäller ingen beställning", "utter_not_about_an_order"),
        ("I don't have my order number", "utter_no_order_number"),
        ("jag hittar inte ordernumret", "utter_no_order_number"),
        ("mulla ei oo tilausnumeroa", "utter_no_order_number"),
        ("har ikke ordrenummer", "utter_no_order_number"),
    ],
)
async def test_no_order_outside_a_form_is_answered(
    make_tracker, dispatcher, domain, text, response
):
    """A blind trial: "it isn't about an order" after the offer of a person got "Sorry, I
    lost the thread"; without the number, where to find it."""
    from actions.orders import ActionNoOrder

    tracker = make_tracker(intent="no_order_number", text=text)
    assert await ActionNoOrder().run(dispatcher, tracker, domain) == []
    assert [m["response"] for m in dispatcher.messages] == [response]
