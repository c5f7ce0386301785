"""Self-service cancellation: every path of the actions, against the real reference service.

The reference service runs as a subprocess (a real HTTP edge); only the "service timed
out after the confirmation" path uses a trickling fake service.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from service_fakes import FakeOrderClient, slot_events, trickling_service, with_candidates

from actions.clients import ChangeClient, NotFound, OrderClient, ServiceUnavailable
from actions.self_service import (
    ActionAskChangeAnswer,
    ActionChangeConfirm,
    ActionChangeExecute,
    ActionChangeStart,
    ActionDetailsRoute,
    ActionSelfServiceRoute,
    ValidateChangeConfirmationForm,
    log_change,
)
from devkit.servers import stop
from devkit.stack import start_reference_service

# When the module was loaded; tests that need "just now" read the clock themselves, since
# the whole suite can run for longer than the 30 minutes a proof lasts.
NOW = time.time()


@pytest.fixture(scope="module")
def service() -> Iterator[str]:
    url, proc = start_reference_service(dict(os.environ))
    yield url
    stop(proc)


def status_of(service: str, number: str, email: str) -> str:
    return OrderClient(service).lookup(number, email).status


def sent(service: str, email: str) -> list[str]:
    answer = requests.get(f"{service}/outbox", params={"to": email}, timeout=5).json()
    return [m["kind"] for m in answer["messages"]]


def proven(number: str, email: str, at: float | None = None, **more: Any) -> dict[str, Any]:
    return {
        "verified_order": number,
        "verified_email": email,
        "verified_at": time.time() if at is None else at,
        "order_number": number,
        "email": email,
        **more,
    }


def responses(dispatcher) -> list[str]:
    return [m.get("response") or m.get("text") or "" for m in dispatcher.messages]


async def confirm(service, make_tracker, dispatcher, domain, number, email):
    tracker = make_tracker(slots={"order_number": number, "email": email})
    return slot_events(
        await ActionChangeConfirm(OrderClient(service)).run(dispatcher, tracker, domain)
    )


async def execute(service_or_client, make_tracker, dispatcher, domain, slots):
    client = (
        service_or_client
        if isinstance(service_or_client, ChangeClient)
        else ChangeClient(service_or_client)
    )
    tracker = make_tracker(slots=slots, intent="affirm", text="yes")
    return slot_events(await ActionChangeExecute(client).run(dispatcher, tracker, domain))


# --- proving the order once -------------------------------------------------------


async def test_a_recently_proven_order_is_not_asked_for_again(make_tracker, dispatcher, domain):
    tracker = make_tracker(
        slots={
            "verified_order": "40012349",
            "verified_email": "emma.novak@example.org",
            "verified_at": time.time() - 29 * 60,
        },
        intent="cancel_order",
        text="and cancel it please",
    )
    slots = slot_events(await ActionChangeStart().run(dispatcher, tracker, domain))
    assert slots["order_number"] == "40012349"
    assert slots["email"] == "emma.novak@example.org"
    assert slots["change_kind"] == "cancel"


@pytest.mark.parametrize(
    "stored",
    [
        {"verified_at": NOW - 31 * 60},  # older than 30 minutes
        {"verified_order": "4001234"},  # tampered: not an order number
        {"verified_email": "not-an-email"},
        {"verified_at": "yesterday"},
        {"verified_at": NOW + 3600},  # from the future
    ],
)
async def test_a_stale_or_malformed_proof_asks_again(make_tracker, dispatcher, domain, stored):
    slots = {
        "verified_order": "40012349",
        "verified_email": "emma.novak@example.org",
        "verified_at": time.time(),
        **stored,
    }
    tracker = make_tracker(slots=slots, intent="cancel_order", text="cancel my order")
    events = slot_events(await ActionChangeStart().run(dispatcher, tracker, domain))
    assert events.get("order_number") is None and events.get("email") is None


async def test_another_order_mentioned_needs_its_own_email(make_tracker, dispatcher, domain):
    tracker = make_tracker(
        slots={
            **proven("40012349", "emma.novak@example.org"),
            "order_number": "40012345",
            "email": None,
        },
        intent="cancel_order",
        text="cancel 40012345",
    )
    events = slot_events(await ActionChangeStart().run(dispatcher, tracker, domain))
    assert events["order_number"] == "40012345" and events.get("email") is None


@pytest.mark.parametrize(
    ("intent", "says"), [("cancel_order", "cancel an order"), ("change_address", "address")]
)
async def test_a_fresh_request_says_what_the_questions_are_for_and_sets_no_empty_slot(
    make_tracker, dispatcher, domain, intent, says
):
    # Setting an empty order number made the form answer "that doesn't look like an order
    # number" (and the same for the email) before the shopper had typed either.
    tracker = make_tracker(slots={}, intent=intent, text="can you do that for me")
    events = slot_events(await ActionChangeStart().run(dispatcher, tracker, domain))
    assert "order_number" not in events and "email" not in events
    assert events["change_kind"] in ("cancel", "address")
    name = dispatcher.messages[0]["response"]
    assert says in domain["responses"][name][0]["text"]


# --- the confirmation question ----------------------------------------------------


async def test_confirmation_states_exactly_what_will_happen(
    service, make_tracker, dispatcher, domain
):
    slots = await confirm(
        service, make_tracker, dispatcher, domain, "40012360", "jonas.weber@example.com"
    )
    assert dispatcher.messages == []  # the form asks, with the summary
    assert slots["change_summary"] == "3 items, €94.85"
    assert len(slots["change_key"]) >= 8 and slots["change_answer"] is None
    assert slots["verified_order"] == "40012360" and slots["verified_at"] >= NOW
    tracker = make_tracker(slots={"order_number": "40012360", **slots})
    await ActionAskChangeAnswer().run(dispatcher, tracker, domain)
    (question,) = dispatcher.messages
    assert question["response"] == "utter_ask_cancel_confirmation"
    assert question["order_ref"] == "40012360" and question["change_summary"] == "3 items, €94.85"
    assert status_of(service, "40012360", "jonas.weber@example.com") == "received"


async def test_each_question_gets_its_own_key(service, make_tracker, dispatcher, domain):
    first = await confirm(
        service, make_tracker, dispatcher, domain, "40012360", "jonas.weber@example.com"
    )
    second = await confirm(
        service, make_tracker, dispatcher, domain, "40012360", "jonas.weber@example.com"
    )
    assert first["change_key"] != second["change_key"]


async def test_a_shipped_order_is_refused_before_asking(service, make_tracker, dispatcher, domain):
    slots = await confirm(
        service, make_tracker, dispatcher, domain, "40012345", "anna.berg@example.com"
    )
    assert responses(dispatcher) == ["utter_change_refused_already_shipped"]
    assert slots["change_answer"] == "skip" and slots["service_outcome"] == "answered"


async def test_not_found_offers_a_person(service, make_tracker, dispatcher, domain):
    slots = await confirm(
        service, make_tracker, dispatcher, domain, "40012345", "ben.okafor@example.org"
    )
    assert responses(dispatcher) == ["utter_order_not_found"]
    assert slots["service_outcome"] == "needs_human" and slots["change_answer"] == "skip"


async def test_lookup_down_apologises(make_tracker, dispatcher, domain):
    tracker = make_tracker(slots={"order_number": "40012349", "email": "emma.novak@example.org"})
    action = ActionChangeConfirm(FakeOrderClient(ServiceUnavailable("timeout")))  # type: ignore[arg-type]
    slots = slot_events(await action.run(dispatcher, tracker, domain))
    assert responses(dispatcher) == ["utter_service_unavailable"]
    assert (slots["service_outcome"] == "needs_human" and "change_key" not in slots) or (
        slots["change_key"] is None
    )


# --- the answer ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("intent", "reasks", "answer"),
    [("affirm", 0, "yes"), ("deny", 0, "no"), ("deny", 1, "no"), ("order_status", 1, "unclear")],
)
async def test_yes_no_and_unclear(make_tracker, dispatcher, domain, intent, reasks, answer):
    tracker = make_tracker(
        slots={"requested_slot": "change_answer", "change_reasks": reasks},
        intent=intent,
        text="whatever",
        active_loop="change_confirmation_form",
    )
    slots = slot_events(await ValidateChangeConfirmationForm().run(dispatcher, tracker, domain))
    assert slots["change_answer"] == answer


@pytest.mark.parametrize(
    ("kind", "text", "intent", "answer"),
    [
        ("cancel", "ok yes cancel it", "stop", "yes"),  # stop 0.51: it used to be a "no"
        ("cancel", "joo peru vaan", "cancel_order", "yes"),
        ("cancel", "ja avbryt den", "stop", "yes"),
        ("cancel", "yes but don't cancel it", "stop", "no"),
        ("cancel", "forget it", "stop", "no"),
        ("address", "yes cancel it", "stop", "no"),  # a yes to a cancellation only
        # leaving it is a no whatever else the message asks (the returns question used to
        # win: its answer, then the same Yes / No again)
        ("cancel", "no, actually forget it, I'll exchange it when it comes", "returns", "no"),
        ("address", "never mind, leave it as it is", "nlu_fallback", "no"),
        ("cancel", "nej glöm det, jag returnerar den istället", "returns", "no"),
        ("cancel", "ei, anna olla", "deny", "no"),
        ("invoice_copy", "nei glem det", "invoice", "no"),
    ],
)
async def test_a_yes_with_the_cancelling_verb_confirms_a_cancellation(
    make_tracker, dispatcher, domain, kind, text, intent, answer
):
    tracker = make_tracker(
        slots={"requested_slot": "change_answer", "change_reasks": 0, "change_kind": kind},
        intent=intent,
        text=text,
        active_loop="change_confirmation_form",
    )
    slots = slot_events(await ValidateChangeConfirmationForm().run(dispatcher, tracker, domain))
    assert slots["change_answer"] == answer


@pytest.mark.parametrize(("reasks", "answer"), [(0, None), (1, "unclear")])
async def test_an_unsure_yes_changes_nothing(make_tracker, dispatcher, domain, reasks, answer):
    """'hmm', read as affirm with 0.75, cancelled an order: it is asked again instead."""
    tracker = make_tracker(
        slots={"requested_slot": "change_answer", "change_reasks": reasks},
        intent="affirm",
        confidence=0.75,
        text="hmm",
        active_loop="change_confirmation_form",
    )
    slots = slot_events(await ValidateChangeConfirmationForm().run(dispatcher, tracker, domain))
    assert slots["change_answer"] == answer


async def test_the_message_before_the_question_is_no_answer(make_tracker, dispatcher, domain):
    """When the form starts, the latest message is still the email (or the address) that
    led to the question: it must not count as an unclear answer."""
    earlier = [{"event": "action", "name": "action_listen"}]
    tracker = make_tracker(
        slots={"requested_slot": "change_answer", "change_reasks": 0},
        intent="inform",
        text="emma.novak@example.org",
        events=earlier,
        active_loop="change_confirmation_form",
    )
    tracker.events += [
        {"event": "action", "name": "self_service_form"},
        {"event": "action", "name": "action_change_confirm"},
        {"event": "action", "name": "change_confirmation_form"},
    ]
    slots = slot_events(await ValidateChangeConfirmationForm().run(dispatcher, tracker, domain))
    assert "change_answer" not in slots and "change_reasks" not in slots
    # the confirm action cleared the answer this turn: that is nothing to validate either
    with_candidates(tracker, change_answer=None)
    slots = slot_events(await ValidateChangeConfirmationForm().run(dispatcher, tracker, domain))
    assert slots.get("change_reasks") is None


async def test_anything_else_re_asks_once(make_tracker, dispatcher, domain):
    tracker = make_tracker(
        slots={"requested_slot": "change_answer", "change_reasks": 0},
        intent="nlu_fallback",
        text="hmm maybe",
        active_loop="change_confirmation_form",
    )
    slots = slot_events(await ValidateChangeConfirmationForm().run(dispatcher, tracker, domain))
    assert slots["change_answer"] is None and slots["change_reasks"] == 1.0
    tracker = make_tracker(
        slots={
            "order_number": "40012349",
            "change_reasks": 1.0,
            "change_summary": "2 items, €79.90",
        }
    )
    await ActionAskChangeAnswer().run(dispatcher, tracker, domain)
    assert responses(dispatcher)[-2:] == [
        "utter_change_need_yes_no",
        "utter_ask_cancel_confirmation",
    ]


# --- carrying it out ------------------------------------------------------------------


async def test_yes_cancels_and_says_what_happens_next(service, make_tracker, dispatcher, domain):
    email = "katja.rossi@example.org"
    slots = await execute(
        service,
        make_tracker,
        dispatcher,
        domain,
        proven("40012361", email, change_key="key-yes-0001", change_answer="yes"),
    )
    (message,) = dispatcher.messages
    assert message["response"] == "utter_cancel_done_invoice"  # invoice: nothing to pay
    assert slots["service_outcome"] == "answered"
    assert slots["change_key"] is None and slots["change_answer"] is None
    assert slots["self_service_change"] == "cancel"  # counted in the daily statistics
    assert status_of(service, "40012361", email) == "cancelled"
    assert sent(service, email) == ["cancellation_confirmation"]


async def test_a_paid_order_hears_about_the_refund(service, make_tracker, dispatcher, domain):
    await execute(
        service,
        make_tracker,
        dispatcher,
        domain,
        proven(
            "40012362", "liam.jensen@example.net", change_key="key-paid-001", change_answer="yes"
        ),
    )
    (message,) = dispatcher.messages
    assert message["response"] == "utter_cancel_done_paid"
    assert message["amount"] and message["payment_method"] == "PayPal"


async def test_double_yes_with_one_confirmation_cancels_once(
    service, make_tracker, dispatcher, domain
):
    """Two tabs of the same conversation both answer the same question: one key."""
    email = "nils.lind@example.org"
    slots = proven("40012364", email, change_key="key-double-01", change_answer="yes")
    await execute(service, make_tracker, dispatcher, domain, slots)
    await execute(service, make_tracker, dispatcher, domain, slots)
    assert responses(dispatcher) == ["utter_cancel_done_paid", "utter_cancel_done_paid"]
    assert sent(service, email) == ["cancellation_confirmation"]  # cancelled once


async def test_two_confirmations_from_two_tabs_cancel_once(
    service, make_tracker, dispatcher, domain
):
    """Two separate conversations each confirmed: the second hears it is already done."""
    email = "olga.brennan@example.net"
    for key in ("key-tab-one-01", "key-tab-two-02"):
        await execute(
            service,
            make_tracker,
            dispatcher,
            domain,
            proven("40012365", email, change_key=key, change_answer="yes"),
        )
    assert responses(dispatcher) == [
        "utter_cancel_done_paid",
        "utter_change_refused_already_cancelled",
    ]
    assert sent(service, email).count("cancellation_confirmation") == 1


@pytest.mark.parametrize(
    ("answer", "response"), [("no", "utter_change_declined"), ("unclear", "utter_change_unclear")]
)
async def test_no_or_unclear_changes_nothing(
    service, make_tracker, dispatcher, domain, answer, response
):
    slots = await execute(
        service,
        make_tracker,
        dispatcher,
        domain,
        proven(
            "40012349", "emma.novak@example.org", change_key="key-no-0001", change_answer=answer
        ),
    )
    assert responses(dispatcher) == [response]
    assert slots["service_outcome"] == "answered" and "self_service_change" not in slots
    assert status_of(service, "40012349", "emma.novak@example.org") == "received"


async def test_a_proof_that_expired_while_waiting_changes_nothing(
    service, make_tracker, dispatcher, domain
):
    await execute(
        service,
        make_tracker,
        dispatcher,
        domain,
        proven(
            "40012349",
            "emma.novak@example.org",
            at=NOW - 40 * 60,
            change_key="key-old-0001",
            change_answer="yes",
        ),
    )
    assert responses(dispatcher) == ["utter_change_expired"]
    assert status_of(service, "40012349", "emma.novak@example.org") == "received"


async def test_shipped_meanwhile_explains_why_not(service, make_tracker, dispatcher, domain):
    slots = await execute(
        service,
        make_tracker,
        dispatcher,
        domain,
        proven(
            "40012348", "david.klein@example.com", change_key="key-late-01", change_answer="yes"
        ),
    )
    assert responses(dispatcher) == ["utter_change_refused_already_delivered"]
    assert slots["service_outcome"] == "answered"


async def test_timeout_after_the_confirmation_never_claims_success(
    make_tracker, dispatcher, domain
):
    with trickling_service() as url:
        client = ChangeClient(url, read_timeout=0.3, total_timeout=1.0, retries=1)
        slots = await execute(
            client,
            make_tracker,
            dispatcher,
            domain,
            proven(
                "40012349", "emma.novak@example.org", change_key="key-slow-001", change_answer="yes"
            ),
        )
    assert responses(dispatcher) == ["utter_change_unknown"]
    assert slots["service_outcome"] == "needs_human"  # the rule offers a person
    assert "self_service_change" not in slots  # not counted as done
    assert slots["self_service_unknown"] == "cancel"  # the agent console asks to check


async def test_not_found_at_the_change_offers_a_person(make_tracker, dispatcher, domain):
    class Gone(ChangeClient):
        def cancel(self, order_number: str, email: str, *, idempotency_key: str):  # type: ignore[override]
            raise NotFound("HTTP 404")

    slots = await execute(
        Gone("http://127.0.0.1:9"),
        make_tracker,
        dispatcher,
        domain,
        proven("40012349", "emma.novak@example.org", change_key="key-gone-01", change_answer="yes"),
    )
    assert responses(dispatcher) == ["utter_order_not_found"]
    assert slots["service_outcome"] == "needs_human"


def test_the_marker_is_the_one_the_statistics_count() -> None:
    from actions.self_service import CHANGE_MARKER
    from retention import markers

    assert CHANGE_MARKER == markers.SELF_SERVICE_SLOT and "cancel" in markers.SELF_SERVICE_KINDS


def test_the_log_names_no_order_or_email(caplog) -> None:
    with caplog.at_level("INFO", logger="actions.self_service"):
        log_change("cancel", "done")
    assert caplog.messages == ["self-service cancel: done"]


async def test_an_order_status_answer_proves_the_order_for_a_change(
    service, make_tracker, dispatcher, domain
):
    """ "Where is my order?" answered, then "cancel it": no second round of questions."""
    from actions.orders import ActionOrderStatus

    tracker = make_tracker(slots={"order_number": "40012349", "email": "emma.novak@example.org"})
    status = slot_events(
        await ActionOrderStatus(OrderClient(service)).run(dispatcher, tracker, domain)
    )
    assert status["verified_order"] == "40012349"
    later = make_tracker(slots=status, intent="cancel_order", text="cancel it please")
    start = slot_events(await ActionChangeStart().run(dispatcher, later, domain))
    assert (start["order_number"], start["email"]) == ("40012349", "emma.novak@example.org")


# --- address changes ------------------------------------------------------------------

STOCKHOLM_JSON = (
    '{"street": "Storgatan 12", "postcode": "111 22", "city": "Stockholm", "country": "SE"}'
)


async def test_change_address_asks_for_the_new_address(make_tracker, dispatcher, domain):
    from actions.self_service import ValidateSelfServiceForm

    tracker = make_tracker(slots={}, intent="change_address", text="wrong address")
    start = slot_events(await ActionChangeStart().run(dispatcher, tracker, domain))
    assert start["change_kind"] == "address"
    form = ValidateSelfServiceForm()
    slots = await form.required_slots(
        ["order_number", "email"], dispatcher, make_tracker(slots=start), domain
    )
    assert slots == ["order_number", "email", "new_address"]


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("Storgatan 12, 111 22 Stockholm", STOCKHOLM_JSON),
        ("Storgatan 12", None),
        ("somewhere nice", None),
    ],
)
async def test_the_free_text_address_is_parsed_or_re_asked(
    make_tracker, dispatcher, domain, typed, stored
):
    from actions.self_service import ValidateSelfServiceForm

    tracker = make_tracker(
        slots={
            "change_kind": "address",
            "order_number": "40012361",
            "email": "katja.rossi@example.org",
            "requested_slot": "new_address",
        },
        text=typed,
        active_loop="self_service_form",
    )
    slots = slot_events(await ValidateSelfServiceForm().run(dispatcher, tracker, domain))
    assert slots["new_address"] == stored
    assert responses(dispatcher) == ([] if stored else ["utter_invalid_address"])


async def _email_given_for_an_address_change(
    client, make_tracker, dispatcher, domain, number, email
) -> dict[str, Any]:
    """The form's run when the email (the last order detail) has just been typed."""
    from actions.self_service import ValidateSelfServiceForm

    tracker = make_tracker(
        slots={"change_kind": "address", "order_number": number, "requested_slot": "email"},
        text=email,
        active_loop="self_service_form",
    )
    with_candidates(tracker, email=email)
    return slot_events(await ValidateSelfServiceForm(client).run(dispatcher, tracker, domain))


async def test_a_shipped_order_is_refused_before_the_new_address_is_asked_for(
    service, make_tracker, dispatcher, domain
):
    """Nobody types a whole address for a parcel that has already left: the form ends
    once the order is known, and the confirmation says why."""
    slots = await _email_given_for_an_address_change(
        OrderClient(service), make_tracker, dispatcher, domain,
        "40012345", "anna.berg@example.com",
    )  # fmt: skip
    assert slots["requested_slot"] is None
    assert "new_address" not in slots
    tracker = make_tracker(slots={"change_kind": "address", "order_number": "40012345", **slots})
    events = slot_events(
        await ActionChangeConfirm(OrderClient(service)).run(dispatcher, tracker, domain)
    )
    assert responses(dispatcher) == ["utter_address_refused_already_shipped"]
    assert events["change_answer"] == "skip"


@pytest.mark.parametrize(
    ("number", "email", "client", "asked"),
    [
        ("40012363", "mona.tanaka@example.com", "service", "new_address"),  # packed
        ("40012363", "someone.else@example.com", "service", None),  # not found
        ("40012363", "mona.tanaka@example.com", "down", "new_address"),
    ],
)
async def test_the_new_address_is_asked_for_only_when_the_order_can_change(
    service, make_tracker, dispatcher, domain, number, email, client, asked
):
    """Packed: the address is asked for. Not found: the form ends and the confirmation
    says the order was not found. The service down: asked anyway (the lookup is tried
    again at the confirmation, which apologises if it still fails)."""
    orders = (
        OrderClient(service)
        if client == "service"
        else FakeOrderClient(ServiceUnavailable("timeout"))
    )
    slots = await _email_given_for_an_address_change(
        orders, make_tracker, dispatcher, domain, number, email
    )
    assert slots["requested_slot"] == asked
    if asked is None:
        tracker = make_tracker(slots={"change_kind": "address", "order_number": number, **slots})
        await ActionChangeConfirm(OrderClient(service)).run(dispatcher, tracker, domain)
        assert responses(dispatcher) == ["utter_order_not_found"]


@pytest.mark.parametrize(
    ("text", "intent", "taken"),
    [
        ("how long does delivery take?", "delivery_time", False),
        ("never mind", "stop", False),
        ("Storgatan 12, 111 22 Stockholm", "delivery_time", True),  # misread, still an address
        ("somewhere nice", "inform", True),  # an attempt: the form explains the format
    ],
)
async def test_a_question_at_the_address_prompt_is_left_to_the_rules(
    make_tracker, dispatcher, domain, text, intent, taken
):
    from actions.self_service import ValidateSelfServiceForm

    tracker = make_tracker(
        slots={"change_kind": "address", "requested_slot": "new_address"},
        text=text,
        intent=intent,
        active_loop="self_service_form",
    )
    form = ValidateSelfServiceForm()
    assert bool(await form.extract_new_address(dispatcher, tracker, domain)) is taken


@pytest.mark.parametrize(
    ("text", "intent", "taken"),
    [
        ("and stop sending me the catalogue too", "newsletter", False),  # rule answers
        ("anna at example", "inform", True),  # an attempt: the form explains the format
        ("it's anna@example", "newsletter", True),  # an "@": an attempt whatever the intent
    ],
)
async def test_a_newsletter_question_at_the_unsubscribe_address_prompt_is_left_to_the_rules(
    make_tracker, dispatcher, domain, text, intent, taken
):
    """It got "That doesn't look like an email address"."""
    from actions.self_service import ValidateSelfServiceForm

    tracker = make_tracker(
        slots={"change_kind": "unsubscribe", "requested_slot": "email"},
        text=text,
        intent=intent,
        active_loop="self_service_form",
    )
    form = ValidateSelfServiceForm()
    assert bool(await form.extract_email(dispatcher, tracker, domain)) is taken


@pytest.mark.parametrize("intent", ["inform", "change_address"])
async def test_a_corrected_street_at_the_confirmation_is_asked_about_again(
    make_tracker, dispatcher, domain, intent
):
    """'its storgatan 14' while the address waits for its yes: that street, the rest kept,
    a new confirmation key, and the question again (it was re-asked as if unanswered)."""
    tracker = make_tracker(
        slots={
            "requested_slot": "change_answer",
            "change_kind": "address",
            "change_key": "key-before",
            "new_address": STOCKHOLM_JSON,
        },
        intent=intent,
        text="its storgatan 14",
        active_loop="change_confirmation_form",
    )
    slots = slot_events(await ValidateChangeConfirmationForm().run(dispatcher, tracker, domain))
    assert json.loads(slots["new_address"])["street"] == "Storgatan 14"
    assert slots["change_summary"] == "Storgatan 14, 111 22 Stockholm, Sweden"
    assert slots["change_answer"] is None  # asked again, now about Storgatan 14
    assert slots["change_key"] not in (None, "key-before")


async def test_a_yes_at_the_address_confirmation_is_no_correction(make_tracker, dispatcher, domain):
    tracker = make_tracker(
        slots={
            "requested_slot": "change_answer",
            "change_kind": "address",
            "new_address": STOCKHOLM_JSON,
        },
        intent="affirm",
        text="yes its storgatan 12",
        active_loop="change_confirmation_form",
    )
    slots = slot_events(await ValidateChangeConfirmationForm().run(dispatcher, tracker, domain))
    assert slots["change_answer"] == "yes"
    assert "new_address" not in slots


async def test_the_address_is_echoed_for_the_confirmation(
    service, make_tracker, dispatcher, domain
):
    tracker = make_tracker(
        slots={
            "change_kind": "address",
            "order_number": "40012363",
            "email": "mona.tanaka@example.com",
            "new_address": STOCKHOLM_JSON,
        }
    )
    slots = slot_events(
        await ActionChangeConfirm(OrderClient(service)).run(dispatcher, tracker, domain)
    )
    assert slots["change_summary"] == "Storgatan 12, 111 22 Stockholm, Sweden"
    await ActionAskChangeAnswer().run(
        dispatcher, make_tracker(slots={**tracker.slots, **slots}), domain
    )
    (question,) = dispatcher.messages
    assert question["response"] == "utter_ask_address_confirmation"


async def test_address_of_a_shipped_order_is_refused_before_asking(
    service, make_tracker, dispatcher, domain
):
    tracker = make_tracker(
        slots={
            "change_kind": "address",
            "order_number": "40012345",
            "email": "anna.berg@example.com",
            "new_address": STOCKHOLM_JSON,
        }
    )
    slots = slot_events(
        await ActionChangeConfirm(OrderClient(service)).run(dispatcher, tracker, domain)
    )
    assert responses(dispatcher) == ["utter_address_refused_already_shipped"]
    assert slots["change_answer"] == "skip"


async def test_yes_changes_the_address(service, make_tracker, dispatcher, domain):
    email = "mona.tanaka@example.com"
    slots = await execute(
        service,
        make_tracker,
        dispatcher,
        domain,
        proven(
            "40012363",
            email,
            change_key="key-addr-001",
            change_answer="yes",
            change_kind="address",
            new_address=STOCKHOLM_JSON,
        ),
    )
    (message,) = dispatcher.messages
    assert message["response"] == "utter_address_done"
    assert message["change_summary"] == "Storgatan 12, 111 22 Stockholm, Sweden"
    assert slots["self_service_change"] == "address"
    assert sent(service, email) == ["address_confirmation"]


async def test_the_services_field_errors_re_ask_the_address(
    service, make_tracker, dispatcher, domain
):
    bad = '{"street": "Storgatan 12", "postcode": "1112", "city": "Stockholm", "country": "SE"}'
    tracker = make_tracker(
        slots=proven(
            "40012363",
            "mona.tanaka@example.com",
            change_key="key-addr-bad",
            change_answer="yes",
            change_kind="address",
            new_address=bad,
        ),
        intent="affirm",
        text="yes",
    )
    events = await ActionChangeExecute(ChangeClient(service)).run(dispatcher, tracker, domain)
    assert responses(dispatcher) == ["utter_address_invalid_postcode"]
    slots = slot_events(events)
    assert slots["new_address"] is None and slots["change_kind"] == "address"
    assert slots["order_number"] == "40012363"  # not asked again
    assert [e["name"] for e in events if e["event"] == "followup"] == ["self_service_form"]
    assert "self_service_change" not in slots


async def test_address_timeout_after_the_confirmation_never_claims_success(
    make_tracker, dispatcher, domain
):
    with trickling_service() as url:
        client = ChangeClient(url, read_timeout=0.3, total_timeout=1.0, retries=1)
        slots = await execute(
            client,
            make_tracker,
            dispatcher,
            domain,
            proven(
                "40012363",
                "mona.tanaka@example.com",
                change_key="key-addr-slow",
                change_answer="yes",
                change_kind="address",
                new_address=STOCKHOLM_JSON,
            ),
        )
    assert responses(dispatcher) == ["utter_address_unknown"]
    assert slots["self_service_unknown"] == "address"
    assert slots["service_outcome"] == "needs_human"


@pytest.mark.parametrize("kind", ["cancel", "size", "address"])
async def test_a_shop_question_at_the_confirmation_is_left_to_the_rules(
    make_tracker, dispatcher, domain, kind
):
    """'wait, does cancelling cost anything?' got 'I need a clear yes or no': now the form
    takes no answer from it, so it rejects the message and a rule answers the question."""
    tracker = make_tracker(
        slots={"requested_slot": "change_answer", "change_reasks": 0, "change_kind": kind},
        intent="cancellation_fee",
        text="wait, does cancelling cost anything?",
        active_loop="change_confirmation_form",
    )
    form = ValidateChangeConfirmationForm()
    assert await form.extract_change_answer(dispatcher, tracker, domain) == {}


# --- a corrected order number or email after "not found" ----------------------------


def earlier_turns(count: int) -> list[dict[str, Any]]:
    return [{"event": "user", "text": f"turn {i}", "parse_data": {}} for i in range(count)]


async def test_not_found_keeps_the_change_waiting_for_a_correction(
    service, make_tracker, dispatcher, domain
):
    tracker = make_tracker(
        slots={
            "order_number": "40012360",
            "email": "jonas.weber@exmaple.com",
            "change_kind": "cancel",
        },
        events=earlier_turns(1),
    )
    slots = slot_events(
        await ActionChangeConfirm(OrderClient(service)).run(dispatcher, tracker, domain)
    )
    assert responses(dispatcher) == ["utter_order_not_found"]
    assert slots["change_retry"] == "cancel:2"
    # what action_change_execute does with the skipped question: the order number stays
    slots = await execute(
        service,
        make_tracker,
        dispatcher,
        domain,
        {
            "change_answer": "skip",
            "change_retry": "cancel:2",
            "change_kind": "cancel",
            "order_number": "40012360",
            "email": "jonas.weber@exmaple.com",
            "service_outcome": "needs_human",
        },
    )
    assert "order_number" not in slots and "change_kind" not in slots
    assert slots["service_outcome"] == "needs_human"


async def test_a_skipped_question_without_a_retry_clears_the_change(
    service, make_tracker, dispatcher, domain
):
    slots = await execute(
        service,
        make_tracker,
        dispatcher,
        domain,
        {
            "change_answer": "skip",
            "change_kind": "cancel",
            "order_number": "40012345",
            "email": "anna.berg@example.com",
            "service_outcome": "answered",
        },
    )
    assert slots["order_number"] is None and slots["change_kind"] is None


@pytest.mark.parametrize(
    ("earlier", "route"),
    [(1, "change"), (2, "change"), (3, "order"), (0, "order")],
)
async def test_details_after_a_change_not_found_retry_it_for_two_messages(
    make_tracker, dispatcher, domain, earlier, route
):
    # the not-found answered the shopper's first message ("cancel:1"); the correction is
    # the (earlier + 1)th message
    tracker = make_tracker(
        slots={
            "change_retry": "cancel:1",
            "change_kind": "cancel",
            "order_number": "40012360",
            "email": "jonas.weber@example.com",
        },
        text="oops, jonas.weber@example.com",
        entities=[{"entity": "email", "value": "jonas.weber@example.com"}],
        events=earlier_turns(earlier),
    )
    slots = slot_events(await ActionDetailsRoute().run(dispatcher, tracker, domain))
    assert slots["details_route"] == route
    assert slots["change_retry"] is None
    if route == "order":
        assert slots.get("change_kind", "kept") in (None, "kept")


async def test_details_without_a_failed_change_go_to_the_order_form(
    make_tracker, dispatcher, domain
):
    tracker = make_tracker(
        slots={"change_kind": "cancel"}, text="40012345", events=earlier_turns(1)
    )
    slots = slot_events(await ActionDetailsRoute().run(dispatcher, tracker, domain))
    assert slots == {"details_route": "order"}


async def test_a_new_change_forgets_the_failed_one(make_tracker, dispatcher, domain):
    tracker = make_tracker(
        slots={"change_retry": "cancel:1", "change_kind": "cancel"},
        intent="change_address",
        text="change my delivery address",
    )
    slots = slot_events(await ActionChangeStart().run(dispatcher, tracker, domain))
    assert slots["change_retry"] is None and slots["change_kind"] == "address"


async def test_details_with_a_copy_request_start_the_invoice_copy(make_tracker, dispatcher, domain):
    tracker = make_tracker(
        slots={"order_number": "40012354", "email": "jonas.weber@example.com"},
        text="lähettäkää lasku uudestaan tilaukseen 40012354, jonas.weber@example.com",
        events=earlier_turns(1),
    )
    slots = slot_events(await ActionDetailsRoute().run(dispatcher, tracker, domain))
    assert slots["details_route"] == "change" and slots["change_kind"] == "invoice_copy"
    assert "order_number" not in slots and "email" not in slots


async def test_an_invoice_question_after_an_invoice_status_gets_no_second_offer(
    make_tracker, dispatcher, domain
):
    told = {"event": "action", "name": "action_invoice_status"}
    text = "where do I find the reference number?"
    tracker = make_tracker(intent="invoice", text=text, events=[told])
    slots = slot_events(await ActionSelfServiceRoute().run(dispatcher, tracker, domain))
    assert slots == {"self_service_route": "answer_only"}
    tracker = make_tracker(intent="invoice", text=text)
    slots = slot_events(await ActionSelfServiceRoute().run(dispatcher, tracker, domain))
    assert slots == {"self_service_route": "answer"}
    # what paying late costs is asked before any status: the whole invoice answer
    tracker = make_tracker(intent="invoice", text="is there a fee if I pay it late?")
    slots = slot_events(await ActionSelfServiceRoute().run(dispatcher, tracker, domain))
    assert slots == {"self_service_route": "answer"}


@pytest.mark.parametrize(
    ("text", "route"),
    [
        ("and is my invoice paid?", "lookup"),
        ("när ska den betalas?", "lookup"),
        ("onko laskuni jo maksettu", "lookup"),
        # no one invoice in it: the general answer and the offer
        ("how do invoices work at your shop?", "answer"),
    ],
)
async def test_an_invoice_question_after_a_proven_order_looks_its_invoice_up(
    make_tracker, dispatcher, domain, text, route
):
    """A blind trial: "and is my invoice paid?" right after the order's status got the
    general invoice answer and "shall I check an order's invoice?"."""
    proven = {"verified_order": "40012355", "verified_email": "katja.rossi@example.org"}
    tracker = make_tracker(
        intent="invoice", text=text, slots={**proven, "verified_at": time.time()}
    )
    slots = slot_events(await ActionSelfServiceRoute().run(dispatcher, tracker, domain))
    assert slots == {"self_service_route": route}
    tracker = make_tracker(intent="invoice", text=text)  # nothing proven
    slots = slot_events(await ActionSelfServiceRoute().run(dispatcher, tracker, domain))
    assert slots == {"self_service_route": "answer"}


async def test_when_it_is_due_after_an_invoice_status_looks_it_up_again(
    make_tracker, dispatcher, domain
):
    """A blind trial: "når forfaller den?" got the general invoice text, not its date."""
    told = {"event": "action", "name": "action_invoice_status"}
    proven = {"verified_order": "40012354", "verified_email": "jonas.weber@example.com"}
    tracker = make_tracker(
        intent="invoice",
        text="når forfaller den?",
        events=[told],
        slots={**proven, "verified_at": time.time()},
    )
    slots = slot_events(await ActionSelfServiceRoute().run(dispatcher, tracker, domain))
    assert slots == {"self_service_route": "lookup"}


@pytest.mark.parametrize(
    "text",
    ["can I get more time to pay?", "voiks eräpäivää siirtää viel", "kan jeg betale den senere?"],
)
async def test_more_time_after_an_invoice_status_is_a_payment_plan(
    make_tracker, dispatcher, domain, text
):
    """Blind trials: the whole invoice text again ("tell us before the due date", for an
    invoice already overdue)."""
    told = {"event": "action", "name": "action_invoice_status"}
    tracker = make_tracker(intent="invoice", text=text, events=[told])
    slots = slot_events(await ActionSelfServiceRoute().run(dispatcher, tracker, domain))
    assert slots == {"self_service_route": "payment_plan"}


@pytest.mark.parametrize(
    ("text", "route"),
    [
        ("is there a late fee?", "late_fee"),
        ("what happens if I pay it a few days late?", "late_fee"),
        ("blir det någon påminnelseavgift?", "late_fee"),
        ("tuleeko muistutusmaksua jos maksan myöhässä", "late_fee"),
        ("koster det gebyr hvis jeg betaler for sent?", "late_fee"),
        # not about paying late: the invoice answer, without the offer
        ("what's the reference number?", "answer_only"),
        ("can I get more time to pay?", "payment_plan"),
    ],
)
async def test_what_paying_late_costs_after_an_invoice_status_is_answered_alone(
    make_tracker, dispatcher, domain, text, route
):
    """A blind trial: "is there a late fee?" after an invoice's status got the whole
    invoice text, the fee one clause in it."""
    told = {"event": "action", "name": "action_invoice_status"}
    tracker = make_tracker(intent="invoice", text=text, events=[told])
    slots = slot_events(await ActionSelfServiceRoute().run(dispatcher, tracker, domain))
    assert slots == {"self_service_route": route}


async def test_details_with_a_size_request_start_the_size_change(make_tracker, dispatcher, domain):
    text = "tilasin paidan liian pienenä, 40012364 ja nils.lind@example.org. saisko isomman"
    tracker = make_tracker(
        slots={"order_number": "40012364", "email": "nils.lind@example.org"},
        text=text,
        events=earlier_turns(1),
    )
    slots = slot_events(await ActionDetailsRoute().run(dispatcher, tracker, domain))
    assert slots["details_route"] == "change" and slots["change_kind"] == "size"


@pytest.mark.parametrize(
    "text",
    ["can you send me the invoice again, i can't find it", "send me my invoice again please"],
)
def test_a_request_to_send_the_invoice_again_is_a_copy(text):
    from actions.self_service import requested_kind

    assert requested_kind("invoice", text) == "invoice_copy"


@pytest.mark.parametrize(
    "text",
    [
        "poistakaa olga.brennan@example.net teidän uutiskirjeestä",
        "remove anna.k@example.com from your newsletter",
        "ta bort lena.p@example.se från ert nyhetsbrev",
        "fjern ola.n@example.no fra nyhetsbrevet deres",
    ],
)
def test_an_address_to_take_off_the_newsletter_is_an_unsubscribe(text):
    """A blind trial: the general newsletter answer (and, before, an account erasure)."""
    from actions.self_service import requested_kind

    assert requested_kind("newsletter", text) == "unsubscribe"


@pytest.mark.parametrize("text", ["how do I remove my address from my account", "poista tilini"])
def test_removing_something_else_is_no_unsubscribe(text):
    from actions.self_service import requested_kind

    assert requested_kind("newsletter", text) is None
