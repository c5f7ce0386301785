"""Order status: a form collects order number and email, then the order service answers.

The shopper gets one or two plain sentences per status (responses `utter_order_<status>` in
domain/orders.yml), the email masked. Slots are cleared afterwards so another order can follow.
"""

from __future__ import annotations

import logging
import re
from datetime import date
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.calls import (
    ANSWERED,
    ASK_ORDER,
    NEEDS_HUMAN,
    apologise,
    call,
    log_failure,
    turn_budget,
)
from actions.clients import factory
from actions.clients.errors import NotFound, ServiceError
from actions.clients.orders import Order, OrderClient
from actions.clients.tracking import Parcel, PickupPoint, TrackingClient
from actions.forms import (
    ANSWER_INTENTS,
    ATTEMPTS_SLOT,
    HAS_DIGIT,
    ServiceFormValidation,
    general_question,
)
from actions.inputs import mask_email, normalise_email, normalise_order_number
from actions.verified import remember, reusable, verified
from channels import languages

logger = logging.getLogger(__name__)
LOOKS_LIKE_EMAIL = re.compile(r"@")
# Statuses for which the parcel's latest event is worth a tracking lookup.
IN_TRANSIT = frozenset({"shipped", "out_for_delivery", "delayed"})
# The order service's delivery method of an order collected at a pick-up point.
PICKUP_POINT = "pickup point"
# The tracking service's status of a parcel waiting there.
AT_PICKUP_POINT = "at_pickup_point"
FORM = "order_status_form"
#: A number called an order number that is too short or too long to be one ("order
#: 4001234", "ordernummer 400123456", "tilaukseni 4001234", "bestilling 4001234").
NAMED_NUMBER = re.compile(
    r"(?:\border|\bordernummer|\bordernr|\bordrenummer|\bordrenr|\btilau[sk]\w*|\bbeställning\w*|\bbestilling\w*)"
    r"\s*(?:no\.?|nr\.?|nro\.?|number|nummer|numero)?\s*[:#]?\s*(\d{5,7}|\d{9,10})(?![\w-])",
    re.IGNORECASE,
)


def reused_details(tracker: Tracker, number: str, email: str) -> bool:
    """Whether the order number or email of this lookup came from earlier in the chat.

    Both slots are global, so the order form reuses what the shopper typed for another
    form (a message for the agents, a handover) or an earlier lookup. When such a value
    turns out wrong, the shopper never saw it being used: the failure must name it and
    ask again. A value is fresh when a message since the one that started the order form
    holds it (slot events cannot tell: the form re-validates reused values on activation).
    """
    texts: list[str] = []
    started = False
    for event in reversed(tracker.events):
        kind = event.get("event")
        if kind == "active_loop" and event.get("name") == FORM:
            started = True
        elif kind == "user":
            texts.append(str(event.get("text") or ""))
            if started:
                break
    number_fresh = any(number in re.sub(r"\D", "", text) for text in texts)
    email_fresh = any(email in text.lower() for text in texts)
    return not (number_fresh and email_fresh)


def friendly_date(
    day: date | None, today: date | None = None, on: bool = False, language: str = "en"
) -> str:
    """'today', 'tomorrow' or 'Thursday 26 November' ('on Thursday 26 November' with `on`,
    for the middle of a sentence): what a shopper would say, in the conversation's
    language (Babel names the day and month, channels/languages.py)."""
    return languages.day_text(day, language, today=today, on=on)


def latest_event_text(parcel: Parcel, language: str = "en") -> str:
    event = parcel.latest_event
    if event is None:
        return ""
    where = f" ({event.location})" if event.location else ""
    when = languages.say(
        "at_time",
        language,
        when=friendly_date(event.timestamp.date(), language=language),
        time=languages.clock_text(event.timestamp, language),
    )
    return languages.say(
        "latest_update", language, when=when, description=event.description, where=where
    )


def delivery_note(order: Order, parcel: Parcel | None, language: str = "en") -> str:
    """For a pick-up point order, where to collect it (the point by name once the carrier
    has one); empty for delivery to the door."""
    if order.delivery_method != PICKUP_POINT:
        return ""
    point = parcel.pickup_point if parcel is not None else None
    if point is None:
        return languages.say("order_to_pickup_point", language)
    return languages.say(
        "order_to_named_pickup_point", language, name=point.name, address=point.address
    )


def pickup_point_values(point: PickupPoint, language: str = "en") -> dict[str, str]:
    """The template values naming a pickup point (its hours said unknown when missing)."""
    return {
        "pickup_name": point.name,
        "pickup_address": point.address,
        "pickup_hours": point.opening_hours or languages.say("pickup_hours_unknown", language),
    }


def language_of(tracker: Tracker) -> str:
    """The conversation's language (slot `language`, domain/shared.yml)."""
    return languages.language_or_default(tracker.get_slot("language"))


FAILED_SLOT = "failed_lookup"


class ValidateOrderStatusForm(ServiceFormValidation):
    answer_intents = ANSWER_INTENTS | {"order_status"}

    def name(self) -> str:
        return "validate_order_status_form"

    async def extract_order_number(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        # An order this chat proved within the last half hour is the one a question that
        # names none is about ("so where is it now?", "when will it arrive?" right after
        # its status, "when is the invoice due?" + yes): it was asked for again. Another
        # number or e-mail in the message wins (the slots hold it already).
        starting = tracker.get_slot("requested_slot") is None
        if starting and self._failed_again(tracker):
            # "where is my order?" some turns after a lookup that found nothing: not those
            # values again ("couldn't find 99999999 ... let's check both again" and then
            # the proven order's status came as two answers), but the proven order, or
            # the questions
            proven = verified(tracker)
            if proven:
                return {"order_number": proven[0], "email": proven[1]}
            return {"order_number": None, "email": None}
        proven = reusable(tracker)
        if proven and starting:
            return {"order_number": proven[0], "email": proven[1]}
        if starting and not tracker.get_slot("order_number"):
            # "order 4001234" in the first message: a number one digit short was not
            # recognised, and the form asked for the order number as if none was given
            named = NAMED_NUMBER.search(str((tracker.latest_message or {}).get("text") or ""))
            if named:
                return {"order_number": named.group(1)}
        return self.raw_attempt(tracker, domain, "order_number", HAS_DIGIT)

    @staticmethod
    def _failed_again(tracker: Tracker) -> bool:
        """Whether the slots hold the values of the last lookup that found nothing, and
        the latest message names neither (a correction or a retry names one)."""
        failed = tracker.get_slot(FAILED_SLOT)
        number = normalise_order_number(tracker.get_slot("order_number"))
        email = normalise_email(tracker.get_slot("email"))
        if not failed or not number or not email or failed != f"{number} {email}":
            return False
        named = {e.get("entity") for e in (tracker.latest_message or {}).get("entities") or []}
        return not named & {"order_number", "email"}

    async def extract_email(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return self.raw_attempt(tracker, domain, "email", LOOKS_LIKE_EMAIL)

    def validate_order_number(
        self,
        value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        if value is None:
            return {"order_number": None}  # cleared to be asked again, not a wrong answer
        number = normalise_order_number(value)
        if number:
            return {"order_number": number}
        return self.invalid(dispatcher, tracker, "order_number", "utter_invalid_order_number")

    def validate_email(
        self,
        value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        if value is None:
            return {"email": None}  # cleared to be asked again, not a wrong answer
        email = normalise_email(value)
        if email:
            return {"email": email}
        return self.invalid(dispatcher, tracker, "email", "utter_invalid_email")


class ActionOrderStatus(Action):
    """Looks the order up and tells its status; clients are created lazily from settings."""

    def __init__(
        self, client: OrderClient | None = None, tracking: TrackingClient | None = None
    ) -> None:
        self._client = client
        self._tracking = tracking

    def name(self) -> str:
        return "action_order_status"

    @property
    def client(self) -> OrderClient:
        if self._client is None:
            self._client = factory.order_client()
        return self._client

    @property
    def tracking(self) -> TrackingClient:
        if self._tracking is None:
            self._tracking = factory.tracking_client()
        return self._tracking

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        reset: list[EventType] = [
            SlotSet("order_number", None),
            SlotSet("email", None),
            SlotSet(ATTEMPTS_SLOT, 0.0),
        ]
        general = general_question(tracker)
        if general:
            # "how long does delivery usually take?" after the status: not about this order
            dispatcher.utter_message(response=general)
            return [*reset, ANSWERED]
        number = normalise_order_number(tracker.get_slot("order_number"))
        email = normalise_email(tracker.get_slot("email"))
        if not number or not email:
            # the form gave up after too many invalid answers
            dispatcher.utter_message(response="utter_too_many_attempts")
            return [*reset, NEEDS_HUMAN]
        with turn_budget():
            try:
                order = await call(self.client.lookup, number, email)
            except NotFound as exc:
                log_failure("order lookup", exc)
                if reused_details(tracker, number, email):
                    # name what was tried, then the order form asks for both again
                    dispatcher.utter_message(
                        response="utter_order_not_found_tried",
                        order_ref=number,
                        masked_email=mask_email(email),
                    )
                    return [*reset, ASK_ORDER]
                dispatcher.utter_message(response="utter_order_not_found")
                # Both values stay: a correction of one of them ("sorry, it's ...@...org")
                # is checked with the other without asking for it again.
                return [
                    SlotSet(ATTEMPTS_SLOT, 0.0),
                    SlotSet(FAILED_SLOT, f"{number} {email}"),
                    NEEDS_HUMAN,
                ]
            except ServiceError as exc:
                log_failure("order lookup", exc)
                return [*reset, apologise(dispatcher)]
            language = language_of(tracker)
            details, parcel = await self._details(order, email, language)
        response = f"utter_order_{order.status}"
        if parcel is not None and parcel.status == AT_PICKUP_POINT and parcel.pickup_point:
            # "should arrive today" was said of a parcel already waiting to be collected
            response = "utter_order_at_pickup_point"
            details |= pickup_point_values(parcel.pickup_point, language)
        dispatcher.utter_message(response=response, **details)
        # a proven order: a change asked for next ("cancel it") needs no questions
        return [*reset, *remember(number, email), ANSWERED]

    async def _details(
        self, order: Order, email: str, language: str = "en"
    ) -> tuple[dict[str, str], Parcel | None]:
        """Template values for the status response, and the parcel when it was looked up;
        a tracking failure only loses a line."""
        latest = ""
        parcel: Parcel | None = None
        if order.tracking_number and order.status in IN_TRANSIT:
            try:
                parcel = await call(self.tracking.parcel, order.tracking_number, language)
                latest = latest_event_text(parcel, language)
            except ServiceError as exc:
                log_failure("parcel lookup for order status", exc)
        return {
            "order_ref": order.order_number,
            "masked_email": mask_email(email),
            "expected_delivery": friendly_date(order.expected_delivery, on=True, language=language),
            "carrier": order.carrier or languages.say("carrier_unknown", language),
            "tracking_ref": order.tracking_number or languages.say("tracking_unknown", language),
            "latest_event": latest,
            "delivery_method": order.delivery_method,
            "delivery_note": delivery_note(order, parcel, language),
        }, parcel


# "it isn't about an order" or "I don't have the order number" with no form asking for it
# (a blind trial, after the offer of a person: "Sorry, I lost the thread").
ORDER_NUMBER_WORDS = re.compile(r"number|nummer|numer|numr|\bnr\b|\bno\.", re.IGNORECASE)


class ActionNoOrder(Action):
    """A shopper's "no order" outside any form: where to find the number when they say
    they lack it, else an invitation to say what it is about."""

    def name(self) -> str:
        return "action_no_order"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        text = str((tracker.latest_message or {}).get("text") or "")
        if ORDER_NUMBER_WORDS.search(text):
            dispatcher.utter_message(response="utter_no_order_number")
        else:
            dispatcher.utter_message(response="utter_not_about_an_order")
        return []
