"""Complaints: after the apology and the explanation (utter_complaint), a form takes the
order number (or "not about an order"), the email and what is wrong, and files a case.

Within opening hours the case joins the live queue like any handover, so an agent takes
it over in this chat; outside them it is stored as a message that agents answer by email,
and the shopper hears when. Either way the request's topic is "complaint", which the
agent console shows as a complaint.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ConversationPaused, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy.exc import SQLAlchemyError

from actions.clients import factory
from actions.clients.orders import OrderClient
from actions.forms import latest_intent
from actions.handover import (
    MAX_MESSAGE_CHARS,
    MIN_DESCRIPTION_CHARS,
    ValidateHandoverForm,
    order_check,
)
from actions.handover import _default_store as default_store
from actions.inputs import bounded_text, mask_email, normalise_email, normalise_order_number
from actions.orders import language_of
from actions.returns import FACETS
from handover.settings import HandoverSettings, load_handover_settings
from handover.store import COMPLAINT, Clock, HandoverStore

logger = logging.getLogger(__name__)
DESCRIPTION_SLOT = "complaint_description"


# A short question about postage, returns or costs is no description of what is wrong.
COST_QUESTION_INTENTS = frozenset({"returns", "delivery_methods", "cancellation_fee", "follow_up"})
MAX_QUESTION_WORDS = 14
# Without a question mark, a very short message that names a cost is still a question
# ("pitääks mun maksaa postikulut", a blind trial: filed as the complaint).
MAX_UNMARKED_QUESTION_WORDS = 6


def is_cost_question(tracker: Tracker, text: str) -> bool:
    intent = latest_intent(tracker)
    words = len(text.split())
    marked = text.rstrip().endswith("?")
    return (
        intent in COST_QUESTION_INTENTS
        and words <= MAX_QUESTION_WORDS
        and (marked or (words <= MAX_UNMARKED_QUESTION_WORDS and bool(FACETS["cost"].search(text))))
    )


# Another question at the description ("how long until I get the right size?") is no
# description either, unless it says what is wrong (a blind trial, in Swedish and
# Norwegian: the question was filed as the complaint).
OTHER_QUESTION_INTENTS = frozenset({
    "delivery_time", "follow_up", "payment_methods", "contact", "order_status",
    "track_parcel", "invoice",
})  # fmt: skip
FAULT = re.compile(
    r"\b(?:broke\w*|torn|ripped|hole|stain\w*|damaged|faulty|defect\w*|came off|"
    r"wrong (?:size|item|colou?r|product)|missing|"
    r"trasig\w*|sönder|sonder|hål|hal|fläck\w*|flack\w*|skadad\w*|fel (?:storlek|vara|färg|farg)|"
    r"lossnat|saknas|"
    r"rikki|reikä\w*|reika\w*|tahra\w*|vioittu\w*|viallinen|väärä\w*|vaara\w*|irronnut|"
    r"hajosi|puuttu\w*|"
    r"ødelagt|odelagt|i stykker|hull|flekk\w*|skadet|feil (?:størrelse|storrelse|vare|farge)|"
    r"defekt|løsnet|losnet|mangler)\b",
    re.IGNORECASE,
)


def is_other_question(tracker: Tracker, text: str) -> bool:
    intent = latest_intent(tracker)
    return (
        intent in OTHER_QUESTION_INTENTS
        and text.rstrip().endswith("?")
        and len(text.split()) <= MAX_QUESTION_WORDS
        and not FAULT.search(text)
    )


class ValidateComplaintForm(ValidateHandoverForm):
    """The handover form's checks (order number or "none", email); the description is
    the whole complaint, so it may be as long as a message to the agents."""

    def name(self) -> str:
        return "validate_complaint_form"

    def validate_complaint_description(
        self,
        value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        if self.corrects_email(tracker):
            dispatcher.utter_message(response="utter_email_corrected")
            return {DESCRIPTION_SLOT: None}
        text = bounded_text(value, MAX_MESSAGE_CHARS)
        if text is not None and is_cost_question(tracker, text):
            # "do I have to pay the postage to send them back?" at the description question
            # was filed as the complaint and never answered: what a complaint costs, and
            # the description is asked for again
            dispatcher.utter_message(response="utter_complaint_costs")
            return {DESCRIPTION_SLOT: None}
        if text is not None and is_other_question(tracker, text):
            dispatcher.utter_message(response="utter_complaint_question_for_agent")
            return {DESCRIPTION_SLOT: None}
        if text is None or len(text) < MIN_DESCRIPTION_CHARS:
            dispatcher.utter_message(response="utter_complaint_description_too_short")
            return {DESCRIPTION_SLOT: None}
        return {DESCRIPTION_SLOT: text}


class ActionFileComplaint(factory.UsesOrderService, Action):
    """Files the complaint: live queue when agents are in, a message for them when not.
    With an order number, the agent sees whether it belongs to the email given (as for a
    handover), before telling anything about that order."""

    def __init__(
        self,
        store: HandoverStore | None = None,
        settings: HandoverSettings | None = None,
        clock: Clock | None = None,
        client: OrderClient | None = None,
    ) -> None:
        super().__init__(client)
        self._store = store
        self._settings = settings
        self._clock = clock

    def name(self) -> str:
        return "action_file_complaint"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        reset: list[EventType] = [
            SlotSet(DESCRIPTION_SLOT, None),
            SlotSet("handover_no_order", None),
        ]
        email = normalise_email(tracker.get_slot("email"))
        text = bounded_text(tracker.get_slot(DESCRIPTION_SLOT), MAX_MESSAGE_CHARS)
        order = None
        if not tracker.get_slot("handover_no_order"):
            order = normalise_order_number(tracker.get_slot("order_number"))
        if email is None or text is None:
            # Only possible past the form (it insists on both): nothing to file.
            dispatcher.utter_message(response="utter_complaint_incomplete")
            return [*reset, SlotSet("email", None)]
        store = self._store or default_store()
        hours = (self._settings or load_handover_settings()).opening_hours
        now = (self._clock or time.time)()
        check = await order_check(self.client, tracker, order, email) if order else None
        try:
            if not hours.is_open(now):
                await asyncio.to_thread(
                    store.leave_offline,
                    tracker.sender_id,
                    email=email,
                    text=text,
                    topic=COMPLAINT,
                    order_number=order,
                    order_check=check,
                )
                dispatcher.utter_message(
                    response="utter_complaint_left",
                    masked_email=mask_email(email),
                    next_opening=hours.describe_next_opening(now, language_of(tracker)),
                )
                return reset
            ticket = await asyncio.to_thread(
                store.join,
                tracker.sender_id,
                order_number=order,
                email=email,
                topic=COMPLAINT,
                description=text,
                order_check=check,
            )
        except SQLAlchemyError:
            logger.exception("could not file the complaint")
            dispatcher.utter_message(response="utter_handover_unavailable")
            return reset
        dispatcher.utter_message(
            response="utter_complaint_queued",
            position=max(ticket.position, 1),
            minutes=max(ticket.estimated_wait_minutes, 1),
        )
        return [*reset, ConversationPaused()]
