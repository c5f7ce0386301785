"""Feedback: one message, thanked for and kept with the conversation.

"I'd like to give feedback" is asked for the feedback itself; a message that already is
the feedback ("the new catalogue is lovely") is taken as it is. The text is kept in the
slot `shopper_feedback`, i.e. as an event of this conversation's tracker: deleting the
conversation or the 90-day pruning removes it with everything else. The statistics only
count `action_store_feedback` (retention/markers.py), never the text.
"""

from __future__ import annotations

import re
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.inputs import bounded_text

FEEDBACK_SLOT = "shopper_feedback"
DRAFT_SLOT = "feedback_text"
MAX_FEEDBACK_CHARS = 2000
MIN_FEEDBACK_CHARS = 3
# A wish to give feedback, with nothing of the feedback itself in it.
_ONLY_A_WISH = re.compile(
    r"^(?:hi|hello|hey|ok|so|um|well|yes|please|,|\s)*"
    r"(?:(?:i|we)(?:'d| would| want| wanna| wish| 'd)?(?: like| love)?(?: to)?"
    r"|(?:can|could|may|where can|how can|how do) (?:i|we)"
    r"|let me|is it possible to|i have|i've got|i got|here is|here's)?\s*"
    r"(?:give|leave|send|share|submit|write|make|post|provide|have|got)?\s*"
    r"(?:you |some |a |an |my |the |little |quick |short |bit of |piece of )*"
    r"(?:feedback|review|suggestion|comment|remark|opinion|thought)s?"
    r"(?:\s*(?:for|to|about|on|with) (?:you|the shop|your shop|the store|your store|"
    r"loomwell|the company|your company|the service|your service|the team))?"
    r"\s*(?:please|pls|if possible|now)?[\s.!?:,]*$",
    re.IGNORECASE,
)


# The same in Swedish, Finnish and Norwegian ("jag vill lämna lite feedback", "haluisin
# antaa palautetta", "jeg har en tilbakemelding"): every word is one of these, one of
# them a kind of feedback. ("haluisin antaa palautetta" was thanked for as the feedback.)
_NORDIC_FEEDBACK = frozenset(
    """
    feedback synpunkt synpunkter återkoppling aterkoppling omdöme omdome recension förslag
    forslag beröm berom palaute palautetta palautteen arvostelu arvostelun arvostelua
    ehdotus ehdotuksen ehdotuksia kehuja risuja ruusuja tilbakemelding tilbakemeldinger
    innspill anmeldelse ros""".split()  # noqa: SIM905
)
_NORDIC_WISH = frozenset(
    """
    hej hejsan hallå halla hei moi moikka terve ok okej okei jo joo ja
    jag vi vill skulle vilja kan får far har hade ge lämna lamna skicka komma med lite en
    ett några nagra er till om gärna garna tack
    minä mä me haluan haluaisin haluisin haluun haluttais voinko voisinko voiko saako
    saisinko mulla minulla meillä ois olisi on antaa antaisin jättää jattaa lähettää lahettaa
    vähän vahan vähä vaha pientä pienta teille teitä kiitos
    jeg vil ville gjerne kunne gi sende legge igjen litt et noen dere til takk""".split()  # noqa: SIM905
)
_NORDIC_WORD = re.compile(r"[^\W\d_]+")


def is_only_a_wish(text: str) -> bool:
    """Whether `text` only says the shopper wants to give feedback."""
    if _ONLY_A_WISH.match(text.strip()):
        return True
    words = [w.lower() for w in _NORDIC_WORD.findall(text)]
    return any(w in _NORDIC_FEEDBACK for w in words) and all(
        w in _NORDIC_FEEDBACK or w in _NORDIC_WISH for w in words
    )


class ValidateFeedbackForm(FormValidationAction):
    """Takes the opening message as the feedback unless it only announces it."""

    def name(self) -> str:
        return "validate_feedback_form"

    async def extract_feedback_text(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        message = tracker.latest_message or {}
        text = (message.get("text") or "").strip()
        if not text or text.startswith("/"):
            return {}
        if tracker.get_slot("requested_slot") == DRAFT_SLOT:
            return {}  # the answer to the question: the from_text mapping has it
        intent = (message.get("intent") or {}).get("name")
        if intent == "feedback" and not is_only_a_wish(text):
            return {DRAFT_SLOT: text}
        return {}

    def validate_feedback_text(
        self,
        value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        text = bounded_text(value, MAX_FEEDBACK_CHARS)
        if text is None or len(text) < MIN_FEEDBACK_CHARS or is_only_a_wish(text):
            dispatcher.utter_message(response="utter_feedback_too_short")
            return {DRAFT_SLOT: None}
        return {DRAFT_SLOT: text}


class ActionStoreFeedback(Action):
    """Keeps the feedback in the conversation and thanks; nothing leaves the tracker."""

    def name(self) -> str:
        return "action_store_feedback"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        text = bounded_text(tracker.get_slot(DRAFT_SLOT), MAX_FEEDBACK_CHARS)
        if text is None:
            dispatcher.utter_message(response="utter_feedback_too_short")
            return [SlotSet(DRAFT_SLOT, None)]
        dispatcher.utter_message(response="utter_feedback_thanks")
        return [SlotSet(FEEDBACK_SLOT, text), SlotSet(DRAFT_SLOT, None)]
