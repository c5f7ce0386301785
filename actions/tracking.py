"""Parcel tracking: a form asks for the tracking number, the tracking service answers."""

from __future__ import annotations

import re
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
from actions.clients.tracking import Parcel, TrackingClient
from actions.forms import (
    ANSWER_INTENTS,
    ATTEMPTS_SLOT,
    ServiceFormValidation,
    actions_since_message,
    general_question,
    latest_intent,
)
from actions.inputs import normalise_tracking_number
from actions.orders import friendly_date, language_of, pickup_point_values
from channels import languages

LOOKS_LIKE_TRACKING = re.compile(r"\d{3}|[A-Za-z]{2}\s*\d")
#: Letters and digits in one word like a tracking number, but not one: "RX430563674G".
MALFORMED_TRACKING = re.compile(r"(?<![\w@.])[A-Za-z]{1,4}\d{6,12}[A-Za-z]{0,4}(?![\w@])")
#: Parcel statuses said in words (text keys `parcel_<status>` in channels/languages.py).
STATUSES = frozenset(
    {"in_transit", "out_for_delivery", "delivered", "delayed", "at_pickup_point", "returned"}
)
EVENTS_SHOWN = 3
VIA_ORDER_SLOT = "tracking_via_order"
#: The tracking number of the parcel last told about; a question that names none right
#: after ("when will it come?", "who delivers it?", "när kommer det?") is about it.
SHOWN_SLOT = "shown_parcel"
#: The intents a rule sends straight to action_track_parcel after a parcel's status
#: (data/rules/tracking.yml).
FOLLOW_UP_INTENTS = frozenset({"follow_up", "delivery_time", "delivery_methods"})


def status_text(status: str, language: str = "en") -> str:
    if status in STATUSES:
        return languages.say(f"parcel_{status}", language)
    return status.replace("_", " ")


def event_lines(parcel: Parcel, language: str = "en") -> str:
    newest_first = sorted(parcel.events, key=lambda e: e.timestamp, reverse=True)
    return "\n".join(
        f"- {friendly_date(e.timestamp.date(), language=language)} "
        f"{languages.clock_text(e.timestamp, language)}: {e.description}"
        + (f" ({e.location})" if e.location else "")
        for e in newest_first[:EVENTS_SHOWN]
    )


def eta_text(parcel: Parcel, language: str = "en") -> str:
    if parcel.status in ("delivered", "returned", "at_pickup_point"):
        return ""  # nothing left to expect (the pickup point message says where to go)
    if parcel.estimated_delivery is None:
        return languages.say("eta_unknown", language)
    when = friendly_date(parcel.estimated_delivery, language=language)
    return languages.say("eta", language, when=when)


class ValidateTrackingForm(ServiceFormValidation):
    answer_intents = ANSWER_INTENTS | {"track_parcel"}

    def name(self) -> str:
        return "validate_tracking_form"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """A shopper without a tracking number ("I don't have one, my order is 40012347")
        would be re-asked until the form gives up: offer the lookup through the order
        instead, which shows the parcel's tracking (the rule after action_track_parcel
        starts the order form; an order number given here is reused by it)."""
        if self._wants_order_lookup(tracker):
            dispatcher.utter_message(response="utter_tracking_via_order")
            return [
                SlotSet("tracking_number", None),
                SlotSet(ATTEMPTS_SLOT, 0.0),
                SlotSet(VIA_ORDER_SLOT, True),
                SlotSet("requested_slot", None),
            ]
        return await super().run(dispatcher, tracker, domain)

    def _wants_order_lookup(self, tracker: Tracker) -> bool:
        message = tracker.latest_message or {}
        kinds = {e.get("entity") for e in message.get("entities") or []}
        if "tracking_number" in kinds or str(message.get("text") or "").startswith("/"):
            return False
        requested = tracker.get_slot("requested_slot")
        if requested not in (None, "tracking_number") or self._resumed_after_interruption(tracker):
            return False
        if "order_number" in kinds:
            return True
        intent = (message.get("intent") or {}).get("name")
        return requested == "tracking_number" and intent == "no_order_number"

    async def extract_tracking_number(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if (
            tracker.get_slot("requested_slot") is None
            and tracker.get_slot("tracking_number") is None
        ):
            # the message that starts the form: a number it gives in the wrong shape is
            # said to be wrong ("tracking RX430563674G" was only asked for the number)
            text = str((tracker.latest_message or {}).get("text") or "")
            if normalise_tracking_number(text) is None:
                malformed = MALFORMED_TRACKING.search(text)
                return {"tracking_number": malformed.group(0)} if malformed else {}
            return {}
        return self.raw_attempt(tracker, domain, "tracking_number", LOOKS_LIKE_TRACKING)

    def validate_tracking_number(
        self,
        value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        number = normalise_tracking_number(value)
        if number:
            return {"tracking_number": number}
        return self.invalid(dispatcher, tracker, "tracking_number", "utter_invalid_tracking_number")


class ActionTrackParcel(Action):
    def __init__(self, client: TrackingClient | None = None) -> None:
        self._client = client

    def name(self) -> str:
        return "action_track_parcel"

    @property
    def client(self) -> TrackingClient:
        if self._client is None:
            self._client = factory.tracking_client()
        return self._client

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        reset: list[EventType] = [SlotSet("tracking_number", None), SlotSet(ATTEMPTS_SLOT, 0.0)]
        if tracker.get_slot(VIA_ORDER_SLOT):
            # the form found no tracking number and offered the order lookup instead
            return [*reset, SlotSet(VIA_ORDER_SLOT, None), ASK_ORDER]
        number = normalise_tracking_number(tracker.get_slot("tracking_number"))
        general = general_question(tracker)
        if not number and general:
            # "how long does delivery usually take?" after the status: not about this parcel
            dispatcher.utter_message(response=general)
            return [*reset, ANSWERED]
        if not number and _follows_up_on_parcel(tracker):
            number = normalise_tracking_number(tracker.get_slot(SHOWN_SLOT))
        if not number:
            dispatcher.utter_message(response="utter_too_many_attempts")
            return [*reset, NEEDS_HUMAN]
        language = language_of(tracker)
        try:
            with turn_budget():
                parcel = await call(self.client.parcel, number, language)
        except NotFound as exc:
            log_failure("parcel lookup", exc)
            dispatcher.utter_message(response="utter_parcel_not_found")
            return [*reset, SlotSet(SHOWN_SLOT, None), NEEDS_HUMAN]
        except ServiceError as exc:
            log_failure("parcel lookup", exc)
            return [*reset, apologise(dispatcher)]
        dispatcher.utter_message(
            response="utter_parcel_status",
            tracking_ref=parcel.tracking_number,
            carrier=parcel.carrier,
            parcel_status=status_text(parcel.status, language),
            eta=eta_text(parcel, language),
            events=event_lines(parcel, language) or languages.say("no_scans", language),
        )
        if parcel.pickup_point is not None:
            dispatcher.utter_message(
                response="utter_parcel_pickup_point",
                **pickup_point_values(parcel.pickup_point, language),
            )
        return [*reset, SlotSet(SHOWN_SLOT, parcel.tracking_number), ANSWERED]


def _follows_up_on_parcel(tracker: Tracker) -> bool:
    """Run by a follow-up rule: straight after the shopper's message (not after the
    tracking form, which may have given up), and that message names no parcel."""
    if latest_intent(tracker) not in FOLLOW_UP_INTENTS:
        return False
    return all(name == "action_track_parcel" for name in actions_since_message(tracker))
