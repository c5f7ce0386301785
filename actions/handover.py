"""Human handover: opening hours, the handover form, joining the queue, leaving a message.

The actions stay thin: opening hours and the queue live in handover/, shared with the
agent desk in the web chat channel. Joining the queue pauses the conversation
(`ConversationPaused`), so the bot stays silent while the shopper waits and while an
agent chats; the desk resumes it when the agent closes or the shopper leaves the queue.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from abc import abstractmethod
from functools import lru_cache
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import ConversationPaused, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy.exc import SQLAlchemyError

from actions.calls import call, log_failure, turn_budget
from actions.clients import factory
from actions.clients.errors import NotFound, ServiceError
from actions.clients.orders import OrderClient
from actions.forms import ANSWER_INTENTS, HAS_DIGIT, TOPIC_INTENTS, latest_intent
from actions.inputs import bounded_text, mask_email, normalise_email, normalise_order_number
from actions.orders import language_of
from actions.verified import reusable, verified
from handover.models import ORDER_MATCHES, ORDER_NO_MATCH, ORDER_UNCHECKED
from handover.settings import HandoverSettings, load_handover_settings
from handover.store import Clock, HandoverStore, make_engine

logger = logging.getLogger(__name__)

MIN_DESCRIPTION_CHARS = 3
MAX_DESCRIPTION_CHARS = 500
MAX_MESSAGE_CHARS = 2000
# An email with at most this many other words ("sorry typo, ben@example.org", "sori
# kirjotusvirhe ...") at the description question corrects the email given before; it
# was filed as the problem, and the agent had the mistyped address.
MAX_CORRECTION_WORDS = 4
#: Intents that say "ask me something else", never a slot value.
NOT_AN_ANSWER = {"stop", "human_handoff", "contact", "no_order_number"}
#: Intents of a message that may be a mistyped email address: to the classifier
#: "anna at example" looks out of scope.
EMAIL_ANSWER_INTENTS = ANSWER_INTENTS | {"out_of_scope"}
#: Intents that say nothing about the shopper's topic.
NO_TOPIC = {
    "human_handoff",
    "contact",
    "affirm",
    "deny",
    "inform",
    "no_order_number",
    "stop",
    "greet",
    "goodbye",
    "thank",
    "nlu_fallback",
    "bot_challenge",
    "out_of_scope",
    # a follow-up's topic is the question before it; these say nothing about one
    "follow_up",
    "insult",
    "switch_language",
}


#: Intents of a message that tells the shopper's problem in their own words: a payment or
#: login problem, a complaint, or a question the bot could not answer. Said shortly before
#: the request for a person, it is the handover's one line: the form does not ask again.
PROBLEM_INTENTS = {
    "payment_issue",
    "login_problem",
    "complaint",
    "out_of_scope",
    "nlu_fallback",
}
#: Fewer words than this are no statement of a problem ("it doesn't work").
MIN_PROBLEM_WORDS = 4
#: How far back a problem is looked for: the shopper's latest messages of the session.
PROBLEM_LOOKBACK = 6
#: At most this many of those messages go to the agent, oldest first.
MAX_PROBLEM_MESSAGES = 2
#: After these a problem told before has been handed over already.
HANDED_OVER = {"action_join_queue", "action_leave_message", "action_file_complaint"}
#: The shopper reads back at most this much of their own words.
QUOTE_CHARS = 120


def stated_problem(tracker: Tracker) -> str | None:
    """The shopper's own words for the problem, from this session's latest messages before
    the request for a person, or None when they have not told it (then the form asks)."""
    said: list[str] = []
    seen = 0
    for event in reversed(tracker.events):
        kind = event.get("event")
        if kind == "session_started" or (kind == "action" and event.get("name") in HANDED_OVER):
            break
        if kind != "user":
            continue
        seen += 1
        if seen > PROBLEM_LOOKBACK:
            break
        text = " ".join(str(event.get("text") or "").split())
        intent = ((event.get("parse_data") or {}).get("intent") or {}).get("name")
        told = intent in PROBLEM_INTENTS and not text.startswith("/")
        if told and len(text.split()) >= MIN_PROBLEM_WORDS and text not in said:
            said.insert(0, text)
        if len(said) == MAX_PROBLEM_MESSAGES:
            break
    return bounded_text(" / ".join(said), MAX_DESCRIPTION_CHARS)


def quote(text: str) -> str:
    """The start of a text, for reading back to its writer."""
    if len(text) <= QUOTE_CHARS:
        return text
    return text[:QUOTE_CHARS].rsplit(" ", 1)[0] + "…"


@lru_cache(maxsize=1)
def _default_store() -> HandoverStore:
    """One store per action-server process, built on first use (no I/O at import)."""
    s = load_handover_settings()
    return HandoverStore(
        make_engine(s.database_url),
        default_handling_minutes=s.default_handling_minutes,
        median_window=s.median_window,
    )


def topic_of(tracker: Tracker) -> str:
    """What the shopper was asking about before asking for a person, for the agent."""
    for event in reversed(tracker.events):
        if event.get("event") != "user":
            continue
        name = ((event.get("parse_data") or {}).get("intent") or {}).get("name")
        if name and name not in NO_TOPIC:
            return str(name)
    return "general"


class ActionCheckOpeningHours(Action):
    """Decides between the live queue and leaving a message, by the shop's clock."""

    def __init__(
        self, settings: HandoverSettings | None = None, clock: Clock | None = None
    ) -> None:
        self._settings = settings
        self._clock = clock

    def name(self) -> str:
        return "action_check_opening_hours"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        hours = (self._settings or load_handover_settings()).opening_hours
        now = (self._clock or time.time)()
        # An order this chat has already proven (order number + email) is what the agent
        # needs: the handover form then only asks for the one line (it used to ask again
        # for the number the shopper had just been told about).
        proven = reusable(tracker)
        reuse: list[EventType] = []
        if proven:
            reuse = [SlotSet("order_number", proven[0]), SlotSet("email", proven[1])]
        if hours.is_open(now):
            if proven:
                # said before the one-line question, which alone read like a new topic
                dispatcher.utter_message(response="utter_handover_with_order", order_ref=proven[0])
            return [SlotSet("agents_available", True), *reuse]
        dispatcher.utter_message(
            response="utter_agents_closed",
            opening_hours=hours.describe(language_of(tracker)),
            next_opening=hours.describe_next_opening(now, language_of(tracker)),
        )
        return [SlotSet("agents_available", False), *reuse]


class _EmailValidation(FormValidationAction):
    """Shared email handling: a malformed address is re-asked, not rejected silently.

    The email slot fills from the email entity only, so a typo such as "anna@example"
    would otherwise leave the form with nothing and the shopper with no explanation;
    while the email is asked, a raw answer is taken as a candidate and checked.
    """

    @abstractmethod
    def name(self) -> str:
        """Abstract, so rasa-sdk does not register this base as an action."""

    async def extract_email(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if tracker.get_slot("requested_slot") != "email" or latest_intent(tracker) in NOT_AN_ANSWER:
            return {}
        entities = [
            e
            for e in (tracker.latest_message or {}).get("entities") or []
            if e.get("entity") == "email"
        ]
        if entities:
            return {}
        text = ((tracker.latest_message or {}).get("text") or "").strip()
        if not text or text.startswith("/"):
            return {}
        # An answer, or anything with an "@". A question or a goodbye asked meanwhile is
        # not a malformed address; the rules answer it instead.
        if latest_intent(tracker) in EMAIL_ANSWER_INTENTS or "@" in text:
            return {"email": text}
        return {}

    def validate_email(
        self,
        value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        email = normalise_email(value)
        if email is None:
            dispatcher.utter_message(response="utter_handover_invalid_email")
        return {"email": email}


class ValidateHandoverForm(_EmailValidation):
    def name(self) -> str:
        return "validate_handover_form"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        # The question ends "If not, just say so": a plain "no" is that answer too.
        said_no_order = tracker.get_slot("requested_slot") == "order_number" and latest_intent(
            tracker
        ) in {"no_order_number", "deny"}
        if said_no_order:
            # Seen by required_slots below, and returned so the form knows the answer
            # was understood (an answer that sets no slot would be rejected).
            tracker.slots["handover_no_order"] = True
        events = await super().run(dispatcher, tracker, domain)
        if said_no_order:
            events.insert(0, SlotSet("handover_no_order", True))
        return await self.told_already(dispatcher, tracker, domain, events)

    async def told_already(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
        events: list[EventType],
    ) -> list[EventType]:
        """When the one line is all the form still needs and the shopper has told their
        problem already, that goes to the agent instead of the question, and the form is
        done (a walk-through's shopper answered the question with "as I said, ...")."""
        description = "handover_description"
        if tracker.get_slot(description) or tracker.get_slot("requested_slot") == description:
            return events  # told in the form, or asked already: the answer is the line
        required = await self.required_slots(self.domain_slots(domain), dispatcher, tracker, domain)
        if description not in required or any(
            tracker.get_slot(slot) is None for slot in required if slot != description
        ):
            return events
        problem = stated_problem(tracker)
        if problem is None:
            return events
        dispatcher.utter_message(response="utter_handover_description_told", told=quote(problem))
        kept = [
            e
            for e in events
            if not (e.get("event") == "slot" and e.get("name") == "requested_slot")
        ]
        # requested_slot None tells Rasa's form that it is done
        return [*kept, SlotSet(description, problem), SlotSet("requested_slot", None)]

    async def required_slots(
        self,
        domain_slots: list[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[str]:
        if tracker.get_slot("handover_no_order"):
            return [s for s in domain_slots if s != "order_number"]
        return domain_slots

    async def extract_order_number(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """While the order number is asked, a message with digits but no order number in
        it ("order 4001234", "#400123") is a mistyped attempt: it gets the format hint.
        Without this the form rejected it and another flow took the message (a product
        search for six digits, "I lost the thread" for seven), and the handover was gone."""
        if tracker.get_slot("requested_slot") != "order_number":
            return {}
        intent = latest_intent(tracker)
        if intent in NOT_AN_ANSWER or intent in TOPIC_INTENTS:
            return {}
        message = tracker.latest_message or {}
        if any(e.get("entity") == "order_number" for e in message.get("entities") or []):
            return {}  # the slot mapping has it already
        text = (message.get("text") or "").strip()
        if not text or text.startswith("/") or not HAS_DIGIT.search(text):
            return {}
        return {"order_number": text}

    def validate_order_number(
        self,
        value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        number = normalise_order_number(value)
        if number is None:
            dispatcher.utter_message(response="utter_handover_invalid_order_number")
        return {"order_number": number}

    @staticmethod
    def corrects_email(tracker: Tracker) -> bool:
        """Whether the latest message is an email with only a few words around it: a
        correction of the address, not a description of the problem. The email slot has
        taken the new address already (it fills from the entity in any message)."""
        message = tracker.latest_message or {}
        text = str(message.get("text") or "")
        spans = [
            (int(e["start"]), int(e["end"]))
            for e in message.get("entities") or []
            if e.get("entity") == "email" and "start" in e and "end" in e
        ]
        if not spans:
            return False
        for start, end in sorted(spans, reverse=True):
            text = text[:start] + " " + text[end:]
        words = [w for w in re.split(r"[\s,.:;!?()]+", text) if w]
        return len(words) <= MAX_CORRECTION_WORDS

    def validate_handover_description(
        self,
        value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        if self.corrects_email(tracker):
            dispatcher.utter_message(response="utter_email_corrected")
            return {"handover_description": None}
        text = " ".join(str(value or "").split())
        if len(text) < MIN_DESCRIPTION_CHARS:
            dispatcher.utter_message(response="utter_handover_description_too_short")
            return {"handover_description": None}
        return {"handover_description": text[:MAX_DESCRIPTION_CHARS]}


class ValidateLeaveMessageForm(_EmailValidation):
    def name(self) -> str:
        return "validate_leave_message_form"

    def validate_handover_message(
        self,
        value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        text = str(value or "").strip()
        if len(text) < MIN_DESCRIPTION_CHARS:
            dispatcher.utter_message(response="utter_handover_description_too_short")
            return {"handover_message": None}
        return {"handover_message": text[:MAX_MESSAGE_CHARS]}


async def order_check(
    client: OrderClient, tracker: Tracker, number: str | None, email: str | None
) -> str:
    """Whether the order number and email belong together, for the agent (handovers and
    complaints): proven earlier in the chat, or asked of the order service now. A service
    that fails leaves it unchecked; the shopper still reaches the agents."""
    if number and email and verified(tracker) == (number, email):
        return ORDER_MATCHES
    if not number or not email:
        return ORDER_UNCHECKED
    try:
        with turn_budget():
            await call(client.lookup, number, email)
    except NotFound:
        return ORDER_NO_MATCH
    except ServiceError as exc:
        log_failure("handover order check", exc)
        return ORDER_UNCHECKED
    return ORDER_MATCHES


class ActionJoinQueue(Action):
    """Create the waiting request, tell the shopper where they stand, pause the bot."""

    def __init__(
        self,
        store: HandoverStore | None = None,
        clock: Clock | None = None,
        client: OrderClient | None = None,
    ) -> None:
        self._store = store
        if store is not None and clock is not None:
            store.clock = clock
        self._client = client

    def name(self) -> str:
        return "action_join_queue"

    @property
    def client(self) -> OrderClient:
        if self._client is None:
            self._client = factory.order_client()
        return self._client

    async def order_check(self, tracker: Tracker, number: str | None, email: str | None) -> str:
        return await order_check(self.client, tracker, number, email)

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        store = self._store or _default_store()
        no_order = bool(tracker.get_slot("handover_no_order"))
        # Checked again: a slot set past the form (typed `/intent{...}`) must not put
        # markup or junk in front of an agent. A malformed value is dropped, not queued.
        number = None if no_order else normalise_order_number(tracker.get_slot("order_number"))
        email = normalise_email(tracker.get_slot("email"))
        check = await self.order_check(tracker, number, email) if number else None
        try:
            ticket = await asyncio.to_thread(
                store.join,
                tracker.sender_id,
                order_number=number,
                email=email,
                topic=topic_of(tracker),
                description=bounded_text(
                    tracker.get_slot("handover_description"), MAX_DESCRIPTION_CHARS
                ),
                order_check=check,
            )
        except SQLAlchemyError:
            logger.exception("could not join the handover queue")
            dispatcher.utter_message(response="utter_handover_unavailable")
            return []
        if ticket.position > 0:
            dispatcher.utter_message(
                response="utter_queue_position",
                position=ticket.position,
                minutes=ticket.estimated_wait_minutes,
            )
        return [
            SlotSet("handover_description", None),
            SlotSet("handover_no_order", None),
            ConversationPaused(),
        ]


class ActionLeaveMessage(Action):
    """Outside opening hours: an offline request that agents answer by email."""

    def __init__(self, store: HandoverStore | None = None) -> None:
        self._store = store

    def name(self) -> str:
        return "action_leave_message"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        store = self._store or _default_store()
        email = normalise_email(tracker.get_slot("email"))
        text = bounded_text(tracker.get_slot("handover_message"), MAX_MESSAGE_CHARS)
        if email is None or text is None:
            # Only possible past the form (it insists on both): nothing an agent could
            # answer, so nothing is stored.
            dispatcher.utter_message(response="utter_handover_invalid_email")
            return [SlotSet("email", None), SlotSet("handover_message", None)]
        try:
            await asyncio.to_thread(
                store.leave_offline,
                tracker.sender_id,
                email=email,
                text=text,
                topic=topic_of(tracker),
                order_number=normalise_order_number(tracker.get_slot("order_number")),
            )
        except SQLAlchemyError:
            logger.exception("could not store the offline message")
            dispatcher.utter_message(response="utter_handover_unavailable")
            return [SlotSet("handover_message", None)]
        # The reply masks the address, as every echo of an email does: transcripts and
        # tracker events then hold less personal data. The agent has it in the request.
        dispatcher.utter_message(response="utter_message_left", masked_email=mask_email(email))
        return [SlotSet("handover_message", None)]
