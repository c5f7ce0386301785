"""Erasure of the customer account: a privacy request, registered for the agents.

The chat cannot prove who the shopper is, so it only registers the request (an offline
request of kind "erasure" in the handover store, shown as such in the agent console and
never in the live queue); customer service confirms it with the account's email address
and erases within one month, the GDPR's deadline (Art. 12(3)).
"""

from __future__ import annotations

import asyncio
import logging
import re
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy.exc import SQLAlchemyError

from actions.forms import latest_intent
from actions.handover import _default_store as default_store
from actions.handover import _EmailValidation
from actions.inputs import mask_email, normalise_email
from handover.store import HandoverStore

logger = logging.getLogger(__name__)


# Intents that rules answer inside the erasure form, or that end it.
_RULED = frozenset({
    "stop", "deny", "goodbye", "thank", "greet", "affirm", "human_handoff", "contact",
    "cancel_order", "change_address", "delete_conversation",
})  # fmt: skip
# Identifiers that make a message something else than a question about the erasure.
_IDENTIFIERS = frozenset({"order_number", "tracking_number", "article_number", "email"})


# A message about the newsletter that names no account or personal data is no request to
# erase the account, whatever the NLU read.
NEWSLETTER = re.compile(
    r"newsletter|mailing list|nyhetsbrev|utskick|uutiskir|postituslist|kuvasto|catalog", re.I
)
ACCOUNT = re.compile(
    r"account|personal data|my data|konto|uppgifter|personuppgift|tili[nä]?\b|tilin|tiedot|"
    r"henkilötie|opplysning|profil",
    re.I,
)


def asks_about_erasure(tracker: Tracker) -> bool:
    """Whether the message at the erasure form's email question is a question about the
    erasure itself: no address in it, no order or parcel, and a question mark or the
    delete_account / privacy topic."""
    message = tracker.latest_message or {}
    text = str(message.get("text") or "")
    if tracker.get_slot("requested_slot") != "email" or "@" in text or text.startswith("/"):
        return False
    if any(e.get("entity") in _IDENTIFIERS for e in message.get("entities") or []):
        return False
    intent = latest_intent(tracker)
    return intent not in _RULED and ("?" in text or intent in ("delete_account", "privacy"))


class ValidateErasureForm(_EmailValidation):
    """The handover forms' email handling: a malformed address is explained and asked again.

    Only an address written in the message at hand is used: an email the chat already held
    (from an order lookup or a handover the shopper then declined) had the request
    registered at once, for "how do I delete my account?", without asking."""

    def name(self) -> str:
        return "validate_erasure_form"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """A question about the erasure while its email is asked ("will I lose my order
        history then?") gets what erasing means, and the email is asked again: it was
        checked as an address ("that doesn't look like an email address") and the form
        gave way to the order questions, the request lost."""
        if asks_about_erasure(tracker):
            dispatcher.utter_message(response="utter_erasure_details")
            return [SlotSet("email", None)]
        return await super().run(dispatcher, tracker, domain)

    def validate_email(
        self,
        value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        email = normalise_email(value)
        written = str((tracker.latest_message or {}).get("text") or "").lower()
        if email is not None and email not in written:
            return {"email": None}  # the form asks for it
        if NEWSLETTER.search(written) and not ACCOUNT.search(written):
            # "poistakaa olga@... teidän uutiskirjeestä" read as delete_account (a blind
            # trial: the erasure was registered at once): the address is not taken as the
            # account's, the form asks for it and the shopper can say no
            return {"email": None}
        return super().validate_email(value, dispatcher, tracker, domain)


class ActionRegisterErasure(Action):
    def __init__(self, store: HandoverStore | None = None) -> None:
        self._store = store

    def name(self) -> str:
        return "action_register_erasure"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        email = normalise_email(tracker.get_slot("email"))
        if email is None:
            # Only possible past the form: without an address nobody could confirm it.
            dispatcher.utter_message(response="utter_handover_invalid_email")
            return [SlotSet("email", None)]
        store = self._store or default_store()
        try:
            await asyncio.to_thread(store.register_erasure, tracker.sender_id, email=email)
        except SQLAlchemyError:
            logger.exception("could not register the erasure request")
            dispatcher.utter_message(response="utter_erasure_unavailable")
            return [SlotSet("email", None)]
        dispatcher.utter_message(
            response="utter_erasure_registered", masked_email=mask_email(email)
        )
        return [SlotSet("email", None)]
